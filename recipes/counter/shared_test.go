package counter_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/counter"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// startCount starts a SharedCount and closes it when the test ends.
func startCount(t *testing.T, c *client.Conn, path string, seed int32) *counter.SharedCount {
	t.Helper()
	s := counter.NewSharedCount(c, path, seed)
	if err := s.Start(testserver.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seen collects the counts a listener is given.
type seen struct {
	mu     sync.Mutex
	counts []int32
}

func (s *seen) add(n int32) {
	s.mu.Lock()
	s.counts = append(s.counts, n)
	s.mu.Unlock()
}

func (s *seen) has(n int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.counts {
		if c == n {
			return true
		}
	}
	return false
}

func (s *seen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.counts)
}

func TestSharedCountLayout(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	base := suite.Base(t)
	path := base + "/counts/c"
	s := startCount(t, c, path, 7)
	data, _, err := c.Get(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "\x00\x00\x00\x07" || s.Count() != 7 {
		t.Fatalf("seeded node holds % x, Count %d; want 00 00 00 07, 7", data, s.Count())
	}
	if err := s.SetCount(ctx, -2); err != nil {
		t.Fatal(err)
	}
	if data, _, _ := c.Get(ctx, path); string(data) != "\xff\xff\xff\xfe" || s.Count() != -2 {
		t.Fatalf("after SetCount(-2): node % x, Count %d", data, s.Count())
	}
	// A second SharedCount does not overwrite the count with its seed.
	if other := startCount(t, connect(t), path, 99); other.Count() != -2 {
		t.Fatalf("second SharedCount read %d, want -2", other.Count())
	}
	s.Close()
	if err := c.Delete(ctx, path, -1); err != nil {
		t.Fatal(err)
	}
	testserver.WaitFor(t, "the container parent to be reaped", func() bool {
		st, err := c.Exists(ctx, base+"/counts")
		return err == nil && st == nil
	})
}

func TestSharedCountLifecycle(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	base := suite.Base(t)
	path := base + "/c"
	s := counter.NewSharedCount(c, path, 3)
	if s.Count() != 3 {
		t.Fatalf("Count before Start = %d, want the seed 3", s.Count())
	}
	if err := s.SetCount(ctx, 1); !errors.Is(err, counter.ErrNotStarted) {
		t.Fatalf("SetCount before Start: %v, want ErrNotStarted", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); !errors.Is(err, counter.ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	s.Close()
	if err := s.SetCount(ctx, 1); !errors.Is(err, counter.ErrNotStarted) {
		t.Fatalf("SetCount after Close: %v, want ErrNotStarted", err)
	}
	if _, err := c.Create(ctx, base+"/short", []byte{1, 2}, client.WithParents()); err != nil {
		t.Fatal(err)
	}
	if err := counter.NewSharedCount(c, base+"/short", 0).Start(ctx); !errors.Is(err, counter.ErrCorrupt) {
		t.Fatalf("Start on a 2-byte node: %v, want ErrCorrupt", err)
	}
}

// TestSharedCountListener: a listener hears about changes made by another
// session and by its own SharedCount; after Close it hears nothing.
func TestSharedCountListener(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/c"
	a := startCount(t, connect(t), path, 0)
	b := startCount(t, connect(t), path, 0)
	var got seen
	a.AddListener(got.add)
	for n := int32(1); n <= 5; n++ {
		if err := b.SetCount(ctx, n); err != nil {
			t.Fatal(err)
		}
		testserver.WaitFor(t, "the listener to see the new count", func() bool { return got.has(n) })
		if a.Count() != n {
			t.Fatalf("Count = %d after the listener saw %d", a.Count(), n)
		}
	}
	if err := a.SetCount(ctx, 100); err != nil {
		t.Fatal(err)
	}
	testserver.WaitFor(t, "the listener to see its own change", func() bool { return got.has(100) })

	remove := a.AddListener(func(int32) {})
	remove()
	a.Close()
	before := got.len()
	// A third SharedCount seeing the next change proves it was made and
	// announced; the closed one must not have told its listener.
	var third seen
	startCount(t, connect(t), path, 0).AddListener(third.add)
	if err := b.SetCount(ctx, 200); err != nil {
		t.Fatal(err)
	}
	testserver.WaitFor(t, "another SharedCount to see the change", func() bool { return third.has(200) })
	if got.len() != before {
		t.Fatalf("listener of a closed SharedCount called: %v", got.counts)
	}
}

func TestSharedCountTrySet(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/c"
	a := startCount(t, connect(t), path, 10)
	b := startCount(t, connect(t), path, 10)
	pa, pb := a.VersionedCount(), b.VersionedCount()
	if pa.Value != 10 || pa.Version != 0 || pa.Zxid == 0 {
		t.Fatalf("VersionedCount = %+v", pa)
	}
	if ok, err := a.TrySetCount(ctx, pa, 11); err != nil || !ok {
		t.Fatalf("TrySetCount over the latest version: %v, %v", ok, err)
	}
	// b's view is stale: it fails, and reads the new count.
	if ok, err := b.TrySetCount(ctx, pb, 12); err != nil || ok {
		t.Fatalf("TrySetCount over a stale version: %v, %v; want false", ok, err)
	}
	pb = b.VersionedCount()
	if pb.Value != 11 || pb.Version != 1 {
		t.Fatalf("after a failed TrySetCount: %+v, want count 11 version 1", pb)
	}
	// An old Versioned is refused without asking the server.
	if ok, err := a.TrySetCount(ctx, pa, 13); err != nil || ok {
		t.Fatalf("TrySetCount with an outdated Versioned: %v, %v", ok, err)
	}
	if ok, err := b.TrySetCount(ctx, pb, 12); err != nil || !ok {
		t.Fatalf("TrySetCount after reading: %v, %v", ok, err)
	}
	bad := b.VersionedCount()
	bad.Value++
	if ok, err := b.TrySetCount(ctx, bad, 0); err != nil || ok {
		t.Fatalf("TrySetCount with a value that was never seen: %v, %v", ok, err)
	}
}

// TestSharedCountConcurrent: sessions add to one count with TrySetCount
// loops; no increment is lost.
func TestSharedCountConcurrent(t *testing.T) {
	const sessions, each = 4, 15
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/c"
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	var conflicts atomic.Int32
	for range sessions {
		s := startCount(t, connect(t), path, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				for {
					prev := s.VersionedCount()
					ok, err := s.TrySetCount(ctx, prev, prev.Value+1)
					if err != nil {
						errs <- err
						return
					}
					if ok {
						break
					}
					conflicts.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	final := startCount(t, connect(t), path, 0).Count()
	if final != sessions*each {
		t.Fatalf("count = %d, want %d", final, sessions*each)
	}
	t.Logf("%d conflicts", conflicts.Load())
}

// TestSharedCountNodeRecreated: a SharedCount follows its node through a
// delete and a new create.
func TestSharedCountNodeRecreated(t *testing.T) {
	ctx := testserver.Context(t)
	c := connect(t)
	path := suite.Base(t) + "/c"
	s := startCount(t, connect(t), path, 1)
	var got seen
	s.AddListener(got.add)
	if err := c.Delete(ctx, path, -1); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCount(ctx, 2); !errors.Is(err, client.ErrNoNode) {
		t.Fatalf("SetCount on a deleted node: %v, want ErrNoNode", err)
	}
	if _, err := c.Create(ctx, path, []byte{0, 0, 0, 9}); err != nil {
		t.Fatal(err)
	}
	testserver.WaitFor(t, "the count of the new node", func() bool { return got.has(9) && s.Count() == 9 })
}

// TestSharedCountSessionLost: changes made while a SharedCount's session
// expired reach it on its new session.
func TestSharedCountSessionLost(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/c"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	a := startCount(t, c, path, 0)
	var got seen
	a.AddListener(got.add)
	b := startCount(t, connect(t), path, 0)
	old := c.SessionID()
	px.Cut(true)
	testserver.WaitState(t, c, client.Suspended)
	if err := b.SetCount(ctx, 42); err != nil {
		t.Fatal(err)
	}
	testserver.WaitState(t, c, client.Lost)
	px.Resume()
	testserver.WaitState(t, c, client.Reconnected)
	if c.SessionID() == old {
		t.Fatal("session resumed, want a new one")
	}
	testserver.WaitFor(t, "the count set while the session was lost", func() bool { return got.has(42) && a.Count() == 42 })
	// And it keeps following on the new session.
	if err := b.SetCount(ctx, 43); err != nil {
		t.Fatal(err)
	}
	testserver.WaitFor(t, "the next count", func() bool { return got.has(43) })
}

func TestSharedValue(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/v"
	a := counter.NewSharedValue(connect(t), path, nil)
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if v := a.Value(); v == nil || len(v) != 0 {
		t.Fatalf("seeded with nil: %q, want empty", v)
	}
	got := make(chan string, 10)
	a.AddListener(func(v []byte) { got <- string(v) })
	b := counter.NewSharedValue(connect(t), path, []byte("ignored"))
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if ok, err := b.TrySetValue(ctx, b.Versioned(), []byte("hello")); !ok || err != nil {
		t.Fatalf("TrySetValue: %v, %v", ok, err)
	}
	select {
	case v := <-got:
		if v != "hello" {
			t.Fatalf("listener got %q", v)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("listener not called")
	}
	overflow := a.Versioned()
	overflow.Version = -1
	if _, err := a.TrySetValue(ctx, overflow, nil); !errors.Is(err, counter.ErrVersionOverflow) {
		t.Fatalf("TrySetValue with version -1: %v, want ErrVersionOverflow", err)
	}
}
