package differential

import (
	"slices"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// watchBits says which watches a session may hold on one path.
type watchBits uint8

const (
	wData       watchBits = 1 << iota // exists or getData watch
	wChild                            // getChildren watch
	wPersistent                       // addWatch PERSISTENT
	wRecursive                        // addWatch PERSISTENT_RECURSIVE

	wStandard = wData | wChild
	wAll      = wStandard | wPersistent | wRecursive
)

// class is the watch mode family of the bits: standard, persistent or
// recursive (0 for none).
func (b watchBits) class() watchBits {
	switch {
	case b&wStandard != 0:
		return wStandard
	case b&wPersistent != 0:
		return wPersistent
	case b&wRecursive != 0:
		return wRecursive
	}
	return 0
}

// watchModel over-approximates, from the ops sent and the notifications
// received, which watches each session holds, so that the generator can
// steer clear of three bugs of Apache ZooKeeper 3.8.0 that 3.9 fixed and
// zkgo does not have:
//
//   - WatchManager.containsWatcher (3.8.0) ignores its watcher argument: it
//     is true when ANY connection watches the path in that table, and the
//     data table also holds persistent and recursive watches. checkWatches
//     therefore answers OK for watches the session does not have. 3.9
//     (ZOOKEEPER-4466/4471) checks the session's own standard watch. Only
//     checkWatches whose answer is the same under both rules are sent.
//   - WatcherModeManager (3.8.0) keeps one mode per connection and path, so a
//     standard watch set on a path where the session has a persistent or
//     recursive watch (or one persistent mode over the other) replaces it.
//     3.9 (ZOOKEEPER-4466, "Support different watch modes on same path")
//     keeps both. A session never mixes the watch families on one path here.
//   - DataTree.removeWatch (3.8.0) with type Data or Children removes the
//     session from that table whatever the mode, persistent watches included;
//     3.9 (ZOOKEEPER-4471/4472) removes only the standard watch. Such a
//     removal is sent as type Any, which means the same in both.
//
// The model only adds a watch when an op may set one and drops it when the
// server has certainly dropped it (the notification that fired it was
// received, it was removed, or the connection was replaced), so it may
// claim watches a session no longer has, never the reverse.
type watchModel struct {
	nSess int
	may   map[string][]watchBits // path -> bits per session
}

func newWatchModel(nSess int) *watchModel {
	return &watchModel{nSess: nSess, may: make(map[string][]watchBits)}
}

func (m *watchModel) get(s int, path string) watchBits {
	if v := m.may[path]; v != nil {
		return v[s]
	}
	return 0
}

func (m *watchModel) set(s int, path string, b watchBits) {
	v := m.may[path]
	if v == nil {
		if b == 0 {
			return
		}
		v = make([]watchBits, m.nSess)
		m.may[path] = v
	}
	v[s] = b
	for _, x := range v {
		if x != 0 {
			return
		}
	}
	delete(m.may, path)
}

func (m *watchModel) add(s int, path string, b watchBits) { m.set(s, path, m.get(s, path)|b) }

func (m *watchModel) clear(s int, path string, b watchBits) { m.set(s, path, m.get(s, path)&^b) }

// clearSession forgets every watch of session s (its connection was
// replaced: Apache ZooKeeper closes the old connection, and its watches go
// with it, before it answers the reconnect).
func (m *watchModel) clearSession(s int) {
	for p := range m.may {
		m.clear(s, p, wAll)
	}
}

// others reports whether a session other than s may watch path.
func (m *watchModel) others(s int, path string) bool {
	for i, b := range m.may[path] {
		if i != s && b != 0 {
			return true
		}
	}
	return false
}

// watchers returns the sessions that may watch path.
func (m *watchModel) watchers(path string) []int {
	var out []int
	for i, b := range m.may[path] {
		if b != 0 {
			out = append(out, i)
		}
	}
	return out
}

// canAdd reports whether session s may set watches b on path without mixing
// watch families there.
func (m *watchModel) canAdd(s int, path string, b watchBits) bool {
	have := m.get(s, path).class()
	return have == 0 || have == b.class()
}

// checkAgrees reports whether checkWatches(path, typ) from session s gets the
// same answer from Apache ZooKeeper 3.8.0 and from 3.9: no other session may
// watch the path, and for the Data and Children types the session holds no
// persistent or recursive watch there.
func (m *watchModel) checkAgrees(s int, path string, typ proto.WatcherType) bool {
	if m.others(s, path) {
		return false
	}
	return typ == proto.WatcherAny || m.get(s, path)&(wPersistent|wRecursive) == 0
}

// fired drops the standard watches a received notification proves fired.
func (m *watchModel) fired(s int, ev proto.WatcherEvent) {
	switch ev.Type {
	case proto.EventNodeCreated, proto.EventNodeDataChanged:
		m.clear(s, ev.Path, wData)
	case proto.EventNodeChildrenChanged:
		m.clear(s, ev.Path, wChild)
	case proto.EventNodeDeleted:
		m.clear(s, ev.Path, wStandard)
	}
}

// watchesSet returns the (path, bits) pairs request rec of session s may set.
// multiRead sets none: Apache ZooKeeper drops the watch flag of its ops.
func watchesSet(rec proto.Record) (paths []string, bits []watchBits) {
	add := func(b watchBits, ps ...string) {
		for _, p := range ps {
			paths = append(paths, p)
			bits = append(bits, b)
		}
	}
	switch q := rec.(type) {
	case *proto.ExistsRequest:
		if q.Watch {
			add(wData, q.Path)
		}
	case *proto.GetDataRequest:
		if q.Watch {
			add(wData, q.Path)
		}
	case *proto.GetChildrenRequest:
		if q.Watch {
			add(wChild, q.Path)
		}
	case *proto.GetChildren2Request:
		if q.Watch {
			add(wChild, q.Path)
		}
	case *proto.AddWatchRequest:
		switch q.Mode {
		case proto.AddWatchPersistent:
			add(wPersistent, q.Path)
		case proto.AddWatchPersistentRecursive:
			add(wRecursive, q.Path)
		}
	case *proto.SetWatches:
		add(wData, q.DataWatches...)
		add(wData, q.ExistWatches...)
		add(wChild, q.ChildWatches...)
	case *proto.SetWatches2:
		add(wData, q.DataWatches...)
		add(wData, q.ExistWatches...)
		add(wChild, q.ChildWatches...)
		add(wPersistent, q.PersistentWatches...)
		add(wRecursive, q.PersistentRecursiveWatches...)
	}
	return paths, bits
}

// observe updates the model with op o's outcome r (A's, equal to B's).
func (m *watchModel) observe(o op, r *result) {
	for _, e := range r.events {
		m.fired(o.sess, e.ev)
	}
	if o.kind == kindReopen || o.kind == kindReconnect || r.lost {
		m.clearSession(o.sess)
		return
	}
	if o.kind != kindRequest && o.kind != kindSetWatch {
		return
	}
	paths, bits := watchesSet(o.req)
	for i, p := range paths {
		m.add(o.sess, p, bits[i])
	}
	if q, ok := o.req.(*proto.RemoveWatchesRequest); ok {
		switch q.Type {
		case proto.WatcherData:
			m.clear(o.sess, q.Path, wData)
		case proto.WatcherChildren:
			m.clear(o.sess, q.Path, wChild)
		case proto.WatcherAny:
			m.clear(o.sess, q.Path, wAll)
		}
	}
}

// steer rewrites op o, just generated, so that it avoids the 3.8.0 watch
// bugs the model describes; redraw returns a fresh path.
func (m *watchModel) steer(o *op, redraw func() string) {
	switch q := o.req.(type) {
	case *proto.ExistsRequest:
		q.Watch = q.Watch && m.canAdd(o.sess, q.Path, wData)
	case *proto.GetDataRequest:
		q.Watch = q.Watch && m.canAdd(o.sess, q.Path, wData)
	case *proto.GetChildrenRequest:
		q.Watch = q.Watch && m.canAdd(o.sess, q.Path, wChild)
	case *proto.GetChildren2Request:
		q.Watch = q.Watch && m.canAdd(o.sess, q.Path, wChild)
	case *proto.AddWatchRequest:
		b := wPersistent
		if q.Mode == proto.AddWatchPersistentRecursive {
			b = wRecursive
		}
		for i := 0; i < 8 && !m.canAdd(o.sess, q.Path, b); i++ {
			q.Path = redraw()
		}
		if !m.canAdd(o.sess, q.Path, b) {
			*o = op{index: o.index, sess: o.sess, kind: kindRequest, code: proto.OpExists, req: &proto.ExistsRequest{Path: q.Path}}
		}
	case *proto.SetWatches:
		scratch := m.clone()
		q.DataWatches = scratch.keep(o.sess, wData, q.DataWatches)
		q.ExistWatches = scratch.keep(o.sess, wData, q.ExistWatches)
		q.ChildWatches = scratch.keep(o.sess, wChild, q.ChildWatches)
	case *proto.SetWatches2:
		scratch := m.clone()
		q.DataWatches = scratch.keep(o.sess, wData, q.DataWatches)
		q.ExistWatches = scratch.keep(o.sess, wData, q.ExistWatches)
		q.ChildWatches = scratch.keep(o.sess, wChild, q.ChildWatches)
		q.PersistentWatches = scratch.keep(o.sess, wPersistent, q.PersistentWatches)
		q.PersistentRecursiveWatches = scratch.keep(o.sess, wRecursive, q.PersistentRecursiveWatches)
	case *proto.RemoveWatchesRequest:
		if (q.Type == proto.WatcherData || q.Type == proto.WatcherChildren) && m.get(o.sess, q.Path)&(wPersistent|wRecursive) != 0 {
			q.Type = proto.WatcherAny
		}
	case *proto.CheckWatchesRequest:
		if q.Type != proto.WatcherData && q.Type != proto.WatcherChildren && q.Type != proto.WatcherAny {
			return // answered with MarshallingError before any lookup
		}
		for i := 0; i < 8; i++ {
			if q.Path == "" || q.Path[0] != '/' {
				// 3.8.0's containsWatcher walks the path with
				// PathParentIterator, which yields nothing for "" (so a
				// watch set on "", which names the root, is never found)
				// and fails on a path without a leading '/'
				// (String.substring(0, -1)) once it looks at a parent,
				// which it does when the path has no watch and there is a
				// recursive watch, or at once for a name without any '/':
				// MarshallingError. 3.9 looks the path up in the session's
				// own watches.
				q.Path = redraw()
				continue
			}
			// The only session that may watch the path can ask about it.
			if w := m.watchers(q.Path); len(w) == 1 {
				o.sess = w[0]
			}
			if m.checkAgrees(o.sess, q.Path, q.Type) {
				return
			}
			q.Path = redraw()
		}
		*o = op{index: o.index, sess: o.sess, kind: kindRequest, code: proto.OpExists, req: &proto.ExistsRequest{Path: q.Path}}
	}
}

func (m *watchModel) clone() *watchModel {
	c := newWatchModel(m.nSess)
	for p, v := range m.may {
		c.may[p] = append([]watchBits(nil), v...)
	}
	return c
}

// keep returns the paths of list on which session s may set watches b,
// recording them in m.
func (m *watchModel) keep(s int, b watchBits, list []string) []string {
	out := list[:0]
	for _, p := range list {
		if m.canAdd(s, p, b) {
			m.add(s, p, b)
			out = append(out, p)
		}
	}
	return out
}

// TestWatchModelSteersClearOf380Bugs checks, without servers, that the
// generator's rewrites keep the ops whose 3.8.0 and 3.9 answers differ out
// of the sequence.
func TestWatchModelSteersClearOf380Bugs(t *testing.T) {
	req := func(sess int, code proto.OpCode, rec proto.Record) op {
		return op{sess: sess, kind: kindRequest, code: code, req: rec}
	}
	ok := &result{hasHdr: true}
	redraw := func() string { return "/fresh" }
	m := newWatchModel(4)
	sent := func(o op, r *result) op {
		m.steer(&o, redraw)
		m.observe(o, r)
		return o
	}

	sent(req(0, proto.OpAddWatch, &proto.AddWatchRequest{Path: "/p", Mode: proto.AddWatchPersistent}), ok)
	if o := sent(req(0, proto.OpGetData, &proto.GetDataRequest{Path: "/p", Watch: true}), ok); o.req.(*proto.GetDataRequest).Watch {
		t.Error("a standard watch was set where the session has a persistent one")
	}
	if o := sent(req(1, proto.OpGetData, &proto.GetDataRequest{Path: "/p", Watch: true}), ok); !o.req.(*proto.GetDataRequest).Watch {
		t.Error("another session may not set a standard watch on /p")
	}
	if o := sent(req(0, proto.OpAddWatch, &proto.AddWatchRequest{Path: "/p", Mode: proto.AddWatchPersistentRecursive}), ok); o.code == proto.OpAddWatch && o.req.(*proto.AddWatchRequest).Path == "/p" {
		t.Error("a recursive watch was added over a persistent one")
	}
	if o := sent(req(0, proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/p", Type: proto.WatcherData}), ok); o.req.(*proto.RemoveWatchesRequest).Type != proto.WatcherAny {
		t.Error("removeWatches Data over a persistent watch was not sent as Any")
	}
	if m.get(0, "/p") != 0 {
		t.Errorf("after removeWatches Any: %b", m.get(0, "/p"))
	}

	// checkWatches goes to the only session that may watch the path, and
	// not to a path two sessions watch.
	sent(req(2, proto.OpExists, &proto.ExistsRequest{Path: "/e", Watch: true}), ok)
	if o := sent(req(3, proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/e", Type: proto.WatcherData}), ok); o.sess != 2 {
		t.Errorf("checkWatches on /e sent from session %d, want 2", o.sess)
	}
	sent(req(3, proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/e", Watch: true}), ok)
	if o := sent(req(3, proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/e", Type: proto.WatcherAny}), ok); o.code == proto.OpCheckWatches && o.req.(*proto.CheckWatchesRequest).Path == "/e" {
		t.Error("checkWatches sent on a path two sessions watch")
	}
	if o := sent(req(1, proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "a/b", Type: proto.WatcherData}), ok); o.code == proto.OpCheckWatches && o.req.(*proto.CheckWatchesRequest).Path == "a/b" {
		t.Error("checkWatches sent on a path without a leading '/'")
	}

	// A received notification ends the one-shot watch; a new connection
	// ends them all.
	fired := &result{hasHdr: true, events: []event{{zxid: -1, ev: proto.WatcherEvent{Type: proto.EventNodeCreated, Path: "/e"}}}}
	sent(req(2, proto.OpPing, nil), fired)
	if m.get(2, "/e") != 0 {
		t.Errorf("session 2 still holds %b on /e after NodeCreated", m.get(2, "/e"))
	}
	sent(op{sess: 3, kind: kindReconnect}, &result{})
	for p, v := range m.may {
		if v[3] != 0 {
			t.Errorf("session 3 still holds %b on %s after reconnecting", v[3], p)
		}
	}
	if m.get(1, "/p") != wData {
		t.Errorf("session 1's watch on /p went with session 3's connection")
	}

	// setWatches lists lose the paths that would mix watch families.
	sent(req(1, proto.OpAddWatch, &proto.AddWatchRequest{Path: "/r", Mode: proto.AddWatchPersistentRecursive}), ok)
	o := sent(op{sess: 1, kind: kindSetWatch, code: proto.OpSetWatches2, req: &proto.SetWatches2{
		DataWatches: []string{"/r", "/s"}, PersistentWatches: []string{"/s", "/t"}, PersistentRecursiveWatches: []string{"/r"},
	}}, ok)
	sw := o.req.(*proto.SetWatches2)
	if !slices.Equal(sw.DataWatches, []string{"/s"}) || !slices.Equal(sw.PersistentWatches, []string{"/t"}) || !slices.Equal(sw.PersistentRecursiveWatches, []string{"/r"}) {
		t.Errorf("setWatches2 kept %+v", sw)
	}
}
