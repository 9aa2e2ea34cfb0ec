package lock_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/lock"
)

var curatorLeaseNode = regexp.MustCompile(`^_c_[0-9a-f-]{36}-lease-[0-9]{10}$`)

func TestSemaphoreLayout(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/sem"
	c := connect(t)
	s := lock.NewSemaphore(c, path, 2, lock.WithData([]byte("node-a")))
	l, err := s.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leases, err := c.Children(ctx, path+"/leases")
	if err != nil || len(leases) != 1 || !curatorLeaseNode.MatchString(leases[0]) || l.Node() != path+"/leases/"+leases[0] {
		t.Fatalf("leases %q (%v), want one _c_<uuid>-lease-NNNNNNNNNN = %s", leases, err, l.Node())
	}
	data, st, err := c.Get(ctx, l.Node())
	if err != nil || string(data) != "node-a" || st.EphemeralOwner != c.SessionID() || l.Token() != st.Czxid {
		t.Fatalf("lease node data %q owner %#x czxid %d (%v); token %d", data, st.EphemeralOwner, st.Czxid, err, l.Token())
	}
	// The locks mutex was taken to create the lease and given back.
	if locks, err := c.Children(ctx, path+"/locks"); err != nil || len(locks) != 0 {
		t.Fatalf("locks children %q (%v), want none", locks, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); !errors.Is(err, lock.ErrNotLocked) {
		t.Fatalf("second Release: %v, want ErrNotLocked", err)
	}
	if !testserver.Closed(l.Done()) {
		t.Fatal("Done open after Release")
	}
}

func TestSemaphoreLimit(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/sem"
	sems := make([]*lock.Semaphore, 3)
	for i := range sems {
		sems[i] = lock.NewSemaphore(connect(t), path, 2)
	}
	l0, err := sems[0].TryAcquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := sems[1].TryAcquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sems[2].TryAcquire(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("third TryAcquire of 2 leases: %v, want ErrLocked", err)
	}
	if p, _ := sems[2].Participants(ctx); len(p) != 2 {
		t.Fatalf("failed TryAcquire left nodes: %q", p)
	}
	got := make(chan *lock.Lease, 1)
	go func() {
		l, err := sems[2].Acquire(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	testserver.WaitFor(t, "third contender's lease node", func() bool {
		p, _ := sems[2].Participants(ctx)
		return len(p) == 3
	})
	if err := l0.Release(ctx); err != nil {
		t.Fatal(err)
	}
	l2 := <-got
	if l2 == nil {
		t.FailNow()
	}
	if l2.Token() <= l1.Token() {
		t.Fatalf("later lease token %d not above %d", l2.Token(), l1.Token())
	}
	l1.Release(ctx)
	l2.Release(ctx)
}

// TestSemaphoreExclusion: never more holders than leases, by an in-test
// count.
func TestSemaphoreExclusion(t *testing.T) {
	const workers, rounds, leases = 5, 8, 2
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/sem"
	var (
		holders atomic.Int32
		wg      sync.WaitGroup
		errs    = make(chan error, 2*workers*rounds)
	)
	for range workers {
		s := lock.NewSemaphore(connect(t), path, leases)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, err := s.Acquire(ctx)
				if err != nil {
					errs <- err
					return
				}
				if n := holders.Add(1); n > leases {
					errs <- fmt.Errorf("%d holders of %d leases", n, leases)
				}
				time.Sleep(time.Millisecond)
				holders.Add(-1)
				if err := l.Release(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func countBytes(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// TestSharedSemaphore: the limit comes from a SharedCount node; raising it
// lets a waiter in without any release.
func TestSharedSemaphore(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	if _, err := c.Create(ctx, base+"/count", countBytes(1), client.WithParents()); err != nil {
		t.Fatal(err)
	}
	a := lock.NewSharedSemaphore(connect(t), base+"/sem", base+"/count")
	b := lock.NewSharedSemaphore(connect(t), base+"/sem", base+"/count")
	la, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryAcquire(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryAcquire beyond the shared count: %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	var lb *lock.Lease
	go func() {
		var err error
		lb, err = b.Acquire(ctx)
		got <- err
	}()
	testserver.WaitFor(t, "waiter's lease node", func() bool {
		p, _ := a.Participants(ctx)
		return len(p) == 2
	})
	if _, err := c.Set(ctx, base+"/count", countBytes(2), -1); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiter after the count went up: %v", err)
	}
	lb.Release(ctx)
	la.Release(ctx)

	if _, err := c.Set(ctx, base+"/count", []byte("2"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.TryAcquire(ctx); err == nil {
		t.Fatal("TryAcquire with a malformed count succeeded")
	}
}

func TestSemaphoreNoLeases(t *testing.T) {
	ctx := testserver.Context(t)
	if _, err := lock.NewSemaphore(connect(t), suite.Base(t)+"/sem", 0).Acquire(ctx); !errors.Is(err, client.ErrBadArguments) {
		t.Fatalf("Acquire of a 0-lease semaphore: %v, want ErrBadArguments", err)
	}
}

func TestSemaphoreAcquireN(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/sem"
	s := lock.NewSemaphore(connect(t), path, 3)
	ls, err := s.AcquireN(ctx, 3)
	if err != nil || len(ls) != 3 {
		t.Fatalf("AcquireN(3): %d leases, %v", len(ls), err)
	}
	if _, err := lock.NewSemaphore(connect(t), path, 3).TryAcquire(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryAcquire with all leases out: %v", err)
	}
	ls[0].Release(ctx)
	// Two more cannot be had with one free: AcquireN gives back what it got.
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, err := s.AcquireN(dctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AcquireN(2) with one free lease: %v, want DeadlineExceeded", err)
	}
	if p, _ := s.Participants(ctx); len(p) != 2 {
		t.Fatalf("after the failed AcquireN: lease nodes %q, want the 2 held", p)
	}
	ls[1].Release(ctx)
	ls[2].Release(ctx)
}

// TestSemaphoreCancelRemovesNodes: a cancelled Acquire leaves neither a
// lease node nor a locks node behind.
func TestSemaphoreCancelRemovesNodes(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/sem"
	c := connect(t)
	l, err := lock.NewSemaphore(c, path, 1).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := lock.NewSemaphore(connect(t), path, 1)
	cctx, cancel := context.WithCancel(ctx)
	res := make(chan error, 1)
	go func() { _, err := s.Acquire(cctx); res <- err }()
	testserver.WaitFor(t, "waiter's lease node", func() bool {
		p, _ := s.Participants(ctx)
		return len(p) == 2
	})
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire: %v", err)
	}
	testserver.WaitFor(t, "the cancelled waiter's lease node deleted", func() bool {
		p, _ := s.Participants(ctx)
		return len(p) == 1 && l.Node() == path+"/leases/"+p[0]
	})
	if locks, _ := c.Children(ctx, path+"/locks"); len(locks) != 0 {
		t.Fatalf("locks nodes %q after cancel", locks)
	}
	l.Release(ctx)
}

func TestSemaphoreMutex(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/mutex"
	c := connect(t)
	m := lock.NewSemaphoreMutex(c, path)
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if !curatorLeaseNode.MatchString(m.Node()[len(path+"/leases/"):]) {
		t.Fatalf("node %s is not a Curator lease node", m.Node())
	}
	// Not reentrant: the same value cannot take it twice ...
	if err := m.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock by the holder: %v, want ErrLocked", err)
	}
	// ... and a second Lock waits for Unlock.
	got := make(chan error, 1)
	go func() { got <- m.Lock(ctx) }()
	other := lock.NewSemaphoreMutex(connect(t), path)
	if err := other.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock by another process: %v, want ErrLocked", err)
	}
	select {
	case err := <-got:
		t.Fatalf("second Lock returned %v while the first holds", err)
	default:
	}
	tok := m.Token()
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if m.Token() <= tok {
		t.Fatalf("token %d after %d", m.Token(), tok)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(ctx); !errors.Is(err, lock.ErrNotLocked) {
		t.Fatalf("Unlock of a free SemaphoreMutex: %v", err)
	}
}

// TestSemaphoreMutexExclusion: goroutines sharing one SemaphoreMutex and
// others with their own sessions never overlap.
func TestSemaphoreMutexExclusion(t *testing.T) {
	const workers, rounds = 4, 8
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/mutex"
	shared := lock.NewSemaphoreMutex(connect(t), path)
	var (
		holders atomic.Int32
		counter int
		wg      sync.WaitGroup
		errs    = make(chan error, 2*workers*rounds)
	)
	for i := range workers {
		m := shared
		if i%2 == 1 {
			m = lock.NewSemaphoreMutex(connect(t), path)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := m.Lock(ctx); err != nil {
					errs <- err
					return
				}
				if n := holders.Add(1); n != 1 {
					errs <- fmt.Errorf("%d holders", n)
				}
				v := counter
				time.Sleep(time.Millisecond)
				counter = v + 1
				holders.Add(-1)
				if err := m.Unlock(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if counter != workers*rounds {
		t.Fatalf("counter %d, want %d", counter, workers*rounds)
	}
}

// TestSemaphoreLeaseLost: a lease whose session expires is reported lost
// and its place goes to a waiter.
func TestSemaphoreLeaseLost(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/sem"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	l, err := lock.NewSemaphore(c, path, 1).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waiter := lock.NewSemaphore(connect(t), path, 1)
	got := make(chan error, 1)
	go func() { _, err := waiter.Acquire(ctx); got <- err }()
	px.Cut(true)
	testserver.WaitClosed(t, "Done of an expired lease", l.Done())
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	px.Resume()
	if err := l.Release(ctx); !errors.Is(err, lock.ErrLockLost) {
		t.Fatalf("Release of a lost lease: %v, want ErrLockLost", err)
	}
}
