package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/config"
)

// pollInterval is how often start and stop look at the server while waiting.
const pollInterval = 100 * time.Millisecond

// childArgs are the arguments start gives the background server.
func childArgs(cfgPath string, o options) []string {
	args := []string{"start-foreground"}
	if cfgPath != "" {
		if abs, err := filepath.Abs(cfgPath); err == nil {
			cfgPath = abs
		}
		args = append(args, "--config", cfgPath)
	}
	if o.logLevel != 0 {
		args = append(args, "--log-level", o.logLevel.String())
	}
	return args
}

// logFile is where a background server's output goes:
// $ZOO_LOG_DIR (default dataDir)/zookeeper-$USER-server-$HOSTNAME.out, the
// name zkServer.sh uses.
func (a *app) logFile(cfg *config.Config) string {
	dir := a.getenv("ZOO_LOG_DIR")
	if dir == "" {
		dir = cfg.DataDir
	}
	name := a.getenv("USER")
	if u, err := user.Current(); err == nil && name == "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	return filepath.Join(dir, fmt.Sprintf("zookeeper-%s-server-%s.out", name, host))
}

// readyFDEnv names, in the environment of the server start launches, the
// file descriptor on which that server reports how its start went: one
// line, "ok" once it holds the client port and is about to serve, or
// "error: CAUSE" before it exits. start thus knows that the server
// answering on the port is the one it launched (another may hold the port)
// and, when it is not, why.
const readyFDEnv = "ZKSERVER_READY_FD"

// readyFD is the descriptor start gives the ready pipe (the first of
// exec.Cmd.ExtraFiles).
const readyFD = 3

// readyReporter returns the function foreground reports its start with
// (nil error: serving), or a no-op when it was not launched by start. Only
// the first report counts.
func (a *app) readyReporter() func(error) {
	fd, err := strconv.Atoi(a.getenv(readyFDEnv))
	if err != nil || fd < readyFD {
		return func(error) {}
	}
	f := os.NewFile(uintptr(fd), "ready pipe")
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			msg := "ok"
			if err != nil {
				msg = "error: " + strings.Join(strings.Fields(err.Error()), " ")
			}
			_, _ = io.WriteString(f, msg+"\n")
			_ = f.Close()
		})
	}
}

// startFailure is why start failed: cause goes on stdout after FAILED TO
// START, and the server's log (from logStart on, when tail is set) on
// stderr.
type startFailure struct {
	cause    error
	logPath  string // "" when no server was launched
	logStart int64
	tail     bool // the cause is not known: show the end of the log
}

// start launches "start-foreground" in a new session with its output in
// the log file, and waits until that process reports that it serves, that
// it failed, or o.wait passes. It prints zkServer.sh's messages: STARTED,
// or "FAILED TO START: " and the cause.
func (a *app) start(ctx context.Context, cfgPath string, cfg *config.Config, o options) error {
	fmt.Fprint(a.stdout, "Starting zookeeper ... ")
	if pid, err := readPIDFile(pidFilePath(cfg, a.getenv)); err == nil && processAlive(pid) {
		fmt.Fprintf(a.stdout, "already running as process %d.\n", pid)
		return failed
	}
	f := a.launch(ctx, cfgPath, cfg, o)
	if f == nil {
		fmt.Fprintln(a.stdout, "STARTED")
		return nil
	}
	fmt.Fprintf(a.stdout, "FAILED TO START: %v\n", f.cause)
	if f.tail {
		a.printLogTail(f.logPath, f.logStart)
	} else if f.logPath != "" {
		fmt.Fprintf(a.stderr, "(log: %s)\n", f.logPath)
	}
	return failed
}

// launch starts the server process and waits for its report; nil means it
// serves.
func (a *app) launch(ctx context.Context, cfgPath string, cfg *config.Config, o options) *startFailure {
	exe, err := a.executable()
	if err != nil {
		return &startFailure{cause: fmt.Errorf("finding the zkserver program: %w", err)}
	}
	logPath := a.logFile(cfg)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return &startFailure{cause: fmt.Errorf("log directory: %w", err)}
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return &startFailure{cause: fmt.Errorf("log file: %w", err)}
	}
	defer logf.Close() // the child has its own descriptor
	logStart, _ := logf.Seek(0, io.SeekEnd)
	ready, readyW, err := os.Pipe()
	if err != nil {
		return &startFailure{cause: fmt.Errorf("ready pipe: %w", err)}
	}
	defer ready.Close()
	cmd := exec.Command(exe, childArgs(cfgPath, o)...)
	cmd.Env = append(slices.Clone(a.environ), readyFDEnv+"="+strconv.Itoa(readyFD))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{readyW}
	// A new session: the server outlives this process and the terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close() // the child's copy is now the only writer
	if err != nil {
		return &startFailure{cause: err, logPath: logPath}
	}
	fail := func(cause error, tail bool) *startFailure {
		return &startFailure{cause: cause, logPath: logPath, logStart: logStart, tail: tail}
	}
	pid := cmd.Process.Pid
	// Reap the child if it dies while we wait; the goroutine ends with it
	// (or with this short-lived process).
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The report ends at EOF: the child closes the pipe after reporting, or
	// exits. Closing ready (deferred) ends the read if we stop waiting.
	report := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(ready, 64<<10))
		report <- strings.TrimSpace(string(b))
	}()

	deadline := time.NewTimer(o.wait)
	defer deadline.Stop()
	select {
	case msg := <-report:
		switch {
		case msg == "ok":
			select {
			case err := <-exited:
				return fail(fmt.Errorf("server %s right after it started", describeExit(err)), true)
			default:
				return nil
			}
		case strings.HasPrefix(msg, "error: "):
			return fail(errors.New(strings.TrimPrefix(msg, "error: ")), false)
		}
		// No report: the server died before it could say why.
		select {
		case err := <-exited:
			return fail(fmt.Errorf("server %s", describeExit(err)), true)
		case <-deadline.C:
		case <-ctx.Done():
		}
		return fail(fmt.Errorf("server process %d closed its ready pipe without a report", pid), true)
	case <-deadline.C:
		return fail(fmt.Errorf("not serving after %v; process %d is still running", o.wait, pid), true)
	case <-ctx.Done():
		return fail(fmt.Errorf("%w; process %d is still running", ctx.Err(), pid), true)
	}
}

// describeExit says how the server process ended, from cmd.Wait's error.
func describeExit(err error) string {
	if err == nil {
		return "exited with status 0"
	}
	return "exited: " + err.Error()
}

// printLogTail shows what a failed server wrote (from offset on, at most
// the last 20 lines) on stderr, and where the whole log is.
func (a *app) printLogTail(path string, offset int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if offset < int64(len(b)) {
		b = b[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	for _, l := range lines {
		if l != "" {
			fmt.Fprintf(a.stderr, "  %s\n", l)
		}
	}
	fmt.Fprintf(a.stderr, "(log: %s)\n", path)
}

// stop sends SIGTERM to the pid in the pid file and waits up to
// o.stopTimeout for the process to exit.
func (a *app) stop(ctx context.Context, cfg *config.Config, o options) error {
	fmt.Fprint(a.stdout, "Stopping zookeeper ... ")
	pidPath := pidFilePath(cfg, a.getenv)
	pid, err := readPIDFile(pidPath)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(a.stdout, "no zookeeper to stop (could not find file %s)\n", pidPath)
		return nil
	}
	if err != nil {
		fmt.Fprintf(a.stdout, "FAILED TO STOP: %v\n", err)
		return failed
	}
	if !processAlive(pid) {
		_ = os.Remove(pidPath)
		fmt.Fprintln(a.stdout, "STOPPED")
		fmt.Fprintf(a.stderr, "(process %d from %s was not running; removed the stale pid file)\n", pid, pidPath)
		return nil
	}
	if !looksLikeServer(pid) {
		fmt.Fprintf(a.stdout, "FAILED TO STOP: process %d (from %s) is not a zkserver; remove the stale pid file\n", pid, pidPath)
		return failed
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(a.stdout, "FAILED TO STOP: signalling process %d: %v\n", pid, err)
		return failed
	}
	deadline := time.NewTimer(o.stopTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for processAlive(pid) {
		select {
		case <-deadline.C:
			fmt.Fprintf(a.stdout, "FAILED TO STOP: process %d still running after %v\n", pid, o.stopTimeout)
			return failed
		case <-ctx.Done():
			fmt.Fprintf(a.stdout, "FAILED TO STOP: %v\n", ctx.Err())
			return failed
		case <-tick.C:
		}
	}
	_ = removePIDFile(pidPath, pid)
	fmt.Fprintln(a.stdout, "STOPPED")
	return nil
}

func hostPort(host, port string) string { return net.JoinHostPort(host, port) }

// shellQuote renders args as one shell command line, quoting where needed.
func shellQuote(args []string) string {
	var b bytes.Buffer
	for i, s := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s != "" && strings.IndexFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@", r))
		}) < 0 {
			b.WriteString(s)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(s, "'", `'\''`) + "'")
	}
	return b.String()
}
