package cache

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/client"
)

// Pauses between attempts to re-read the tree after a failure that the
// connection state does not explain (the connection's own retries have
// already been spent by then).
const (
	minRetryPause = 100 * time.Millisecond
	maxRetryPause = 5 * time.Second
)

// removeWatchTimeout bounds the removal of a persistent watch at Close.
const removeWatchTimeout = 5 * time.Second

// entry is a cached node and the names of its cached children.
type entry struct {
	node     Node
	children map[string]struct{}
}

// engine is what the four caches share: a view of the nodes of a subtree
// (the root and its descendants down to maxDepth), kept by one goroutine
// (run) from watch notifications and connection states, and listeners
// called on that goroutine with every change, in order.
//
// With one-shot watches every cached node holds a data watch (GetW; ExistsW
// for a missing root) and, above maxDepth, a child watch (ChildrenW); each
// armed watch has a small goroutine that waits for it to fire and files a
// notification. With a persistent recursive watch (CuratorCache) one
// goroutine moves the watch's events into the inbox. A notification makes
// the cache read the node (or its children) again and report the
// difference, so several changes of a node made while the cache was busy
// are reported as one.
//
// After a reconnect, a lost session, an overflow or a failed read, the
// cache reads the whole subtree again and reports the differences (full
// resync): events are never duplicated, since each one is the difference
// between the view and what was read, and the final state is never missed.
type engine struct {
	c           *client.Conn
	root        string
	includeRoot bool // the root is part of the view (not for PathChildrenCache)
	maxDepth    int
	cfg         config

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // run, watch goroutines
	in     *inbox

	smu      sync.Mutex
	started  bool          // guarded by smu
	closed   bool          // guarded by smu
	initDone chan struct{} // closed after Initialized was delivered

	lmu       sync.Mutex
	listeners []listener // guarded by lmu
	nextLID   int        // guarded by lmu

	mu    sync.RWMutex
	nodes map[string]*entry // guarded by mu; written only by run

	persistent atomic.Bool // a persistent recursive watch is in use

	// Owned by run.
	persist     bool // try (or use) a persistent watch; false after a fallback
	watcher     *client.Watcher
	armed       map[key]uint64 // one-shot watches set and not yet fired, by id
	nextWatch   uint64
	dirty       bool // a full resync is needed
	dead        bool // the Conn is closed
	initialized bool
}

type listener struct {
	id int
	fn func(Event)
}

func newEngine(c *client.Conn, root string, includeRoot bool, maxDepth int, persist bool, opts []Option) *engine {
	cfg := config{maxDepth: math.MaxInt, maxPending: defaultMaxPending}
	for _, o := range opts {
		o(&cfg)
	}
	if maxDepth < 0 {
		maxDepth = cfg.maxDepth
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &engine{
		c: c, root: root, includeRoot: includeRoot, maxDepth: maxDepth, cfg: cfg,
		ctx: ctx, cancel: cancel, in: newInbox(cfg.maxPending), initDone: make(chan struct{}),
		nodes: make(map[string]*entry), persist: persist && !cfg.oneShot, armed: make(map[key]uint64),
	}
}

// addListener registers fn; it is called on the cache's goroutine.
func (e *engine) addListener(fn func(Event)) (remove func()) {
	e.lmu.Lock()
	defer e.lmu.Unlock()
	id := e.nextLID
	e.nextLID++
	e.listeners = append(e.listeners, listener{id, fn})
	return func() {
		e.lmu.Lock()
		defer e.lmu.Unlock()
		e.listeners = slices.DeleteFunc(e.listeners, func(l listener) bool { return l.id == id })
	}
}

func (e *engine) start(ctx context.Context) error {
	e.smu.Lock()
	switch {
	case e.closed:
		e.smu.Unlock()
		return ErrClosed
	case e.started:
		e.smu.Unlock()
		return ErrStarted
	}
	e.started = true
	e.wg.Add(1)
	go e.run()
	e.smu.Unlock()
	select {
	case <-e.initDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-e.ctx.Done():
		return ErrClosed
	}
}

func (e *engine) close() error {
	e.smu.Lock()
	if e.closed {
		e.smu.Unlock()
		return ErrClosed
	}
	e.closed = true
	e.smu.Unlock()
	e.cancel()
	e.wg.Wait()
	return nil
}

// get returns a copy of the cached node at p.
func (e *engine) get(p string) (Node, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	en := e.nodes[p]
	if en == nil || (p == e.root && !e.includeRoot) {
		return Node{}, false
	}
	return *en.node.clone(), true
}

// current returns copies of the cached nodes, sorted by path.
func (e *engine) current() []Node {
	e.mu.RLock()
	out := make([]Node, 0, len(e.nodes))
	for p, en := range e.nodes {
		if p != e.root || e.includeRoot {
			out = append(out, *en.node.clone())
		}
	}
	e.mu.RUnlock()
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// children returns copies of the cached children of p, sorted by name.
func (e *engine) children(p string) []Node {
	e.mu.RLock()
	defer e.mu.RUnlock()
	en := e.nodes[p]
	if en == nil {
		return nil
	}
	names := make([]string, 0, len(en.children))
	for n := range en.children {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Node, 0, len(names))
	for _, n := range names {
		out = append(out, *e.nodes[childPath(p, n)].node.clone())
	}
	return out
}

func (e *engine) size() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := len(e.nodes)
	if !e.includeRoot && e.nodes[e.root] != nil {
		n--
	}
	return n
}

// emit calls the listeners with ev, in registration order.
func (e *engine) emit(ev Event) {
	e.lmu.Lock()
	ls := slices.Clone(e.listeners)
	e.lmu.Unlock()
	for _, l := range ls {
		l.fn(ev)
	}
}

func (e *engine) report(err error) {
	if e.cfg.onError != nil && e.ctx.Err() == nil {
		e.cfg.onError(err)
	}
}

// run is the cache's goroutine: it handles connection states, then a full
// resync when one is due, then notifications one at a time.
func (e *engine) run() {
	defer e.wg.Done()
	defer e.stopWatcher()
	// Register before looking at the state, so that no transition falls
	// between the two.
	defer e.c.AddListener(e.in.pushState)()
	e.dirty = true
	pause := minRetryPause
	var retry *time.Timer
	var retryC <-chan time.Time
	for e.ctx.Err() == nil {
		if s, ok := e.in.popState(); ok {
			e.handleState(s)
			continue
		}
		overflow, ended := e.in.takeFlags()
		if overflow {
			e.dirty = true
		}
		if ended && e.watcher != nil && e.watcher.Err() != nil {
			e.watcher = nil
			e.dirty = true
		}
		if e.dirty && !e.dead && retryC == nil && e.connected() {
			err := e.resync()
			if err == nil {
				e.dirty = false
				pause = minRetryPause
				if !e.initialized {
					e.initialized = true
					e.emit(Event{Type: Initialized})
					close(e.initDone)
				}
				continue
			}
			e.failed(err)
			if !e.dead && e.ctx.Err() == nil {
				retry = time.NewTimer(pause)
				retryC = retry.C
				pause = min(2*pause, maxRetryPause)
			}
		} else if !e.dirty {
			if it, ok := e.in.pop(); ok {
				if err := e.process(it); err != nil {
					e.failed(err)
					e.dirty = true
				}
				continue
			}
		}
		select {
		case <-e.in.wake:
		case <-retryC:
			retryC = nil
		case <-e.ctx.Done():
		}
	}
	if retry != nil {
		retry.Stop()
	}
}

// connected reports whether reading is worth trying.
func (e *engine) connected() bool {
	s := e.c.State()
	return s == 0 || s.IsConnected()
}

// failed handles an error that stopped a read.
func (e *engine) failed(err error) {
	if errors.Is(err, client.ErrClosed) {
		e.dead = true // nothing more can be read; wait for Close
	}
	e.report(err)
}

// handleState reports a connection state and plans a resync after a
// reconnect. At Lost the client has ended every watch of the session.
func (e *engine) handleState(s client.State) {
	switch s {
	case client.Suspended:
		e.emit(Event{Type: ConnectionSuspended})
	case client.Lost:
		clear(e.armed)
		e.dirty = true
		e.emit(Event{Type: ConnectionLost})
	case client.Reconnected:
		e.dirty = true
		e.emit(Event{Type: ConnectionReconnected})
	default: // Connected, ReadOnly
		e.dirty = true
	}
}

// fatal reports whether err stops a read of the tree: the connection or
// session failed, or the cache or Conn closed. Other errors (say NoAuth on
// one node) leave that node out and are only reported.
func fatal(err error) bool {
	return client.IsRetryable(err) || errors.Is(err, client.ErrSessionExpired) ||
		errors.Is(err, client.ErrClosed) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// resync reads the whole subtree again and reports the differences.
func (e *engine) resync() error {
	// Notifications still pending are covered by the full read; forget
	// them, but their watches have fired and must be set again.
	for it, ok := e.in.pop(); ok; it, ok = e.in.pop() {
		if it.id != 0 && e.armed[it.key] == it.id {
			delete(e.armed, it.key)
		}
	}
	if e.persist {
		if e.watcher != nil && e.watcher.Err() != nil {
			e.watcher = nil // ended with its session
		}
		if e.watcher == nil {
			w, err := e.c.AddWatch(e.ctx, e.root, true)
			switch {
			case errors.Is(err, client.ErrUnimplemented):
				// A server without persistent watches (before 3.6).
				e.persist = false
			case err != nil:
				return err
			default:
				e.watcher = w
				e.persistent.Store(true)
				e.wg.Add(1)
				go e.drain(w)
			}
		}
	}
	if !e.persist {
		e.persistent.Store(false)
	}
	return e.load(e.root, 0, true)
}

// drain moves a persistent watch's events into the inbox until its stream
// ends (Remove at Close, end of the session, Conn closed).
func (e *engine) drain(w *client.Watcher) {
	defer e.wg.Done()
	for ev := range w.C() {
		switch ev.Type {
		case client.EventNodeCreated, client.EventNodeDataChanged, client.EventNodeDeleted:
			e.in.push(item{key: key{path: ev.Path, kind: kindData}})
		}
	}
	e.in.endWatch()
}

// stopWatcher removes the persistent watch, which ends drain.
func (e *engine) stopWatcher() {
	if e.watcher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeWatchTimeout)
	defer cancel()
	if err := e.watcher.Remove(ctx); err != nil && !errors.Is(err, client.ErrClosed) {
		e.report(err)
	}
}

// process handles one notification.
func (e *engine) process(it item) error {
	if it.id != 0 {
		if e.armed[it.key] != it.id {
			return nil // a watch of an ended session
		}
		delete(e.armed, it.key)
		if it.ended {
			// The session or Conn ended; the connection state brings
			// what follows.
			e.dirty = true
			return nil
		}
	}
	p := it.path
	switch it.kind {
	case kindChildren:
		e.mu.RLock()
		cached := e.nodes[p] != nil
		e.mu.RUnlock()
		if !cached {
			return nil
		}
		d, _ := e.depth(p)
		return e.loadChildren(p, d, false)
	default:
		d, ok := e.depth(p)
		if !ok {
			return nil
		}
		if e.persist && p != e.root {
			// Load the highest missing ancestor instead, which loads p
			// with it: the view never holds a node without its parent.
			for a := parentPath(p); ; a = parentPath(a) {
				e.mu.RLock()
				cached := e.nodes[a] != nil
				e.mu.RUnlock()
				if cached {
					break
				}
				p, d = a, d-1
				if a == e.root {
					break
				}
			}
		} else if p != e.root {
			e.mu.RLock()
			cached := e.nodes[parentPath(p)] != nil
			e.mu.RUnlock()
			if !cached {
				return nil // left the view: its parent is gone
			}
		}
		return e.load(p, d, false)
	}
}

// depth returns how far below the root p is, and whether that is within
// maxDepth.
func (e *engine) depth(p string) (int, bool) {
	if p == e.root {
		return 0, true
	}
	rel, ok := strings.CutPrefix(p, e.root)
	if e.root != "/" {
		if !ok || !strings.HasPrefix(rel, "/") {
			return 0, false
		}
		rel = rel[1:]
	}
	d := strings.Count(rel, "/") + 1
	return d, d <= e.maxDepth
}

// load reads the node at p (depth d) and, if it is new to the view, or deep
// is set (full resync), or its children changed under a persistent watch,
// its children.
func (e *engine) load(p string, d int, deep bool) error {
	exists, isNew, cversionChanged, err := e.refreshData(p)
	if err != nil {
		if fatal(err) {
			return err
		}
		e.report(err)
		return nil
	}
	if !exists || d >= e.maxDepth {
		return nil
	}
	if deep || isNew || (e.persist && cversionChanged) {
		return e.loadChildren(p, d, deep)
	}
	return nil
}

// refreshData reads the node at p, updates the view and reports the change.
func (e *engine) refreshData(p string) (exists, isNew, cversionChanged bool, err error) {
	data, st, err := e.readData(p)
	if errors.Is(err, client.ErrNoNode) {
		e.removeSubtree(p)
		return false, false, false, nil
	}
	if err != nil {
		return false, false, false, err
	}
	n := Node{Path: p, Data: data, Stat: *st}
	e.mu.Lock()
	en := e.nodes[p]
	var old *Node
	if en == nil {
		e.nodes[p] = &entry{node: n, children: make(map[string]struct{})}
		if p != e.root {
			if parent := e.nodes[parentPath(p)]; parent != nil {
				parent.children[baseName(p)] = struct{}{}
			}
		}
	} else {
		o := en.node
		old = &o
		en.node = n
	}
	e.mu.Unlock()
	hidden := p == e.root && !e.includeRoot
	switch {
	case old == nil:
		if !hidden {
			e.emit(Event{Type: NodeCreated, Path: p, Node: n.clone()})
		}
		return true, true, true, nil
	case old.Stat.Mzxid != n.Stat.Mzxid:
		if !hidden {
			e.emit(Event{Type: NodeChanged, Path: p, Node: n.clone(), Old: old.clone()})
		}
	}
	return true, false, old.Stat.Cversion != n.Stat.Cversion, nil
}

// readData reads the node at p, setting a data watch unless one is armed
// or a persistent watch covers it. A missing root gets an exists watch,
// so that its creation is seen.
func (e *engine) readData(p string) ([]byte, *client.Stat, error) {
	k := key{path: p, kind: kindData}
	if e.persist || e.armed[k] != 0 {
		return e.c.Get(e.ctx, p)
	}
	data, st, ch, err := e.c.GetW(e.ctx, p)
	if err == nil {
		e.arm(k, ch)
		return data, st, nil
	}
	if !errors.Is(err, client.ErrNoNode) || p != e.root {
		return nil, nil, err
	}
	st, ch, err = e.c.ExistsW(e.ctx, p)
	if err != nil {
		return nil, nil, err
	}
	e.arm(k, ch)
	if st == nil {
		return nil, nil, client.ErrNoNode
	}
	return e.c.Get(e.ctx, p) // created meanwhile; the watch is set
}

// readChildren reads the children of p, setting a child watch unless one
// is armed or a persistent watch covers them.
func (e *engine) readChildren(p string) ([]string, error) {
	k := key{path: p, kind: kindChildren}
	if e.persist || e.armed[k] != 0 {
		return e.c.Children(e.ctx, p)
	}
	names, _, ch, err := e.c.ChildrenW(e.ctx, p)
	if err != nil {
		return nil, err
	}
	e.arm(k, ch)
	return names, nil
}

// arm records a one-shot watch and starts the goroutine that files its
// notification. The channel has room for its one event, so the client
// never blocks on it, even after Close.
func (e *engine) arm(k key, ch <-chan client.Event) {
	e.nextWatch++
	id := e.nextWatch
	e.armed[k] = id
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case ev, ok := <-ch:
			e.in.push(item{key: k, id: id, ended: !ok || ev.Type == client.EventNone})
		case <-e.ctx.Done():
		}
	}()
}

// loadChildren reads the children of p (depth d), removes the ones gone
// and loads the new ones (with deep, every one).
func (e *engine) loadChildren(p string, d int, deep bool) error {
	names, err := e.readChildren(p)
	if errors.Is(err, client.ErrNoNode) {
		if p == e.root {
			_, _, _, err = e.refreshData(p) // sets the exists watch
			return err
		}
		e.removeSubtree(p)
		return nil
	}
	if err != nil {
		if fatal(err) {
			return err
		}
		e.report(err)
		return nil
	}
	slices.Sort(names)
	e.mu.RLock()
	en := e.nodes[p]
	var gone []string
	if en != nil {
		for n := range en.children {
			if _, found := slices.BinarySearch(names, n); !found {
				gone = append(gone, n)
			}
		}
	}
	e.mu.RUnlock()
	if en == nil {
		return nil // p left the view meanwhile
	}
	slices.Sort(gone)
	for _, n := range gone {
		e.removeSubtree(childPath(p, n))
	}
	for _, n := range names {
		c := childPath(p, n)
		if !deep {
			e.mu.RLock()
			cached := e.nodes[c] != nil
			e.mu.RUnlock()
			if cached {
				continue
			}
		}
		if err := e.load(c, d+1, deep); err != nil {
			return err
		}
	}
	return nil
}

// removeSubtree removes p and its cached descendants from the view and
// reports each, children before their parent.
func (e *engine) removeSubtree(p string) {
	e.mu.Lock()
	var gone []Node
	var walk func(string)
	walk = func(q string) {
		en := e.nodes[q]
		if en == nil {
			return
		}
		names := make([]string, 0, len(en.children))
		for n := range en.children {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			walk(childPath(q, n))
		}
		delete(e.nodes, q)
		if q != e.root || e.includeRoot {
			gone = append(gone, en.node)
		}
	}
	walk(p)
	if p != e.root {
		if parent := e.nodes[parentPath(p)]; parent != nil {
			delete(parent.children, baseName(p))
		}
	}
	e.mu.Unlock()
	for i := range gone {
		e.emit(Event{Type: NodeDeleted, Path: gone[i].Path, Old: gone[i].clone()})
	}
}

func childPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }
