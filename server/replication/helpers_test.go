package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// entry is one command applied to listFSM.
type entry struct {
	Index uint64
	Cmd   string
}

// listFSM records every applied command. Its snapshot is O(1): entries is
// append-only, so a capped slice header is a stable view.
type listFSM struct {
	mu       sync.Mutex
	entries  []entry
	restores int
}

func (f *listFSM) Apply(index uint64, cmd []byte) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, entry{index, string(cmd)})
	return len(f.entries)
}

func (f *listFSM) Snapshot() (Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return listSnapshot(f.entries[:len(f.entries):len(f.entries)]), nil
}

func (f *listFSM) Restore(r io.Reader) error {
	var es []entry
	if err := json.NewDecoder(r).Decode(&es); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = es
	f.restores++
	return nil
}

func (f *listFSM) list() []entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]entry(nil), f.entries...)
}

type listSnapshot []entry

func (s listSnapshot) Persist(w io.Writer) error { return json.NewEncoder(w).Encode([]entry(s)) }
func (s listSnapshot) Release()                  {}

// syncBuffer collects a test's logs; they are printed only if it fails,
// because raft's transport goroutines may still log after the test ends.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	var b syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// standaloneConfig returns a standalone config in dir, or in a fresh
// directory.
func standaloneConfig(t *testing.T, dir ...string) Config {
	cfg := Config{ID: "1", DataDir: t.TempDir(), Logger: testLogger(t)}
	if len(dir) > 0 {
		cfg.DataDir = dir[0]
	}
	return cfg
}

// open opens a Node and shuts it down at the end of the test.
func open(t *testing.T, cfg Config, fsm FSM) *Node {
	t.Helper()
	n, err := Open(testContext(t), cfg, fsm)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { shutdown(t, n) })
	return n
}

func shutdown(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// waitLimit bounds every wait for a condition: generous, for a loaded
// machine running -race.
const waitLimit = time.Minute

// waitFor polls cond until it holds or waitLimit passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitLimit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitReady waits until n is a ready leader.
func waitReady(t *testing.T, n *Node) {
	t.Helper()
	ctx := testContext(t)
	for {
		ready, changed := n.Leadership()
		if ready {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("node %s did not become a ready leader (state %s)", n.cfg.ID, n.State())
		}
	}
}

// proposeAll proposes cmd-0..cmd-(count-1) with prefix and waits for all.
func proposeAll(t *testing.T, n *Node, prefix string, count int) {
	t.Helper()
	ctx := testContext(t)
	for i := range count {
		if _, err := n.ProposeWait(ctx, []byte(fmt.Sprintf("%s-%d", prefix, i))); err != nil {
			t.Fatalf("ProposeWait %s-%d: %v", prefix, i, err)
		}
	}
}

// listen returns a listener on a free 127.0.0.1 port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
