package client_test

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

func TestOneShotWatches(t *testing.T) {
	c := connect(t)
	other := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	p := b + "/n"

	// exists on a missing node watches for its creation.
	st, created, err := c.ExistsW(ctx, p)
	if err != nil || st != nil {
		t.Fatalf("ExistsW(missing) = %+v, %v", st, err)
	}
	if _, err := other.Create(ctx, p, []byte("1")); err != nil {
		t.Fatal(err)
	}
	e := expectEvent(t, created, client.EventNodeCreated, p)
	if e.State != client.KeeperSyncConnected || e.Zxid == 0 || e.Err != nil {
		t.Errorf("event %+v", e)
	}
	expectClosed(t, created)

	// getData watches for a change.
	_, _, changed, err := c.GetW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// Two watches on the same node both fire.
	_, changed2, err := c.ExistsW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set(ctx, p, []byte("2"), -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, changed, client.EventNodeDataChanged, p)
	expectClosed(t, changed)
	expectEvent(t, changed2, client.EventNodeDataChanged, p)
	// One-shot: a second change is not reported on a fired watch, and a new
	// one is needed.
	_, _, again, err := c.GetW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}

	// getChildren watches the child list.
	_, _, kids, err := c.ChildrenW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, p+"/k", nil); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, kids, client.EventNodeChildrenChanged, p)
	expectClosed(t, kids)
	expectNoEvent(t, c, again) // child changes are not data changes

	// Deleting the node fires data and child watches with NodeDeleted.
	_, _, kids, err = c.ChildrenW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, p+"/k", -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, kids, client.EventNodeChildrenChanged, p)
	_, _, kids, err = c.ChildrenW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, p, -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, again, client.EventNodeDeleted, p)
	expectEvent(t, kids, client.EventNodeDeleted, p)

	// No watch is left behind by a failed read.
	if _, _, w, err := c.GetW(ctx, p); !errors.Is(err, client.ErrNoNode) || w != nil {
		t.Errorf("GetW(missing) = %v, %v", w, err)
	}
}

func TestPersistentWatch(t *testing.T) {
	c := connect(t)
	other := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	p := b + "/n"
	w, err := c.AddWatch(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if w.Path() != p || w.Recursive() {
		t.Errorf("watcher %q recursive=%v", w.Path(), w.Recursive())
	}
	if _, err := other.Create(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := other.Set(ctx, p, []byte{byte(i)}, -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Create(ctx, p+"/k", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set(ctx, p+"/k", nil, -1); err != nil { // not below a non-recursive watch
		t.Fatal(err)
	}
	if err := other.DeleteRecursive(ctx, p); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w.C(), client.EventNodeCreated, p)
	for range 3 {
		expectEvent(t, w.C(), client.EventNodeDataChanged, p)
	}
	expectEvent(t, w.C(), client.EventNodeChildrenChanged, p) // create of k
	expectEvent(t, w.C(), client.EventNodeChildrenChanged, p) // delete of k
	expectEvent(t, w.C(), client.EventNodeDeleted, p)
	if err := w.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w.C(), client.EventPersistentWatchRemoved, p)
	expectClosed(t, w.C())
	if w.Err() == nil {
		t.Error("Err() is nil after Remove")
	}
	// Removed on the server: recreating the node is not reported (checked via
	// a fresh watch that sees only its own events).
	if _, err := other.Create(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
}

func TestPersistentRecursiveWatch(t *testing.T) {
	c := connect(t)
	other := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	w, err := c.AddWatch(ctx, b, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, b+"/a/b/c", nil, client.WithParents()); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set(ctx, b+"/a/b", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(ctx, b+"/a/b/c", -1); err != nil {
		t.Fatal(err)
	}
	// No NodeChildrenChanged for recursive watches.
	expectEvent(t, w.C(), client.EventNodeCreated, b+"/a")
	expectEvent(t, w.C(), client.EventNodeCreated, b+"/a/b")
	expectEvent(t, w.C(), client.EventNodeCreated, b+"/a/b/c")
	expectEvent(t, w.C(), client.EventNodeDataChanged, b+"/a/b")
	expectEvent(t, w.C(), client.EventNodeDeleted, b+"/a/b/c")

	// A one-shot watch on the same path is independent of the recursive one.
	_, _, one, err := c.GetW(ctx, b+"/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set(ctx, b+"/a", nil, -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, one, client.EventNodeDataChanged, b+"/a")
	expectEvent(t, w.C(), client.EventNodeDataChanged, b+"/a")
}

func TestRemoveWatches(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	if err := c.RemoveWatches(ctx, b, client.WatcherData); !errors.Is(err, client.ErrNoWatcher) {
		t.Errorf("RemoveWatches without watches: %v", err)
	}
	_, _, data, err := c.GetW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	_, _, kids, err := c.ChildrenW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveWatches(ctx, b, client.WatcherData); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, data, client.EventDataWatchRemoved, b)
	expectClosed(t, data)
	// The child watch stays.
	if _, err := c.Create(ctx, b+"/k", nil); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, kids, client.EventNodeChildrenChanged, b)

	_, _, kids, err = c.ChildrenW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, b, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveWatches(ctx, b, client.WatcherAny); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, kids, client.EventChildWatchRemoved, b)
	expectEvent(t, pw.C(), client.EventPersistentWatchRemoved, b)
	expectClosed(t, pw.C())
}

func TestWatchesEndOnClose(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	_, _, one, err := c.GetW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, b, true)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	e := nextEvent(t, one)
	if e.Type != client.EventNone || e.State != client.KeeperClosed || !errors.Is(e.Err, client.ErrClosed) {
		t.Errorf("final one-shot event %+v", e)
	}
	expectClosed(t, one)
	// The persistent stream is closed (its final event may be dropped).
	for e := range pw.C() {
		if e.Type != client.EventNone {
			t.Errorf("unexpected event %+v", e)
		}
	}
	if !errors.Is(pw.Err(), client.ErrClosed) {
		t.Errorf("watcher Err %v", pw.Err())
	}
}

// TestEventSeq: events of one-shot and persistent watches carry one order
// number per notification, so merging several channels by Seq gives the
// server's order; removal and final events come after them.
func TestEventSeq(t *testing.T) {
	c := connect(t)
	other := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	for _, p := range []string{"/a", "/b", "/c"} {
		if _, err := c.Create(ctx, b+p, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, _, data, err := c.GetW(ctx, b+"/a")
	if err != nil {
		t.Fatal(err)
	}
	_, _, kids, err := c.ChildrenW(ctx, b+"/b")
	if err != nil {
		t.Fatal(err)
	}
	_, exist, err := c.ExistsW(ctx, b+"/new")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, b+"/c", false)
	if err != nil {
		t.Fatal(err)
	}
	rw, err := c.AddWatch(ctx, b, true)
	if err != nil {
		t.Fatal(err)
	}
	// Each write is acknowledged before the next is sent: server order.
	writes := []func() error{
		func() error { _, err := other.Set(ctx, b+"/c", []byte("1"), -1); return err },
		func() error { _, err := other.Set(ctx, b+"/a", []byte("1"), -1); return err },
		func() error { _, err := other.Create(ctx, b+"/b/k", nil); return err },
		func() error { _, err := other.Create(ctx, b+"/new", nil); return err },
		func() error { _, err := other.Set(ctx, b+"/c", []byte("2"), -1); return err },
	}
	for _, w := range writes {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	type got struct {
		ch string
		e  client.Event
	}
	var all []got
	all = append(all, got{"data", nextEvent(t, data)}, got{"kids", nextEvent(t, kids)}, got{"exist", nextEvent(t, exist)})
	for range 2 {
		all = append(all, got{"persistent", nextEvent(t, pw.C())})
	}
	for range 5 { // no NodeChildrenChanged for a recursive watch
		all = append(all, got{"recursive", nextEvent(t, rw.C())})
	}
	slices.SortStableFunc(all, func(x, y got) int { return cmp.Compare(x.e.Seq, y.e.Seq) })
	want := []struct {
		ch   string
		typ  client.EventType
		path string
	}{
		{"persistent", client.EventNodeDataChanged, b + "/c"},
		{"recursive", client.EventNodeDataChanged, b + "/c"},
		{"data", client.EventNodeDataChanged, b + "/a"},
		{"recursive", client.EventNodeDataChanged, b + "/a"},
		{"kids", client.EventNodeChildrenChanged, b + "/b"},
		{"recursive", client.EventNodeCreated, b + "/b/k"},
		{"exist", client.EventNodeCreated, b + "/new"},
		{"recursive", client.EventNodeCreated, b + "/new"},
		{"persistent", client.EventNodeDataChanged, b + "/c"},
		{"recursive", client.EventNodeDataChanged, b + "/c"},
	}
	// Events with one Seq come from one notification: compare them as sets.
	if len(all) != len(want) {
		t.Fatalf("%d events, want %d", len(all), len(want))
	}
	bySeq := map[uint64][]string{}
	var seqs []uint64
	for _, g := range all {
		if g.e.Seq == 0 {
			t.Fatalf("event without Seq: %+v", g.e)
		}
		if _, ok := bySeq[g.e.Seq]; !ok {
			seqs = append(seqs, g.e.Seq)
		}
		bySeq[g.e.Seq] = append(bySeq[g.e.Seq], fmt.Sprintf("%s %v %s", g.ch, g.e.Type, g.e.Path))
	}
	var gotOrder, wantOrder []string
	for _, s := range seqs {
		group := bySeq[s]
		slices.Sort(group)
		gotOrder = append(gotOrder, strings.Join(group, ", "))
	}
	// One notification per write for the same connection, except the
	// create of /b/k: NodeChildrenChanged on /b and NodeCreated on /b/k.
	groups := [][]int{{0, 1}, {2, 3}, {4}, {5}, {6, 7}, {8, 9}}
	for _, g := range groups {
		var group []string
		for _, i := range g {
			group = append(group, fmt.Sprintf("%s %v %s", want[i].ch, want[i].typ, want[i].path))
		}
		slices.Sort(group)
		wantOrder = append(wantOrder, strings.Join(group, ", "))
	}
	// The server may send /b/k's two events in either order.
	if len(gotOrder) == len(wantOrder) && gotOrder[2] == wantOrder[3] && gotOrder[3] == wantOrder[2] {
		gotOrder[2], gotOrder[3] = gotOrder[3], gotOrder[2]
	}
	if !slices.Equal(gotOrder, wantOrder) {
		t.Fatalf("events merged by Seq:\n%s\nwant:\n%s", strings.Join(gotOrder, "\n"), strings.Join(wantOrder, "\n"))
	}
	last := all[len(all)-1].e.Seq

	// A removal and the final events of Close come after.
	if err := pw.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	removed := expectEvent(t, pw.C(), client.EventPersistentWatchRemoved, b+"/c")
	if removed.Seq <= last {
		t.Errorf("removal Seq %d, not after %d", removed.Seq, last)
	}
	c.Close()
	final := nextEvent(t, rw.C())
	if final.State != client.KeeperClosed || final.Seq <= removed.Seq {
		t.Errorf("final event %+v, want KeeperClosed after Seq %d", final, removed.Seq)
	}
}

// TestRemoveWatchesLocal: with Local, RemoveWatches removes the client's
// watches while connected (asking the server) and while disconnected
// (without it), where the plain variant fails.
func TestRemoveWatchesLocal(t *testing.T) {
	setup := connect(t)
	b := base(t, setup)
	ctx := ctxFor(t)
	px := newProxy(t, client.ServerForTest(t))
	c := connectTo(t, px.addr(), client.WithRetryPolicy(client.NoRetry()), client.WithConnectTimeout(500*time.Millisecond))
	expectStates(t, c, client.Connected)

	// Connected: the server answers; the events say so.
	_, _, data, err := c.GetW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveWatches(ctx, b, client.WatcherData, client.Local()); err != nil {
		t.Fatal(err)
	}
	if e := expectEvent(t, data, client.EventDataWatchRemoved, b); e.State != client.KeeperSyncConnected {
		t.Errorf("removal state %v, want SyncConnected", e.State)
	}
	expectClosed(t, data)
	if err := c.RemoveWatches(ctx, b, client.WatcherData, client.Local()); !errors.Is(err, client.ErrNoWatcher) {
		t.Errorf("Local removal of no watch: %v, want ErrNoWatcher", err)
	}

	// Disconnected: only the local variant works.
	_, _, data, err = c.GetW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	_, _, kids, err := c.ChildrenW(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, b, false)
	if err != nil {
		t.Fatal(err)
	}
	px.cut(true)
	expectStates(t, c, client.Suspended)
	if err := c.RemoveWatches(ctx, b, client.WatcherData); !errors.Is(err, client.ErrConnectionLoss) {
		t.Fatalf("RemoveWatches while disconnected: %v, want ErrConnectionLoss", err)
	}
	if err := c.RemoveWatches(ctx, b, client.WatcherAny, client.Local()); err != nil {
		t.Fatalf("RemoveWatches(Local) while disconnected: %v", err)
	}
	for _, ch := range []<-chan client.Event{data, kids, pw.C()} {
		e := nextEvent(t, ch)
		if e.State != client.KeeperDisconnected || e.Path != b {
			t.Errorf("local removal event %+v, want state Disconnected", e)
		}
		expectClosed(t, ch)
	}
	px.resume()
	expectStates(t, c, client.Reconnected)
	// The removed watches are not re-registered: a change reaches none of
	// them (their channels are closed), and no watch is left to remove.
	if err := c.RemoveWatches(ctx, b, client.WatcherAny, client.Local()); !errors.Is(err, client.ErrNoWatcher) {
		t.Errorf("after local removal: %v, want ErrNoWatcher", err)
	}
}

// TestCloseDeliversPersistentEvents: the events a persistent watch had
// received before Close are all delivered after it, then the KeeperClosed
// event, then C is closed; a stream that ended before Close and was not
// read is discarded by Close.
func TestCloseDeliversPersistentEvents(t *testing.T) {
	c := connect(t)
	other := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	w, err := c.AddWatch(ctx, b, true)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := c.AddWatch(ctx, b+"/gone", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := removed.Remove(ctx); err != nil { // its removal event stays unread
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		if _, err := other.Create(ctx, fmt.Sprintf("%s/n%d", b, i), nil); err != nil {
			t.Fatal(err)
		}
	}
	// One round trip after the writes: their events were received before
	// its reply (the server queues them first).
	if _, err := c.Exists(ctx, b); err != nil {
		t.Fatal(err)
	}
	c.Close()
	for i := range n {
		expectEvent(t, w.C(), client.EventNodeCreated, fmt.Sprintf("%s/n%d", b, i))
	}
	e := nextEvent(t, w.C())
	if e.Type != client.EventNone || e.State != client.KeeperClosed || !errors.Is(e.Err, client.ErrClosed) {
		t.Fatalf("final event %+v, want KeeperClosed", e)
	}
	expectClosed(t, w.C())
	if !errors.Is(w.Err(), client.ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", w.Err())
	}
	// The unread removed stream was discarded: its channel is closed
	// without its removal event.
	if e, ok := <-removed.C(); ok {
		t.Errorf("event of a stream discarded by Close: %+v", e)
	}
}
