package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/zktest"
)

// The interactive test types into zkcli on a real terminal: tmux runs it in
// a detached session of fixed size, send-keys types, capture-pane reads the
// screen. Every wait polls the screen until a condition holds or a deadline
// passes.

// screenDeadline bounds every wait for the screen to show something.
const screenDeadline = 20 * time.Second

// requireTmux skips (or with ZKGO_INTEROP_REQUIRED=1 fails) the test when
// tmux is missing.
func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err == nil {
		return
	}
	msg := "interactive test needs tmux (Debian package tmux)"
	if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
		t.Fatal(msg + " (ZKGO_INTEROP_REQUIRED=1)")
	}
	t.Skip(msg)
}

// tmuxSession is one detached tmux session on a tmux server of its own: a
// unique socket in a temporary TMUX_TMPDIR, so that the test never touches
// another tmux.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
	env    []string
	conf   string
}

// startTmux runs the shell command cmd in a new 100x30 tmux session whose
// pane stays on the screen after the command exits. The session and its
// tmux server are killed when the test ends.
func startTmux(t *testing.T, cmd string) *tmuxSession {
	t.Helper()
	dir := t.TempDir()
	s := &tmuxSession{
		t:      t,
		socket: fmt.Sprintf("zkcli-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
		name:   "zkcli",
		conf:   filepath.Join(dir, "tmux.conf"),
		env: []string{
			"TMUX_TMPDIR=" + dir, "PATH=" + os.Getenv("PATH"), "HOME=" + dir,
			"SHELL=/bin/sh", "TERM=xterm", "LANG=C.UTF-8", "TZ=UTC",
		},
	}
	if err := os.WriteFile(s.conf, []byte("set -g default-shell /bin/sh\nset -g remain-on-exit on\nset -g history-limit 10000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Only our session, on our own server; the server then has no
		// session left and exits, but is told to in any case.
		s.tmux("kill-session", "-t", s.name)
		s.tmux("kill-server")
	})
	if out, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", cmd); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	return s
}

// respawn replaces the pane's command with cmd, keeping the screen.
func (s *tmuxSession) respawn(cmd string) {
	s.t.Helper()
	if out, err := s.tmux("respawn-pane", "-k", "-t", s.name, cmd); err != nil {
		s.t.Fatalf("tmux respawn-pane: %v\n%s", err, out)
	}
}

// exitReport runs argv from the shell and then prints its exit status
// under label, for waitExit. (tmux's own #{pane_dead_status} cannot be
// relied on: tmux 3.3 was seen to leave an exited pane process unreaped.)
func exitReport(label string, argv ...string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ") + `; echo "[` + label + ` exited with status $?]"`
}

// tmux runs one tmux command against this session's server.
func (s *tmuxSession) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", s.socket, "-f", s.conf}, args...)...)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// keys sends key names (Tab, Enter, Up, C-u...).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("tmux send-keys %q: %v\n%s", keys, err, out)
	}
}

// typeText types text literally.
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	if out, err := s.tmux("send-keys", "-t", s.name, "-l", "--", text); err != nil {
		s.t.Fatalf("tmux send-keys -l %q: %v\n%s", text, err, out)
	}
}

// screen returns the scrollback and the visible screen, wrapped lines
// joined, trailing blanks trimmed.
func (s *tmuxSession) screen() string {
	s.t.Helper()
	out, err := s.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", s.name)
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return strings.TrimRight(out, "\n")
}

// cursorLine is the line the cursor is on: the prompt and what is typed.
func (s *tmuxSession) cursorLine() string {
	s.t.Helper()
	out, err := s.tmux("display-message", "-p", "-t", s.name, "#{cursor_y}")
	if err != nil {
		s.t.Fatalf("tmux display-message: %v\n%s", err, out)
	}
	var y int
	if _, err := fmt.Sscan(out, &y); err != nil {
		s.t.Fatalf("cursor_y %q: %v", out, err)
	}
	line, err := s.tmux("capture-pane", "-p", "-J", "-S", fmt.Sprint(y), "-E", fmt.Sprint(y), "-t", s.name)
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, line)
	}
	return strings.TrimRight(line, " \n")
}

// waitFor polls until cond holds, failing the test with the screen after
// screenDeadline.
func (s *tmuxSession) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(screenDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %v for %s; screen:\n%s\ncursor line: %q", screenDeadline, what, s.screen(), s.cursorLine())
		}
		time.Sleep(20 * time.Millisecond) // polling the screen; there is nothing to wait on
	}
}

// waitText waits until the screen shows text.
func (s *tmuxSession) waitText(text string) {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("%q on the screen", text), func() bool { return strings.Contains(s.screen(), text) })
}

// waitCursorLine waits until the cursor line is line (trailing blanks
// trimmed).
func (s *tmuxSession) waitCursorLine(line string) {
	s.t.Helper()
	line = strings.TrimRight(line, " ")
	s.waitFor(fmt.Sprintf("cursor line %q", line), func() bool { return s.cursorLine() == line })
}

// waitExit waits until the command started by exitReport(label, ...) has
// exited and returns its exit status.
func (s *tmuxSession) waitExit(label string) int {
	s.t.Helper()
	re := regexp.MustCompile(`\[` + regexp.QuoteMeta(label) + ` exited with status (\d+)\]`)
	var m []string
	s.waitFor(label+" to exit", func() bool {
		m = re.FindStringSubmatch(s.screen())
		return m != nil
	})
	code, _ := strconv.Atoi(m[1])
	return code
}

// countLines counts the screen lines equal to line.
func countLines(screen, line string) int {
	n := 0
	for _, l := range strings.Split(screen, "\n") {
		if strings.TrimRight(l, " ") == line {
			n++
		}
	}
	return n
}

// TestInteractive is a user's session at the zkcli prompt: tab completion
// of a command and of znode paths, a watch event printed while zkcli waits
// at the prompt, history recalled with the up arrow and kept across runs in
// $HOME/.zkcli_history, an ephemeral node that is gone as soon as quit
// returns, and errors in red.
func TestInteractive(t *testing.T) {
	requireTmux(t)
	srv := zktest.Start(t)
	addr := srv.Addr()
	bin := buildZkcli(t)
	home := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	other, err := dialConn(ctx, addr, dialOptions{sessionTimeout: 10 * time.Second, connectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, n := range []struct{ path, data string }{{"/app", ""}, {"/app/config", "v1"}, {"/app/cache", "c"}} {
		if _, err := other.Create(ctx, n.path, []byte(n.data), client.Persistent, 0, client.OpenACL()); err != nil {
			t.Fatal(err)
		}
	}

	zkcli := func(label string) string { return exitReport(label, "env", "HOME="+home, bin, "-server", addr) }
	tm := startTmux(t, zkcli("zkcli run 1"))
	prompt := func(n int) string { return fmt.Sprintf("[zk: %s(CONNECTED) %d] ", addr, n) }
	tm.waitCursorLine(prompt(0))
	for _, want := range []string{"Welcome to ZooKeeper!", "JLine support is enabled", "WatchedEvent state:SyncConnected type:None path:null"} {
		if !strings.Contains(tm.screen(), want) {
			t.Errorf("start-up screen lacks %q:\n%s", want, tm.screen())
		}
	}

	// A command name completes from its prefix.
	tm.typeText("cre")
	tm.keys("Tab")
	tm.waitCursorLine(prompt(0) + "create")
	tm.typeText("-e /app/eph here")
	tm.keys("Enter")
	tm.waitText("Created /app/eph")
	tm.waitCursorLine(prompt(1))

	// A path completes from the server's children: two candidates are
	// listed on the second Tab, one more letter makes it unique.
	tm.typeText("get -w /ap")
	tm.keys("Tab")
	tm.waitCursorLine(prompt(1) + "get -w /app")
	tm.typeText("/c")
	tm.keys("Tab", "Tab")
	tm.waitFor("the candidates /app/cache and /app/config", func() bool {
		return regexp.MustCompile(`(?m)^/app/cache +/app/config *$`).MatchString(tm.screen())
	})
	tm.waitCursorLine(prompt(1) + "get -w /app/c")
	tm.typeText("o")
	tm.keys("Tab")
	tm.waitCursorLine(prompt(1) + "get -w /app/config")
	tm.keys("Enter")
	tm.waitCursorLine(prompt(2))
	if !strings.Contains(tm.screen(), "\nv1\n") {
		t.Errorf("get -w /app/config did not print v1:\n%s", tm.screen())
	}

	// The watch fires while zkcli sits at the prompt.
	if _, err := other.Set(ctx, "/app/config", []byte("v2"), -1); err != nil {
		t.Fatal(err)
	}
	tm.waitText("WATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/app/config")

	// Up recalls the previous command.
	tm.keys("Up")
	tm.waitCursorLine(prompt(2) + "get -w /app/config")
	tm.keys("Enter")
	tm.waitCursorLine(prompt(3))
	if !strings.Contains(tm.screen(), "\nv2\n") {
		t.Errorf("the recalled get did not print v2:\n%s", tm.screen())
	}

	// quit closes the session before zkcli exits: the ephemeral node is
	// gone at once, not after the session timeout.
	if st, _, err := other.Exists(ctx, "/app/eph", false); err != nil || st == nil {
		t.Fatalf("before quit: exists /app/eph = %v, %v", st, err)
	}
	tm.typeText("quit")
	tm.keys("Enter")
	if code := tm.waitExit("zkcli run 1"); code != 0 {
		t.Errorf("zkcli exit status after quit = %d, want 0", code)
	}
	if st, _, err := other.Exists(ctx, "/app/eph", false); err != nil || st != nil {
		t.Errorf("right after quit: exists /app/eph = %+v, %v; want no node", st, err)
	}
	tm.waitText("WatchedEvent state:Closed type:None path:null")

	hist, err := os.ReadFile(filepath.Join(home, ".zkcli_history"))
	wantHist := "create -e /app/eph here\nget -w /app/config\nquit\n"
	if err != nil || string(hist) != wantHist {
		t.Errorf("history file = %q, %v; want %q", hist, err, wantHist)
	}

	// A new zkcli with the same HOME recalls the previous run's commands.
	tm.respawn(zkcli("zkcli run 2"))
	tm.waitCursorLine(prompt(0))
	tm.keys("Up")
	tm.waitCursorLine(prompt(0) + "quit")
	tm.keys("Up")
	tm.waitCursorLine(prompt(0) + "get -w /app/config")
	before := countLines(tm.screen(), "v2")
	tm.keys("Enter")
	tm.waitCursorLine(prompt(1))
	if got := countLines(tm.screen(), "v2"); got != before+1 {
		t.Errorf("the recalled get printed v2 %d times, want once:\n%s", got-before, tm.screen())
	}

	// On a terminal errors are red.
	tm.typeText("get /nowhere")
	tm.keys("Enter")
	tm.waitCursorLine(prompt(2))
	colored, err := tm.tmux("capture-pane", "-p", "-e", "-t", tm.name)
	if err != nil {
		t.Fatalf("tmux capture-pane -e: %v\n%s", err, colored)
	}
	if !strings.Contains(colored, "\x1b[31mNode does not exist: /nowhere") {
		t.Errorf("the error is not red on the terminal:\n%q", colored)
	}

	tm.typeText("quit")
	tm.keys("Enter")
	if code := tm.waitExit("zkcli run 2"); code != 1 {
		t.Errorf("second zkcli exit status = %d, want 1 (that of the failed get, as zkCli)", code)
	}
}
