package counter_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/counter"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/lock"
)

// be8 is v as an AtomicLong stores it.
func be8(v int64) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (56 - 8*i))
	}
	return string(b[:])
}

func TestAtomicLongLayout(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	base := suite.Base(t)
	path := base + "/counters/hits"
	a := counter.NewAtomicLong(c, path)
	if v, err := a.Get(ctx); err != nil || !v.Succeeded || v.PreValue != 0 || v.PostValue != 0 {
		t.Fatalf("Get of a missing node = %+v, %v; want 0", v, err)
	}
	v, err := a.Increment(ctx)
	if err != nil || !v.Succeeded || v.PreValue != 0 || v.PostValue != 1 || v.OptimisticTries != 1 {
		t.Fatalf("first Increment = %+v, %v", v, err)
	}
	data, _, err := c.Get(ctx, path)
	if err != nil || string(data) != be8(1) {
		t.Fatalf("node holds % x (%v), want 8 bytes big endian 1", data, err)
	}
	steps := []struct {
		name     string
		op       func() (counter.AtomicValue, error)
		pre, pos int64
	}{
		{"Add(41)", func() (counter.AtomicValue, error) { return a.Add(ctx, 41) }, 1, 42},
		{"Subtract(50)", func() (counter.AtomicValue, error) { return a.Subtract(ctx, 50) }, 42, -8},
		{"Decrement", func() (counter.AtomicValue, error) { return a.Decrement(ctx) }, -8, -9},
		{"TrySet(1<<40)", func() (counter.AtomicValue, error) { return a.TrySet(ctx, 1<<40) }, -9, 1 << 40},
		{"CompareAndSet(1<<40, 5)", func() (counter.AtomicValue, error) { return a.CompareAndSet(ctx, 1<<40, 5) }, 1 << 40, 5},
	}
	for _, s := range steps {
		v, err := s.op()
		if err != nil || !v.Succeeded || v.PreValue != s.pre || v.PostValue != s.pos {
			t.Fatalf("%s = %+v, %v; want %d -> %d", s.name, v, err, s.pre, s.pos)
		}
		if data, _, _ := c.Get(ctx, path); string(data) != be8(s.pos) {
			t.Fatalf("after %s the node holds % x", s.name, data)
		}
	}
	// A comparison that fails is an outcome, not an error.
	if v, err := a.CompareAndSet(ctx, 4, 6); err != nil || v.Succeeded || v.PreValue != 5 {
		t.Fatalf("CompareAndSet(4, 6) on 5 = %+v, %v; want not succeeded", v, err)
	}
	if err := c.Delete(ctx, path, -1); err != nil {
		t.Fatal(err)
	}
	testserver.WaitFor(t, "the container parent to be reaped", func() bool {
		st, err := c.Exists(ctx, base+"/counters")
		return err == nil && st == nil
	})
}

func TestAtomicLongInitializeForceSet(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	base := suite.Base(t)
	a := counter.NewAtomicLong(c, base+"/n")
	if v, err := a.CompareAndSet(ctx, 0, 1); err != nil || v.Succeeded {
		t.Fatalf("CompareAndSet on a missing node = %+v, %v; want not succeeded", v, err)
	}
	if ok, err := a.Initialize(ctx, 10); err != nil || !ok {
		t.Fatalf("Initialize = %v, %v", ok, err)
	}
	if ok, err := a.Initialize(ctx, 20); err != nil || ok {
		t.Fatalf("second Initialize = %v, %v; want false", ok, err)
	}
	if v, _ := a.Get(ctx); v.PostValue != 10 {
		t.Fatalf("after Initialize: %d", v.PostValue)
	}
	if err := a.ForceSet(ctx, -7); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Get(ctx); v.PostValue != -7 {
		t.Fatalf("after ForceSet: %d", v.PostValue)
	}
	fresh := counter.NewAtomicLong(c, base+"/deep/m")
	if err := fresh.ForceSet(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if v, _ := fresh.Get(ctx); v.PostValue != 3 {
		t.Fatalf("ForceSet on a missing node: %d", v.PostValue)
	}
	if _, err := c.Create(ctx, base+"/short", []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	short := counter.NewAtomicLong(c, base+"/short")
	if _, err := short.Get(ctx); !errors.Is(err, counter.ErrCorrupt) {
		t.Fatalf("Get of a 3-byte node: %v, want ErrCorrupt", err)
	}
	if _, err := short.Increment(ctx); !errors.Is(err, counter.ErrCorrupt) {
		t.Fatalf("Increment of a 3-byte node: %v, want ErrCorrupt", err)
	}
	if _, err := c.Create(ctx, base+"/empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	if v, err := counter.NewAtomicLong(c, base+"/empty").Increment(ctx); err != nil || v.PreValue != 0 || v.PostValue != 1 {
		t.Fatalf("Increment of an empty node = %+v, %v; want 0 -> 1", v, err)
	}
}

// counters returns AtomicLongs at path, each on a session of its own.
func counters(t *testing.T, path string, sessions int, opts ...counter.AtomicOption) []*counter.AtomicLong {
	t.Helper()
	out := make([]*counter.AtomicLong, sessions)
	for i := range out {
		out[i] = counter.NewAtomicLong(connect(t), path, opts...)
	}
	return out
}

// contendResult is what contend saw.
type contendResult struct {
	posts    []int64 // post values of the increments that succeeded
	failures int     // increments that failed with ErrContention
	promoted int     // increments that took the promoted lock
	errs     []error // other errors
}

// contend increments each counter n times, concurrently.
func contend(t *testing.T, as []*counter.AtomicLong, n int) contendResult {
	ctx := testserver.Context(t)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
		r  contendResult
	)
	for _, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				v, err := a.Increment(ctx)
				mu.Lock()
				if v.PromotedTries > 0 {
					r.promoted++
				}
				switch {
				case err == nil && v.Succeeded:
					r.posts = append(r.posts, v.PostValue)
				case errors.Is(err, counter.ErrContention) && !v.Succeeded:
					r.failures++
				default:
					r.errs = append(r.errs, fmt.Errorf("Increment = %+v, %w", v, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return r
}

// checkPosts checks that the successful increments produced 1..len(posts),
// each once, and that the counter holds len(posts).
func checkPosts(t *testing.T, path string, posts []int64) {
	t.Helper()
	slices.Sort(posts)
	for i, p := range posts {
		if p != int64(i+1) {
			t.Fatalf("post values %v: %d is not %d (an increment lost or doubled)", posts, p, i+1)
		}
	}
	v, err := counter.NewAtomicLong(connect(t), path).Get(testserver.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if v.PostValue != int64(len(posts)) {
		t.Fatalf("counter = %d after %d successful increments", v.PostValue, len(posts))
	}
}

// TestAtomicLongConcurrent: sessions increment one counter; with a patient
// retry policy every increment succeeds, and the increments' post values
// are 1..total, each once.
func TestAtomicLongConcurrent(t *testing.T) {
	const sessions, n = 4, 20
	path := suite.Base(t) + "/c"
	r := contend(t, counters(t, path, sessions, counter.WithRetryPolicy(client.Forever(time.Millisecond))), n)
	if len(r.errs) > 0 || r.failures != 0 || len(r.posts) != sessions*n {
		t.Fatalf("%d failures, %d successes, errors %v; want %d successes", r.failures, len(r.posts), r.errs, sessions*n)
	}
	checkPosts(t, path, r.posts)
}

// TestAtomicLongContention: without retries, increments that lose fail
// with ErrContention and change nothing.
func TestAtomicLongContention(t *testing.T) {
	path := suite.Base(t) + "/c"
	r := contend(t, counters(t, path, 4, counter.WithRetryPolicy(client.NoRetry())), 20)
	if len(r.errs) > 0 || len(r.posts)+r.failures != 80 {
		t.Fatalf("%d successes, %d failures, errors %v", len(r.posts), r.failures, r.errs)
	}
	t.Logf("%d successes, %d failures", len(r.posts), r.failures)
	checkPosts(t, path, r.posts)
}

// TestAtomicLongPromoted: increments that lose the optimistic race take
// the promoted lock (Curator's InterProcessMutex layout at the lock path)
// and succeed while holding it.
func TestAtomicLongPromoted(t *testing.T) {
	const sessions, n = 4, 20
	ctx := testserver.Context(t)
	base := suite.Base(t)
	path, lockPath := base+"/c", base+"/lock"
	// Hold the lock first: promoted increments queue behind the holder,
	// as lock nodes of their own sessions.
	holder := lock.NewMutex(connect(t), lockPath)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	opts := []counter.AtomicOption{
		counter.WithRetryPolicy(client.NoRetry()),
		counter.WithPromotedLock(lockPath, client.Forever(time.Millisecond), 0),
	}
	as := counters(t, path, sessions, opts...)
	done := make(chan contendResult, 1)
	go func() { done <- contend(t, as, n) }()
	testserver.WaitFor(t, "a promoted increment waiting for the lock", func() bool {
		p, err := holder.Participants(ctx)
		return err == nil && len(p) >= 2
	})
	if err := holder.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	var r contendResult
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("increments not done")
	}
	if len(r.errs) > 0 || r.failures != 0 || len(r.posts) != sessions*n || r.promoted == 0 {
		t.Fatalf("%d failures, %d successes, %d promoted, errors %v; want %d successes, some promoted",
			r.failures, len(r.posts), r.promoted, r.errs, sessions*n)
	}
	checkPosts(t, path, r.posts)
}

// TestAtomicLongPromotedTimeout: a promoted increment that cannot get the
// lock within its timeout gives up with ErrContention.
func TestAtomicLongPromotedTimeout(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	holder := lock.NewMutex(connect(t), base+"/lock")
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock(ctx)
	// Without optimistic retries, an increment that loses a race against
	// a second writer is promoted, and waits for the held lock in vain.
	a := counter.NewAtomicLong(connect(t), base+"/c",
		counter.WithRetryPolicy(client.NoRetry()),
		counter.WithPromotedLock(base+"/lock", nil, 300*time.Millisecond))
	b := counter.NewAtomicLong(connect(t), base+"/c")
	for i := 0; ; i++ {
		if i == 1000 {
			t.Skip("no optimistic conflict in 1000 rounds")
		}
		errc := make(chan error, 1)
		go func() { _, err := b.Increment(ctx); errc <- err }()
		v, err := a.Increment(ctx)
		if berr := <-errc; berr != nil {
			t.Fatal(berr)
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, counter.ErrContention) || v.Succeeded || v.PromotedTries != 0 || v.PromotedTime < 300*time.Millisecond {
			t.Fatalf("Increment = %+v, %v; want ErrContention after the lock timeout", v, err)
		}
		return
	}
}

// TestAtomicLongSuspended: an increment made while the connection is
// down completes once it is back.
func TestAtomicLongSuspended(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/c"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithRetryPolicy(client.Forever(50*time.Millisecond)))
	a := counter.NewAtomicLong(c, path)
	if _, err := a.Add(ctx, 5); err != nil {
		t.Fatal(err)
	}
	px.Cut(true)
	testserver.WaitState(t, c, client.Suspended)
	done := make(chan error, 1)
	go func() {
		v, err := a.Increment(ctx)
		if err == nil && (v.PreValue != 5 || v.PostValue != 6) {
			err = fmt.Errorf("Increment = %+v, want 5 -> 6", v)
		}
		done <- err
	}()
	px.Resume()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
