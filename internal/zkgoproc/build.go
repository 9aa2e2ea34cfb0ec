package zkgoproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrBuild is wrapped by Build's failure when cmd/zkserver does not compile
// or the module root cannot be found.
var ErrBuild = errors.New("building cmd/zkserver")

// built caches the binary for the whole test binary: compiling zkserver per
// test would dominate the suites' runtime on a 2-core machine.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Build compiles ./cmd/zkserver once per process into a temporary
// directory and returns the binary's path; it fails tb if the build fails.
// RemoveBuild deletes the directory.
func Build(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		built.dir, built.bin, built.err = build()
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.bin
}

// RemoveBuild deletes the directory Build compiled into, if any; call it
// from TestMain after m.Run.
func RemoveBuild() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

func build() (dir, bin string, err error) {
	root, err := moduleRoot()
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBuild, err)
	}
	dir, err = os.MkdirTemp("", "zkgo-zkserver-")
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBuild, err)
	}
	bin = filepath.Join(dir, "zkserver")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/zkserver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, "", fmt.Errorf("%w: go build ./cmd/zkserver in %s: %w\n%s", ErrBuild, root, err, out)
	}
	return dir, bin, nil
}

// moduleRoot finds the module from this file's location (two levels up),
// falling back to `go env GOMOD` when the source path is not usable (for
// example under -trimpath).
func moduleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		root := filepath.Join(filepath.Dir(file), "..", "..")
		if _, err := os.Stat(filepath.Join(root, "cmd", "zkserver")); err == nil {
			return root, nil
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}
