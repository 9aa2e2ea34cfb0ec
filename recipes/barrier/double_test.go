package barrier_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/barrier"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// uuidNode is the name Curator's DistributedDoubleBarrier gives a member.
var uuidNode = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// members returns the member node names under path, sorted ("ready" and
// a missing path excluded).
func members(t *testing.T, c *client.Conn, path string) []string {
	t.Helper()
	got, err := listMembers(testserver.Context(t), c, path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// listMembers is members for goroutines other than the test's.
func listMembers(ctx context.Context, c *client.Conn, path string) ([]string, error) {
	children, err := c.Children(ctx, path)
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	children = slices.DeleteFunc(children, func(s string) bool { return s == "ready" })
	slices.Sort(children)
	return children, nil
}

func exists(t *testing.T, c *client.Conn, path string) bool {
	t.Helper()
	st, err := c.Exists(testserver.Context(t), path)
	if err != nil {
		t.Fatal(err)
	}
	return st != nil
}

func TestDoubleBarrierLayout(t *testing.T) {
	c := connect(t)
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/dbl/b"
	d := barrier.NewDoubleBarrier(c, path, 1, barrier.WithData([]byte("member")))
	if err := d.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	got := members(t, c, path)
	if len(got) != 1 || !uuidNode.MatchString(got[0]) || d.Node() != path+"/"+got[0] {
		t.Fatalf("member nodes %q (Node %q), want one PATH/<uuid>", got, d.Node())
	}
	data, st, err := c.Get(ctx, d.Node())
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "member" || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("member node data %q owner %#x, want member, ephemeral of %#x", data, st.EphemeralOwner, c.SessionID())
	}
	data, st, err = c.Get(ctx, path+"/ready")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "member" || st.EphemeralOwner != 0 {
		t.Fatalf("ready node data %q owner %#x, want member, persistent", data, st.EphemeralOwner)
	}
	if err := d.Enter(ctx); err != nil {
		t.Fatalf("second Enter: %v", err)
	}
	if err := d.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if got := members(t, c, path); len(got) != 0 || exists(t, c, path+"/ready") {
		t.Fatalf("after Leave: members %q, ready %v", got, exists(t, c, path+"/ready"))
	}
	if err := d.Leave(ctx); !errors.Is(err, barrier.ErrNotEntered) {
		t.Fatalf("Leave twice: %v, want ErrNotEntered", err)
	}
	// The same member enters again, with the same node name.
	node := d.Node()
	if err := d.Enter(ctx); err != nil || !exists(t, c, node) {
		t.Fatalf("Enter again: %v", err)
	}
	if err := d.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	// The barrier's node is a container: the server deletes it once empty.
	testserver.WaitFor(t, "the empty barrier node to be reaped", func() bool { return !exists(t, c, path) })
	if err := barrier.NewDoubleBarrier(c, path, 0).Enter(ctx); !errors.Is(err, client.ErrBadArguments) {
		t.Fatalf("Enter with threshold 0: %v, want ErrBadArguments", err)
	}
}

// TestDoubleBarrierEnterLeave runs members on sessions of their own. No
// member passes Enter before all have arrived: with one member missing,
// every other one's node exists and no ready node does, and Enter cannot
// return without one; once through, each sees every member node. No
// member passes Leave before all have left: each finds no member node
// when Leave returns.
func TestDoubleBarrierEnterLeave(t *testing.T) {
	const n = 5
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	obs := connect(t)
	var (
		entered  [n]chan error
		last     atomic.Bool // the last member has been started
		wg       sync.WaitGroup
		leaveAll = make(chan struct{})
		left     = make(chan error, n)
	)
	start := func(i int) {
		d := barrier.NewDoubleBarrier(connect(t), path, n, barrier.WithData(fmt.Appendf(nil, "m%d", i)))
		entered[i] = make(chan error, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := d.Enter(ctx)
			if err == nil && !last.Load() {
				err = errors.New("passed Enter before the last member arrived")
			}
			if err == nil {
				if got, lerr := listMembers(ctx, obs, path); lerr != nil || len(got) != n {
					err = fmt.Errorf("passed Enter with member nodes %q (%v), want %d", got, lerr, n)
				}
			}
			entered[i] <- err
			if err != nil {
				return
			}
			<-leaveAll
			err = d.Leave(ctx)
			if err == nil {
				if got, lerr := listMembers(ctx, obs, path); lerr != nil || len(got) != 0 {
					err = fmt.Errorf("passed Leave with member nodes %q left (%v)", got, lerr)
				}
			}
			left <- err
		}()
	}
	for i := range n - 1 {
		start(i)
	}
	testserver.WaitFor(t, "n-1 member nodes", func() bool { return len(members(t, obs, path)) == n-1 })
	if exists(t, obs, path+"/ready") {
		t.Fatal("ready node with a member missing")
	}
	for i := range n - 1 {
		select {
		case err := <-entered[i]:
			t.Fatalf("member %d passed Enter with a member missing: %v", i, err)
		default:
		}
	}
	last.Store(true)
	start(n - 1)
	for i := range n {
		if err := <-entered[i]; err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	close(leaveAll)
	for range n {
		if err := <-left; err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if exists(t, obs, path+"/ready") {
		t.Fatal("ready node left after every member left")
	}
}

// TestDoubleBarrierLeaveWaits: members that leave wait for a member that
// has not, whichever place its node has in the order.
func TestDoubleBarrierLeaveWaits(t *testing.T) {
	const n = 3
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	obs := connect(t)
	ds := make([]*barrier.DoubleBarrier, n)
	errs := make(chan error, n)
	for i := range ds {
		ds[i] = barrier.NewDoubleBarrier(connect(t), path, n)
		go func() { errs <- ds[i].Enter(ctx) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// The member that stays is the lowest node for one run and the
	// highest for another: both roles of the recipe wait.
	names := members(t, obs, path)
	for _, stayName := range []string{names[0], names[n-1]} {
		t.Run("", func(t *testing.T) {
			var stay *barrier.DoubleBarrier
			var others []*barrier.DoubleBarrier
			for _, d := range ds {
				if d.Node() == path+"/"+stayName {
					stay = d
				} else {
					others = append(others, d)
				}
			}
			var stayLeaving atomic.Bool
			left := make(chan error, n)
			for _, d := range others {
				go func() {
					err := d.Leave(ctx)
					if err == nil && !stayLeaving.Load() {
						err = errors.New("passed Leave before the last member left")
					}
					left <- err
				}()
			}
			// Settled: the non-lowest leavers have deleted their nodes;
			// the lowest keeps its node until it is the last one.
			want := []string{stayName}
			if stayName != names[0] {
				want = []string{names[0], stayName}
			}
			testserver.WaitFor(t, fmt.Sprintf("member nodes %q", want), func() bool {
				return slices.Equal(members(t, obs, path), want)
			})
			select {
			case err := <-left:
				t.Fatalf("a member passed Leave while one stayed: %v", err)
			default:
			}
			stayLeaving.Store(true)
			if err := stay.Leave(ctx); err != nil {
				t.Fatal(err)
			}
			for range others {
				if err := <-left; err != nil {
					t.Fatal(err)
				}
			}
			// Enter again for the next run.
			for _, d := range ds {
				go func() { errs <- d.Enter(ctx) }()
			}
			for range n {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestDoubleBarrierLateMember: members beyond the threshold pass at once.
func TestDoubleBarrierLateMember(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	errs := make(chan error, 2)
	for range 2 {
		d := barrier.NewDoubleBarrier(connect(t), path, 2)
		go func() { errs <- d.Enter(ctx) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	late := barrier.NewDoubleBarrier(connect(t), path, 2)
	if err := late.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	if got := members(t, connect(t), path); len(got) != 3 {
		t.Fatalf("member nodes %q, want 3", got)
	}
}

// TestDoubleBarrierEnterCancel: a member that gives up removes its node,
// so that it is not counted.
func TestDoubleBarrierEnterCancel(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	c := connect(t)
	d := barrier.NewDoubleBarrier(c, path, 2)
	ectx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := d.Enter(ectx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Enter past its deadline: %v, want DeadlineExceeded", err)
	}
	if got := members(t, c, path); len(got) != 0 {
		t.Fatalf("member nodes %q after a cancelled Enter", got)
	}
	if err := d.Leave(ctx); !errors.Is(err, barrier.ErrNotEntered) {
		t.Fatalf("Leave after a cancelled Enter: %v, want ErrNotEntered", err)
	}
}

// TestDoubleBarrierSessionLost: a member waiting in Enter whose session
// expires enters again on its new session; a member whose node vanished
// before Leave is told.
func TestDoubleBarrierSessionLost(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/b"
	obs := connect(t)
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	d := barrier.NewDoubleBarrier(c, path, 2)
	entered := make(chan error, 1)
	go func() { entered <- d.Enter(ctx) }()
	testserver.WaitFor(t, "the member node", func() bool { return len(members(t, obs, path)) == 1 })
	old := c.SessionID()
	px.Cut(true)
	testserver.WaitFor(t, "the expired member's node to go", func() bool { return len(members(t, obs, path)) == 0 })
	px.Resume()
	testserver.WaitFor(t, "the member node on the new session", func() bool {
		select {
		case err := <-entered:
			t.Fatalf("Enter returned while the member was alone: %v", err)
		default:
		}
		return len(members(t, obs, path)) == 1
	})
	_, st, err := obs.Get(ctx, d.Node())
	if err != nil {
		t.Fatal(err)
	}
	if st.EphemeralOwner == old || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("member node owner %#x, want the new session %#x (old %#x)", st.EphemeralOwner, c.SessionID(), old)
	}
	other := barrier.NewDoubleBarrier(obs, path, 2)
	if err := other.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-entered; err != nil {
		t.Fatal(err)
	}

	// Now lose the session while entered.
	px.Cut(true)
	testserver.WaitFor(t, "the expired member's node to go", func() bool { return len(members(t, obs, path)) == 1 })
	px.Resume()
	if err := d.Leave(ctx); !errors.Is(err, barrier.ErrMemberLost) {
		t.Fatalf("Leave after the member's node vanished: %v, want ErrMemberLost", err)
	}
	if err := other.Leave(ctx); err != nil {
		t.Fatal(err)
	}
}
