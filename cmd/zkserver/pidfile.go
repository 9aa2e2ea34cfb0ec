package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/zkgo/zkgo/config"
)

// pidFilePath is $ZOOPIDFILE, else dataDir/zookeeper_server.pid.
func pidFilePath(cfg *config.Config, getenv func(string) string) string {
	if p := getenv("ZOOPIDFILE"); p != "" {
		return p
	}
	return cfg.PIDFilePath()
}

// readPIDFile returns the pid stored at path. A missing file gives an error
// matching fs.ErrNotExist.
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: invalid content %q", path, bytes.TrimSpace(b))
	}
	return pid, nil
}

// writePIDFile stores pid at path the way zkServer.sh does (digits, no
// newline), creating the directory; the file is replaced atomically so a
// reader never sees it half written.
func writePIDFile(path string, pid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.WriteString(strconv.Itoa(pid))
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	return nil
}

// removePIDFile deletes path if it still names pid, so a server never
// removes the pid file of another one.
func removePIDFile(path string, pid int) error {
	got, err := readPIDFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || got != pid {
		return err
	}
	return os.Remove(path)
}

// processAlive reports whether pid is a running process. A zombie (exited,
// not yet reaped by its parent) counts as gone.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// Linux: the state field of /proc/PID/stat follows the ")" closing the
	// command name. Elsewhere the file is absent and the kill check stands.
	b, rerr := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if rerr != nil {
		return !errors.Is(rerr, fs.ErrNotExist) || !procMounted()
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// looksLikeServer reports whether pid runs "start-foreground", i.e. is a
// zkserver started by start (or by hand): a guard against signalling an
// unrelated process that reused the pid of a stale pid file. Where
// /proc/PID/cmdline cannot be read it gives the benefit of the doubt.
func looksLikeServer(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return true
	}
	for _, arg := range bytes.Split(b, []byte{0}) {
		if string(arg) == "start-foreground" {
			return true
		}
	}
	return false
}
