package interop

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/barrier"
	"github.com/zkgo/zkgo/recipes/counter"
	"github.com/zkgo/zkgo/recipes/queue"
)

// This file checks that recipes/barrier, recipes/counter and recipes/queue
// share their nodes with Apache Curator 5: testdata/coord/CoordAgent.java,
// compiled against the Debian Curator jars, increments one
// DistributedAtomicLong with Go (optimistically and in promoted-to-lock
// mode), follows one SharedCount, is a member of one double barrier, waits
// at one barrier and consumes one queue.

// startCoordAgent runs CoordAgent (driven like RecipesAgent, see agent).
func startCoordAgent(t *testing.T, java, classpath, addr string) *agent {
	t.Helper()
	return startAgentClass(t, java, classpath, "CoordAgent", addr)
}

// done sends a command and returns what follows DONE in its answer,
// failing t on any other answer.
func (a *agent) done(t *testing.T, format string, args ...any) string {
	t.Helper()
	got, _ := a.do(t, 3*time.Minute, format, args...)
	rest, ok := strings.CutPrefix(got, "DONE")
	if !ok {
		t.Fatalf("agent %q answered %q", fmt.Sprintf(format, args...), got)
	}
	return strings.TrimPrefix(rest, " ")
}

func TestCuratorCoordination(t *testing.T) {
	t.Parallel()
	java := requireJava(t)
	cp := compileJava(t, curatorClasspath(t), "coord", "CoordAgent.java")
	counterBin := filepath.Join(t.TempDir(), "counter")
	runTool(t, 5*time.Minute, "", "go", "build", "-o", counterBin, "github.com/zkgo/zkgo/examples/counter")

	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		a := startCoordAgent(t, java, cp, tg.addr)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c, err := client.Connect(ctx, tg.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		t.Run("atomic", func(t *testing.T) { curatorAtomic(ctx, t, a, tg.addr, "") })
		t.Run("atomic-promoted", func(t *testing.T) { curatorAtomic(ctx, t, a, tg.addr, "/coord/atomic-promoted-lock") })
		t.Run("counter-example", func(t *testing.T) { curatorCounterExample(ctx, t, a, c, tg.addr, counterBin) })
		t.Run("shared-count", func(t *testing.T) { curatorSharedCount(ctx, t, a, c) })
		t.Run("double-barrier", func(t *testing.T) { curatorDoubleBarrier(ctx, t, a, tg.addr) })
		t.Run("barrier", func(t *testing.T) { curatorBarrier(ctx, t, a, c) })
		t.Run("queue", func(t *testing.T) { curatorQueue(ctx, t, a, c) })
	})
}

// curatorAtomic: Go sessions and Curator threads increment one counter
// at once. Every increment's post value is distinct and together they are
// 1..total, the counter's final value: no increment lost or doubled. With
// lockPath, both sides use promoted-to-lock mode on one lock (Go without
// optimistic retries, so that it does take the lock).
func curatorAtomic(ctx context.Context, t *testing.T, a *agent, addr, lockPath string) {
	const goSessions, javaThreads, each = 2, 2, 15
	path := "/coord/atomic"
	javaLock := "-"
	opts := []counter.AtomicOption{counter.WithRetryPolicy(client.Forever(time.Millisecond))}
	if lockPath != "" {
		path += "-promoted"
		javaLock = lockPath
		opts = []counter.AtomicOption{
			counter.WithRetryPolicy(client.NoRetry()),
			counter.WithPromotedLock(lockPath, client.Forever(time.Millisecond), 0),
		}
	}
	var (
		mu       sync.Mutex
		posts    []int64
		promoted int
		wg       sync.WaitGroup
		errs     = make(chan error, goSessions)
	)
	for range goSessions {
		c, err := client.Connect(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		al := counter.NewAtomicLong(c, path, opts...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				v, err := al.Increment(ctx)
				for errors.Is(err, counter.ErrContention) {
					v, err = al.Increment(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				posts = append(posts, v.PostValue)
				if v.PromotedTries > 0 {
					promoted++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range javaThreads {
		a.expect(t, "HELD", "async atomic%d atomic %s %d %s", i, path, each, javaLock)
	}
	for i := range javaThreads {
		for _, p := range strings.Split(a.done(t, "join atomic%d", i), ",") {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				t.Fatalf("Java post value %q", p)
			}
			mu.Lock()
			posts = append(posts, n)
			mu.Unlock()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := (goSessions + javaThreads) * each
	slices.Sort(posts)
	for i, p := range posts {
		if p != int64(i+1) {
			t.Fatalf("post values %v: %d where %d belongs (an increment lost or doubled)", posts, p, i+1)
		}
	}
	if len(posts) != total {
		t.Fatalf("%d increments, want %d", len(posts), total)
	}
	c, err := client.Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	syncPath(ctx, t, c, path)
	v, err := counter.NewAtomicLong(c, path).Get(ctx)
	if err != nil || v.PostValue != int64(total) {
		t.Fatalf("final value %d (%v), want %d", v.PostValue, err, total)
	}
	t.Logf("%d Go increments took the promoted lock", promoted)
}

// curatorCounterExample: runs of examples/counter and a Curator thread add
// to one counter at once; the final value is the sum of all additions.
func curatorCounterExample(ctx context.Context, t *testing.T, a *agent, c *client.Conn, addr, bin string) {
	const runs, add, javaIncrements = 4, 3, 20
	path := "/coord/example-counter"
	a.expect(t, "HELD", "async example atomic %s %d -", path, javaIncrements)
	var wg sync.WaitGroup
	outs := make([]string, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, bin, "-server", addr, "-path", path, "-add", strconv.Itoa(add))
			out, err := cmd.CombinedOutput()
			if err != nil {
				outs[i] = fmt.Sprintf("error %v: %s", err, out)
				return
			}
			outs[i] = strings.TrimSpace(string(out))
		}()
	}
	wg.Wait()
	a.done(t, "join example")
	for i, out := range outs {
		if _, err := strconv.ParseInt(out, 10, 64); err != nil {
			t.Fatalf("run %d of examples/counter: %s", i, out)
		}
	}
	syncPath(ctx, t, c, path)
	v, err := counter.NewAtomicLong(c, path).Get(ctx)
	if want := int64(runs*add + javaIncrements); err != nil || v.PostValue != want {
		t.Fatalf("final value %d (%v), want %d", v.PostValue, err, want)
	}
}

// curatorSharedCount: a Go SharedCount hears Java's setCount, Java's
// hears Go's, and a TrySetCount over a version Java has since replaced
// fails.
func curatorSharedCount(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	path := "/coord/count"
	a.expect(t, "HELD", "countstart %s", path)
	syncPath(ctx, t, c, path)
	s := counter.NewSharedCount(c, path, 5) // the node exists: the seed is not used
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Count() != 0 {
		t.Fatalf("Go read %d from Curator's seeded count, want 0", s.Count())
	}
	heard := make(chan int32, 16)
	s.AddListener(func(n int32) { heard <- n })
	stale := s.VersionedCount()

	a.done(t, "countset %s 17", path)
	waitCount(t, heard, 17)
	if s.Count() != 17 {
		t.Fatalf("Go Count = %d after Java set 17", s.Count())
	}
	if data, _, err := c.Get(ctx, path); err != nil || string(data) != "\x00\x00\x00\x11" {
		t.Fatalf("Curator wrote % x (%v), want 00 00 00 11", data, err)
	}
	if ok, err := s.TrySetCount(ctx, stale, 99); err != nil || ok {
		t.Fatalf("TrySetCount over a version Java replaced: %v, %v", ok, err)
	}
	if err := s.SetCount(ctx, -23); err != nil {
		t.Fatal(err)
	}
	if got := a.done(t, "countawait %s -23", path); got != "-23" {
		t.Fatalf("Java count %s after Go set -23", got)
	}
	cur := s.VersionedCount()
	if ok, err := s.TrySetCount(ctx, cur, 24); err != nil || !ok {
		t.Fatalf("TrySetCount over the latest version: %v, %v", ok, err)
	}
	if got := a.done(t, "countawait %s 24", path); got != "24" {
		t.Fatalf("Java count %s after Go's TrySetCount", got)
	}
}

func waitCount(t *testing.T, heard <-chan int32, want int32) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case n := <-heard:
			if n == want {
				return
			}
		case <-timeout:
			t.Fatalf("Go listener not told %d", want)
		}
	}
}

// curatorDoubleBarrier: two Curator members and two Go members of one
// double barrier with a threshold of four. With one Go member missing,
// the three others' nodes are there, no ready node is, and no member
// (Java or Go) has passed enter; then the last one arrives, all pass, and
// all leave.
func curatorDoubleBarrier(ctx context.Context, t *testing.T, a *agent, addr string) {
	const qty = 4
	path := "/coord/double"
	obs, err := client.Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	memberNodes := func() int {
		children, err := obs.Children(ctx, path)
		if err != nil {
			return 0
		}
		return len(slices.DeleteFunc(children, func(s string) bool { return s == "ready" }))
	}
	for i := range 2 {
		a.expect(t, "HELD", "async dbarrier%d dbarrier %s %d", i, path, qty)
	}
	waitUntil(t, "the Java members' nodes", func() bool { return memberNodes() == 2 })

	results := make(chan error, 2)
	member := func() {
		c, err := client.Connect(ctx, addr)
		if err != nil {
			results <- err
			return
		}
		defer c.Close()
		d := barrier.NewDoubleBarrier(c, path, qty)
		if err := d.Enter(ctx); err != nil {
			results <- err
			return
		}
		results <- d.Leave(ctx)
	}
	go member()
	waitUntil(t, "three member nodes", func() bool { return memberNodes() == 3 })
	syncPath(ctx, t, obs, path)
	if st, err := obs.Exists(ctx, path+"/ready"); err != nil || st != nil {
		t.Fatalf("ready node with a member missing: %v, %v", st, err)
	}
	if got := a.done(t, "passed %s", path); got != "0" {
		t.Fatalf("%s Java members passed enter with a member missing", got)
	}
	select {
	case err := <-results:
		t.Fatalf("the Go member passed with a member missing: %v", err)
	default:
	}
	go member()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		a.done(t, "join dbarrier%d", i)
	}
	if got := a.done(t, "passed %s", path); got != "2" {
		t.Fatalf("%s Java members passed, want 2", got)
	}
	syncPath(ctx, t, obs, path)
	if n := memberNodes(); n != 0 {
		t.Fatalf("%d member nodes left after everyone left", n)
	}
}

// syncPath makes c's server catch up with the leader before c reads what
// another client (Java, or another Go session) wrote through another
// server of an ensemble.
func syncPath(ctx context.Context, t *testing.T, c *client.Conn, path string) {
	t.Helper()
	if err := c.Sync(ctx, path); err != nil {
		t.Fatalf("sync %s: %v", path, err)
	}
}

// curatorBarrier: Java waits at a barrier Go set until Go removes it, and
// Go waits at one Java set until Java removes it.
func curatorBarrier(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	path := "/coord/barrier"
	b := barrier.NewBarrier(c, path)
	if err := b.Set(ctx); err != nil {
		t.Fatal(err)
	}
	a.expect(t, "HELD", "async bwait bwait %s", path)
	// The barrier is up, so the Java waiter is still waiting.
	if got := a.done(t, "poll bwait"); got != "pending" {
		t.Fatalf("Java waiter: %q while the barrier was up", got)
	}
	if err := b.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	a.done(t, "join bwait")

	a.done(t, "bset %s", path)
	syncPath(ctx, t, c, path)
	if up, err := b.IsSet(ctx); err != nil || !up {
		t.Fatalf("Go sees Curator's barrier: %v, %v", up, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- b.Wait(ctx) }()
	a.done(t, "bremove %s", path)
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("Go waiter not released by Curator's removeBarrier")
	}
}

// curatorQueue: Curator consumes, in order, what Go offered, and Go what
// Curator offered.
func curatorQueue(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	path := "/coord/queue"
	q := queue.NewSimple(c, path)
	var want []string
	for i := range 12 {
		item := fmt.Sprintf("go-item-%d", i)
		want = append(want, item)
		if err := q.Offer(ctx, []byte(item)); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.done(t, "qtake %s %d", path, len(want)); got != strings.Join(want, ",") {
		t.Fatalf("Curator took %q, want %q", got, strings.Join(want, ","))
	}
	if _, err := q.Poll(ctx); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("Go Poll after Curator drained the queue: %v, want ErrEmpty", err)
	}
	// A Curator consumer waiting on an empty queue gets Go's next item.
	a.expect(t, "HELD", "async qtake qtake %s 1", path)
	if err := q.Offer(ctx, []byte("late")); err != nil {
		t.Fatal(err)
	}
	if got := a.done(t, "join qtake"); got != "late" {
		t.Fatalf("waiting Curator consumer took %q, want late", got)
	}
	a.done(t, "qoffer %s java-1 java-2 java-3", path)
	for _, w := range []string{"java-1", "java-2", "java-3"} {
		got, err := q.Take(ctx)
		if err != nil || string(got) != w {
			t.Fatalf("Go Take = %q, %v; want %q", got, err, w)
		}
	}
}
