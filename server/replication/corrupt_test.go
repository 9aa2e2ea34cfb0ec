package replication

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// corruptFixture is a data directory written by real runs: a few log
// segments, two snapshots, a log truncated behind them, and a copy of the
// meta database from an earlier run.
type corruptFixture struct {
	dir       string
	staleMeta []byte
	want      []entry
}

func fixtureConfig(t *testing.T, dir string) Config {
	return Config{
		ID: "1", DataDir: dir, Logger: testLogger(t),
		SegmentSize:       4 << 10,
		TrailingLogs:      50,
		SnapshotThreshold: 1 << 30, // snapshots only when asked
	}
}

func newCorruptFixture(t *testing.T) corruptFixture {
	t.Helper()
	dir := t.TempDir()
	fsm := &listFSM{}
	n, err := Open(testContext(t), fixtureConfig(t, dir), fsm)
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	proposeAll(t, n, "a", 100)
	shutdown(t, n)
	stale, err := os.ReadFile(filepath.Join(dir, walDirName, "wal-meta.db"))
	if err != nil {
		t.Fatal(err)
	}

	fsm = &listFSM{}
	if n, err = Open(testContext(t), fixtureConfig(t, dir), fsm); err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	for _, p := range []string{"b", "c"} {
		if err := n.Snapshot(testContext(t)); err != nil {
			t.Fatal(err)
		}
		proposeAll(t, n, p, 100)
	}
	shutdown(t, n)
	return corruptFixture{dir: dir, staleMeta: stale, want: fsm.list()}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// segments returns the log segment files, oldest first.
func segments(t *testing.T, dir string) []string {
	s, _ := filepath.Glob(filepath.Join(dir, walDirName, "*.wal"))
	sort.Strings(s)
	if len(s) < 2 {
		t.Fatalf("fixture has %d log segments, want a sealed one and a tail", len(s))
	}
	return s
}

// snapshotDirs returns the snapshot directories, oldest first.
func snapshotDirs(t *testing.T, dir string) []string {
	s, _ := filepath.Glob(filepath.Join(dir, snapshotsDirName, "*"))
	slices.SortFunc(s, func(a, b string) int { return strings.Compare(a, b) })
	if len(s) != 2 {
		t.Fatalf("fixture has %d snapshots, want 2", len(s))
	}
	return s
}

func garble(t *testing.T, path string, offsets ...int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, off := range offsets {
		b := make([]byte, 64)
		n, err := f.ReadAt(b, off)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		for i := range b[:n] {
			b[i] ^= 0x5a
		}
		if _, err := f.WriteAt(b[:n], off); err != nil {
			t.Fatal(err)
		}
	}
}

func truncate(t *testing.T, path string, size func(int64) int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size(fi.Size())); err != nil {
		t.Fatal(err)
	}
}

func TestOpenDetectsCorruption(t *testing.T) {
	fx := newCorruptFixture(t)
	half := func(n int64) int64 { return n / 2 }
	meta := func(dir string) string { return filepath.Join(dir, walDirName, "wal-meta.db") }

	// Each case damages a copy of the fixture and returns the path the
	// error must name.
	for name, damage := range map[string]func(dir string) string{
		"tail segment truncated": func(dir string) string {
			s := segments(t, dir)
			truncate(t, s[len(s)-1], half)
			return s[len(s)-1]
		},
		"sealed segment truncated": func(dir string) string {
			s := segments(t, dir)
			truncate(t, s[0], half)
			return s[0]
		},
		"sealed segment header garbled": func(dir string) string {
			s := segments(t, dir)
			garble(t, s[0], 0)
			return s[0]
		},
		"sealed segment missing": func(dir string) string {
			s := segments(t, dir)
			if err := os.Remove(s[0]); err != nil {
				t.Fatal(err)
			}
			return s[0]
		},
		"meta pages garbled": func(dir string) string {
			garble(t, meta(dir), 0, 4096)
			return meta(dir)
		},
		"meta truncated": func(dir string) string {
			truncate(t, meta(dir), func(int64) int64 { return 100 })
			return meta(dir)
		},
		"meta missing": func(dir string) string {
			if err := os.Remove(meta(dir)); err != nil {
				t.Fatal(err)
			}
			return meta(dir)
		},
		"meta stale": func(dir string) string {
			if err := os.WriteFile(meta(dir), fx.staleMeta, 0o644); err != nil {
				t.Fatal(err)
			}
			return meta(dir)
		},
		"newest state.bin garbled": func(dir string) string {
			p := filepath.Join(snapshotDirs(t, dir)[1], "state.bin")
			garble(t, p, 100)
			return p
		},
		"older state.bin truncated": func(dir string) string {
			p := filepath.Join(snapshotDirs(t, dir)[0], "state.bin")
			truncate(t, p, half)
			return p
		},
		"newest meta.json garbled": func(dir string) string {
			p := filepath.Join(snapshotDirs(t, dir)[1], "meta.json")
			garble(t, p, 0)
			return p
		},
		"newest snapshot missing": func(dir string) string {
			// The log was truncated past the older snapshot: a hole.
			if err := os.RemoveAll(snapshotDirs(t, dir)[1]); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, walDirName)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, fx.dir)
			path := damage(dir)
			n, err := Open(testContext(t), fixtureConfig(t, dir), &listFSM{})
			if err == nil {
				shutdown(t, n)
				t.Fatal("Open succeeded on a damaged directory")
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open: %v\nwant ErrCorrupt naming %s", err, path)
			}
			t.Logf("%v", err)
			// The failed Open released the directory.
			if unlock, err := lockDir(dir); err != nil {
				t.Fatalf("directory still locked after failed Open: %v", err)
			} else {
				_ = unlock()
			}
		})
	}

	t.Run("undamaged copy opens", func(t *testing.T) {
		dir := copyDir(t, fx.dir)
		if err := os.MkdirAll(filepath.Join(dir, snapshotsDirName, "1-2-3.tmp"), 0o755); err != nil {
			t.Fatal(err)
		}
		fsm := &listFSM{}
		n := open(t, fixtureConfig(t, dir), fsm)
		waitReady(t, n)
		if got := fsm.list(); !slices.Equal(got, fx.want) {
			t.Fatalf("state after reopen: %d commands, want %d", len(got), len(fx.want))
		}
		if _, err := os.Stat(filepath.Join(dir, snapshotsDirName, "1-2-3.tmp")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("unfinished snapshot not removed: %v", err)
		}
	})
}
