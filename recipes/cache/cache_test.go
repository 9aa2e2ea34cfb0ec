package cache_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/cache"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

func TestNodeCache(t *testing.T) {
	base := suite.Base(t)
	c := connect(t)
	p := base + "/node"
	nc, r := start(t, cache.NewNodeCache(c, p))
	r.expect(t, "INITIALIZED")
	if n, ok := nc.Current(); ok {
		t.Fatalf("Current of a missing node: %+v", n)
	}
	mustCreate(t, c, p, "v1")
	r.expect(t, "NODE_CREATED "+p+" v1")
	mustSet(t, c, p, "v2")
	r.expect(t, "NODE_CHANGED "+p+" v2")
	if n, ok := nc.Current(); !ok || string(n.Data) != "v2" || n.Path != p || n.Stat.Version != 1 {
		t.Fatalf("Current = %+v, %v", n, ok)
	}
	// A child is not the node's business; its data change after it is.
	mustCreate(t, c, p+"/child", "x")
	mustSet(t, c, p, "v3")
	r.expect(t, "NODE_CHANGED "+p+" v3")
	mustDelete(t, c, p)
	r.expect(t, "NODE_DELETED "+p)
	if _, ok := nc.Current(); ok {
		t.Fatal("Current after delete")
	}
	mustCreate(t, c, p, "again")
	r.expect(t, "NODE_CREATED "+p+" again")
	replay(t, r.all())
}

// TestNodeCacheCopies: what Current returns and what listeners get are the
// caller's own.
func TestNodeCacheCopies(t *testing.T) {
	c := connect(t)
	p := suite.Base(t) + "/node"
	mustCreate(t, c, p, "data")
	nc, r := start(t, cache.NewNodeCache(c, p))
	// Start returns after Initialized was delivered.
	if got := format(r.all()); got != "[NODE_CREATED "+p+" data, INITIALIZED]" {
		t.Fatalf("events at Start's return: %s", got)
	}
	n, _ := nc.Current()
	n.Data[0] = 'X'
	r.all()[0].Node.Data[1] = 'Y'
	if n2, _ := nc.Current(); string(n2.Data) != "data" {
		t.Fatalf("cached data changed through a copy: %q", n2.Data)
	}
}

func TestPathChildrenCache(t *testing.T) {
	c := connect(t)
	p := suite.Base(t) + "/parent"
	mustCreate(t, c, p+"/b", "b1")
	mustCreate(t, c, p+"/a", "a1")
	mustCreate(t, c, p+"/a/grandchild", "g")
	pc, r := start(t, cache.NewPathChildrenCache(c, p))
	r.expect(t, "NODE_CREATED "+p+"/a a1", "NODE_CREATED "+p+"/b b1", "INITIALIZED")

	mustCreate(t, c, p+"/c", "c1")
	r.expect(t, "NODE_CREATED "+p+"/c c1")
	mustSet(t, c, p+"/a", "a2")
	r.expect(t, "NODE_CHANGED "+p+"/a a2")
	mustDelete(t, c, p+"/b")
	r.expect(t, "NODE_DELETED "+p+"/b")
	// Grandchildren and the parent's own data are not watched: the next
	// event is the change made after them.
	mustCreate(t, c, p+"/a/grandchild2", "g")
	mustSet(t, c, p, "parent data")
	mustSet(t, c, p+"/c", "c2")
	r.expect(t, "NODE_CHANGED "+p+"/c c2")

	if got := toMap(pc.Current()); !maps.Equal(got, map[string]string{p + "/a": "a2", p + "/c": "c2"}) {
		t.Fatalf("Current = %v", got)
	}
	if n, ok := pc.Get(p + "/a"); !ok || string(n.Data) != "a2" {
		t.Fatalf("Get = %+v %v", n, ok)
	}
	if _, ok := pc.Get(p); ok {
		t.Fatal("the parent is in the view")
	}

	// The parent goes: its children leave one by one; it comes back.
	mustDelete(t, c, p)
	r.expect(t, "NODE_DELETED "+p+"/a", "NODE_DELETED "+p+"/c")
	mustCreate(t, c, p+"/d", "d1")
	r.expect(t, "NODE_CREATED "+p+"/d d1")
	if got := toMap(pc.Current()); !maps.Equal(got, serverView(t, c, p, false, 1)) {
		t.Fatalf("Current = %v", got)
	}
	replay(t, r.all())
}

func TestTreeCache(t *testing.T) {
	c := connect(t)
	root := suite.Base(t) + "/tree"
	mustCreate(t, c, root+"/a/x", "x1")
	mustCreate(t, c, root+"/b", "b1")
	tc, r := start(t, cache.NewTreeCache(c, root))
	r.expect(t,
		"NODE_CREATED "+root+" ",
		"NODE_CREATED "+root+"/a ",
		"NODE_CREATED "+root+"/a/x x1",
		"NODE_CREATED "+root+"/b b1",
		"INITIALIZED")

	mustCreate(t, c, root+"/a/x/deep/deeper", "d")
	r.expect(t, "NODE_CREATED "+root+"/a/x/deep ", "NODE_CREATED "+root+"/a/x/deep/deeper d")
	mustSet(t, c, root+"/a/x/deep/deeper", "d2")
	r.expect(t, "NODE_CHANGED "+root+"/a/x/deep/deeper d2")
	mustSet(t, c, root, "root data")
	r.expect(t, "NODE_CHANGED "+root+" root data")
	if got := tc.Children(root + "/a"); len(got) != 1 || got[0].Path != root+"/a/x" {
		t.Fatalf("Children = %+v", got)
	}
	if n, ok := tc.Get(root + "/a/x/deep/deeper"); !ok || string(n.Data) != "d2" {
		t.Fatalf("Get = %+v %v", n, ok)
	}
	// A subtree deleted at once: children first.
	mustDelete(t, c, root+"/a")
	r.expect(t,
		"NODE_DELETED "+root+"/a/x/deep/deeper",
		"NODE_DELETED "+root+"/a/x/deep",
		"NODE_DELETED "+root+"/a/x",
		"NODE_DELETED "+root+"/a")
	if got, want := toMap(tc.Current()), serverView(t, c, root, true, -1); !maps.Equal(got, want) {
		t.Fatalf("Current = %v, want %v", got, want)
	}
	mustDelete(t, c, root)
	r.expect(t, "NODE_DELETED "+root+"/b", "NODE_DELETED "+root)
	if len(tc.Current()) != 0 {
		t.Fatalf("Current = %v", tc.Current())
	}
	mustCreate(t, c, root+"/new", "n")
	r.expect(t, "NODE_CREATED "+root+" ", "NODE_CREATED "+root+"/new n")
	replay(t, r.all())
}

func TestTreeCacheMaxDepth(t *testing.T) {
	c := connect(t)
	root := suite.Base(t) + "/tree"
	mustCreate(t, c, root+"/a/x/y", "y")
	tc, r := start(t, cache.NewTreeCache(c, root, cache.WithMaxDepth(1)))
	r.expect(t, "NODE_CREATED "+root+" ", "NODE_CREATED "+root+"/a ", "INITIALIZED")
	// Below the depth nothing is reported: the next event is the write
	// made after those.
	mustCreate(t, c, root+"/a/z", "z")
	mustSet(t, c, root+"/a/x", "x")
	mustCreate(t, c, root+"/b", "b")
	r.expect(t, "NODE_CREATED "+root+"/b b")
	if got, want := toMap(tc.Current()), serverView(t, c, root, true, 1); !maps.Equal(got, want) {
		t.Fatalf("Current = %v, want %v", got, want)
	}

	zero, r0 := start(t, cache.NewTreeCache(c, root, cache.WithMaxDepth(0)))
	r0.expect(t, "NODE_CREATED "+root+" ", "INITIALIZED")
	mustCreate(t, c, root+"/c", "c")
	mustSet(t, c, root, "r")
	r0.expect(t, "NODE_CHANGED "+root+" r")
	if len(zero.Current()) != 1 {
		t.Fatalf("depth 0 view: %v", zero.Current())
	}
}

// curatorModes runs fn with a CuratorCache on a persistent watch and on
// one-shot watches.
func curatorModes(t *testing.T, fn func(t *testing.T, opts []cache.Option, persistent bool)) {
	t.Run("persistent", func(t *testing.T) { fn(t, nil, true) })
	t.Run("one-shot", func(t *testing.T) { fn(t, []cache.Option{cache.WithoutPersistentWatch()}, false) })
}

func TestCuratorCache(t *testing.T) {
	curatorModes(t, func(t *testing.T, opts []cache.Option, persistent bool) {
		c := connect(t)
		root := suite.Base(t) + "/cc"
		mustCreate(t, c, root+"/a/x", "x1")
		cc, r := start(t, cache.NewCuratorCache(c, root, opts...))
		if cc.Persistent() != persistent {
			t.Fatalf("Persistent() = %v", cc.Persistent())
		}
		r.expect(t, "NODE_CREATED "+root+" ", "NODE_CREATED "+root+"/a ", "NODE_CREATED "+root+"/a/x x1", "INITIALIZED")
		mustCreate(t, c, root+"/a/x/y/z", "z")
		r.expect(t, "NODE_CREATED "+root+"/a/x/y ", "NODE_CREATED "+root+"/a/x/y/z z")
		mustSet(t, c, root+"/a/x", "x2")
		r.expect(t, "NODE_CHANGED "+root+"/a/x x2")
		mustSet(t, c, root+"/a/x", "x2") // the same data is still a write
		r.expect(t, "NODE_CHANGED "+root+"/a/x x2")
		mustDelete(t, c, root+"/a/x/y")
		r.expect(t, "NODE_DELETED "+root+"/a/x/y/z", "NODE_DELETED "+root+"/a/x/y")
		if cc.Size() != 3 {
			t.Fatalf("Size = %d", cc.Size())
		}
		if n, ok := cc.Get(root + "/a/x"); !ok || string(n.Data) != "x2" || n.Stat.Version != 2 {
			t.Fatalf("Get = %+v %v", n, ok)
		}
		if _, ok := cc.Get(root + "/a/x/y"); ok {
			t.Fatal("deleted node in the view")
		}
		mustDelete(t, c, root)
		r.expect(t, "NODE_DELETED "+root+"/a/x", "NODE_DELETED "+root+"/a", "NODE_DELETED "+root)
		mustCreate(t, c, root, "back")
		r.expect(t, "NODE_CREATED "+root+" back")
		if got, want := toMap(cc.Current()), serverView(t, c, root, true, -1); !maps.Equal(got, want) {
			t.Fatalf("Current = %v, want %v", got, want)
		}
		replay(t, r.all())
	})
}

// TestCuratorCacheBurst: many writes at once, some coalesced, end in the
// server's view, every event consistent with the ones before.
func TestCuratorCacheBurst(t *testing.T) {
	curatorModes(t, func(t *testing.T, opts []cache.Option, _ bool) {
		ctx := testserver.Context(t)
		c := connect(t)
		root := suite.Base(t) + "/cc"
		cc, r := start(t, cache.NewCuratorCache(c, root, opts...))
		r.expect(t, "INITIALIZED")
		for i := range 30 {
			p := fmt.Sprintf("%s/n%d", root, i%7)
			switch i % 3 {
			case 0:
				c.Create(ctx, p+"/c", []byte(fmt.Sprint(i)), client.WithParents())
			case 1:
				c.Set(ctx, p, []byte(fmt.Sprint(i)), -1)
			case 2:
				c.DeleteRecursive(ctx, p)
			}
		}
		want := serverView(t, c, root, true, -1)
		waitView(t, "view after the burst", func() map[string]string { return toMap(cc.Current()) }, want)
		// Events may lag the view by the one being delivered: wait for
		// them to add up to it.
		waitView(t, "events after the burst", func() map[string]string { return replay(t, r.all()) }, want)
	})
}

func TestClose(t *testing.T) {
	c := connect(t)
	root := suite.Base(t) + "/closed"
	tc := cache.NewTreeCache(c, root)
	r := newRecorder()
	tc.AddListener(r.listen)
	ctx := testserver.Context(t)
	if err := tc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tc.Start(ctx); !errors.Is(err, cache.ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	r.expect(t, "INITIALIZED")
	if err := tc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tc.Close(); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := tc.Start(ctx); !errors.Is(err, cache.ErrStarted) && !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	// The root is created; a second cache on the same Conn (whose watch
	// fires with the first's) sees it, the closed one reports nothing.
	other, r2 := start(t, cache.NewTreeCache(c, root))
	r2.expect(t, "INITIALIZED")
	mustCreate(t, c, root, "x")
	r2.expect(t, "NODE_CREATED "+root+" x")
	if evs := r.all(); len(evs) != 1 {
		t.Fatalf("closed cache delivered %s", format(evs))
	}
	other.Close()

	never := cache.NewNodeCache(c, root)
	never.Close()
	if err := never.Start(ctx); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
}

// TestSlowListener: while a listener blocks, a CuratorCache keeps at most
// WithMaxPending notifications; past that it reads the tree again, and the
// view and the events still end at the server's state, each node created
// once.
func TestSlowListener(t *testing.T) {
	c := connect(t)
	w := connect(t)
	root := suite.Base(t) + "/slow"
	mustCreate(t, w, root, "")
	cc := cache.NewCuratorCache(c, root, cache.WithMaxPending(4))
	block := make(chan struct{})
	blocked := make(chan struct{})
	r := newRecorder()
	cc.AddListener(func(ev cache.Event) {
		if ev.Type == cache.NodeCreated && ev.Path == root+"/first" {
			close(blocked)
			<-block
		}
		r.listen(ev)
	})
	if err := cc.Start(testserver.Context(t)); err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	mustCreate(t, w, root+"/first", "")
	<-blocked
	for i := range 40 {
		mustCreate(t, w, fmt.Sprintf("%s/n%02d", root, i), fmt.Sprint(i))
	}
	// A write from the cache's own session after the others: once it is
	// acknowledged, every notification has reached the client.
	mustCreate(t, c, root+"/last", "")
	close(block)
	want := serverView(t, w, root, true, -1)
	waitView(t, "events after the listener woke", func() map[string]string { return replay(t, r.all()) }, want)
	if got := toMap(cc.Current()); !maps.Equal(got, want) {
		t.Fatalf("view %v, want %v", got, want)
	}
}
