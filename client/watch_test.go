package client_test

import (
	"errors"
	"testing"

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
