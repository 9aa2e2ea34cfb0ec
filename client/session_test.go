package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

// TestReconnectResumesSession cuts the link: the session survives, its
// ephemerals stay, and one-shot watches report changes made during the gap.
func TestReconnectResumesSession(t *testing.T) {
	addr := client.ServerForTest(t)
	other := connect(t)
	b := base(t, other)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr(), client.WithSessionTimeout(6*time.Second))
	ctx := ctxFor(t)
	expectStates(t, c, client.Connected)
	sid := c.SessionID()

	if _, err := c.Create(ctx, b+"/eph", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, b+"/n", []byte("0")); err != nil {
		t.Fatal(err)
	}
	_, _, data, err := c.GetW(ctx, b+"/n")
	if err != nil {
		t.Fatal(err)
	}
	_, _, kids, err := c.ChildrenW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	_, created, err := c.ExistsW(ctx, b+"/later")
	if err != nil {
		t.Fatal(err)
	}
	_, _, quiet, err := c.GetW(ctx, b+"/eph")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, b+"/n", false)
	if err != nil {
		t.Fatal(err)
	}

	px.cut(true)
	expectStates(t, c, client.Suspended)
	// Changes while disconnected.
	if _, err := other.Set(ctx, b+"/n", []byte("1"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, b+"/later", nil); err != nil {
		t.Fatal(err)
	}
	// An operation issued while disconnected waits for the connection.
	done := make(chan error, 1)
	go func() {
		_, err := c.Create(ctx, b+"/during", nil)
		done <- err
	}()
	px.resume()
	expectStates(t, c, client.Reconnected)
	if c.SessionID() != sid {
		t.Errorf("session 0x%x after reconnect, want 0x%x", c.SessionID(), sid)
	}
	if err := <-done; err != nil {
		t.Errorf("create issued while disconnected: %v", err)
	}
	expectEvent(t, data, client.EventNodeDataChanged, b+"/n")
	expectEvent(t, kids, client.EventNodeChildrenChanged, b)
	expectEvent(t, created, client.EventNodeCreated, b+"/later")
	expectNoEvent(t, c, quiet)
	if st, err := other.Exists(ctx, b+"/eph"); err != nil || st == nil || st.EphemeralOwner != sid {
		t.Errorf("ephemeral after reconnect: %+v, %v", st, err)
	}
	// The persistent watch is re-registered (changes in the gap are not
	// replayed by the server, later ones are reported).
	if _, err := other.Set(ctx, b+"/n", []byte("2"), -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, pw.C(), client.EventNodeDataChanged, b+"/n")
	if err := other.Delete(ctx, b+"/eph", -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, quiet, client.EventNodeDeleted, b+"/eph")
}

// TestSessionExpiry keeps the link down past the session timeout: the
// session is reported Lost, watches end with Expired, ephemerals vanish, and
// a new session follows once a server is reachable.
func TestSessionExpiry(t *testing.T) {
	addr := client.ServerForTest(t)
	other := connect(t)
	b := base(t, other)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr(), client.WithSessionTimeout(2*time.Second))
	ctx := ctxFor(t)
	expectStates(t, c, client.Connected)
	sid := c.SessionID()
	if _, err := c.Create(ctx, b+"/eph", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Fatal(err)
	}
	_, _, w, err := c.GetW(ctx, b+"/eph")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, b, true)
	if err != nil {
		t.Fatal(err)
	}

	px.cut(true)
	expectStates(t, c, client.Suspended, client.Lost)
	if c.SessionID() != 0 {
		t.Errorf("session id 0x%x after Lost", c.SessionID())
	}
	e := nextEvent(t, w)
	if e.Type != client.EventNone || e.State != client.KeeperExpired || !errors.Is(e.Err, client.ErrSessionExpired) {
		t.Errorf("final event %+v", e)
	}
	expectClosed(t, w)
	e = nextEvent(t, pw.C())
	if e.State != client.KeeperExpired {
		t.Errorf("persistent watcher final event %+v", e)
	}
	expectClosed(t, pw.C())
	waitFor(t, "the server to expire the session's ephemeral", func() bool {
		st, err := other.Exists(ctx, b+"/eph")
		return err == nil && st == nil
	})

	px.resume()
	expectStates(t, c, client.Reconnected)
	if c.SessionID() == 0 || c.SessionID() == sid {
		t.Errorf("session after Lost: 0x%x (old 0x%x), want a new one", c.SessionID(), sid)
	}
	if _, err := c.Create(ctx, b+"/eph", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Errorf("create on the new session: %v", err)
	}
}

func TestRetryPolicyWithServer(t *testing.T) {
	addr := client.ServerForTest(t)
	px := newProxy(t, addr)
	ctx := ctxFor(t)

	// Without retries an operation fails once no connection comes within
	// the connect timeout.
	c := connectTo(t, px.addr(), client.WithRetryPolicy(client.NoRetry()),
		client.WithConnectTimeout(300*time.Millisecond))
	px.cut(true)
	waitFor(t, "Suspended", func() bool { return c.State() == client.Suspended })
	if _, err := c.Exists(ctx, "/"); !errors.Is(err, client.ErrConnectionLoss) {
		t.Errorf("Exists while disconnected without retries: %v", err)
	}
	// With retries it succeeds once the server is back.
	px.resume()
	waitFor(t, "Reconnected", func() bool { return c.State() == client.Reconnected })

	r := connectTo(t, px.addr(), client.WithRetryPolicy(client.Forever(20*time.Millisecond)),
		client.WithConnectTimeout(300*time.Millisecond))
	px.cut(true)
	waitFor(t, "Suspended", func() bool { return r.State() == client.Suspended })
	done := make(chan error, 1)
	calling := make(chan struct{})
	go func() {
		close(calling)
		_, err := r.Exists(ctx, "/")
		done <- err
	}()
	<-calling
	// Several connection attempts fail while Exists waits: it must still
	// be waiting, not failed.
	from := px.refusals()
	waitFor(t, "five refused reconnects", func() bool { return px.refusals() >= from+5 })
	select {
	case err := <-done:
		t.Fatalf("Exists returned while disconnected: %v", err)
	default:
	}
	px.resume()
	if err := <-done; err != nil {
		t.Errorf("Exists with Forever retries: %v", err)
	}

	// The context bounds retries.
	px.cut(true)
	waitFor(t, "Suspended", func() bool { return r.State() == client.Suspended })
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := r.Exists(short, "/"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exists with an expiring context: %v", err)
	}
	px.resume()
}

func TestDeleteGuaranteed(t *testing.T) {
	addr := client.ServerForTest(t)
	other := connect(t)
	b := base(t, other)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr(), client.WithRetryPolicy(client.NoRetry()),
		client.WithConnectTimeout(300*time.Millisecond))
	ctx := ctxFor(t)
	for _, n := range []string{"/a", "/b"} {
		if _, err := c.Create(ctx, b+n, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Connected: done at once.
	if err := c.DeleteGuaranteed(ctx, b+"/a", -1); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteGuaranteed(ctx, b+"/a", -1); !errors.Is(err, client.ErrNoNode) {
		t.Errorf("guaranteed delete of a missing node: %v", err)
	}
	// Disconnected: the call fails, the delete happens after reconnecting.
	px.cut(true)
	waitFor(t, "Suspended", func() bool { return c.State() == client.Suspended })
	if err := c.DeleteGuaranteed(ctx, b+"/b", -1); !errors.Is(err, client.ErrConnectionLoss) {
		t.Errorf("guaranteed delete while disconnected: %v", err)
	}
	if st, err := other.Exists(ctx, b+"/b"); err != nil || st == nil {
		t.Fatalf("node deleted while disconnected? %+v, %v", st, err)
	}
	px.resume()
	waitFor(t, "the background delete", func() bool {
		st, err := other.Exists(ctx, b+"/b")
		return err == nil && st == nil
	})
}

// TestReconnectManyWatches re-registers more watch paths than fit in one
// setWatches frame (128 KB of paths): every watch must still fire for a
// change made while disconnected.
func TestReconnectManyWatches(t *testing.T) {
	addr := client.ServerForTest(t)
	other := connect(t)
	b := base(t, other)
	ctx := ctxFor(t)
	const n = 700
	long := strings.Repeat("x", 200)
	txn := other.Txn()
	for i := range n {
		txn.Create(fmt.Sprintf("%s/%s-%d", b, long, i), nil)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, addr)
	c := connectTo(t, px.addr())
	watches := make([]<-chan client.Event, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, w, err := c.ExistsW(ctx, fmt.Sprintf("%s/%s-%d", b, long, i))
			if err != nil {
				t.Error(err)
			}
			watches[i] = w
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	px.cut(true)
	waitFor(t, "Suspended", func() bool { return c.State() == client.Suspended })
	txn = other.Txn()
	for i := range n {
		txn.Set(fmt.Sprintf("%s/%s-%d", b, long, i), []byte("changed"), -1)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	px.resume()
	for i, w := range watches {
		expectEvent(t, w, client.EventNodeDataChanged, fmt.Sprintf("%s/%s-%d", b, long, i))
	}
}
