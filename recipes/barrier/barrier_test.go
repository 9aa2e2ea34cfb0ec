package barrier_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/barrier"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// addressLike matches Curator's default node data, the local address.
var addressLike = regexp.MustCompile(`^([0-9.]+|[0-9a-f:]+)?$`)

func TestBarrierLayout(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	base := suite.Base(t)
	path := base + "/gates/g1"
	b := barrier.NewBarrier(c, path, barrier.WithData([]byte("gate")))
	if up, err := b.IsSet(ctx); err != nil || up {
		t.Fatalf("IsSet before Set = %v, %v", up, err)
	}
	for range 2 { // setting twice is fine
		if err := b.Set(ctx); err != nil {
			t.Fatal(err)
		}
	}
	data, st, err := c.Get(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "gate" || st.EphemeralOwner != 0 {
		t.Fatalf("barrier node data %q owner %#x, want gate, persistent", data, st.EphemeralOwner)
	}
	if up, err := b.IsSet(ctx); err != nil || !up {
		t.Fatalf("IsSet after Set = %v, %v", up, err)
	}
	for range 2 { // removing twice is fine
		if err := b.Remove(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := c.Exists(ctx, path); err != nil || st != nil {
		t.Fatalf("after Remove: %v, %v", st, err)
	}
	// The parents are containers: the server deletes them once empty.
	testserver.WaitFor(t, "the empty container parent to be reaped", func() bool {
		st, err := c.Exists(ctx, base+"/gates")
		return err == nil && st == nil
	})
}

func TestBarrierDefaultData(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	if err := barrier.NewBarrier(c, path).Set(ctx); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.Get(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !addressLike.Match(data) {
		t.Fatalf("default barrier data %q is not an address", data)
	}
}

// TestBarrierWait: waiters on other sessions stay blocked while the node
// exists and all pass once it is removed.
func TestBarrierWait(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	owner := barrier.NewBarrier(connect(t), path)
	if err := owner.Wait(ctx); err != nil {
		t.Fatalf("Wait on a barrier that is not up: %v", err)
	}
	if err := owner.Set(ctx); err != nil {
		t.Fatal(err)
	}
	const waiters = 3
	done := make(chan error, waiters)
	var removed = make(chan struct{})
	for range waiters {
		b := barrier.NewBarrier(connect(t), path)
		go func() {
			err := b.Wait(ctx)
			select {
			case <-removed:
			default:
				if err == nil {
					err = errors.New("Wait returned while the barrier was up")
				}
			}
			done <- err
		}()
	}
	// The barrier node still exists (a round trip after the waiters
	// started), so no waiter may have passed.
	if up, err := owner.IsSet(ctx); err != nil || !up {
		t.Fatalf("IsSet = %v, %v", up, err)
	}
	select {
	case err := <-done:
		t.Fatalf("a waiter returned while the barrier was up: %v", err)
	default:
	}
	close(removed)
	if err := owner.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	for range waiters {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestBarrierWaitCancel(t *testing.T) {
	ctx := testserver.Context(t)
	b := barrier.NewBarrier(connect(t), suite.Base(t)+"/b")
	if err := b.Set(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := b.Wait(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait past its deadline: %v, want DeadlineExceeded", err)
	}
}

// TestBarrierWaitSuspended: a barrier removed while a waiter is
// disconnected releases it once its session is resumed.
func TestBarrierWaitSuspended(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	owner := barrier.NewBarrier(connect(t), path)
	if err := owner.Set(ctx); err != nil {
		t.Fatal(err)
	}
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr())
	b := barrier.NewBarrier(c, path)
	// Whether the waiter's watch was set before the cut (and is set again
	// on the resumed session) or only after, the removal must release it.
	done := make(chan error, 1)
	go func() { done <- b.Wait(ctx) }()
	px.Cut(true)
	testserver.WaitState(t, c, client.Suspended)
	if err := owner.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	px.Resume()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("waiter not released after reconnecting")
	}
}
