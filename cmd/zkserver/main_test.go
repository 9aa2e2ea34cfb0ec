package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/config"
)

// testVersion is the server version the tests' app reports.
const testVersion = "3.8.0-zkgo-test"

// childEnv makes the test binary act as zkserver (with fakeServer) when
// start re-executes it.
const childEnv = "ZKSERVER_TEST_CHILD=1"

// Variables that make the child fail, for the tests of start's reports.
const (
	childExitEnv  = "ZKSERVER_TEST_CHILD_EXIT"  // exit at once with this status
	childErrorEnv = "ZKSERVER_TEST_CHILD_ERROR" // creating the server fails with this error
	childHangEnv  = "ZKSERVER_TEST_CHILD_HANG"  // creating the server never returns
)

func TestMain(m *testing.M) {
	if os.Getenv("ZKSERVER_TEST_CHILD") == "1" {
		if code := os.Getenv(childExitEnv); code != "" {
			fmt.Fprintln(os.Stderr, "test child: exiting as asked")
			n, _ := strconv.Atoi(code)
			os.Exit(n)
		}
		a := &app{
			stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ(),
			newServer: func(cfg *config.Config, _ *slog.Logger) (zkServer, error) {
				if msg := os.Getenv(childErrorEnv); msg != "" {
					return nil, errors.New(msg)
				}
				if os.Getenv(childHangEnv) != "" {
					select {} // until start gives up and the test kills us
				}
				return newFakeServer(), nil
			},
			notify:  notifySignals,
			version: testVersion,
		}
		os.Exit(a.run(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeServer answers srvr and ruok like a standalone ZooKeeper; it stands in
// for server.Server, which this package's tests do not depend on.
type fakeServer struct {
	blockShutdown bool // Shutdown waits for its context to end

	closeOnce     sync.Once
	closed        chan struct{}
	mu            sync.Mutex
	ln            net.Listener // guarded by mu
	conns         sync.WaitGroup
	shutdownCalls atomic.Int32
	closeCalls    atomic.Int32
}

func newFakeServer() *fakeServer {
	return &fakeServer{closed: make(chan struct{})}
}

func (f *fakeServer) Serve(ln net.Listener) error {
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	select {
	case <-f.closed: // stopped before we listened
		ln.Close()
		return nil
	default:
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-f.closed:
				f.conns.Wait()
				return nil
			default:
				return err
			}
		}
		f.conns.Add(1)
		go f.serve(c)
	}
}

func (f *fakeServer) serve(c net.Conn) {
	defer f.conns.Done()
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	word := make([]byte, 4)
	if _, err := io.ReadFull(c, word); err != nil {
		return
	}
	switch string(word) {
	case "srvr":
		io.WriteString(c, "Zookeeper version: 3.8.0-fake, built on 2026-01-01 00:00 UTC\nLatency min/avg/max: 0/0.0/0\n"+
			"Received: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n")
	case "ruok":
		io.WriteString(c, "imok")
	}
}

func (f *fakeServer) stop() {
	f.closeOnce.Do(func() {
		close(f.closed)
		f.mu.Lock()
		if f.ln != nil {
			f.ln.Close()
		}
		f.mu.Unlock()
	})
}

func (f *fakeServer) Shutdown(ctx context.Context) error {
	f.shutdownCalls.Add(1)
	if f.blockShutdown {
		<-ctx.Done()
		return ctx.Err()
	}
	f.stop()
	return nil
}

func (f *fakeServer) Close() error {
	f.closeCalls.Add(1)
	f.stop()
	return nil
}

// testApp returns an app writing to buffers, with environment env (nil
// means empty) and the test binary as the program start re-executes.
func testApp(t *testing.T, env map[string]string) (*app, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	environ := append(os.Environ(), childEnv)
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	a := &app{
		stdout: &stdout, stderr: &stderr,
		getenv:  func(k string) string { return env[k] },
		environ: environ,
		exe:     exe,
		newServer: func(*config.Config, *slog.Logger) (zkServer, error) {
			return newFakeServer(), nil
		},
		notify:  notifySignals,
		version: testVersion,
	}
	return a, &stdout, &stderr
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"Zookeeper version: 3.8.0\nZxid: 0x0\nMode: standalone\nNode count: 5\n", "Mode: standalone", true},
		{"Mode: leader\nProposal sizes last/min/max: -1/-1/-1\n", "Mode: leader", true},
		{"Mode:   follower  \r\n", "Mode: follower", true},
		{"This ZooKeeper instance is not currently serving requests\n", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := parseMode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseMode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUsageAndVersion(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		stdout   string
		errorSub string
	}{
		{nil, 0, "Usage:", ""},
		{[]string{"version"}, 0, "Apache ZooKeeper, version " + testVersion + " (zkgo ", ""},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"status", "--no-such-flag"}, 2, "", "unknown flag: --no-such-flag"},
		{[]string{"status", "a.cfg", "b.cfg"}, 2, "", "accepts at most 1 arg"},
	}
	for _, tt := range tests {
		a, stdout, stderr := testApp(t, nil)
		code := a.run(testContext(t), tt.args)
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.errorSub) {
			t.Errorf("zkserver %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tt.args, code, stdout, stderr, tt.code, tt.stdout, tt.errorSub)
		}
	}
}

func TestForegroundGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.ClientPort = 0
	fake := newFakeServer()
	a, _, stderr := testApp(t, nil)
	a.newServer = func(*config.Config, *slog.Logger) (zkServer, error) { return fake, nil }
	sigs := make(chan os.Signal, 2)
	a.notify = func() (<-chan os.Signal, func()) { return sigs, func() {} }

	done := make(chan error, 1)
	go func() { done <- a.foreground(testContext(t), "", cfg, options{shutdownTimeout: time.Minute}) }()
	waitFor(t, func() bool { _, err := readPIDFile(cfg.PIDFilePath()); return err == nil })
	if pid, _ := readPIDFile(cfg.PIDFilePath()); pid != os.Getpid() {
		t.Errorf("pid file holds %d, want %d", pid, os.Getpid())
	}
	sigs <- os.Interrupt
	if err := <-done; err != nil {
		t.Fatalf("foreground: %v", err)
	}
	if fake.shutdownCalls.Load() != 1 || fake.closeCalls.Load() != 0 {
		t.Errorf("Shutdown called %d times, Close %d; want 1, 0", fake.shutdownCalls.Load(), fake.closeCalls.Load())
	}
	if _, err := os.Stat(cfg.PIDFilePath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file still there after shutdown: %v", err)
	}
	if !strings.Contains(stderr.String(), "msg=\"shutting down\"") {
		t.Errorf("log lacks the shutdown line:\n%s", stderr)
	}
}

func TestForegroundSecondSignalCloses(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.ClientPort = 0
	fake := newFakeServer()
	fake.blockShutdown = true
	a, _, _ := testApp(t, nil)
	a.newServer = func(*config.Config, *slog.Logger) (zkServer, error) { return fake, nil }
	sigs := make(chan os.Signal, 2)
	a.notify = func() (<-chan os.Signal, func()) { return sigs, func() {} }

	done := make(chan error, 1)
	go func() { done <- a.foreground(testContext(t), "", cfg, options{shutdownTimeout: time.Hour}) }()
	sigs <- os.Interrupt
	waitFor(t, func() bool { return fake.shutdownCalls.Load() == 1 })
	sigs <- os.Interrupt
	if err := <-done; err != nil {
		t.Fatalf("foreground: %v", err)
	}
	if fake.closeCalls.Load() != 1 {
		t.Errorf("Close called %d times after a second signal, want 1", fake.closeCalls.Load())
	}
}

func TestForegroundRefusesSecondServer(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	// Our parent process is alive and is not us: it plays the running server.
	if err := writePIDFile(cfg.PIDFilePath(), os.Getppid()); err != nil {
		t.Fatal(err)
	}
	a, _, _ := testApp(t, nil)
	err := a.foreground(testContext(t), "", cfg, options{shutdownTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "already running as process") {
		t.Fatalf("foreground with a live pid file = %v, want 'already running'", err)
	}
	if pid, _ := readPIDFile(cfg.PIDFilePath()); pid != os.Getppid() {
		t.Errorf("pid file changed to %d", pid)
	}
}

// TestForegroundListenFailure: a busy client port stops the start before
// the server is created (its data opened) or the pid file written.
func TestForegroundListenFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.ClientPort = ln.Addr().(*net.TCPAddr).Port
	a, _, _ := testApp(t, nil)
	created := false
	a.newServer = func(*config.Config, *slog.Logger) (zkServer, error) { created = true; return newFakeServer(), nil }
	err = a.foreground(testContext(t), "", cfg, options{shutdownTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("foreground on a busy port = %v, want 'address already in use'", err)
	}
	if created {
		t.Error("server created although the client port is busy")
	}
	if _, err := os.Stat(cfg.PIDFilePath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
