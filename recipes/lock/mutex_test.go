package lock_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/lock"
)

// curatorLockNode is the name Curator's InterProcessMutex gives its nodes.
var curatorLockNode = regexp.MustCompile(`^_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-[0-9]{10}$`)

func TestMutexLayout(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/locks/job"
	m := lock.NewMutex(c, path, lock.WithData([]byte("worker-1")))
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	children, err := c.Children(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(children) != 1 || !curatorLockNode.MatchString(children[0]) {
		t.Fatalf("lock nodes %q, want one _c_<uuid>-lock-NNNNNNNNNN", children)
	}
	if m.Node() != path+"/"+children[0] {
		t.Fatalf("Node() = %q, want %q", m.Node(), path+"/"+children[0])
	}
	data, st, err := c.Get(ctx, m.Node())
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "worker-1" || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("lock node data %q owner %#x, want worker-1 owned by %#x", data, st.EphemeralOwner, c.SessionID())
	}
	if m.Token() != st.Czxid || m.Token() == 0 {
		t.Fatalf("Token() = %d, want the node's czxid %d", m.Token(), st.Czxid)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if children, _ := c.Children(ctx, path); len(children) != 0 {
		t.Fatalf("after Unlock: nodes %q left", children)
	}
	if !testserver.Closed(m.Done()) || m.Token() != 0 || m.Held() {
		t.Fatal("after Unlock: Done open, token set or Held")
	}
}

func TestMutexDefaultData(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	m := lock.NewMutex(c, suite.Base(t)+"/lock")
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Unlock(ctx)
	data, _, err := c.Get(ctx, m.Node())
	if err != nil {
		t.Fatal(err)
	}
	// Curator writes the local address; it must at least look like one.
	if !regexp.MustCompile(`^([0-9.]+|[0-9a-f:]+)?$`).Match(data) {
		t.Fatalf("default lock data %q is not an address", data)
	}
}

// TestMutexExclusion runs contenders with their own sessions; an in-test
// holder count and an unprotected read-modify-write prove that no two hold
// at once, and the fencing tokens must grow from holder to holder.
func TestMutexExclusion(t *testing.T) {
	const contenders, rounds = 4, 15
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	var (
		holders atomic.Int32
		counter int // written only under the distributed lock
		tokMu   sync.Mutex
		tokens  []int64 // in acquisition order
		wg      sync.WaitGroup
		errs    = make(chan error, 2*contenders*rounds)
	)
	for i := range contenders {
		c := connect(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := lock.NewMutex(c, path)
			for range rounds {
				if err := m.Lock(ctx); err != nil {
					errs <- err
					return
				}
				if n := holders.Add(1); n != 1 {
					errs <- fmt.Errorf("contender %d: %d holders at once", i, n)
				}
				tokMu.Lock()
				tokens = append(tokens, m.Token())
				tokMu.Unlock()
				v := counter
				time.Sleep(time.Millisecond) // widen the window a second holder would use
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
	if counter != contenders*rounds {
		t.Fatalf("counter %d, want %d: updates were lost to overlapping holders", counter, contenders*rounds)
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i] <= tokens[i-1] {
			t.Fatalf("token %d after %d: fencing tokens must grow", tokens[i], tokens[i-1])
		}
	}
}

func TestMutexReentrant(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	a := lock.NewMutex(connect(t), path)
	b := lock.NewMutex(connect(t), path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	tok := a.Token()
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Token() != tok {
		t.Fatalf("reentrant Lock changed the token %d -> %d", tok, a.Token())
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock after one of two Unlocks: %v, want ErrLocked", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.TryLock(ctx); err != nil {
		t.Fatalf("TryLock after the last Unlock: %v", err)
	}
	if err := a.Unlock(ctx); !errors.Is(err, lock.ErrNotLocked) {
		t.Fatalf("Unlock of a released Mutex: %v, want ErrNotLocked", err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMutexTryLockLeavesNoNode(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	c := connect(t)
	a, b := lock.NewMutex(c, path), lock.NewMutex(c, path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock: %v, want ErrLocked", err)
	}
	if p, err := a.Participants(ctx); err != nil || len(p) != 1 || p[0] != a.Node() {
		t.Fatalf("participants %q (%v), want only the holder %s", p, err, a.Node())
	}
	a.Unlock(ctx)
}

// TestMutexCancelRemovesNode: a Lock whose context ends while it waits
// returns the context's error and deletes its node, so it never holds later.
func TestMutexCancelRemovesNode(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	a := lock.NewMutex(connect(t), path)
	b := lock.NewMutex(connect(t), path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithCancel(ctx)
	res := make(chan error, 1)
	go func() { res <- b.Lock(bctx) }()
	testserver.WaitFor(t, "the waiter's node", func() bool {
		p, _ := a.Participants(ctx)
		return len(p) == 2
	})
	// Unlock does not wait for the Lock in progress on the same value.
	unlocked := make(chan error, 1)
	go func() { unlocked <- b.Unlock(ctx) }()
	select {
	case err := <-unlocked:
		if !errors.Is(err, lock.ErrNotLocked) {
			t.Fatalf("Unlock during a waiting Lock: %v, want ErrNotLocked", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Unlock waited for the Lock in progress")
	}
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Lock: %v, want context.Canceled", err)
	}
	// Deleted at once, or by the Conn in the background when the cancel
	// came before the create's reply.
	testserver.WaitFor(t, "the cancelled waiter's node deleted", func() bool {
		p, err := a.Participants(ctx)
		return err == nil && len(p) == 1 && p[0] == a.Node()
	})
	if b.Held() {
		t.Fatal("cancelled Mutex reports Held")
	}
	// The deadline form, as users write it.
	dctx, dcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer dcancel()
	if err := b.Lock(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock past its deadline: %v, want DeadlineExceeded", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := a.Participants(ctx); err != nil || len(p) != 0 {
		t.Fatalf("after Unlock: participants %q (%v)", p, err)
	}
}

// TestMutexWaiterGetsLockInOrder: waiters are served in queue order.
func TestMutexWaiterGetsLockInOrder(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	holder := lock.NewMutex(connect(t), path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	ms := make([]*lock.Mutex, 3)
	for i := range ms {
		ms[i] = lock.NewMutex(connect(t), path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ms[i].Lock(ctx); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			ms[i].Unlock(ctx)
		}()
		// Queue them one after the other.
		testserver.WaitFor(t, "waiter queued", func() bool {
			p, _ := holder.Participants(ctx)
			return len(p) == i+2
		})
	}
	holder.Unlock(ctx)
	wg.Wait()
	if fmt.Sprint(order) != "[0 1 2]" {
		t.Fatalf("waiters got the lock in order %v, want [0 1 2]", order)
	}
}

// TestMutexSuspendedKeepsHold: a connection loss that the session survives
// keeps the hold: Done stays open and nobody else gets the lock.
func TestMutexSuspendedKeepsHold(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(10*time.Second))
	a := lock.NewMutex(c, path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	px.Cut(false)
	testserver.WaitState(t, c, client.Suspended)
	testserver.WaitState(t, c, client.Reconnected)
	// A round trip on the resumed session, after which any loss would show.
	if _, err := c.Exists(ctx, a.Node()); err != nil {
		t.Fatal(err)
	}
	if testserver.Closed(a.Done()) {
		t.Fatal("Done closed after a connection loss the session survived")
	}
	b := lock.NewMutex(connect(t), path)
	if err := b.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock while the suspended holder keeps its session: %v, want ErrLocked", err)
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatalf("Unlock after reconnect: %v", err)
	}
}

// TestMutexSessionLost: when the holder's session expires, Done closes,
// another contender gets the lock with a larger token, and the old holder's
// Unlock reports ErrLockLost.
func TestMutexSessionLost(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	a := lock.NewMutex(c, path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	tok := a.Token()
	b := lock.NewMutex(connect(t), path)
	got := make(chan error, 1)
	go func() { got <- b.Lock(ctx) }()
	px.Cut(true) // no way back until the session is gone
	testserver.WaitClosed(t, "Done of a holder whose session expired", a.Done())
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if b.Token() <= tok {
		t.Fatalf("new holder's token %d not above the lost holder's %d", b.Token(), tok)
	}
	px.Resume()
	if err := a.Unlock(ctx); !errors.Is(err, lock.ErrLockLost) {
		t.Fatalf("Unlock of a lost hold: %v, want ErrLockLost", err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestMutexNodeDeleted: a lock node deleted by someone else ends the hold.
func TestMutexNodeDeleted(t *testing.T) {
	ctx := testserver.Context(t)
	c := connect(t)
	a := lock.NewMutex(c, suite.Base(t)+"/lock")
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := connect(t).Delete(ctx, a.Node(), -1); err != nil {
		t.Fatal(err)
	}
	testserver.WaitClosed(t, "Done after the lock node was deleted", a.Done())
	if err := a.Lock(ctx); !errors.Is(err, lock.ErrLockLost) {
		t.Fatalf("reentrant Lock on a lost hold: %v, want ErrLockLost", err)
	}
	if err := a.Unlock(ctx); !errors.Is(err, lock.ErrLockLost) {
		t.Fatalf("Unlock: %v, want ErrLockLost", err)
	}
	if err := a.Lock(ctx); err != nil {
		t.Fatalf("Lock after the lost hold was released: %v", err)
	}
	a.Unlock(ctx)
}

// TestMutexWaiterRequeues: a waiter whose session expires queues again on
// its new session and still gets the lock.
func TestMutexWaiterRequeues(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	holder := lock.NewMutex(connect(t), path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	w := lock.NewMutex(c, path)
	got := make(chan error, 1)
	go func() { got <- w.Lock(ctx) }()
	var first string
	testserver.WaitFor(t, "waiter queued", func() bool {
		p, _ := holder.Participants(ctx)
		if len(p) == 2 {
			first = p[1]
		}
		return len(p) == 2
	})
	px.Cut(true)
	testserver.WaitFor(t, "waiter's node removed with its session", func() bool {
		p, _ := holder.Participants(ctx)
		return len(p) == 1
	})
	px.Resume()
	testserver.WaitFor(t, "waiter queued again", func() bool {
		select {
		case err := <-got:
			t.Fatalf("waiter's Lock ended with %v instead of queueing again", err)
		default:
		}
		p, _ := holder.Participants(ctx)
		return len(p) == 2 && p[1] != first
	})
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("requeued waiter: %v", err)
	}
	if !strings.HasPrefix(w.Node(), path+"/_c_") {
		t.Fatalf("waiter holds %q", w.Node())
	}
	w.Unlock(ctx)
}

// TestMutexConnClosed: closing the Conn ends the session, and so the hold.
func TestMutexConnClosed(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	c := connect(t)
	a := lock.NewMutex(c, path)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	testserver.WaitClosed(t, "Done after Conn.Close", a.Done())
	if err := a.Unlock(ctx); !errors.Is(err, lock.ErrLockLost) {
		t.Fatalf("Unlock after Close: %v, want ErrLockLost", err)
	}
	if err := lock.NewMutex(connect(t), path).TryLock(ctx); err != nil {
		t.Fatalf("lock after the holder closed its session: %v", err)
	}
}

// TestMutexTokenAcrossContainerCleanup: the lock's parent is a container,
// deleted by the server once empty, after which sequence numbers start
// again at 0; the fencing token (czxid) still grows.
func TestMutexTokenAcrossContainerCleanup(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	c := connect(t)
	m := lock.NewMutex(c, path)
	var tokens []int64
	for range 2 {
		if err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, m.Token())
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	testserver.WaitFor(t, "the empty container parent deleted", func() bool {
		st, err := c.Exists(ctx, path)
		return err == nil && st == nil
	})
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Unlock(ctx)
	if !strings.HasSuffix(m.Node(), "-lock-0000000000") {
		t.Fatalf("node %s: want the sequence to restart in the new parent", m.Node())
	}
	if m.Token() <= tokens[1] || tokens[1] <= tokens[0] {
		t.Fatalf("tokens %v then %d: must grow across the parent's deletion", tokens, m.Token())
	}
}

// TestMutexWaiterSurvivesSuspend: a waiter keeps its place in line across
// a connection loss its session survives.
func TestMutexWaiterSurvivesSuspend(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/lock"
	holder := lock.NewMutex(connect(t), path)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(10*time.Second))
	w := lock.NewMutex(c, path)
	got := make(chan error, 1)
	go func() { got <- w.Lock(ctx) }()
	var queued string
	testserver.WaitFor(t, "waiter queued", func() bool {
		p, _ := holder.Participants(ctx)
		if len(p) == 2 {
			queued = p[1]
		}
		return len(p) == 2
	})
	px.Cut(false)
	testserver.WaitState(t, c, client.Suspended)
	testserver.WaitState(t, c, client.Reconnected)
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if w.Node() != queued {
		t.Fatalf("waiter holds %s, want its node from before the connection loss %s", w.Node(), queued)
	}
	w.Unlock(ctx)
}
