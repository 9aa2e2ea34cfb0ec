package queue_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/queue"
)

// itemNode is the name Curator's SimpleDistributedQueue gives an item.
var itemNode = regexp.MustCompile(`^qn-[0-9]{10}$`)

func TestQueueLayout(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	base := suite.Base(t)
	path := base + "/queues/jobs"
	q := queue.NewSimple(c, path)
	if err := q.Offer(ctx, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := q.Offer(ctx, nil); err != nil {
		t.Fatal(err)
	}
	children, err := c.Children(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(children)
	if len(children) != 2 || !itemNode.MatchString(children[0]) || !itemNode.MatchString(children[1]) {
		t.Fatalf("queue nodes %q, want two qn-NNNNNNNNNN", children)
	}
	data, st, err := c.Get(ctx, path+"/"+children[0])
	if err != nil || string(data) != "first" || st.EphemeralOwner != 0 {
		t.Fatalf("first item node: %q, %v, %v", data, st, err)
	}
	// A nil item is stored empty, not null: Curator takes a null item for
	// an empty queue.
	if data, _, err := c.Get(ctx, path+"/"+children[1]); err != nil || data == nil || len(data) != 0 {
		t.Fatalf("nil item stored as %#v, %v; want empty", data, err)
	}
	for _, want := range []string{"first", ""} {
		if got, err := q.Poll(ctx); err != nil || string(got) != want {
			t.Fatalf("Poll = %q, %v; want %q", got, err, want)
		}
	}
	// The queue's node and its parents are containers.
	testserver.WaitFor(t, "the drained queue's containers to be reaped", func() bool {
		st, err := c.Exists(ctx, base+"/queues")
		return err == nil && st == nil
	})
}

func TestQueueOrder(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/q"
	q := queue.NewSimple(c, path)
	if _, err := q.Peek(ctx); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("Peek of a missing queue: %v, want ErrEmpty", err)
	}
	if _, err := q.Poll(ctx); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("Poll of a missing queue: %v, want ErrEmpty", err)
	}
	const n = 12 // past qn-0000000009, where text and number order could differ
	for i := range n {
		if err := q.Offer(ctx, fmt.Appendf(nil, "item-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Foreign nodes are ignored.
	if _, err := c.Create(ctx, path+"/aaa", []byte("foreign")); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := fmt.Sprintf("item-%d", i)
		if got, err := q.Peek(ctx); err != nil || string(got) != want {
			t.Fatalf("Peek = %q, %v; want %q", got, err, want)
		}
		if got, err := q.Poll(ctx); err != nil || string(got) != want {
			t.Fatalf("Poll = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := q.Poll(ctx); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("Poll of a drained queue: %v, want ErrEmpty", err)
	}
	if _, err := q.Peek(ctx); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("Peek of a drained queue: %v, want ErrEmpty", err)
	}
}

// TestQueueTakeWaits: Take on an empty queue returns the next item
// offered; until then the queue is empty, so it cannot have returned.
func TestQueueTakeWaits(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/q"
	q := queue.NewSimple(connect(t), path)
	got := make(chan []byte, 1)
	errc := make(chan error, 1)
	go func() {
		item, err := q.Take(ctx)
		if err != nil {
			errc <- err
			return
		}
		got <- item
	}()
	// Take creates the queue's node to watch its children.
	producer := connect(t)
	testserver.WaitFor(t, "the queue node", func() bool {
		st, err := producer.Exists(ctx, path)
		return err == nil && st != nil
	})
	select {
	case item := <-got:
		t.Fatalf("Take returned %q from an empty queue", item)
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if err := queue.NewSimple(producer, path).Offer(ctx, []byte("job")); err != nil {
		t.Fatal(err)
	}
	select {
	case item := <-got:
		if string(item) != "job" {
			t.Fatalf("Take = %q, want job", item)
		}
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("Take did not return the offered item")
	}

	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := q.Take(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take past its deadline: %v, want DeadlineExceeded", err)
	}
}

// TestQueueConsumers: producers and consumers on sessions of their own;
// every item is taken exactly once.
func TestQueueConsumers(t *testing.T) {
	const producers, consumers, each = 3, 4, 15
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/q"
	var (
		mu    sync.Mutex
		taken []string
		wg    sync.WaitGroup
		errs  = make(chan error, producers+consumers)
		total = producers * each
	)
	tctx, stop := context.WithCancel(ctx)
	defer stop()
	for range consumers {
		q := queue.NewSimple(connect(t), path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				item, err := q.Take(tctx)
				if tctx.Err() != nil {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				taken = append(taken, string(item))
				if len(taken) == total {
					stop()
				}
				mu.Unlock()
			}
		}()
	}
	for p := range producers {
		q := queue.NewSimple(connect(t), path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := q.Offer(ctx, fmt.Appendf(nil, "p%d-%d", p, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	select {
	case <-tctx.Done():
	case err := <-errs:
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(taken)
	if len(taken) != total || len(slices.Compact(slices.Clone(taken))) != total {
		t.Fatalf("taken %d items (%d distinct), want %d each once: %q", len(taken), len(slices.Compact(slices.Clone(taken))), total, taken)
	}
	if _, err := queue.NewSimple(connect(t), path).Poll(ctx); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("queue not drained: %v", err)
	}
}

// TestQueueTakeContainerReaped: the queue's container node is deleted by
// the server while Take waits; Take creates it again and still gets the
// next item.
func TestQueueTakeContainerReaped(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/q"
	c := connect(t)
	q := queue.NewSimple(c, path)
	if err := q.Offer(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	_, st, err := c.Get(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first := st.Czxid
	consumer := queue.NewSimple(connect(t), path)
	got := make(chan error, 1)
	go func() {
		item, err := consumer.Take(ctx)
		if err == nil && string(item) != "x" {
			err = fmt.Errorf("first Take = %q", item)
		}
		if err == nil {
			item, err = consumer.Take(ctx)
			if err == nil && string(item) != "y" {
				err = fmt.Errorf("second Take = %q", item)
			}
		}
		got <- err
	}()
	// The drained container is reaped, and the waiting Take makes a new
	// one (a new czxid).
	testserver.WaitFor(t, "the queue node to be made again", func() bool {
		_, st, err := c.Get(ctx, path)
		return err == nil && st.Czxid != first
	})
	if err := q.Offer(ctx, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestQueueTakeSessionLost: an item offered while a consumer's session
// expired reaches it on its new session.
func TestQueueTakeSessionLost(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/q"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	got := make(chan error, 1)
	go func() {
		item, err := queue.NewSimple(c, path).Take(ctx)
		if err == nil && string(item) != "late" {
			err = fmt.Errorf("Take = %q", item)
		}
		got <- err
	}()
	producer := connect(t)
	testserver.WaitFor(t, "the queue node", func() bool {
		st, err := producer.Exists(ctx, path)
		return err == nil && st != nil
	})
	px.Cut(true)
	testserver.WaitState(t, c, client.Lost)
	if err := queue.NewSimple(producer, path).Offer(ctx, []byte("late")); err != nil {
		t.Fatal(err)
	}
	px.Resume()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
