package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/zktest"
)

// The differential test runs the scripts in testdata/scripts through
// Apache ZooKeeper's zkCli.sh and through zkcli, against the same server,
// and compares what they print once times, zxids and session ids are
// normalised. A script is one zkCli session fed on stdin, or with
// "#! oneshot" one process per line; "#! chroot /p" appends a chroot to the
// connect string. {{addr}} stands for the server address. Every script runs
// twice: against an Apache ZooKeeper 3.8 the test starts, where zkCli.sh is
// on home ground, and against an in-process zkgo server, where both tools
// talk to zkgo; $ZKCLI_DIFF_SERVER=host:port replaces both with the one
// server at that address.

var diffVerbose = flag.Bool("diff.v", false, "log both transcripts of every differential script")

const zkCliScript = "/usr/share/zookeeper/bin/zkCli.sh"

// requireZkCli skips (or with ZKGO_INTEROP_REQUIRED=1 fails) the test when
// Java, the ZooKeeper jars or zkCli.sh are missing.
func requireZkCli(t *testing.T) {
	t.Helper()
	apachezk.Require(t)
	if _, err := os.Stat(zkCliScript); err != nil {
		msg := "differential test needs " + zkCliScript + " (Debian package zookeeper)"
		if apachezk.Required() {
			t.Fatal(msg + " (ZKGO_INTEROP_REQUIRED=1)")
		}
		t.Skip(msg)
	}
}

// startApacheZooKeeper starts a standalone Apache ZooKeeper on a free
// 127.0.0.1 port and returns its address; it is stopped (by PID) when the
// test ends.
func startApacheZooKeeper(t *testing.T) string {
	t.Helper()
	return apachezk.Start(t, apachezk.Options{
		SuperDigest: superDigest,
		Properties:  []string{"zookeeper.extendedTypesEnabled=true"},
	}).Addr()
}

// buildZkcli builds the command into a temporary directory.
func buildZkcli(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zkcli")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// transcript is what one run printed.
type transcript struct {
	stdout, stderr string
	code           int
}

// runTool runs name with args and stdin, bounded by ctx.
func runTool(ctx context.Context, t *testing.T, name string, args []string, stdin string) transcript {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TZ=UTC")
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v: timed out\nstdout:\n%s\nstderr:\n%s", name, args, out.String(), errb.String())
	}
	return transcript{stdout: out.String(), stderr: errb.String(), code: code}
}

// script is one file of testdata/scripts.
type script struct {
	name    string
	oneShot bool
	chroot  string
	lines   []string
}

func loadScripts(t *testing.T) []script {
	t.Helper()
	files, err := filepath.Glob("testdata/scripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	var out []script
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := script{name: strings.TrimSuffix(filepath.Base(f), ".txt")}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			switch {
			case line == "#! oneshot":
				s.oneShot = true
			case strings.HasPrefix(line, "#! chroot "):
				s.chroot = strings.TrimPrefix(line, "#! chroot ")
			case strings.HasPrefix(line, "#"):
			default:
				s.lines = append(s.lines, line)
			}
		}
		out = append(out, s)
	}
	return out
}

// run runs the script with one tool: a command line prefix (the program
// and its leading arguments).
func (s script) run(ctx context.Context, t *testing.T, tool []string, addr string) transcript {
	server := addr + s.chroot
	lines := make([]string, len(s.lines))
	for i, l := range s.lines {
		lines[i] = strings.ReplaceAll(l, "{{addr}}", addr)
	}
	if !s.oneShot {
		args := append(tool[1:len(tool):len(tool)], "-server", server)
		return runTool(ctx, t, tool[0], args, strings.Join(lines, "\n")+"\n")
	}
	var all transcript
	for _, l := range lines {
		args := append(tool[1:len(tool):len(tool)], "-server", server)
		args = append(args, strings.Fields(l)...)
		tr := runTool(ctx, t, tool[0], args, "")
		all.stdout += "$ " + l + "\n" + tr.stdout
		all.stderr += "$ " + l + "\n" + tr.stderr
		all.stdout += fmt.Sprintf("exit %d\n", tr.code)
	}
	return all
}

// resetTree deletes what scripts create (/s and its quota nodes), through
// the client package, and creates the chroot node a script needs.
func resetTree(ctx context.Context, t *testing.T, addr, chroot string) {
	t.Helper()
	// Generous: the machine may be busy, and a failure here says nothing
	// about zkcli.
	s, err := dialConn(ctx, addr, dialOptions{sessionTimeout: 30 * time.Second, connectTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	defer s.Close()
	for _, root := range []string{"/s", "/zookeeper/quota/s"} {
		if err := deleteTree(ctx, s, root); err != nil {
			t.Fatalf("reset %s: %v", root, err)
		}
	}
	if chroot != "" {
		if _, err := s.Create(ctx, chroot, nil, client.Persistent, 0, client.OpenACL()); err != nil {
			t.Fatalf("create chroot %s: %v", chroot, err)
		}
	}
}

// deleteTree deletes root and everything below it, if it exists. Scripts
// leave nodes that only their digest user u:p may touch: the session
// authenticates as u:p, and as the superuser the test's server knows.
func deleteTree(ctx context.Context, s session, root string) error {
	for _, auth := range []string{"u:p", "super:test"} {
		if err := s.AddAuth(ctx, "digest", []byte(auth)); err != nil {
			return err
		}
	}
	tree := []string{root}
	for i := 0; i < len(tree); i++ {
		children, _, _, err := s.Children(ctx, tree[i], false)
		if errors.Is(err, client.ErrNoNode) || errors.Is(err, client.ErrNoAuth) {
			continue // gone, or unreadable: deleted as a leaf
		}
		if err != nil {
			return err
		}
		for _, c := range children {
			tree = append(tree, joinChild(tree[i], c))
		}
	}
	for i := len(tree) - 1; i >= 0; i-- {
		if err := s.Delete(ctx, tree[i], -1); err != nil && !errors.Is(err, client.ErrNoNode) {
			return fmt.Errorf("delete %s: %w", tree[i], err)
		}
	}
	return nil
}

const (
	connectedEvent = "WatchedEvent state:SyncConnected type:None path:null"
	closedEvent    = "WatchedEvent state:Closed type:None path:null"
)

var (
	reZxidLine  = regexp.MustCompile(`^(cZxid|mZxid|pZxid) = (0x[0-9a-f]+)$`)
	reOwnerLine = regexp.MustCompile(`^ephemeralOwner = (0x[0-9a-f]+)$`)
	reTimeLine  = regexp.MustCompile(`^(ctime|mtime) = [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [A-Z]+ \d{4}$`)
	reVersion   = regexp.MustCompile(`(?m)^ZooKeeper CLI version: .*$`)
	reDigest    = regexp.MustCompile(`(?m)^'digest,'u:[A-Za-z0-9+/=]+$`)
)

// normalise makes transcripts of different runs comparable: times become
// <time> (the epoch itself, as /zookeeper shows it, stays), zxids Z1, Z2...
// and session ids S1, S2... in order of first appearance, and the version
// line loses its build details. Watch events are taken out of stdout into
// their own list: zkCli prints them from another thread, so where they fall
// among other output is a race in zkCli, but their order is not. (Scripts
// avoid the other race of zkCli, "printwatches" right after a change.)
func normalise(tr transcript, oneShot bool) (stdout, events, stderr string) {
	zxids, owners := map[string]string{}, map[string]string{}
	var out, ev []string
	lines := strings.Split(tr.stdout, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		// zkCli prints an event as two lines, "\nWATCHER::" and
		// "\nWatchedEvent ...", each in one println: other output may come
		// between them, but not between a line and its blank line.
		if l == "WATCHER::" || strings.HasPrefix(l, "WatchedEvent ") {
			if len(out) > 0 && out[len(out)-1] == "" {
				out = out[:len(out)-1]
			}
			// A one-shot zkCli that needs no server may exit before it
			// prints that it connected.
			if l != "WATCHER::" && !(oneShot && l == connectedEvent) {
				ev = append(ev, l)
			}
			continue
		}
		if m := reZxidLine.FindStringSubmatch(l); m != nil {
			if _, ok := zxids[m[2]]; !ok {
				zxids[m[2]] = fmt.Sprintf("Z%d", len(zxids)+1)
			}
			if m[2] == "0x0" {
				zxids[m[2]] = "0x0"
			}
			l = m[1] + " = " + zxids[m[2]]
		}
		// Servers show containers and TTL nodes with owner 0x0
		// (DataNode.getClientEphemeralOwner), so any other owner is a
		// session id.
		if m := reOwnerLine.FindStringSubmatch(l); m != nil && m[1] != "0x0" {
			if _, ok := owners[m[1]]; !ok {
				owners[m[1]] = fmt.Sprintf("S%d", len(owners)+1)
			}
			l = "ephemeralOwner = " + owners[m[1]]
		}
		if reTimeLine.MatchString(l) && !strings.HasSuffix(l, "Thu Jan 01 00:00:00 UTC 1970") {
			l = l[:len("ctime = ")] + "<time>"
		}
		out = append(out, l)
	}
	stdout = reVersion.ReplaceAllString(strings.Join(out, "\n"), "ZooKeeper CLI version: <version>")
	stdout += fmt.Sprintf("\nexit %d\n", tr.code)
	var errLines []string
	for _, l := range strings.Split(tr.stderr, "\n") {
		if !strings.HasPrefix(l, "SLF4J: ") {
			errLines = append(errLines, l)
		}
	}
	// zkCli's quit exits without waiting for its event thread, which may
	// or may not have printed the Closed event by then.
	if len(ev) > 0 && ev[len(ev)-1] == closedEvent {
		ev = ev[:len(ev)-1]
	}
	return stdout, strings.Join(ev, "\n"), reDigest.ReplaceAllString(strings.Join(errLines, "\n"), "'digest,'u:<hash>")
}

// dropUsageAfterParseErrors removes the usage line zkcli adds after Commons
// CLI's parse errors (zkCli prints the exception alone).
func dropUsageAfterParseErrors(stderr string) string {
	lines := strings.Split(stderr, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		out = append(out, lines[i])
		if strings.HasPrefix(lines[i], "org.apache.commons.cli.") && i+1 < len(lines) && isUsageLine(lines[i+1]) {
			i++
		}
	}
	return strings.Join(out, "\n")
}

func isUsageLine(l string) bool {
	name, _, _ := strings.Cut(l, " ")
	c := lookupCommand(name)
	return c != nil && l == c.usageLine()
}

// superDigest is the digest of super:test, the superuser resetTree
// authenticates as; both test servers are started knowing it.
const superDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

func TestDifferential(t *testing.T) {
	requireZkCli(t)
	bin := buildZkcli(t)
	if addr := os.Getenv("ZKCLI_DIFF_SERVER"); addr != "" {
		runDifferential(t, bin, addr)
		return
	}
	t.Run("apache", func(t *testing.T) { runDifferential(t, bin, startApacheZooKeeper(t)) })
	t.Run("zkgo", func(t *testing.T) {
		srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.SuperDigest = superDigest }))
		runDifferential(t, bin, srv.Addr())
	})
}

// runDifferential runs every script through zkCli.sh and the zkcli binary
// bin against the server at addr and compares the normalised transcripts.
func runDifferential(t *testing.T, bin, addr string) {
	for _, s := range loadScripts(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			resetTree(ctx, t, addr, s.chroot)
			want := s.run(ctx, t, []string{zkCliScript}, addr)
			resetTree(ctx, t, addr, s.chroot)
			got := s.run(ctx, t, []string{bin}, addr)
			resetTree(ctx, t, addr, "")
			wantOut, wantEv, wantErr := normalise(want, s.oneShot)
			gotOut, gotEv, gotErr := normalise(got, s.oneShot)
			gotErr = dropUsageAfterParseErrors(gotErr)
			if *diffVerbose {
				t.Logf("zkCli.sh stdout:\n%s\nstderr:\n%s", want.stdout, want.stderr)
				t.Logf("zkcli stdout:\n%s\nstderr:\n%s", got.stdout, got.stderr)
			}
			compare(t, "stdout", wantOut, gotOut)
			compare(t, "watch events", wantEv, gotEv)
			compare(t, "stderr", wantErr, gotErr)
		})
	}
}

// compare reports the first line where zkCli.sh's transcript (want) and
// zkcli's (got) differ.
func compare(t *testing.T, what, want, got string) {
	t.Helper()
	compareAs(t, what, "zkCli.sh", want, "zkcli", got)
}

// compareAs reports the first differing line of two transcripts, with a
// few lines of context from each, named by their labels.
func compareAs(t *testing.T, what, labelA, a, labelB, b string) {
	t.Helper()
	if a == b {
		return
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	ctx := func(ls []string) string {
		lo, hi := max(0, i-3), min(len(ls), i+4)
		return strings.Join(ls[lo:hi], "\n")
	}
	t.Errorf("%s differs at line %d\n%s:\n%s\n%s:\n%s", what, i+1, labelA, ctx(al), labelB, ctx(bl))
}

// TestServersAgree runs every script through zkCli.sh twice, against Apache
// ZooKeeper and against zkgo, and compares the transcripts: a check of the
// server rather than of zkcli, run on demand with ZKCLI_DIFF_SERVERS=1
// (without it the test skips).
func TestServersAgree(t *testing.T) {
	if os.Getenv("ZKCLI_DIFF_SERVERS") != "1" {
		t.Skip("set ZKCLI_DIFF_SERVERS=1 to compare zkCli.sh transcripts of Apache ZooKeeper and zkgo")
	}
	requireZkCli(t)
	apache := startApacheZooKeeper(t)
	zkgo := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.SuperDigest = superDigest })).Addr()
	// The addresses differ; nothing else may.
	anon := func(tr transcript, addr string) transcript {
		tr.stdout = strings.ReplaceAll(tr.stdout, addr, "{{addr}}")
		tr.stderr = strings.ReplaceAll(tr.stderr, addr, "{{addr}}")
		return tr
	}
	for _, s := range loadScripts(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var outs, evs, errs [2]string
			for i, addr := range []string{apache, zkgo} {
				resetTree(ctx, t, addr, s.chroot)
				tr := anon(s.run(ctx, t, []string{zkCliScript}, addr), addr)
				resetTree(ctx, t, addr, "")
				outs[i], evs[i], errs[i] = normalise(tr, s.oneShot)
			}
			for _, c := range []struct{ what, apache, zkgo string }{
				{"stdout", outs[0], outs[1]}, {"watch events", evs[0], evs[1]}, {"stderr", errs[0], errs[1]},
			} {
				compareAs(t, "zkCli.sh "+c.what, "Apache ZooKeeper", c.apache, "zkgo", c.zkgo)
			}
		})
	}
}
