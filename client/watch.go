package client

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/zkgo/zkgo/proto"
)

// Event is a watch notification, or the final event of a watch whose
// session ended.
type Event struct {
	// Type is the change (EventNodeCreated, ...), a removal
	// (EventDataWatchRemoved, ...), or EventNone for a session event.
	Type EventType
	// State is KeeperSyncConnected for node events; for the final event of a
	// watch it is KeeperExpired, KeeperAuthFailed or KeeperClosed.
	State KeeperState
	// Path is the node's path as the client sees it (no chroot or
	// namespace); empty for session events.
	Path string
	// Zxid is the zxid of the change as the server reports it (0 when
	// unknown, e.g. for events produced by the client).
	Zxid int64
	// Err is set on session events: ErrSessionExpired, ErrAuthFailed or
	// ErrClosed.
	Err error
	// Seq orders the events of one Conn across every watch, one-shot and
	// persistent alike: it grows (from 1) in the order the client received
	// the notifications from the server, or produced removal and final
	// events, and never restarts, not even with a new session. Merging the
	// events of several channels by Seq gives them in server order. The
	// events one notification (or one removal, or the end of the session)
	// gives to several watches share a Seq.
	Seq uint64
}

// One-shot watch kinds, as the Java client keeps them.
const (
	watchData  = iota // getData, or exists on an existing node
	watchExist        // exists on a missing node
	watchChild        // getChildren
	numOneShot
)

// watchManager holds the session's watches, keyed by server path. The
// receive goroutine dispatches notifications; other goroutines add and
// remove watches. Every map is guarded by mu.
type watchManager struct {
	prefix    string
	mu        sync.Mutex
	seq       uint64 // guarded by mu: Seq of the last event produced
	oneShot   [numOneShot]map[string][]chan Event
	persist   map[string][]*Watcher
	recursive map[string][]*Watcher
}

func (m *watchManager) init(prefix string) {
	m.prefix = prefix
	m.reset()
}

func (m *watchManager) reset() {
	for k := range m.oneShot {
		m.oneShot[k] = make(map[string][]chan Event)
	}
	m.persist = make(map[string][]*Watcher)
	m.recursive = make(map[string][]*Watcher)
}

// addOneShot registers ch (capacity 1) for the next event of kind on path.
func (m *watchManager) addOneShot(kind int, path string, ch chan Event) {
	m.mu.Lock()
	m.oneShot[kind][path] = append(m.oneShot[kind][path], ch)
	m.mu.Unlock()
}

func (m *watchManager) addWatcher(w *Watcher) {
	m.mu.Lock()
	if w.recursive {
		m.recursive[w.sp] = append(m.recursive[w.sp], w)
	} else {
		m.persist[w.sp] = append(m.persist[w.sp], w)
	}
	m.mu.Unlock()
}

// fireLocked delivers e to the one-shot watches of kind on path and forgets
// them. Each channel has room for its single event, so this never blocks.
func (m *watchManager) fireLocked(kind int, path string, e Event) {
	chans := m.oneShot[kind][path]
	if chans == nil {
		return
	}
	delete(m.oneShot[kind], path)
	for _, ch := range chans {
		ch <- e
		close(ch)
	}
}

// dispatch delivers a notification to the watches it triggers, following the
// Java client's ZKWatchManager.materialize.
func (m *watchManager) dispatch(ev proto.WatcherEvent, zxid int64) {
	if ev.Type == proto.EventNone {
		return // session events are produced locally
	}
	p := ev.Path
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	e := Event{Type: ev.Type, State: ev.State, Path: stripPrefix(m.prefix, p), Zxid: zxid, Seq: m.seq}
	switch ev.Type {
	case proto.EventNodeCreated, proto.EventNodeDataChanged:
		m.fireLocked(watchData, p, e)
		m.fireLocked(watchExist, p, e)
	case proto.EventNodeDeleted:
		m.fireLocked(watchData, p, e)
		m.fireLocked(watchExist, p, e)
		m.fireLocked(watchChild, p, e)
	case proto.EventNodeChildrenChanged:
		m.fireLocked(watchChild, p, e)
	}
	for _, w := range m.persist[p] {
		w.p.push(e)
	}
	// Recursive watches see every change at or below their path except child
	// list changes, which the server does not send for them.
	if len(m.recursive) > 0 && ev.Type != proto.EventNodeChildrenChanged {
		for a := p; ; a = parentPath(a) {
			for _, w := range m.recursive[a] {
				w.p.push(e)
			}
			if a == "/" {
				break
			}
		}
	}
}

// paths lists the watched server paths: data, exist, child, persistent and
// persistent recursive, for setWatches.
func (m *watchManager) paths() [5][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [5][]string
	for k := range m.oneShot {
		for p := range m.oneShot[k] {
			out[k] = append(out[k], p)
		}
	}
	for p := range m.persist {
		out[3] = append(out[3], p)
	}
	for p := range m.recursive {
		out[4] = append(out[4], p)
	}
	return out
}

// terminate gives every watch its final event e and forgets them all.
func (m *watchManager) terminate(e Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.terminateLocked(e)
}

// closeStreams ends every watch for Close: the streams among streams that
// had already ended are discarded, the watches in place get their final
// event e. Both happen under mu, so that no Remove falls in between.
func (m *watchManager) closeStreams(e Event, streams []*Watcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range streams {
		if w.Err() != nil {
			w.discard()
		}
	}
	m.terminateLocked(e)
}

func (m *watchManager) terminateLocked(e Event) {
	m.seq++
	e.Seq = m.seq
	for k := range m.oneShot {
		for _, chans := range m.oneShot[k] {
			for _, ch := range chans {
				ch <- e
				close(ch)
			}
		}
	}
	for _, ws := range m.persist {
		for _, w := range ws {
			w.finish(e)
		}
	}
	for _, ws := range m.recursive {
		for _, w := range ws {
			w.finish(e)
		}
	}
	m.reset()
}

// has reports whether a local watch of type t exists on path.
func (m *watchManager) has(path string, t WatcherType) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch t {
	case WatcherChildren:
		return len(m.oneShot[watchChild][path]) > 0
	case WatcherData:
		return len(m.oneShot[watchData][path]) > 0 || len(m.oneShot[watchExist][path]) > 0
	case WatcherPersistent:
		return len(m.persist[path]) > 0
	case WatcherPersistentRecursive:
		return len(m.recursive[path]) > 0
	case WatcherAny:
		for k := range m.oneShot {
			if len(m.oneShot[k][path]) > 0 {
				return true
			}
		}
		return len(m.persist[path]) > 0 || len(m.recursive[path]) > 0
	}
	return false
}

// remove drops the local watches of type t on path, giving each a removal
// event in state, as the Java client does after removeWatches: state is
// KeeperSyncConnected when the server answered, KeeperDisconnected for a
// local removal it did not see.
func (m *watchManager) remove(path string, t WatcherType, state KeeperState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	e := func(typ EventType) Event {
		return Event{Type: typ, State: state, Path: stripPrefix(m.prefix, path), Seq: m.seq}
	}
	if t == WatcherChildren || t == WatcherAny {
		m.fireLocked(watchChild, path, e(EventChildWatchRemoved))
	}
	if t == WatcherData || t == WatcherAny {
		m.fireLocked(watchData, path, e(EventDataWatchRemoved))
		m.fireLocked(watchExist, path, e(EventDataWatchRemoved))
	}
	if t == WatcherPersistent || t == WatcherAny {
		for _, w := range m.persist[path] {
			w.finish(e(EventPersistentWatchRemoved))
		}
		delete(m.persist, path)
	}
	if t == WatcherPersistentRecursive || t == WatcherAny {
		for _, w := range m.recursive[path] {
			w.finish(e(EventPersistentWatchRemoved))
		}
		delete(m.recursive, path)
	}
}

// removeWatcher drops one persistent watcher; it reports whether it was
// registered and whether any other watch remains on its path.
func (m *watchManager) removeWatcher(w *Watcher) (found, others bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	table := m.persist
	if w.recursive {
		table = m.recursive
	}
	list := table[w.sp]
	for i, x := range list {
		if x == w {
			found = true
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(table, w.sp)
	} else {
		table[w.sp] = list
	}
	if found {
		m.seq++
		w.finish(Event{Type: EventPersistentWatchRemoved, State: KeeperSyncConnected, Path: w.path, Seq: m.seq})
	}
	for k := range m.oneShot {
		if len(m.oneShot[k][w.sp]) > 0 {
			others = true
		}
	}
	others = others || len(m.persist[w.sp]) > 0 || len(m.recursive[w.sp]) > 0
	return found, others
}

// Watcher is a persistent (or persistent recursive) watch added with
// AddWatch. Its events arrive in order on C, buffered without bound, until
// Remove, the end of the session or Close (a final EventNone event with Err
// set); then C is closed. Event.Seq orders its events with those of the
// Conn's other watches.
//
// Every event received before Close is delivered, then the final event (see
// Conn.Close): read C to the end, or call Remove to discard what is left.
//
// Unlike one-shot watches, a change made while the client was disconnected
// is not replayed for a persistent watch: it shows up only if a one-shot
// watch on the same node (or, for a recursive watch, on a node below it) was
// replayed, since every matching watch sees each event. Watch the States
// channel and re-read after Reconnected.
type Watcher struct {
	c         *Conn
	sp        string // server path
	path      string // client path
	recursive bool
	p         *pump[Event]
	ch        chan Event
	stop      chan struct{} // closed by discard: the pump ends at once
	stopOnce  sync.Once
	mu        sync.Mutex
	err       error // guarded by mu: why the watcher ended
}

// C returns the channel of events.
func (w *Watcher) C() <-chan Event { return w.ch }

// Path returns the watched path.
func (w *Watcher) Path() string { return w.path }

// Recursive reports whether the watch covers the whole subtree.
func (w *Watcher) Recursive() bool { return w.recursive }

// Err returns nil while the watcher is active, then why it ended:
// ErrSessionExpired, ErrAuthFailed, ErrClosed, or an error saying it was
// removed.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// finish ends the event stream after e. Called with watchManager.mu held.
func (w *Watcher) finish(e Event) {
	w.mu.Lock()
	if w.err == nil {
		w.err = e.Err
		if w.err == nil {
			w.err = errWatcherRemoved
		}
	}
	w.mu.Unlock()
	w.p.finish(e, true)
}

// discard drops the events not yet read from C and closes it.
func (w *Watcher) discard() {
	w.stopOnce.Do(func() {
		w.p.finish(Event{}, false)
		close(w.stop)
	})
}

var errWatcherRemoved = errors.New("client: watcher removed")

// Remove stops the watch: an EventPersistentWatchRemoved event ends the
// stream and C is closed once it is read. The server-side watch is removed
// too unless another watch of this Conn remains on the same path (servers
// before 3.9 can only remove all of a path's watches at once); an error of
// that removal is returned, but the local watch is gone in any case. On a
// Watcher whose stream has already ended (removed before, session lost, or
// Conn closed), Remove discards the events not yet read and closes C at
// once.
func (w *Watcher) Remove(ctx context.Context) error {
	c := w.c
	found, others := c.watches.removeWatcher(w)
	if !found {
		w.discard()
		return nil
	}
	if others || c.State() == Suspended || c.State() == Lost {
		return nil
	}
	req := &proto.RemoveWatchesRequest{Path: w.sp, Type: proto.WatcherAny}
	err := c.send(ctx, proto.OpRemoveWatches, req, nil, nil)
	if errors.Is(err, ErrNoWatcher) {
		err = nil
	}
	return opError("removeWatches", w.path, err)
}

// AddWatch adds a persistent watch on path (Apache ZooKeeper 3.6+): it
// reports every NodeCreated, NodeDeleted, NodeDataChanged and
// NodeChildrenChanged of the node and stays in place. With recursive set it
// also covers every descendant, except for NodeChildrenChanged events which
// recursive watches do not receive. The node need not exist.
func (c *Conn) AddWatch(ctx context.Context, path string, recursive bool) (*Watcher, error) {
	sp, err := c.serverPath("addWatch", path)
	if err != nil {
		return nil, err
	}
	mode := proto.AddWatchPersistent
	if recursive {
		mode = proto.AddWatchPersistentRecursive
	}
	// Only a reply that ends the retry loop can register w (see
	// oneShotWatch), so one Watcher serves every attempt.
	w := &Watcher{c: c, sp: sp, path: path, recursive: recursive, p: newPump[Event](), ch: make(chan Event),
		stop: make(chan struct{})}
	err = c.do(ctx, "addWatch", path, func(int) error {
		return c.send(ctx, proto.OpAddWatch, &proto.AddWatchRequest{Path: sp, Mode: mode}, nil, func(code proto.Code) {
			if code == proto.OK {
				c.watches.addWatcher(w)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	c.startStream(w)
	return w, nil
}

// RemoveOption configures RemoveWatches.
type RemoveOption func(*removeOptions)

type removeOptions struct {
	local bool
}

// Local makes RemoveWatches remove the watches from this Conn even when the
// server cannot be reached, like the Java client's removeWatches with local
// set. If a connection is up, the server is asked once (no retries);
// whatever it answers, or if the connection breaks or ctx ends first, the
// local watches are removed and RemoveWatches returns nil. Without a
// connection the server is not asked at all. The removal events carry
// KeeperSyncConnected when the server answered and KeeperDisconnected when
// it did not; in that case the server keeps its watch until the session
// ends, and the notifications it still sends are dropped by the client.
func Local() RemoveOption {
	return func(o *removeOptions) { o.local = true }
}

// RemoveWatches removes every watch of type t on path, on the server and
// locally (Java's removeAllWatches): one-shot channels receive
// EventDataWatchRemoved or EventChildWatchRemoved and persistent watchers
// EventPersistentWatchRemoved. It fails with ErrNoWatcher if this Conn has
// no such watch. Without Local, the local watches stay if the server could
// not remove its own.
func (c *Conn) RemoveWatches(ctx context.Context, path string, t WatcherType, opts ...RemoveOption) error {
	var o removeOptions
	for _, opt := range opts {
		opt(&o)
	}
	sp, err := c.serverPath("removeWatches", path)
	if err != nil {
		return err
	}
	if !c.watches.has(sp, t) {
		return opError("removeWatches", path, ErrNoWatcher)
	}
	req := &proto.RemoveWatchesRequest{Path: sp, Type: t}
	if o.local {
		if c.State().IsConnected() {
			// The reply, whatever its code, removes the watches on the
			// receive goroutine, in order with the notifications.
			var answered atomic.Bool
			err := c.send(ctx, proto.OpRemoveWatches, req, nil, func(proto.Code) {
				answered.Store(true)
				c.watches.remove(sp, t, KeeperSyncConnected)
			})
			if answered.Load() {
				return nil
			}
			c.logger.Debug("zk: removeWatches not answered; removing locally", "path", path, "err", err)
		}
		c.watches.remove(sp, t, KeeperDisconnected)
		return nil
	}
	return c.do(ctx, "removeWatches", path, func(int) error {
		return c.send(ctx, proto.OpRemoveWatches, req, nil, func(code proto.Code) {
			if code == proto.OK {
				c.watches.remove(sp, t, KeeperSyncConnected)
			}
		})
	})
}
