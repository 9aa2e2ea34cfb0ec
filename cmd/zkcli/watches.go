package main

import (
	"reflect"
	"slices"
	"strings"

	"github.com/zkgo/zkgo/client"
)

// watchKind is what a watch source was registered by.
type watchKind int

const (
	watchData       watchKind = iota // get -w, stat -w, config -w, ls -R -w on the root
	watchChild                       // ls -w
	watchPersistent                  // addWatch -m PERSISTENT
	watchRecursive                   // addWatch (PERSISTENT_RECURSIVE)
)

// watchSource is one channel of watch events.
type watchSource struct {
	ch   <-chan client.Event
	kind watchKind
	path string
	// skip counts events (persistent sources only) already printed from
	// another source for the same notification.
	skip map[eventKey]int
}

type eventKey struct {
	typ  client.EventType
	path string
}

// matches reports whether a notification of type typ on path reaches a
// watch of this source's kind, following the Java client's
// ZKWatchManager.materialize and watch removal.
func (s *watchSource) matches(typ client.EventType, path string) bool {
	switch s.kind {
	case watchData:
		return path == s.path && (typ == client.EventNodeCreated || typ == client.EventNodeDataChanged ||
			typ == client.EventNodeDeleted || typ == client.EventDataWatchRemoved)
	case watchChild:
		return path == s.path && (typ == client.EventNodeChildrenChanged || typ == client.EventNodeDeleted ||
			typ == client.EventChildWatchRemoved)
	case watchPersistent:
		return path == s.path && (typ == client.EventNodeCreated || typ == client.EventNodeDataChanged ||
			typ == client.EventNodeDeleted || typ == client.EventNodeChildrenChanged ||
			typ == client.EventPersistentWatchRemoved)
	case watchRecursive:
		if typ == client.EventPersistentWatchRemoved {
			return path == s.path
		}
		return (typ == client.EventNodeCreated || typ == client.EventNodeDataChanged || typ == client.EventNodeDeleted) &&
			isUnder(path, s.path)
	}
	return false
}

func (s *watchSource) oneShot() bool { return s.kind == watchData || s.kind == watchChild }

// isUnder reports whether path is root or below it.
func isUnder(path, root string) bool {
	return path == root || root == "/" || strings.HasPrefix(path, root+"/")
}

// watchSet holds the open watches of the session. zkCli registers every
// watch with one default watcher, and the Java client calls a watcher once
// per notification however many of its watches the notification triggers;
// the Go client has one channel per watch, so watchSet folds the copies of
// a notification into one printed event. It is used by the shell's
// goroutine only.
type watchSet struct {
	srcs []*watchSource
}

func (ws *watchSet) add(ch <-chan client.Event, kind watchKind, path string) {
	if ch == nil {
		return
	}
	ws.srcs = append(ws.srcs, &watchSource{ch: ch, kind: kind, path: path})
}

func (ws *watchSet) remove(s *watchSource) {
	for i, x := range ws.srcs {
		if x == s {
			ws.srcs = append(ws.srcs[:i:i], ws.srcs[i+1:]...)
			return
		}
	}
}

// reset forgets every source (the session is gone).
func (ws *watchSet) reset() { ws.srcs = nil }

// received is one receive from a source; ok is false if it was closed.
type received struct {
	src *watchSource
	ev  client.Event
	ok  bool
}

// gather returns first (if set) and everything the sources have ready now.
func (ws *watchSet) gather(first *received) []received {
	var batch []received
	if first != nil {
		batch = append(batch, *first)
	}
	for more := true; more; {
		more = false
		for _, s := range slices.Clone(ws.srcs) {
			if s.done(batch) {
				continue
			}
			select {
			case e, ok := <-s.ch:
				batch = append(batch, received{s, e, ok})
				more = true
			default:
			}
		}
	}
	return batch
}

// done reports whether the batch already holds the end of source s: the
// one event of a one-shot source, or a close.
func (s *watchSource) done(batch []received) bool {
	for _, r := range batch {
		if r.src == s && (!r.ok || s.oneShot()) {
			return true
		}
	}
	return false
}

// fold turns a batch of receives into the events to print, in order: one
// per notification (copies held by several sources count once, and
// persistent sources that will deliver a copy later are told to skip it),
// ordered as the server fires them (see precedes). Sources that ended are
// removed.
func (ws *watchSet) fold(batch []received) []client.Event {
	type kept struct {
		r   received
		key eventKey
	}
	var items []kept
	perSource := map[eventKey]map[*watchSource]int{}
	for _, r := range batch {
		if !r.ok || r.src.oneShot() {
			ws.remove(r.src)
		}
		if !r.ok || r.ev.Type == client.EventNone {
			continue // session events are printed from the state changes
		}
		k := eventKey{r.ev.Type, r.ev.Path}
		if r.src.skip[k] > 0 {
			r.src.skip[k]--
			continue
		}
		if perSource[k] == nil {
			perSource[k] = map[*watchSource]int{}
		}
		perSource[k][r.src]++
		items = append(items, kept{r, k})
	}
	// A notification reaches every matching source: the number of distinct
	// notifications of a key is the most any one source got.
	count := map[eventKey]int{}
	for k, m := range perSource {
		for _, n := range m {
			count[k] = max(count[k], n)
		}
		for _, o := range ws.srcs {
			if !o.oneShot() && o.matches(k.typ, k.path) && m[o] < count[k] {
				if o.skip == nil {
					o.skip = map[eventKey]int{}
				}
				o.skip[k] += count[k] - m[o]
			}
		}
	}
	var events []client.Event
	for _, it := range items {
		if count[it.key] > 0 {
			count[it.key]--
			events = append(events, it.r.ev)
		}
	}
	return orderEvents(events)
}

// orderEvents puts events that arrived together (one-shot watches of one
// command, read from separate channels, lose their arrival order) in the
// order the server fires them: a node's own event before its parent's
// NodeChildrenChanged, deletes deepest first and creates shallowest first.
// Otherwise the order is kept.
func orderEvents(events []client.Event) []client.Event {
	out := make([]client.Event, 0, len(events))
	left := slices.Clone(events)
	for len(left) > 0 {
		pick := 0
	search:
		for i, e := range left {
			for j, o := range left {
				if j != i && precedes(o, e) {
					continue search
				}
			}
			pick = i
			break
		}
		out = append(out, left[pick])
		left = slices.Delete(left, pick, pick+1)
	}
	return out
}

// precedes reports whether the server fires a before b.
func precedes(a, b client.Event) bool {
	switch {
	case b.Type == client.EventNodeChildrenChanged && a.Type != client.EventNodeChildrenChanged:
		return parentOf(a.Path) == b.Path && a.Path != b.Path
	case a.Type == client.EventNodeDeleted && b.Type == client.EventNodeDeleted:
		return a.Path != b.Path && isUnder(a.Path, b.Path)
	case a.Type == client.EventNodeCreated && b.Type == client.EventNodeCreated:
		return a.Path != b.Path && isUnder(b.Path, a.Path)
	}
	return false
}

// parentOf returns the parent path of p ("/" for top-level nodes).
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// selectCases returns a select case per source, in the order of srcs.
func (ws *watchSet) selectCases() []reflect.SelectCase {
	cases := make([]reflect.SelectCase, len(ws.srcs))
	for i, s := range ws.srcs {
		cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.ch)}
	}
	return cases
}
