package leader_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/leader"
)

var curatorLatchNode = regexp.MustCompile(`^_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-latch-[0-9]{10}$`)

func startLatch(t *testing.T, c *client.Conn, path, id string, opts ...leader.LatchOption) *leader.Latch {
	t.Helper()
	l := leader.NewLatch(c, path, id, opts...)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLatchLayout(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/election"
	c := connect(t)
	l := startLatch(t, c, path, "node-1")
	if _, err := l.Await(ctx); err != nil {
		t.Fatal(err)
	}
	children, err := c.Children(ctx, path)
	if err != nil || len(children) != 1 || !curatorLatchNode.MatchString(children[0]) || l.Node() != path+"/"+children[0] {
		t.Fatalf("latch nodes %q (%v), want one Curator latch- node = %s", children, err, l.Node())
	}
	data, st, err := c.Get(ctx, l.Node())
	if err != nil || string(data) != "node-1" || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("latch node data %q owner %#x (%v)", data, st.EphemeralOwner, err)
	}
	if err := l.Start(); !errors.Is(err, leader.ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if children, _ := c.Children(ctx, path); len(children) != 0 {
		t.Fatalf("nodes %q left after Close", children)
	}
	if _, err := l.Await(ctx); !errors.Is(err, leader.ErrClosed) {
		t.Fatalf("Await after Close: %v", err)
	}
	if ld, err := l.Leader(ctx); err != nil || ld != (leader.Participant{}) {
		t.Fatalf("Leader() of an empty election = %v (%v)", ld, err)
	}
}

// TestLatchSuccession: participants lead one at a time, in the order they
// joined, each leadership ending before the next begins.
func TestLatchSuccession(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/election"
	var (
		mu     sync.Mutex
		events []string
	)
	latches := make([]*leader.Latch, 3)
	for i := range latches {
		id := fmt.Sprintf("p%d", i)
		latches[i] = startLatch(t, connect(t), path, id, leader.WithNotifyOnClose(), leader.WithListener(func(lead bool) {
			mu.Lock()
			events = append(events, fmt.Sprintf("%s:%v", id, lead))
			mu.Unlock()
		}))
		testserver.WaitFor(t, "participant joined", func() bool {
			p, _ := latches[0].Participants(ctx)
			return len(p) == i+1
		})
	}
	p, err := latches[2].Participants(ctx)
	if err != nil || fmt.Sprint(p) != "[{p0 true} {p1 false} {p2 false}]" {
		t.Fatalf("participants %v (%v)", p, err)
	}
	if ld, err := latches[1].Leader(ctx); err != nil || ld != (leader.Participant{ID: "p0", Leader: true}) {
		t.Fatalf("Leader() = %v (%v)", ld, err)
	}
	for i, l := range latches {
		term, err := l.Await(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for j, other := range latches {
			if j != i && other.HasLeadership() {
				t.Fatalf("p%d leads beside p%d", j, i)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if !testserver.Closed(term) {
			t.Fatal("leadership channel open after Close")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(events) != "[p0:true p0:false p1:true p1:false p2:true p2:false]" {
		t.Fatalf("listener events %v", events)
	}
}

func TestLatchSilentClose(t *testing.T) {
	ctx := testserver.Context(t)
	var calls []bool
	var mu sync.Mutex
	l := startLatch(t, connect(t), suite.Base(t)+"/election", "a", leader.WithListener(func(lead bool) {
		mu.Lock()
		calls = append(calls, lead)
		mu.Unlock()
	}))
	term, err := l.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	testserver.WaitClosed(t, "leadership after Close", term)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(calls) != "[true]" {
		t.Fatalf("listener calls %v, want [true] (silent close)", calls)
	}
}

func TestLatchAwaitContext(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/election"
	if _, err := startLatch(t, connect(t), path, "first").Await(ctx); err != nil {
		t.Fatal(err)
	}
	l := startLatch(t, connect(t), path, "second")
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := l.Await(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Await while another leads: %v, want DeadlineExceeded", err)
	}
}

// TestLatchSuspended: leadership ends when the connection is lost, and
// comes back once the session is resumed with the node still first.
func TestLatchSuspended(t *testing.T) {
	ctx := testserver.Context(t)
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(10*time.Second))
	l := startLatch(t, c, suite.Base(t)+"/election", "a")
	term, err := l.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := l.Node()
	px.Cut(false)
	testserver.WaitClosed(t, "leadership after the connection was lost", term)
	term2, err := l.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if testserver.Closed(term2) || l.Node() != node {
		t.Fatalf("after reconnect: node %s (was %s)", l.Node(), node)
	}
}

// TestLatchLost: a leader whose session expires is told, another
// participant leads, and the old one joins again behind it.
func TestLatchLost(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/election"
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	a := startLatch(t, c, path, "a")
	term, err := a.Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := startLatch(t, connect(t), path, "b")
	testserver.WaitFor(t, "b joined", func() bool {
		p, _ := b.Participants(ctx)
		return len(p) == 2
	})
	px.Cut(true)
	testserver.WaitClosed(t, "leadership of the expired session", term)
	if _, err := b.Await(ctx); err != nil {
		t.Fatal(err)
	}
	px.Resume()
	testserver.WaitFor(t, "a rejoined behind b", func() bool {
		p, _ := b.Participants(ctx)
		return fmt.Sprint(p) == "[{b true} {a false}]"
	})
	if a.HasLeadership() {
		t.Fatal("a leads beside b")
	}
}
