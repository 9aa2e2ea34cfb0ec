package cache

import (
	"context"
	"math"

	"github.com/zkgo/zkgo/client"
)

// NodeCache keeps the data and Stat of one znode, which need not exist
// (Curator's NodeCache). Its listeners receive NodeCreated, NodeChanged and
// NodeDeleted for that node, Initialized once, and connection events.
type NodeCache struct{ e *engine }

// NewNodeCache returns a cache of the node at path; Start starts it.
func NewNodeCache(c *client.Conn, path string, opts ...Option) *NodeCache {
	return &NodeCache{newEngine(c, path, true, 0, false, opts)}
}

// AddListener registers fn to be called with every event, in order, on the
// cache's goroutine (see the package doc); add it before Start to see the
// initial population. The returned function unregisters it.
func (n *NodeCache) AddListener(fn func(Event)) (remove func()) { return n.e.addListener(fn) }

// Start starts the cache's goroutine and waits until the initial read has
// been delivered (Initialized). If ctx ends first, Start returns its error
// and the cache goes on trying in the background until Close.
func (n *NodeCache) Start(ctx context.Context) error { return n.e.start(ctx) }

// Close stops the cache's goroutine and waits for it, including a listener
// call in progress: no listener is called once Close has returned. It must
// not be called from a listener. One-shot watches already set stay with the
// Conn until they fire or the session ends (the client cannot remove one
// watch of a path alone); nothing waits on them.
func (n *NodeCache) Close() error { return n.e.close() }

// Current returns a copy of the node, or false if it does not exist (as
// far as the cache knows).
func (n *NodeCache) Current() (Node, bool) { return n.e.get(n.e.root) }

// PathChildrenCache keeps the children of one znode, with their data and
// Stat (Curator's PathChildrenCache); grandchildren are not watched, and
// the parent itself is not part of the view. The parent need not exist:
// the cache follows its creation and deletion (children then leave the
// view one by one).
type PathChildrenCache struct{ e *engine }

// NewPathChildrenCache returns a cache of the children of path; Start
// starts it.
func NewPathChildrenCache(c *client.Conn, path string, opts ...Option) *PathChildrenCache {
	return &PathChildrenCache{newEngine(c, path, false, 1, false, opts)}
}

// AddListener is NodeCache.AddListener.
func (p *PathChildrenCache) AddListener(fn func(Event)) (remove func()) { return p.e.addListener(fn) }

// Start is NodeCache.Start.
func (p *PathChildrenCache) Start(ctx context.Context) error { return p.e.start(ctx) }

// Close is NodeCache.Close.
func (p *PathChildrenCache) Close() error { return p.e.close() }

// Current returns copies of the cached children, sorted by name.
func (p *PathChildrenCache) Current() []Node { return p.e.children(p.e.root) }

// Get returns a copy of the child at path (its full path), if cached.
func (p *PathChildrenCache) Get(path string) (Node, bool) { return p.e.get(path) }

// TreeCache keeps a subtree: the node at its path (which need not exist)
// and its descendants down to WithMaxDepth levels (Curator's TreeCache),
// each with data and Stat.
type TreeCache struct{ e *engine }

// NewTreeCache returns a cache of the subtree at path; Start starts it.
// WithMaxDepth limits its depth.
func NewTreeCache(c *client.Conn, path string, opts ...Option) *TreeCache {
	return &TreeCache{newEngine(c, path, true, -1, false, opts)}
}

// AddListener is NodeCache.AddListener.
func (t *TreeCache) AddListener(fn func(Event)) (remove func()) { return t.e.addListener(fn) }

// Start is NodeCache.Start.
func (t *TreeCache) Start(ctx context.Context) error { return t.e.start(ctx) }

// Close is NodeCache.Close.
func (t *TreeCache) Close() error { return t.e.close() }

// Get returns a copy of the cached node at path.
func (t *TreeCache) Get(path string) (Node, bool) { return t.e.get(path) }

// Children returns copies of the cached children of the node at path,
// sorted by name (nil if the node is not cached).
func (t *TreeCache) Children(path string) []Node { return t.e.children(path) }

// Current returns copies of every cached node, sorted by path.
func (t *TreeCache) Current() []Node { return t.e.current() }

// CuratorCache keeps a whole subtree, like TreeCache without a depth limit,
// on one persistent recursive watch (Curator 5's CuratorCache): the server
// sends one notification per change below the path and the cache reads
// that node, instead of holding one watch per node. On a server without
// persistent watches (AddWatch answered Unimplemented, before Apache
// ZooKeeper 3.6), or with WithoutPersistentWatch, it uses one-shot watches
// as TreeCache does. WithMaxPending bounds its pending notifications.
type CuratorCache struct{ e *engine }

// NewCuratorCache returns a cache of the subtree at path; Start starts it.
func NewCuratorCache(c *client.Conn, path string, opts ...Option) *CuratorCache {
	return &CuratorCache{newEngine(c, path, true, math.MaxInt, true, opts)}
}

// AddListener is NodeCache.AddListener.
func (cc *CuratorCache) AddListener(fn func(Event)) (remove func()) { return cc.e.addListener(fn) }

// Start is NodeCache.Start.
func (cc *CuratorCache) Start(ctx context.Context) error { return cc.e.start(ctx) }

// Close is NodeCache.Close; it also removes the persistent watch.
func (cc *CuratorCache) Close() error { return cc.e.close() }

// Get returns a copy of the cached node at path.
func (cc *CuratorCache) Get(path string) (Node, bool) { return cc.e.get(path) }

// Current returns copies of every cached node, sorted by path: a snapshot
// (Curator's stream).
func (cc *CuratorCache) Current() []Node { return cc.e.current() }

// Size returns the number of cached nodes.
func (cc *CuratorCache) Size() int { return cc.e.size() }

// Persistent reports whether the cache is on a persistent recursive watch
// (false before Start, and after a fallback to one-shot watches).
func (cc *CuratorCache) Persistent() bool { return cc.e.persistent.Load() }
