package discovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
)

// EventType says how a service's instances changed.
type EventType int

// Cache event types.
const (
	// Added: a new instance node appeared.
	Added EventType = iota + 1
	// Updated: an instance's record changed (or its node was replaced).
	Updated
	// Removed: an instance node went away.
	Removed
)

// String returns the name of the event type.
func (t EventType) String() string {
	switch t {
	case Added:
		return "ADDED"
	case Updated:
		return "UPDATED"
	case Removed:
		return "REMOVED"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// CacheEvent is one change of a Cache.
type CacheEvent[T any] struct {
	Type EventType
	// Node is the instance's node name: its id, plus the sequential
	// suffix for a DynamicSequential instance.
	Node string
	// Instance is the new record, or for Removed the last one known.
	Instance Instance[T]
}

// Cache keeps the instances of one service up to date (Curator's
// ServiceCache). It follows the service's node with a persistent recursive
// watch (ZooKeeper 3.6+) and reads every instance again after the
// connection comes back, since changes made while disconnected are not
// replayed to persistent watches; so after a reconnection its content and
// the events it reports lead to the server's state, and no final state is
// missed. Events report the states the Cache reads, not every change: an
// instance added and removed again at once may never be reported, and
// several updates may show as one. Records that are not instance records
// are ignored.
//
// A Cache runs one goroutine, from NewCache until Close; listeners run on
// it, in the order of the changes.
type Cache[T any] struct {
	c        *client.Conn
	name     string
	path     string
	ctx      context.Context // ends at Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	states   chan client.State
	unlisten func()

	mu        sync.Mutex
	nodes     map[string]cached[T]        // guarded by mu, by node name
	listeners map[int]func(CacheEvent[T]) // guarded by mu
	nextID    int                         // guarded by mu
	closed    bool                        // guarded by mu
}

// cached is an instance and the version of the node it was read from.
type cached[T any] struct {
	inst  Instance[T]
	czxid int64
	mzxid int64
}

// NewCache reads the instances of service name and returns a Cache that
// keeps them up to date until Close. The service's node need not exist.
func (d *Discovery[T]) NewCache(ctx context.Context, name string) (*Cache[T], error) {
	if err := validName("service name", name); err != nil {
		return nil, err
	}
	ca := &Cache[T]{
		c:         d.c,
		name:      name,
		path:      d.servicePath(name),
		states:    make(chan client.State, 64),
		nodes:     make(map[string]cached[T]),
		listeners: make(map[int]func(CacheEvent[T])),
	}
	ca.ctx, ca.cancel = context.WithCancel(context.Background())
	ca.unlisten = ca.c.AddListener(func(s client.State) {
		select {
		case ca.states <- s:
		case <-ca.ctx.Done():
		}
	})
	w, err := ca.c.AddWatch(ctx, ca.path, true)
	if err == nil {
		err = ca.resync(ctx)
	}
	if err != nil {
		ca.unlisten()
		ca.cancel()
		if w != nil {
			w.Remove(context.WithoutCancel(ctx))
		}
		return nil, fmt.Errorf("discovery: cache of %s: %w", name, err)
	}
	ca.wg.Add(1)
	go ca.run(w)
	return ca, nil
}

// Name returns the service's name.
func (ca *Cache[T]) Name() string { return ca.name }

// Instances returns the instances known now, sorted by node name.
func (ca *Cache[T]) Instances() []Instance[T] {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	out := make([]Instance[T], 0, len(ca.nodes))
	for _, n := range slices.Sorted(maps.Keys(ca.nodes)) {
		out = append(out, ca.nodes[n].inst)
	}
	return out
}

// AddListener registers fn to be called for every later change, on the
// Cache's goroutine (fn must not block for long, nor call Close). The
// returned function unregisters it.
func (ca *Cache[T]) AddListener(fn func(CacheEvent[T])) (remove func()) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	id := ca.nextID
	ca.nextID++
	ca.listeners[id] = fn
	return func() {
		ca.mu.Lock()
		defer ca.mu.Unlock()
		delete(ca.listeners, id)
	}
}

// Close stops the Cache's goroutine and removes its watch.
func (ca *Cache[T]) Close() error {
	ca.mu.Lock()
	if ca.closed {
		ca.mu.Unlock()
		return ErrClosed
	}
	ca.closed = true
	ca.mu.Unlock()
	ca.unlisten()
	ca.cancel()
	ca.wg.Wait()
	return nil
}

// run follows the watch's events and the connection states until Close.
func (ca *Cache[T]) run(w *client.Watcher) {
	defer ca.wg.Done()
	defer func() {
		if w != nil {
			ctx, cancel := context.WithTimeout(context.Background(), ca.c.SessionTimeout())
			w.Remove(ctx)
			cancel()
		}
	}()
	events := w.C()
	needWatch, needSync := false, false
	for {
		if needWatch && ca.c.State().IsConnected() {
			nw, err := ca.c.AddWatch(ca.ctx, ca.path, true)
			if err == nil {
				w, events, needWatch, needSync = nw, nw.C(), false, true
			}
		}
		if needSync && !needWatch && ca.resync(ca.ctx) == nil {
			needSync = false
		}
		var retry <-chan time.Time
		if (needWatch || needSync) && ca.c.State().IsConnected() {
			retry = time.After(retryPause)
		}
		select {
		case <-ca.ctx.Done():
			return
		case e, ok := <-events:
			switch {
			case !ok: // the session ended: watch again once connected
				w, events, needWatch = nil, nil, true
			case e.Type != client.EventNone:
				if ca.handle(ca.ctx, e) != nil {
					needSync = true
				}
			}
		case s := <-ca.states:
			if s == client.Connected || s == client.Reconnected {
				needSync = true
			}
		case <-retry:
		}
	}
}

// handle applies one event of the recursive watch.
func (ca *Cache[T]) handle(ctx context.Context, e client.Event) error {
	node, ok := strings.CutPrefix(e.Path, ca.path+"/")
	if !ok || strings.Contains(node, "/") {
		return nil // the service node itself, or deeper than instances
	}
	if e.Type == client.EventNodeDeleted {
		ca.apply(node, nil)
		return nil
	}
	c, err := ca.read(ctx, node)
	if err != nil {
		return err
	}
	ca.apply(node, c)
	return nil
}

// read returns the instance in node, nil if the node is gone, or the
// cached one if the record does not decode.
func (ca *Cache[T]) read(ctx context.Context, node string) (*cached[T], error) {
	data, st, err := ca.c.Get(ctx, ca.path+"/"+node)
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var inst Instance[T]
	if inst.UnmarshalJSON(data) != nil {
		ca.mu.Lock()
		old, ok := ca.nodes[node]
		ca.mu.Unlock()
		if ok {
			return &old, nil
		}
		return nil, nil
	}
	return &cached[T]{inst: inst, czxid: st.Czxid, mzxid: st.Mzxid}, nil
}

// resync reads every instance and reports the differences.
func (ca *Cache[T]) resync(ctx context.Context) error {
	names, err := ca.c.Children(ctx, ca.path)
	if err != nil && !errors.Is(err, client.ErrNoNode) {
		return err
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		c, err := ca.read(ctx, n)
		if err != nil {
			return err
		}
		seen[n] = true
		ca.apply(n, c)
	}
	ca.mu.Lock()
	var gone []string
	for n := range ca.nodes {
		if !seen[n] {
			gone = append(gone, n)
		}
	}
	ca.mu.Unlock()
	for _, n := range gone {
		ca.apply(n, nil)
	}
	return nil
}

// apply records node's new state (nil: gone) and tells the listeners what
// changed, if anything.
func (ca *Cache[T]) apply(node string, c *cached[T]) {
	ca.mu.Lock()
	old, had := ca.nodes[node]
	var ev CacheEvent[T]
	switch {
	case c == nil && had:
		delete(ca.nodes, node)
		ev = CacheEvent[T]{Type: Removed, Node: node, Instance: old.inst}
	case c != nil && !had:
		ca.nodes[node] = *c
		ev = CacheEvent[T]{Type: Added, Node: node, Instance: c.inst}
	case c != nil && (c.czxid != old.czxid || c.mzxid != old.mzxid):
		ca.nodes[node] = *c
		ev = CacheEvent[T]{Type: Updated, Node: node, Instance: c.inst}
	default:
		ca.mu.Unlock()
		return
	}
	fns := make([]func(CacheEvent[T]), 0, len(ca.listeners))
	for _, id := range slices.Sorted(maps.Keys(ca.listeners)) {
		fns = append(fns, ca.listeners[id])
	}
	ca.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}
