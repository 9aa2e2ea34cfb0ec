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
	"strings"
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

// start launches "start-foreground" in a new session with its output in
// the log file, records its pid, and waits until it answers srvr on its
// client port, it exits, or o.wait passes. It prints zkServer.sh's messages.
func (a *app) start(ctx context.Context, cfgPath string, cfg *config.Config, o options) error {
	fmt.Fprint(a.stdout, "Starting zookeeper ... ")
	pidPath := pidFilePath(cfg, a.getenv)
	if pid, err := readPIDFile(pidPath); err == nil && processAlive(pid) {
		fmt.Fprintf(a.stdout, "already running as process %d.\n", pid)
		return failed
	}
	exe, err := a.executable()
	if err != nil {
		fmt.Fprintf(a.stdout, "SERVER DID NOT START: %v\n", err)
		return failed
	}
	logPath := a.logFile(cfg)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		fmt.Fprintf(a.stdout, "SERVER DID NOT START: %v\n", err)
		return failed
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(a.stdout, "SERVER DID NOT START: %v\n", err)
		return failed
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(exe, childArgs(cfgPath, o)...)
	cmd.Env = a.environ
	cmd.Stdout, cmd.Stderr = logf, logf
	// A new session: the server outlives this process and the terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	logf.Close() // the child has its own descriptor
	if err != nil {
		fmt.Fprintf(a.stdout, "SERVER DID NOT START: %v\n", err)
		return failed
	}
	pid := cmd.Process.Pid
	// Reap the child if it dies while we wait; the goroutine ends with it.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	if err := writePIDFile(pidPath, pid); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		fmt.Fprintf(a.stdout, "FAILED TO WRITE PID: %v\n", err)
		return failed
	}

	host, port := statusTarget(cfg)
	addr := hostPort(host, port)
	deadline := time.NewTimer(o.wait)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if answer, err := fourLetterWord(ctx, addr, "srvr", time.Second); err == nil && answer != "" {
			fmt.Fprintln(a.stdout, "STARTED")
			return nil
		}
		select {
		case err := <-exited:
			_ = removePIDFile(pidPath, pid)
			fmt.Fprintf(a.stdout, "FAILED TO START (%v)\n", describeExit(err))
			a.printLogTail(logPath, logStart)
			return failed
		case <-deadline.C:
			fmt.Fprintf(a.stdout, "FAILED TO START: no answer on %s after %v; process %d is still running, see %s\n", addr, o.wait, pid, logPath)
			return failed
		case <-ctx.Done():
			fmt.Fprintf(a.stdout, "FAILED TO START: %v; process %d is still running\n", ctx.Err(), pid)
			return failed
		case <-tick.C:
		}
	}
}

func describeExit(err error) string {
	if err == nil {
		return "server exited with status 0"
	}
	return "server " + err.Error()
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
