package replication

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestStandaloneAppliesInOrder(t *testing.T) {
	fsm := &listFSM{}
	start := time.Now()
	n := open(t, standaloneConfig(t), fsm)
	waitReady(t, n)
	t.Logf("first start: ready leader %v after Open was called", time.Since(start))
	if got := n.State(); got != "leader" || !n.IsLeader() {
		t.Fatalf("State = %q, IsLeader = %v; want leader", got, n.IsLeader())
	}
	if id, _ := n.Leader(); id != "1" {
		t.Fatalf("Leader id = %q, want 1", id)
	}

	// Concurrent proposers: callbacks must come in log order, after Apply.
	const workers, per = 4, 50
	var (
		mu        sync.Mutex
		doneOrder []string
		wg        sync.WaitGroup
	)
	wg.Add(workers * per)
	for w := range workers {
		go func() {
			for i := range per {
				cmd := fmt.Sprintf("w%d-%d", w, i)
				n.Propose([]byte(cmd), func(err error) {
					defer wg.Done()
					if err != nil {
						t.Errorf("Propose %s: %v", cmd, err)
						return
					}
					if !slices.ContainsFunc(fsm.list(), func(e entry) bool { return e.Cmd == cmd }) {
						t.Errorf("done(%s) ran before FSM.Apply", cmd)
					}
					mu.Lock()
					doneOrder = append(doneOrder, cmd)
					mu.Unlock()
				})
			}
		}()
	}
	wg.Wait()

	got := fsm.list()
	if len(got) != workers*per {
		t.Fatalf("FSM applied %d commands, want %d (raft-internal entries must not reach it)", len(got), workers*per)
	}
	var applied []string
	for i, e := range got {
		if i > 0 && e.Index <= got[i-1].Index {
			t.Fatalf("indexes not increasing: %v then %v", got[i-1], e)
		}
		applied = append(applied, e.Cmd)
	}
	if !slices.Equal(applied, doneOrder) {
		t.Fatalf("callbacks not in log order:\napplied %v\ndone    %v", applied, doneOrder)
	}
	// Index 1 is the bootstrap configuration, 2 the leader's no-op, 3 the
	// readiness barrier: none of them is a command.
	if got[0].Index <= 3 {
		t.Fatalf("first command at index %d: an internal entry reached the FSM", got[0].Index)
	}
	if ai := n.AppliedIndex(); ai != got[len(got)-1].Index {
		t.Fatalf("AppliedIndex = %d, want %d", ai, got[len(got)-1].Index)
	}
	if ci := n.CommitIndex(); ci < n.AppliedIndex() {
		t.Fatalf("CommitIndex %d < AppliedIndex %d", ci, n.AppliedIndex())
	}

	v, err := n.ProposeWait(testContext(t), []byte("last"))
	if err != nil || v != workers*per+1 {
		t.Fatalf("ProposeWait = %v, %v; want FSM result %d", v, err, workers*per+1)
	}
	if err := n.Barrier(testContext(t)); err != nil {
		t.Fatalf("Barrier: %v", err)
	}
	if err := n.VerifyLeader(testContext(t)); err != nil {
		t.Fatalf("VerifyLeader: %v", err)
	}
	if s := n.Stats(); s["mode"] != "leader" || s["fsm_applied_index"] == "" || s["state"] != "Leader" {
		t.Fatalf("Stats = %v", s)
	}
	if err := n.AddVoter(testContext(t), "2", "127.0.0.1:1"); !errors.Is(err, ErrNoNetwork) {
		t.Fatalf("AddVoter on the in-memory transport: %v, want ErrNoNetwork", err)
	}
}

func TestShutdownRejectsRequests(t *testing.T) {
	n, err := Open(testContext(t), standaloneConfig(t), &listFSM{})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	_, changed := n.Leadership()
	// Proposals submitted before Shutdown are carried out before raft stops.
	var wg sync.WaitGroup
	wg.Add(100)
	for i := range 100 {
		n.Propose([]byte(fmt.Sprint(i)), func(err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("in-flight proposal: %v", err)
			}
		})
	}
	if err := n.Shutdown(testContext(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	if err := n.Shutdown(testContext(t)); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Leadership change not signalled on Shutdown")
	}
	if ready, _ := n.Leadership(); ready {
		t.Fatal("still a ready leader after Shutdown")
	}

	var got error
	n.Propose([]byte("x"), func(err error) { got = err })
	if !errors.Is(got, ErrShutdown) {
		t.Fatalf("Propose after Shutdown: %v", got)
	}
	if _, err := n.ProposeWait(testContext(t), []byte("x")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("ProposeWait after Shutdown: %v", err)
	}
	if err := n.Barrier(testContext(t)); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Barrier after Shutdown: %v", err)
	}
	if err := n.Snapshot(testContext(t)); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Snapshot after Shutdown: %v", err)
	}
	if s := n.State(); s != "shutdown" {
		t.Fatalf("State = %q", s)
	}
}

func TestReopenRebuildsState(t *testing.T) {
	cfg := standaloneConfig(t)
	cfg.LogDir = t.TempDir()
	fsm := &listFSM{}
	n, err := Open(testContext(t), cfg, fsm)
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	proposeAll(t, n, "a", 30)
	if err := n.Snapshot(testContext(t)); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	proposeAll(t, n, "b", 30) // only in the log
	want := fsm.list()
	applied := n.AppliedIndex()
	if err := n.Shutdown(testContext(t)); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		fresh := &listFSM{}
		start := time.Now()
		n, err = Open(testContext(t), cfg, fresh)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		waitReady(t, n)
		t.Logf("restart %d: ready leader %v after Open was called", round, time.Since(start))
		if got := fresh.list(); !slices.Equal(got, want) {
			t.Fatalf("rebuilt FSM differs:\n got %v\nwant %v", got, want)
		}
		if fresh.restores != 1 {
			t.Fatalf("FSM restored %d times, want 1 (from the snapshot)", fresh.restores)
		}
		if n.AppliedIndex() != applied {
			t.Fatalf("AppliedIndex = %d, want %d", n.AppliedIndex(), applied)
		}
		if err := n.Shutdown(testContext(t)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotsPurgedAndLogTruncated(t *testing.T) {
	cfg := standaloneConfig(t)
	cfg.SnapshotThreshold = 40
	cfg.SnapshotInterval = 5 * time.Millisecond
	cfg.TrailingLogs = 20
	cfg.SegmentSize = 4 << 10 // a few dozen entries per segment
	fsm := &listFSM{}
	n := open(t, cfg, fsm)
	waitReady(t, n)

	snapDir := filepath.Join(cfg.DataDir, snapshotsDirName)
	walDir := filepath.Join(cfg.DataDir, walDirName)
	countSnaps := func() int {
		es, err := os.ReadDir(snapDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		c := 0
		for _, e := range es {
			if e.IsDir() && filepath.Ext(e.Name()) != ".tmp" {
				c++
			}
		}
		return c
	}
	// Automatic snapshots once the threshold is passed.
	proposeAll(t, n, "auto", 100)
	waitFor(t, "an automatic snapshot", func() bool { return countSnaps() > 0 })

	for round := range 6 {
		proposeAll(t, n, fmt.Sprintf("r%d", round), 60)
		if err := n.Snapshot(testContext(t)); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		if c := countSnaps(); c > 3 {
			t.Fatalf("%d snapshots kept, want at most SnapshotRetain=3", c)
		}
	}
	if c := countSnaps(); c != 3 {
		t.Fatalf("%d snapshots kept, want 3", c)
	}
	first, err := n.stores.wal.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	last, err := n.stores.wal.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	if first <= 1 || last-first+1 > cfg.TrailingLogs+cfg.SnapshotThreshold {
		t.Fatalf("log holds [%d, %d]: not truncated to about TrailingLogs", first, last)
	}
	segs, _ := filepath.Glob(filepath.Join(walDir, "*.wal"))
	t.Logf("log [%d, %d], %d segments", first, last, len(segs))
	if len(segs) > 12 {
		t.Fatalf("%d log segments left: log not truncated", len(segs))
	}
	if len(fsm.list()) != 100+6*60 {
		t.Fatalf("FSM has %d commands", len(fsm.list()))
	}
}

func TestDirectoryLocked(t *testing.T) {
	cfg := standaloneConfig(t)
	open(t, cfg, &listFSM{})
	_, err := Open(testContext(t), cfg, &listFSM{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open on the same directory: %v, want ErrLocked", err)
	}
}

func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]Config{
		"no id":          {DataDir: dir},
		"no dir":         {ID: "1"},
		"self missing":   {ID: "1", DataDir: dir, Servers: []Server{{ID: "2", Address: "a:1", Voter: true}}},
		"no voter":       {ID: "1", DataDir: dir, Servers: []Server{{ID: "1"}}},
		"duplicate":      {ID: "1", DataDir: dir, BindAddr: "127.0.0.1:0", Servers: []Server{{ID: "1", Voter: true}, {ID: "1", Address: "a:1"}}},
		"peer no addr":   {ID: "1", DataDir: dir, BindAddr: "127.0.0.1:0", Servers: []Server{{ID: "1", Voter: true}, {ID: "2", Voter: true}}},
		"peers no net":   {ID: "1", DataDir: dir, Servers: []Server{{ID: "1", Voter: true}, {ID: "2", Address: "a:1", Voter: true}}},
		"bad lease":      {ID: "1", DataDir: dir, HeartbeatTimeout: 10 * time.Millisecond, LeaderLeaseTimeout: time.Second},
		"unadvertisable": {ID: "1", DataDir: dir, BindAddr: "0.0.0.0:0"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Logger = testLogger(t)
			n, err := Open(context.Background(), cfg, &listFSM{})
			if err == nil {
				shutdown(t, n)
				t.Fatal("Open succeeded")
			}
		})
	}
}
