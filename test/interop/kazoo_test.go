package interop

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// requireKazoo checks for the system Python with kazoo installed.
func requireKazoo(t *testing.T) {
	t.Helper()
	requireFile(t, python, "python3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import kazoo").CombinedOutput(); err != nil {
		missing(t, "python3-kazoo", "%s cannot import kazoo: %v\n%s", python, err, out)
	}
}

// TestKazoo runs every testdata/kazoo/*.py script (files starting with _ are
// helpers) against one server per target; each script works under its own root.
func TestKazoo(t *testing.T) {
	t.Parallel()
	requireKazoo(t)
	scripts, err := filepath.Glob(filepath.Join("testdata", "kazoo", "*.py"))
	if err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, s := range scripts {
		if !strings.HasPrefix(filepath.Base(s), "_") {
			run = append(run, s)
		}
	}
	if len(run) < 10 {
		t.Fatalf("found %d kazoo scripts, want at least 10: %v", len(run), run)
	}
	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		for _, script := range run {
			name := strings.TrimSuffix(filepath.Base(script), ".py")
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				// -B: write no __pycache__ into testdata.
				out := runTool(t, 90*time.Second, "", python, "-B", script, tg.addr)
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if lines[len(lines)-1] != "OK" {
					t.Fatalf("%s did not print OK:\n%s", script, out)
				}
			})
		}
	})
}
