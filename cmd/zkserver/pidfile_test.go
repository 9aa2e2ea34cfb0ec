package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPIDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "zookeeper_server.pid")
	if _, err := readPIDFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("readPIDFile(missing) = %v, want fs.ErrNotExist", err)
	}
	if err := writePIDFile(path, 4242); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "4242" {
		t.Errorf("pid file content %q, want %q (zkServer.sh writes no newline)", b, "4242")
	}
	if pid, err := readPIDFile(path); pid != 4242 || err != nil {
		t.Errorf("readPIDFile = %d, %v", pid, err)
	}
	// zkServer.sh-written files may end in a newline.
	if err := os.WriteFile(path, []byte("77\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if pid, err := readPIDFile(path); pid != 77 || err != nil {
		t.Errorf("readPIDFile(77\\n) = %d, %v", pid, err)
	}
	if err := removePIDFile(path, 78); err != nil {
		t.Errorf("removePIDFile(other pid): %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("removePIDFile removed another server's pid file")
	}
	if err := removePIDFile(path, 77); err != nil {
		t.Errorf("removePIDFile(own pid): %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pid file still there after removePIDFile: %v", err)
	}
	if err := removePIDFile(path, 77); err != nil {
		t.Errorf("removePIDFile(missing) = %v, want nil", err)
	}
	for _, bad := range []string{"", "abc", "-5", "0"} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readPIDFile(path); err == nil || !strings.Contains(err.Error(), "invalid content") {
			t.Errorf("readPIDFile(%q) = %v, want invalid content", bad, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temp files left next to the pid file: %v", entries)
	}
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("processAlive(self) = false")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if !processAlive(pid) {
		t.Errorf("processAlive(running child %d) = false", pid)
	}
	if looksLikeServer(pid) {
		t.Errorf("looksLikeServer(sleep) = true")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Not yet reaped: a zombie, which must count as gone.
	waitFor(t, func() bool { return !processAlive(pid) })
	_ = cmd.Wait()
	if processAlive(pid) {
		t.Errorf("processAlive(reaped child %d) = true", pid)
	}
}
