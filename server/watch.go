package server

import (
	"strings"

	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
)

// notificationZxid is the ReplyHeader zxid of every watch notification.
// Apache ZooKeeper 3.8 sends -1 (NIOServerCnxn.process); 3.9 started sending
// the triggering zxid (ZOOKEEPER-4655), but the 3.8 wire format is the one
// zkgo is checked against.
const notificationZxid = -1

// watchKind distinguishes the four watch tables.
type watchKind uint8

const (
	watchData       watchKind = iota // getData and exists: fires once
	watchChild                       // getChildren: fires once
	watchPersistent                  // addWatch PERSISTENT: every event on the path
	watchRecursive                   // addWatch PERSISTENT_RECURSIVE: events on the path and below, no child events
	numWatchKinds
)

// watcher receives watch events. *conn implements it; tests use fakes.
type watcher interface {
	// allowRead reports whether the watcher's identities may READ a node with
	// the given ACL: events are filtered by it, as Apache ZooKeeper does.
	allowRead(acl []proto.ACL) bool
	// sendEvent queues an event frame for delivery. It must not block and is
	// called with no watch-table lock held.
	sendEvent(ev proto.WatcherEvent)
}

// watchTable holds the watches of every connection of this server. Watches are
// local to the server a client is connected to; a client that reconnects
// elsewhere re-registers them with setWatches.
type watchTable struct {
	mu lockorder.Mutex
	// guarded by mu
	byKind [numWatchKinds]map[string]map[watcher]struct{}
	// byWatcher indexes the same watches by watcher, so a closing connection
	// drops its watches without scanning the tables. Guarded by mu.
	byWatcher map[watcher]map[watchKey]struct{}
	// recursiveCount lets trigger skip the ancestor walk when no recursive
	// watch exists, the common case. Guarded by mu.
	recursiveCount int
}

func newWatchTable() *watchTable {
	t := &watchTable{byWatcher: make(map[watcher]map[watchKey]struct{})}
	for i := range t.byKind {
		t.byKind[i] = make(map[string]map[watcher]struct{})
	}
	return t
}

// watchKey names one watch of a watcher.
type watchKey struct {
	kind watchKind
	path string
}

// add registers w for path. Adding a watch that exists is a no-op.
func (t *watchTable) add(kind watchKind, path string, w watcher) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byKind[kind]
	set := m[path]
	if set == nil {
		set = make(map[watcher]struct{}, 1)
		m[path] = set
	}
	if _, ok := set[w]; ok {
		return
	}
	set[w] = struct{}{}
	keys := t.byWatcher[w]
	if keys == nil {
		keys = make(map[watchKey]struct{}, 1)
		t.byWatcher[w] = keys
	}
	keys[watchKey{kind, path}] = struct{}{}
	if kind == watchRecursive {
		t.recursiveCount++
	}
}

// has reports whether w has a watch of kind on path.
func (t *watchTable) has(kind watchKind, path string, w watcher) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.byKind[kind][path][w]
	return ok
}

// remove drops w's watch of kind on path and reports whether there was one.
func (t *watchTable) remove(kind watchKind, path string, w watcher) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removeLocked(kind, path, w)
}

func (t *watchTable) removeLocked(kind watchKind, path string, w watcher) bool {
	m := t.byKind[kind]
	set := m[path]
	if _, ok := set[w]; !ok {
		return false
	}
	delete(set, w)
	if len(set) == 0 {
		delete(m, path)
	}
	t.unindexLocked(w, watchKey{kind, path})
	if kind == watchRecursive {
		t.recursiveCount--
	}
	return true
}

func (t *watchTable) unindexLocked(w watcher, k watchKey) {
	keys := t.byWatcher[w]
	delete(keys, k)
	if len(keys) == 0 {
		delete(t.byWatcher, w)
	}
}

// removeAll drops every watch of w (its connection closed).
func (t *watchTable) removeAll(w watcher) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.byWatcher[w] {
		t.removeLocked(k.kind, k.path, w)
	}
}

// watchesOf returns w's watched paths by kind (4lw wchc, setWatches tests).
func (t *watchTable) watchesOf(w watcher) []watchKey {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]watchKey, 0, len(t.byWatcher[w]))
	for k := range t.byWatcher[w] {
		keys = append(keys, k)
	}
	return keys
}

// pendingEvent is an event to deliver once the table lock is released.
type pendingEvent struct {
	w  watcher
	ev proto.WatcherEvent
}

// trigger collects the watchers that an event of type typ on path fires,
// removing the one-shot ones, and appends them to out. Semantics (Apache
// ZooKeeper's WatchManager and DataTree):
//   - data watches fire on NodeCreated, NodeDeleted and NodeDataChanged;
//   - child watches fire on NodeChildrenChanged and NodeDeleted;
//   - persistent watches fire on every event type on their path;
//   - recursive watches fire on events on their path or a descendant, except
//     NodeChildrenChanged;
//   - a watcher receives one event per trigger however many watches match.
func (t *watchTable) trigger(path string, typ proto.EventType, out []pendingEvent) []pendingEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	start := len(out)
	seen := func(w watcher) bool {
		for _, p := range out[start:] {
			if p.w == w {
				return true
			}
		}
		return false
	}
	ev := proto.WatcherEvent{Type: typ, State: proto.StateSyncConnected, Path: path}
	fireOnce := func(kind watchKind) {
		m := t.byKind[kind]
		set := m[path]
		if set == nil {
			return
		}
		delete(m, path)
		for w := range set {
			t.unindexLocked(w, watchKey{kind, path})
			if !seen(w) {
				out = append(out, pendingEvent{w, ev})
			}
		}
	}
	switch typ {
	case proto.EventNodeCreated, proto.EventNodeDataChanged:
		fireOnce(watchData)
	case proto.EventNodeChildrenChanged:
		fireOnce(watchChild)
	case proto.EventNodeDeleted:
		fireOnce(watchData)
		fireOnce(watchChild)
	}
	for w := range t.byKind[watchPersistent][path] {
		if !seen(w) {
			out = append(out, pendingEvent{w, ev})
		}
	}
	if t.recursiveCount > 0 && typ != proto.EventNodeChildrenChanged {
		rec := t.byKind[watchRecursive]
		for p := path; ; p = parentPath(p) {
			for w := range rec[p] {
				if !seen(w) {
					out = append(out, pendingEvent{w, ev})
				}
			}
			if p == "/" {
				break
			}
		}
	}
	return out
}

// parentPath returns the parent of a valid absolute path; "/" for "/".
func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
