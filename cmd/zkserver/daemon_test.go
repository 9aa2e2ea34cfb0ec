package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/config"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeConfig writes a standalone zoo.cfg on 127.0.0.1 and returns its path
// and dataDir.
func writeConfig(t *testing.T, port int, extra string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	path := filepath.Join(dir, "zoo.cfg")
	text := fmt.Sprintf("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n%s", data, port, extra)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// killFromPIDFile stops, at the end of the test, a server a failed test left
// running.
func killFromPIDFile(t *testing.T, pidPath string) {
	t.Cleanup(func() {
		if pid, err := readPIDFile(pidPath); err == nil && processAlive(pid) && looksLikeServer(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

type verbResult struct {
	code           int
	stdout, stderr string
}

func runVerb(t *testing.T, env map[string]string, args ...string) verbResult {
	t.Helper()
	a, stdout, stderr := testApp(t, env)
	code := a.run(testContext(t), args)
	return verbResult{code, stdout.String(), stderr.String()}
}

// TestLifecycle drives start, status, restart and stop end to end, with the
// test binary standing in for zkserver (and fakeServer for the server).
func TestLifecycle(t *testing.T) {
	port := freePort(t)
	cfg, data := writeConfig(t, port, "")
	pidPath := filepath.Join(data, "zookeeper_server.pid")
	killFromPIDFile(t, pidPath)

	r := runVerb(t, nil, "--config", cfg, "start")
	if r.code != 0 || r.stdout != "Starting zookeeper ... STARTED\n" {
		t.Fatalf("start: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	pid, err := readPIDFile(pidPath)
	if err != nil || !processAlive(pid) {
		t.Fatalf("after start: pid file %d, %v; alive %v", pid, err, processAlive(pid))
	}
	logs, _ := filepath.Glob(filepath.Join(data, "zookeeper-*-server-*.out"))
	if len(logs) != 1 {
		t.Errorf("log files in dataDir: %q, want one zookeeper-USER-server-HOST.out", logs)
	}

	r = runVerb(t, nil, "status", cfg)
	wantStatus := fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n", port)
	if r.code != 0 || r.stdout != wantStatus {
		t.Errorf("status: exit %d, stdout %q; want 0, %q", r.code, r.stdout, wantStatus)
	}

	r = runVerb(t, nil, "start", cfg)
	if r.code != 1 || r.stdout != fmt.Sprintf("Starting zookeeper ... already running as process %d.\n", pid) {
		t.Errorf("second start: exit %d, stdout %q", r.code, r.stdout)
	}

	r = runVerb(t, nil, "restart", cfg)
	if r.code != 0 || r.stdout != "Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n" {
		t.Fatalf("restart: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if processAlive(pid) {
		t.Errorf("old server %d still alive after restart", pid)
	}
	newPID, err := readPIDFile(pidPath)
	if err != nil || newPID == pid || !processAlive(newPID) {
		t.Fatalf("after restart: pid %d (old %d), %v", newPID, pid, err)
	}

	r = runVerb(t, nil, "stop", cfg)
	if r.code != 0 || r.stdout != "Stopping zookeeper ... STOPPED\n" {
		t.Errorf("stop: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if processAlive(newPID) {
		t.Errorf("server %d alive after stop", newPID)
	}
	if _, err := os.Stat(pidPath); !os.IsNotExist(err) {
		t.Errorf("pid file after stop: %v", err)
	}
	log, _ := os.ReadFile(logs[0])
	for _, want := range []string{"msg=serving version=" + testVersion + " client_addr=127.0.0.1:", "signal=terminated", "msg=stopped"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("server log lacks %q:\n%s", want, log)
		}
	}

	r = runVerb(t, nil, "stop", cfg)
	if r.code != 0 || r.stdout != "Stopping zookeeper ... no zookeeper to stop (could not find file "+pidPath+")\n" {
		t.Errorf("second stop: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runVerb(t, nil, "status", cfg)
	if r.code != 1 || !strings.HasSuffix(r.stdout, "Error contacting service. It is probably not running.\n") {
		t.Errorf("status when down: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestStartReportsFailure checks that every way a start can fail prints
// one line, "FAILED TO START: " and the real cause, exits 1 and leaves no
// pid file; where the cause is not known, the server's log follows on stderr.
func TestStartReportsFailure(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		port    int
		dataDir string // "" = the one writeConfig makes
		env     map[string]string
		stdout  string // after "Starting zookeeper ... FAILED TO START: "
		stderr  string // a part of stderr
	}{
		{name: "port held", port: busy.Addr().(*net.TCPAddr).Port,
			stdout: "client port: listen tcp " + busy.Addr().String() + ": bind: address already in use", stderr: "(log: "},
		{name: "dataDir not a directory", dataDir: notDir + "/data",
			stdout: "log directory: mkdir " + notDir + ": not a directory"},
		{name: "dataDir not a directory, logs elsewhere", dataDir: notDir + "/data", env: map[string]string{"ZOO_LOG_DIR": "LOGDIR"},
			stdout: "dataDir: mkdir " + notDir + ": not a directory", stderr: "(log: "},
		{name: "pid file not writable", env: map[string]string{"ZOOPIDFILE": notDir + "/zk.pid"},
			stdout: "pid file: mkdir " + notDir + ": not a directory", stderr: "(log: "},
		{name: "server error", env: map[string]string{childErrorEnv: "snapshot   damaged\nbadly"},
			stdout: "snapshot damaged badly", stderr: "(log: "},
		{name: "server exits", env: map[string]string{childExitEnv: "3"},
			stdout: "server exited: exit status 3", stderr: "  test child: exiting as asked\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.port
			if port == 0 {
				port = freePort(t)
			}
			cfg, data := writeConfig(t, port, "")
			if tt.dataDir != "" {
				cfg, _ = writeConfig(t, port, "dataDir="+tt.dataDir+"\n")
				data = tt.dataDir
			}
			env := map[string]string{}
			environ := []string{}
			for k, v := range tt.env {
				if v == "LOGDIR" {
					v = t.TempDir()
				}
				env[k] = v
				environ = append(environ, k+"="+v)
			}
			pidPath := filepath.Join(data, "zookeeper_server.pid")
			if p := env["ZOOPIDFILE"]; p != "" {
				pidPath = p
			}
			killFromPIDFile(t, pidPath)
			a, stdout, stderr := testApp(t, env)
			a.environ = append(a.environ, environ...)
			code := a.run(testContext(t), []string{"start", cfg})
			want := "Starting zookeeper ... FAILED TO START: " + tt.stdout + "\n"
			if code != 1 || stdout.String() != want || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("start: exit %d, stdout %q, stderr %q; want exit 1, stdout %q, stderr with %q", code, stdout, stderr, want, tt.stderr)
			}
			if _, err := os.Stat(pidPath); err == nil {
				t.Errorf("pid file of a failed start left behind: %s", pidPath)
			}
		})
	}
}

// TestStartTimeout: a server that never gets to serve makes start give up
// after --wait and say that the process still runs.
func TestStartTimeout(t *testing.T) {
	cfg, data := writeConfig(t, freePort(t), "")
	pidPath := filepath.Join(data, "zookeeper_server.pid")
	killFromPIDFile(t, pidPath)
	a, stdout, stderr := testApp(t, nil)
	a.environ = append(a.environ, childHangEnv+"=1")
	code := a.run(testContext(t), []string{"start", "--wait", "500ms", cfg})
	pid, err := readPIDFile(pidPath)
	if err != nil {
		t.Fatalf("no pid file from the hanging server: %v", err)
	}
	want := fmt.Sprintf("Starting zookeeper ... FAILED TO START: not serving after 500ms; process %d is still running\n", pid)
	if code != 1 || stdout.String() != want || !strings.Contains(stderr.String(), "(log: ") {
		t.Errorf("start: exit %d, stdout %q, stderr %q; want exit 1, stdout %q", code, stdout, stderr, want)
	}
}

func TestStopRefusesForeignProcess(t *testing.T) {
	cfg, data := writeConfig(t, freePort(t), "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sleep := exec.CommandContext(ctx, "sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleep.Process.Kill(); _ = sleep.Wait() }()
	pidPath := filepath.Join(data, "zookeeper_server.pid")
	if err := writePIDFile(pidPath, sleep.Process.Pid); err != nil {
		t.Fatal(err)
	}
	r := runVerb(t, nil, "stop", cfg)
	if r.code != 1 || !strings.Contains(r.stdout, "is not a zkserver") {
		t.Errorf("stop with a foreign pid: exit %d, stdout %q", r.code, r.stdout)
	}
	if !processAlive(sleep.Process.Pid) {
		t.Error("stop signalled a process that is not a zkserver")
	}
}

func TestStopStalePIDFile(t *testing.T) {
	cfg, data := writeConfig(t, freePort(t), "")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pidPath := filepath.Join(data, "zookeeper_server.pid")
	if err := writePIDFile(pidPath, dead.Process.Pid); err != nil {
		t.Fatal(err)
	}
	r := runVerb(t, nil, "stop", cfg)
	if r.code != 0 || r.stdout != "Stopping zookeeper ... STOPPED\n" || !strings.Contains(r.stderr, "stale pid file") {
		t.Errorf("stop with a stale pid file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(pidPath); !os.IsNotExist(err) {
		t.Errorf("stale pid file not removed: %v", err)
	}
}

func TestPrintCmd(t *testing.T) {
	cfg, data := writeConfig(t, 2181, "")
	a, stdout, _ := testApp(t, nil)
	a.exe = "/opt/zk go/bin/zkserver"
	if code := a.run(testContext(t), []string{"print-cmd", "--log-level", "debug", cfg}); code != 0 {
		t.Fatalf("print-cmd: exit %d", code)
	}
	want := "'/opt/zk go/bin/zkserver' start-foreground --config " + cfg + " --log-level DEBUG > " + data + "/zookeeper-"
	if !strings.HasPrefix(stdout.String(), want) || !strings.HasSuffix(stdout.String(), ".out 2>&1 < /dev/null\n") {
		t.Errorf("print-cmd = %q, want prefix %q", stdout, want)
	}
}

// TestStatusApache asks a real Apache ZooKeeper 3.8, run with only srvr
// enabled as zkServer.sh expects, for its mode.
func TestStatusApache(t *testing.T) {
	java, err := exec.LookPath("java")
	jar := "/usr/share/java/zookeeper.jar"
	if _, serr := os.Stat(jar); err != nil || serr != nil {
		msg := "java or " + jar + " missing (install the Debian packages openjdk-17-jre-headless, zookeeper)"
		if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	port := freePort(t)
	cfg, data := writeConfig(t, port, "")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp := strings.Join([]string{jar, "/usr/share/java/zookeeper-jute.jar", "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-simple.jar"}, ":")
	cmd := exec.CommandContext(ctx, java, "-cp", cp, "-Dzookeeper.4lw.commands.whitelist=srvr",
		"-Dzookeeper.admin.enableServer=false", "org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
	logf, err := os.Create(filepath.Join(data, "apache.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stopApache := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	defer stopApache()

	want := fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n", port)
	var r verbResult
	deadline := time.Now().Add(90 * time.Second)
	for {
		r = runVerb(t, nil, "status", "--config", cfg)
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // Apache is starting; poll with a deadline
	}
	if r.code != 0 || r.stdout != want {
		log, _ := os.ReadFile(logf.Name())
		t.Fatalf("status against Apache: exit %d, stdout %q; want 0, %q\n%s", r.code, r.stdout, want, log)
	}

	stopApache()
	r = runVerb(t, nil, "status", "--config", cfg)
	want = fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\nError contacting service. It is probably not running.\n", port)
	if r.code != 1 || r.stdout != want {
		t.Errorf("status after Apache stopped: exit %d, stdout %q; want 1, %q", r.code, r.stdout, want)
	}
}

func TestStatusTarget(t *testing.T) {
	for _, tt := range []struct{ cfg, host, port string }{
		{"dataDir=/d\n", "localhost", "2181"},
		{"dataDir=/d\nclientPort=3000\nclientPortAddress=10.1.2.3\n", "10.1.2.3", "3000"},
		{"dataDir=/d\nclientPortAddress=::1\n", "::1", "2181"},
	} {
		c := mustParseConfig(t, tt.cfg)
		host, port := statusTarget(c)
		if host != tt.host || port != tt.port {
			t.Errorf("statusTarget(%q) = %s, %s; want %s, %s", tt.cfg, host, port, tt.host, tt.port)
		}
	}
	c := mustParseConfig(t, "dataDir=/d\nserver.1=a:1:2;10.0.0.9:2999\nserver.2=b:1:2;2999\n")
	c.MyID = 1
	if host, port := statusTarget(c); host != "10.0.0.9" || port != "2999" {
		t.Errorf("statusTarget with a server line client address = %s, %s", host, port)
	}
}

func mustParseConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.Parse(strings.NewReader(text), "zoo.cfg")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
