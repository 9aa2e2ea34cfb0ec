package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end test runs the zkserver binary as a user would, with the
// real server behind it, and zkcli as the client.

// buildBinaries builds zkserver and zkcli into a temporary directory.
func buildBinaries(t *testing.T) (zkserver, zkcli string) {
	t.Helper()
	dir := t.TempDir()
	zkserver, zkcli = filepath.Join(dir, "zkserver"), filepath.Join(dir, "zkcli")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, b := range []struct{ out, pkg string }{{zkserver, "."}, {zkcli, "../zkcli"}} {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return zkserver, zkcli
}

// cleanEnv is the test's environment without the variables that would
// point zkserver at another configuration, pid file or log directory.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "ZOOCFGDIR", "ZOOCFG", "ZOOPIDFILE", "ZOO_LOG_DIR":
		default:
			env = append(env, kv)
		}
	}
	return env
}

// runProgram runs a program to completion (at most a minute).
func runProgram(t *testing.T, name string, args ...string) verbResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv()
	cmd.Dir = t.TempDir() // no conf/zoo.cfg to find by accident
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", filepath.Base(name), args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %q timed out; stdout %q, stderr %q", filepath.Base(name), args, stdout.String(), stderr.String())
	}
	return verbResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// serverReaper remembers the servers a test started and kills (SIGKILL)
// those still running when the test ends, whether or not it failed: a pid
// counts only while its /proc cmdline shows our binary in start-foreground.
type serverReaper struct {
	bin, pidPath string
	mu           sync.Mutex
	pids         map[int]bool
}

func newServerReaper(t *testing.T, bin, pidPath string) *serverReaper {
	r := &serverReaper{bin: bin, pidPath: pidPath, pids: map[int]bool{}}
	t.Cleanup(func() {
		r.note() // a start the test did not get to look at
		r.mu.Lock()
		defer r.mu.Unlock()
		for pid := range r.pids {
			if r.ours(pid) {
				t.Logf("killing server %d left running", pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return r
}

// note records the pid in the pid file and returns it (0 if none).
func (r *serverReaper) note() int {
	pid, err := readPIDFile(r.pidPath)
	if err != nil {
		return 0
	}
	r.mu.Lock()
	r.pids[pid] = true
	r.mu.Unlock()
	return pid
}

// ours reports whether pid is alive and runs our zkserver binary.
func (r *serverReaper) ours(pid int) bool {
	if !processAlive(pid) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	return len(args) > 1 && args[0] == r.bin && args[1] == "start-foreground"
}

// TestEndToEnd drives the zkServer.sh verbs of the real zkserver binary on
// a zoo.cfg of its own: start, status, a second start, a node created and
// read with zkcli across a restart, stop, status of the stopped server, and
// a zoo.cfg with a bad value.
func TestEndToEnd(t *testing.T) {
	zkserver, zkcli := buildBinaries(t)
	port := freePort(t)
	cfg, data := writeConfig(t, port, "")
	pidPath := filepath.Join(data, "zookeeper_server.pid")
	reaper := newServerReaper(t, zkserver, pidPath)
	server := fmt.Sprintf("127.0.0.1:%d", port)

	r := runProgram(t, zkserver, "start", cfg)
	pid := reaper.note()
	if r.code != 0 || r.stdout != "Starting zookeeper ... STARTED\n" || r.stderr != "Using config: "+cfg+"\n" {
		t.Fatalf("start: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if pid == 0 || !reaper.ours(pid) {
		t.Fatalf("after start: pid file %s names %d, which is not a running zkserver", pidPath, pid)
	}

	wantUp := fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n", port)
	r = runProgram(t, zkserver, "status", "--config", cfg)
	if r.code != 0 || r.stdout != wantUp {
		t.Errorf("status: exit %d, stdout %q, stderr %q; want 0, %q", r.code, r.stdout, r.stderr, wantUp)
	}

	// srvr, "zkserver version" and the start's one log line name one version.
	srvr, err := fourLetterWord(context.Background(), server, "srvr", time.Minute)
	version, _, ok := strings.Cut(strings.TrimPrefix(srvr, "Zookeeper version: "), ", built on ")
	if err != nil || !ok || version == "" || strings.Contains(version, "\n") {
		t.Fatalf("srvr: %q, %v; want a first line 'Zookeeper version: V, built on ...'", srvr, err)
	}
	r = runProgram(t, zkserver, "version")
	if want := "Apache ZooKeeper, version " + version + " ("; r.code != 0 || !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version: exit %d, stdout %q; want one line starting %q", r.code, r.stdout, want)
	}
	outs, _ := filepath.Glob(filepath.Join(data, "zookeeper-*-server-*.out"))
	if len(outs) != 1 {
		t.Fatalf("server logs in dataDir: %q, want one", outs)
	}
	startLog, _ := os.ReadFile(outs[0])
	lines := strings.Split(strings.TrimSuffix(string(startLog), "\n"), "\n")
	wantLine := fmt.Sprintf("level=INFO msg=serving version=%s client_addr=%s data_dir=%s mode=standalone config=%s pid=%d", version, server, data, cfg, pid)
	if len(lines) != 2 || lines[0] != "Using config: "+cfg || !strings.HasSuffix(lines[1], wantLine) {
		t.Errorf("log of a start:\n%s\nwant the config line, then one line ending %q", startLog, wantLine)
	}

	r = runProgram(t, zkserver, "start", cfg)
	if want := fmt.Sprintf("Starting zookeeper ... already running as process %d.\n", pid); r.code != 1 || r.stdout != want {
		t.Errorf("second start: exit %d, stdout %q; want 1, %q", r.code, r.stdout, want)
	}
	if got := reaper.note(); got != pid || !reaper.ours(pid) {
		t.Errorf("second start: pid file names %d (want %d), server alive %v", got, pid, reaper.ours(pid))
	}

	r = runProgram(t, zkcli, "-server", server, "create", "/walkthrough", "hello")
	if r.code != 0 || !strings.Contains(r.stderr, "Created /walkthrough") {
		t.Fatalf("zkcli create: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = runProgram(t, zkserver, "restart", cfg)
	newPID := reaper.note()
	if r.code != 0 || r.stdout != "Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n" {
		t.Fatalf("restart: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if newPID == pid || processAlive(pid) || !reaper.ours(newPID) {
		t.Fatalf("restart: pid %d -> %d, old alive %v, new alive %v", pid, newPID, processAlive(pid), reaper.ours(newPID))
	}
	r = runProgram(t, zkcli, "-server", server, "get", "/walkthrough")
	if r.code != 0 || !strings.HasSuffix(r.stdout, "\nhello\n") {
		t.Errorf("zkcli get after restart: exit %d, stdout %q, stderr %q; want the data hello", r.code, r.stdout, r.stderr)
	}

	r = runProgram(t, zkserver, "stop", "--config", cfg)
	if r.code != 0 || r.stdout != "Stopping zookeeper ... STOPPED\n" {
		t.Errorf("stop: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// stop returns once the process has exited.
	if processAlive(newPID) {
		t.Errorf("server %d still running after stop", newPID)
	}
	if _, err := os.Stat(pidPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file after stop: %v", err)
	}

	wantDown := fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\nError contacting service. It is probably not running.\n", port)
	r = runProgram(t, zkserver, "status", cfg)
	if r.code != 1 || r.stdout != wantDown {
		t.Errorf("status of a stopped server: exit %d, stdout %q; want 1, %q", r.code, r.stdout, wantDown)
	}
	r = runProgram(t, zkserver, "stop", cfg)
	if want := "Stopping zookeeper ... no zookeeper to stop (could not find file " + pidPath + ")\n"; r.code != 0 || r.stdout != want {
		t.Errorf("stop of a stopped server: exit %d, stdout %q; want 0, %q", r.code, r.stdout, want)
	}
}

// TestEndToEndBadConfig starts the real binary on zoo.cfg files with a bad
// value: one line names the file, the line and the key, the exit status is
// 2, and no server is left behind.
func TestEndToEndBadConfig(t *testing.T) {
	zkserver, _ := buildBinaries(t)
	for _, tt := range []struct{ line, key string }{
		{"clientPort=twenty", "clientPort"},
		{"tickTime=-5", "tickTime"},
		{"maxClientCnxns=1e3", "maxClientCnxns"},
	} {
		t.Run(tt.key, func(t *testing.T) {
			// Line 5, after writeConfig's four (a second clientPort
			// overrides the first, as in java.util.Properties).
			cfg, data := writeConfig(t, freePort(t), tt.line+"\n")
			reaper := newServerReaper(t, zkserver, filepath.Join(data, "zookeeper_server.pid"))
			for _, verb := range []string{"start", "status", "start-foreground"} {
				r := runProgram(t, zkserver, verb, "--config", cfg)
				errLines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
				last := errLines[len(errLines)-1]
				prefix := "zkserver: " + cfg + ":5: " + tt.key + ": "
				if r.code != 2 || r.stdout != "" || len(errLines) != 2 || errLines[0] != "Using config: "+cfg || !strings.HasPrefix(last, prefix) {
					t.Errorf("zkserver %s with %q: exit %d, stdout %q, stderr %q; want exit 2 and a last line starting %q",
						verb, tt.line, r.code, r.stdout, r.stderr, prefix)
				}
			}
			if pid := reaper.note(); pid != 0 {
				t.Errorf("a start with a bad config left pid file naming %d", pid)
			}
		})
	}
}

// TestEndToEndPortHeld starts the real binary on a port another real
// zkserver (started here, in the foreground) holds: start must not take
// the other server's answers for its own, but fail with the bind error,
// and leave the other server alone.
func TestEndToEndPortHeld(t *testing.T) {
	zkserver, _ := buildBinaries(t)
	port := freePort(t)
	server := fmt.Sprintf("127.0.0.1:%d", port)
	otherCfg, otherData := writeConfig(t, port, "")
	cfg, data := writeConfig(t, port, "")
	pidPath := filepath.Join(data, "zookeeper_server.pid")
	reaper := newServerReaper(t, zkserver, pidPath)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	other := exec.CommandContext(ctx, zkserver, "start-foreground", "--config", otherCfg)
	other.Env = cleanEnv()
	var otherLog bytes.Buffer
	other.Stdout, other.Stderr = &otherLog, &otherLog
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	otherDone := make(chan error, 1)
	go func() { otherDone <- other.Wait() }()
	defer func() {
		// Stop it by its PID: SIGTERM, then SIGKILL (the context) if it hangs.
		_ = other.Process.Signal(syscall.SIGTERM)
		select {
		case <-otherDone:
		case <-time.After(30 * time.Second):
			cancel()
			<-otherDone
		}
	}()
	for {
		if answer, err := fourLetterWord(ctx, server, "srvr", 5*time.Second); err == nil && strings.Contains(answer, "Mode: standalone") {
			break
		}
		select {
		case err := <-otherDone:
			t.Fatalf("the other server exited: %v\n%s", err, otherLog.String())
		case <-ctx.Done():
			t.Fatalf("the other server does not answer: %v\n%s", ctx.Err(), otherLog.String())
		case <-time.After(50 * time.Millisecond): // poll, bounded by ctx
		}
	}

	r := runProgram(t, zkserver, "start", cfg)
	pid := reaper.note()
	want := "Starting zookeeper ... FAILED TO START: client port: listen tcp " + server + ": bind: address already in use\n"
	if r.code != 1 || r.stdout != want || !strings.Contains(r.stderr, "(log: "+data+"/zookeeper-") {
		t.Errorf("start on a port another server holds: exit %d, stdout %q, stderr %q; want exit 1, stdout %q and the log path", r.code, r.stdout, r.stderr, want)
	}
	if pid != 0 {
		t.Errorf("the failed start left a pid file naming %d", pid)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "zkgo")); len(entries) != 0 {
		t.Errorf("the failed start created replication state in its dataDir: %v", entries)
	}
	select {
	case err := <-otherDone:
		t.Fatalf("the other server exited: %v\n%s", err, otherLog.String())
	default:
	}
	if pid, err := readPIDFile(filepath.Join(otherData, "zookeeper_server.pid")); err != nil || pid != other.Process.Pid {
		t.Errorf("the other server's pid file: %d, %v; want %d", pid, err, other.Process.Pid)
	}
}
