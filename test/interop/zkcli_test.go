package interop

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

const zkCli = "/usr/share/zookeeper/bin/zkCli.sh"

// zkCliScript is fed on stdin to one zkCli.sh process (one JVM, one session).
// zkCli.sh exits with the status of the last command, so that one succeeds.
const zkCliScript = `create /cli hello
create /cli/a
create -e /cli/eph e
create -s /cli/seq- s
create -s /cli/seq- s
create -e -s /cli/es- x
create /cli hello
ls /cli
ls -s /cli
get /cli
get -s /cli/eph
set /cli world
get -s /cli
set -v 0 /cli bad
set -v 1 /cli good
get /cli
stat /cli/a
delete /cli
delete /cli/a
delete -v 3 /cli/eph
ls /cli
get /cli/missing
create /cli/d1/d2
create /cli/d1
create /cli/d1/d2 x
ls -R /cli
deleteall /cli
ls /
stat /cli
ls /zookeeper
quit
`

// zkCliWant is the normalised transcript: times become <time>, zxids Z1, Z2...
// and session ids S1, S2... in order of first appearance.
const zkCliWant = `Created /cli
Created /cli/a
Created /cli/eph
Created /cli/seq-0000000002
Created /cli/seq-0000000003
Created /cli/es-0000000004
Node already exists: /cli
[a, eph, es-0000000004, seq-0000000002, seq-0000000003]
[a, eph, es-0000000004, seq-0000000002, seq-0000000003]
cZxid = Z1
ctime = <time>
mZxid = Z1
mtime = <time>
pZxid = Z2
cversion = 5
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 5
numChildren = 5
hello
e
cZxid = Z3
ctime = <time>
mZxid = Z3
mtime = <time>
pZxid = Z3
cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = S1
dataLength = 1
numChildren = 0
world
cZxid = Z1
ctime = <time>
mZxid = Z4
mtime = <time>
pZxid = Z2
cversion = 5
dataVersion = 1
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 5
numChildren = 5
version No is not valid : /cli
good
cZxid = Z5
ctime = <time>
mZxid = Z5
mtime = <time>
pZxid = Z5
cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 0
numChildren = 0
Node not empty: /cli
version No is not valid : /cli/eph
[eph, es-0000000004, seq-0000000002, seq-0000000003]
Node does not exist: /cli/missing
Node does not exist: /cli/d1/d2
Created /cli/d1
Created /cli/d1/d2
/cli
/cli/d1
/cli/eph
/cli/es-0000000004
/cli/seq-0000000002
/cli/seq-0000000003
/cli/d1/d2
[zookeeper]
Node does not exist: /cli
[config, quota]
`

var (
	zkCliNoise = regexp.MustCompile(`^(SLF4J: |Connecting to |Welcome to ZooKeeper!|JLine support is |WATCHER::|WatchedEvent )`)
	zkCliTime  = regexp.MustCompile(`^([cm]time) = .*$`)
	zkCliZxid  = regexp.MustCompile(`^([cmp]Zxid) = (0x[0-9a-f]+)$`)
	zkCliOwner = regexp.MustCompile(`^ephemeralOwner = (0x[0-9a-f]+)$`)
)

// normaliseZkCli drops banner and watcher lines and replaces what differs
// between servers and runs (times, zxid values, session ids) by stable names.
func normaliseZkCli(out string) string {
	zxids := map[string]string{}
	sessions := map[string]string{}
	name := func(m map[string]string, prefix, v string) string {
		if _, ok := m[v]; !ok {
			m[v] = fmt.Sprintf("%s%d", prefix, len(m)+1)
		}
		return m[v]
	}
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r ")
		switch {
		case line == "" || zkCliNoise.MatchString(line):
			continue
		case zkCliTime.MatchString(line):
			line = zkCliTime.ReplaceAllString(line, "$1 = <time>")
		case zkCliZxid.MatchString(line):
			m := zkCliZxid.FindStringSubmatch(line)
			line = m[1] + " = " + name(zxids, "Z", m[2])
		case zkCliOwner.MatchString(line) && line != "ephemeralOwner = 0x0":
			line = "ephemeralOwner = " + name(sessions, "S", zkCliOwner.FindStringSubmatch(line)[1])
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// TestZkCli drives Apache's zkCli.sh, a real user's tool, through one
// interactive session fed on stdin, plus one one-shot command.
func TestZkCli(t *testing.T) {
	t.Parallel()
	requireJava(t)
	requireFile(t, zkCli, "zookeeper")
	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		out := runTool(t, 2*time.Minute, zkCliScript, zkCli, "-server", tg.addr)
		if got := normaliseZkCli(out); got != zkCliWant {
			t.Fatalf("zkCli.sh transcript differs\n%s\n--- raw output ---\n%s", lineDiff(zkCliWant, got), out)
		}
		out = runTool(t, 2*time.Minute, "", zkCli, "-server", tg.addr, "ls", "/zookeeper")
		if got := normaliseZkCli(out); got != "[config, quota]\n" {
			t.Fatalf("one-shot ls /zookeeper = %q\n--- raw output ---\n%s", got, out)
		}
	})
}

// lineDiff shows the first differing line of two transcripts with context.
func lineDiff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			lo := max(0, i-3)
			return fmt.Sprintf("first difference at line %d:\n want: %q\n got:  %q\ncontext (got):\n%s",
				i+1, wl, gl, strings.Join(g[lo:min(len(g), i+4)], "\n"))
		}
	}
	return "no difference"
}
