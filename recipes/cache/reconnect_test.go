package cache_test

import (
	"maps"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/cache"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// kinds lists every cache type, with what its view of root must be.
var kinds = []struct {
	name     string
	new      func(c *client.Conn, root string) started
	view     func(x started) map[string]string
	withRoot bool
	depth    int // -1: no limit
}{
	{"node", func(c *client.Conn, root string) started { return cache.NewNodeCache(c, root) },
		func(x started) map[string]string {
			n, ok := x.(*cache.NodeCache).Current()
			if !ok {
				return map[string]string{}
			}
			return map[string]string{n.Path: string(n.Data)}
		}, true, 0},
	{"children", func(c *client.Conn, root string) started { return cache.NewPathChildrenCache(c, root) },
		func(x started) map[string]string { return toMap(x.(*cache.PathChildrenCache).Current()) }, false, 1},
	{"tree", func(c *client.Conn, root string) started { return cache.NewTreeCache(c, root) },
		func(x started) map[string]string { return toMap(x.(*cache.TreeCache).Current()) }, true, -1},
	{"tree-depth-1", func(c *client.Conn, root string) started {
		return cache.NewTreeCache(c, root, cache.WithMaxDepth(1))
	}, func(x started) map[string]string { return toMap(x.(*cache.TreeCache).Current()) }, true, 1},
	{"curator", func(c *client.Conn, root string) started { return cache.NewCuratorCache(c, root) },
		func(x started) map[string]string { return toMap(x.(*cache.CuratorCache).Current()) }, true, -1},
	{"curator-one-shot", func(c *client.Conn, root string) started {
		return cache.NewCuratorCache(c, root, cache.WithoutPersistentWatch())
	}, func(x started) map[string]string { return toMap(x.(*cache.CuratorCache).Current()) }, true, -1},
}

// TestReconnect: the connection is cut, nodes change meanwhile from
// another session, the connection comes back with the same session; each
// cache ends with the server's view, reporting every difference once.
func TestReconnect(t *testing.T) {
	testOutage(t, false)
}

// TestSessionLoss: as TestReconnect, but the session expires while the
// connection is cut; the cache works on with the new session.
func TestSessionLoss(t *testing.T) {
	testOutage(t, true)
}

func testOutage(t *testing.T, expire bool) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			root := suite.Base(t) + "/root"
			w := connect(t)
			mustCreate(t, w, root, "r1")
			mustCreate(t, w, root+"/a/x", "x1")
			mustSet(t, w, root+"/a", "a1")
			mustCreate(t, w, root+"/b", "b1")
			mustCreate(t, w, root+"/c", "c1")

			px := testserver.NewProxy(t, suite.Addr(t))
			timeout := 10 * time.Second
			if expire {
				timeout = time.Second
			}
			c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(timeout))
			x, r := start(t, k.new(c, root))
			server := func() map[string]string { return serverView(t, w, root, k.withRoot, k.depth) }
			view := func() map[string]string { return k.view(x) }
			if got, want := view(), server(); !maps.Equal(got, want) {
				t.Fatalf("initial view %v, want %v", got, want)
			}
			before := len(r.until(t, cache.Initialized))

			px.Cut(true)
			if evs := r.until(t, cache.ConnectionSuspended); len(evs) != 0 {
				t.Fatalf("events before the suspension: %s", format(evs))
			}
			if expire {
				if evs := r.until(t, cache.ConnectionLost); len(evs) != 0 {
					t.Fatalf("events while suspended: %s", format(evs))
				}
			}
			mustSet(t, w, root, "r2")
			mustSet(t, w, root+"/a", "a2")
			mustSet(t, w, root+"/a/x", "x2")
			mustCreate(t, w, root+"/a/y", "y1")
			mustDelete(t, w, root+"/b")
			mustCreate(t, w, root+"/d/z", "z1")
			mustSet(t, w, root+"/c", "c2")
			mustSet(t, w, root+"/c", "c3") // two changes, one event
			want := server()
			px.Resume()

			// Replayed watches may be read before the state arrives, so
			// node events can come before ConnectionReconnected; none
			// before ConnectionSuspended.
			r.until(t, cache.ConnectionReconnected)
			waitView(t, "view after the outage", view, want)
			waitView(t, "events after the outage", func() map[string]string { return replay(t, r.all()) }, want)
			if expire && c.SessionID() == 0 {
				t.Fatal("no new session")
			}
			all := r.all()
			changes := make(map[string]int)
			for _, ev := range all[before:] {
				if ev.Path != "" {
					changes[ev.Path]++
				}
			}
			for p, n := range changes {
				if n > 1 {
					t.Fatalf("%d events for %s after the outage: %s", n, p, format(all[before:]))
				}
			}

			// The watches are in place again.
			mustSet(t, w, root, "r3")
			mustSet(t, w, root+"/c", "c4")
			mustCreate(t, w, root+"/e", "e1")
			waitView(t, "view after the outage's next changes", view, server())
		})
	}
}
