package leader_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/leader"
)

// TestSelectorTakesTurns: auto-requeued selectors lead one at a time, by
// an in-test count of leaders, until each has led twice.
func TestSelectorTakesTurns(t *testing.T) {
	const n, turns = 3, 2
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/election"
	var (
		leaders atomic.Int32
		mu      sync.Mutex
		led     = make(map[string]int)
		done    = make(chan struct{})
		errs    = make(chan error, 100)
	)
	for i := range n {
		id := fmt.Sprintf("s%d", i)
		s := leader.NewSelector(connect(t), path, id, func(ctx context.Context) error {
			if k := leaders.Add(1); k != 1 {
				select {
				case errs <- fmt.Errorf("%d leaders at once", k):
				default:
				}
			}
			time.Sleep(time.Millisecond) // a second leader would show here
			leaders.Add(-1)
			mu.Lock()
			defer mu.Unlock()
			led[id]++
			all := len(led) == n
			for _, c := range led {
				all = all && c >= turns
			}
			if all {
				select {
				case <-done:
				default:
					close(done)
				}
			}
			return nil
		}, leader.WithAutoRequeue())
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("turns not taken: %v", led)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSelectorLayoutAndRequeue(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/election"
	c := connect(t)
	var runs atomic.Int32
	leading := make(chan string, 1)
	release := make(chan struct{})
	s := leader.NewSelector(c, path, "worker-7", func(ctx context.Context) error {
		runs.Add(1)
		children, _ := c.Children(ctx, path)
		leading <- fmt.Sprint(children)
		<-release
		return errors.New("done leading")
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nodes := <-leading
	if !regexp.MustCompile(`^\[_c_[0-9a-f-]{36}-lock-[0-9]{10}\]$`).MatchString(nodes) {
		t.Fatalf("lock nodes while leading %s, want one Curator lock- node", nodes)
	}
	p, err := s.Participants(ctx)
	if err != nil || fmt.Sprint(p) != "[{worker-7 true}]" || !s.HasLeadership() {
		t.Fatalf("participants %v (%v), leading %v", p, err, s.HasLeadership())
	}
	if ok, err := s.Requeue(); ok || err != nil {
		t.Fatalf("Requeue while leading: %v %v, want false", ok, err)
	}
	release <- struct{}{}
	testserver.WaitFor(t, "leadership given up", func() bool { return !s.HasLeadership() && s.Err() != nil })
	if got := s.Err(); got == nil || got.Error() != "done leading" {
		t.Fatalf("Err() = %v", got)
	}
	testserver.WaitFor(t, "lock released", func() bool {
		p, _ := s.Participants(ctx)
		return len(p) == 0
	})
	if runs.Load() != 1 {
		t.Fatalf("lead ran %d times without requeue", runs.Load())
	}
	if ok, err := s.Requeue(); !ok || err != nil {
		t.Fatalf("Requeue: %v %v", ok, err)
	}
	<-leading
	release <- struct{}{}
	testserver.WaitFor(t, "second leadership ended", func() bool { return !s.HasLeadership() && runs.Load() == 2 })
}

// TestSelectorInterruptedOnSuspend: lead's context ends when the
// connection is lost (Curator's LeaderSelectorListenerAdapter), and by
// Interrupt and Close.
func TestSelectorInterruptedOnSuspend(t *testing.T) {
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(10*time.Second))
	started := make(chan struct{}, 10)
	ended := make(chan error, 10)
	s := leader.NewSelector(c, suite.Base(t)+"/election", "a", func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}, leader.WithAutoRequeue())
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: lead not started", what)
		}
	}
	wait("first")
	px.Cut(false)
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("lead not interrupted by the connection loss")
	}
	wait("after reconnect")
	s.Interrupt()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("lead not interrupted by Interrupt")
	}
	wait("after Interrupt")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	default:
		t.Fatal("Close returned before lead")
	}
	if err := s.Close(); !errors.Is(err, leader.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
