package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

// The differential test runs the scripts in testdata/scripts through
// Apache ZooKeeper's zkCli.sh and through zkcli, against the same server,
// and compares what they print once times, zxids and session ids are
// normalised. A script is one zkCli session fed on stdin, or with
// "#! oneshot" one process per line; "#! chroot /p" appends a chroot to the
// connect string. {{addr}} stands for the server address. The server is an
// Apache ZooKeeper started by the test, or the one at $ZKCLI_DIFF_SERVER.

var diffVerbose = flag.Bool("diff.v", false, "log both transcripts of every differential script")

const zkCliScript = "/usr/share/zookeeper/bin/zkCli.sh"

// zkJars are the Debian jars Apache ZooKeeper needs in standalone mode.
var zkJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-api.jar",
	"/usr/share/java/slf4j-simple.jar",
}

// requireZkCli skips (or with ZKGO_INTEROP_REQUIRED=1 fails) the test when
// Java or zkCli.sh are missing.
func requireZkCli(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java (Debian package openjdk-17-jre-headless)")
	}
	for _, f := range append([]string{zkCliScript}, zkJars...) {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f+" (Debian package zookeeper)")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "differential test needs " + strings.Join(missing, ", ")
	if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
		t.Fatal(msg + " (ZKGO_INTEROP_REQUIRED=1)")
	}
	t.Skip(msg)
}

// startApacheZooKeeper starts a standalone Apache ZooKeeper on a free
// 127.0.0.1 port and returns its address; it is killed (by PID) when the
// test ends.
func startApacheZooKeeper(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cfg := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n",
		filepath.Join(dir, "data"), port)
	if err := os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("java", "-cp", strings.Join(zkJars, ":"),
		"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false",
		"-Dzookeeper.extendedTypesEnabled=true",
		"-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		"org.apache.zookeeper.server.ZooKeeperServerMain", filepath.Join(dir, "zoo.cfg"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("Apache ZooKeeper exited:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Apache ZooKeeper did not listen on %s within 30s", addr)
		}
	}
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
	s, err := dialConn(ctx, addr, dialOptions{sessionTimeout: 10 * time.Second, connectTimeout: 10 * time.Second})
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

const connectedEvent = "WatchedEvent state:SyncConnected type:None path:null"

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
		if m := reOwnerLine.FindStringSubmatch(l); m != nil && m[1] != "0x0" && !strings.HasPrefix(m[1], "0x8000") &&
			!strings.HasPrefix(m[1], "0xff") {
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

func TestDifferential(t *testing.T) {
	requireZkCli(t)
	addr := os.Getenv("ZKCLI_DIFF_SERVER")
	if addr == "" {
		addr = startApacheZooKeeper(t)
	}
	bin := buildZkcli(t)
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

// compare reports the first differing line of two transcripts.
func compare(t *testing.T, what, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	ctx := func(ls []string) string {
		lo, hi := max(0, i-3), min(len(ls), i+4)
		return strings.Join(ls[lo:hi], "\n")
	}
	t.Errorf("%s differs at line %d\nzkCli.sh:\n%s\nzkcli:\n%s", what, i+1, ctx(wl), ctx(gl))
}
