package server_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/zktest"
)

// The tests in this file pin wire details where zkgo follows Apache
// ZooKeeper 3.8, found by the differential test (test/differential).

// wire is a raw protocol session: it sends one request at a time and keeps
// the notifications that arrive before each reply.
type wire struct {
	t      *testing.T
	nc     net.Conn
	xid    int32
	events []wireEvent
}

type wireEvent struct {
	zxid int64
	ev   proto.WatcherEvent
}

func dialWire(t *testing.T, addr string) *wire {
	t.Helper()
	return &wire{t: t, nc: rawConnect(t, addr, 10000)}
}

// call sends req and returns the reply header and body.
func (w *wire) call(op proto.OpCode, req proto.Record) (proto.ReplyHeader, []byte) {
	w.t.Helper()
	xid := proto.XidAuth
	switch op {
	case proto.OpAuth:
	case proto.OpSetWatches, proto.OpSetWatches2:
		xid = proto.XidSetWatches
	default:
		w.xid++
		xid = w.xid
	}
	if _, err := w.nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: op}, req)); err != nil {
		w.t.Fatal(err)
	}
	w.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		frame, err := proto.ReadFrame(w.nc, nil, 0)
		if err != nil {
			w.t.Fatalf("%v: %v", op, err)
		}
		d := proto.NewDecoder(frame)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			w.t.Fatal(err)
		}
		body := d.Rest()
		if h.Xid == proto.XidNotification {
			var ev proto.WatcherEvent
			if err := proto.Decode(body, &ev); err != nil {
				w.t.Fatal(err)
			}
			w.events = append(w.events, wireEvent{h.Zxid, ev})
			continue
		}
		if h.Xid != xid {
			w.t.Fatalf("%v: reply xid %d, want %d", op, h.Xid, xid)
		}
		return h, body
	}
}

// ok calls and fails the test unless the reply is OK; it decodes the body
// into resp when resp is not nil.
func (w *wire) ok(op proto.OpCode, req, resp proto.Record) proto.ReplyHeader {
	w.t.Helper()
	h, body := w.call(op, req)
	if h.Err != proto.OK {
		w.t.Fatalf("%v %+v: %v", op, req, h.Err)
	}
	if resp != nil {
		if err := proto.Decode(body, resp); err != nil {
			w.t.Fatalf("%v: decoding %T: %v", op, resp, err)
		}
	}
	return h
}

// code calls and returns the reply's error code.
func (w *wire) code(op proto.OpCode, req proto.Record) proto.Code {
	w.t.Helper()
	h, _ := w.call(op, req)
	return h.Err
}

func create(path string, flags proto.CreateMode) *proto.CreateRequest {
	return &proto.CreateRequest{Path: path, ACL: proto.OpenACLUnsafe, Flags: flags}
}

func TestNotificationsCarryZxidMinusOne(t *testing.T) {
	srv := zktest.Start(t)
	watcher, writer := dialWire(t, srv.Addr()), dialWire(t, srv.Addr())
	writer.ok(proto.OpCreate, create("/n", proto.ModePersistent), nil)
	watcher.ok(proto.OpGetData, &proto.GetDataRequest{Path: "/n", Watch: true}, nil)
	writer.ok(proto.OpSetData, &proto.SetDataRequest{Path: "/n", Data: []byte("x"), Version: -1}, nil)
	// setWatches for a node that changed since zxid 0 fires at once.
	watcher.ok(proto.OpSetWatches, &proto.SetWatches{DataWatches: []string{"/n"}}, nil)
	watcher.ok(proto.OpPing, nil, nil)
	want := []proto.EventType{proto.EventNodeDataChanged, proto.EventNodeDataChanged}
	if len(watcher.events) != len(want) {
		t.Fatalf("events %+v, want %v", watcher.events, want)
	}
	for i, e := range watcher.events {
		if e.ev.Type != want[i] || e.ev.Path != "/n" || e.zxid != -1 {
			t.Errorf("event %d: %+v zxid %d, want %v on /n with zxid -1 (as Apache ZooKeeper 3.8 sends)", i, e.ev, e.zxid, want[i])
		}
	}
}

func TestCreateKindInsideAndOutsideMulti(t *testing.T) {
	// The reaper runs often, so that the test can tell containers and TTL
	// nodes (reaped) from persistent ones (kept): their Stats look the same.
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.ContainerCheckInterval = 10 * time.Millisecond }))
	w := dialWire(t, srv.Addr())
	ttlReq := func(path string, flags proto.CreateMode, ttl int64) *proto.CreateTTLRequest {
		return &proto.CreateTTLRequest{Path: path, ACL: proto.OpenACLUnsafe, Flags: flags, TTL: ttl}
	}

	// Outside a multi the op code decides: create and create2 with the
	// container flag make a plain node (CreateTxn has no container bit).
	w.ok(proto.OpCreate, create("/c1", proto.ModeContainer), nil)
	var c2 proto.Create2Response
	w.ok(proto.OpCreate2, create("/c2", proto.ModeContainer), &c2)
	w.ok(proto.OpCreateContainer, create("/c3", proto.ModeContainer), nil)

	// Inside a multi the flags decide (MultiOperationRecord rebuilds each
	// create with Op.create), and so does the result record.
	cases := []struct {
		name    string
		op      proto.MultiOp
		resType proto.OpCode
		resp    proto.Record
	}{
		{"create2 answers like create", proto.MultiOp{Type: proto.OpCreate2, Req: create("/m1", proto.ModePersistent)},
			proto.OpCreate, &proto.CreateResponse{}},
		{"create with flags 4 is a container", proto.MultiOp{Type: proto.OpCreate, Req: create("/m2", proto.ModeContainer)},
			proto.OpCreate2, &proto.Create2Response{}},
		{"createContainer with flags 0 is persistent", proto.MultiOp{Type: proto.OpCreateContainer, Req: create("/m3", proto.ModePersistent)},
			proto.OpCreate, &proto.CreateResponse{}},
		{"createTTL with flags 0 drops the TTL", proto.MultiOp{Type: proto.OpCreateTTL, Req: ttlReq("/m4", proto.ModePersistent, 1)},
			proto.OpCreate, &proto.CreateResponse{}},
		{"createTTL with flags 4 is a container", proto.MultiOp{Type: proto.OpCreateTTL, Req: ttlReq("/m5", proto.ModeContainer, 1)},
			proto.OpCreate2, &proto.Create2Response{}},
		{"createTTL with a TTL mode", proto.MultiOp{Type: proto.OpCreateTTL, Req: ttlReq("/m6", proto.ModePersistentWithTTL, 1)},
			proto.OpCreate2, &proto.Create2Response{}},
	}
	for _, c := range cases {
		var resp proto.MultiResponse
		w.ok(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{c.op}}, &resp)
		if len(resp.Results) != 1 || resp.Results[0].Type != c.resType {
			t.Errorf("%s: results %+v, want one of type %v", c.name, resp.Results, c.resType)
			continue
		}
		if got, want := typeName(resp.Results[0].Resp), typeName(c.resp); got != want {
			t.Errorf("%s: result record %s, want %s", c.name, got, want)
		}
	}

	// Containers: give every candidate a child and take it away in one txn
	// each, with a real container as control that sorts last; the reaper
	// deletes in path order, so once the control is gone every container
	// before it is too.
	candidates := []string{"/c1", "/c2", "/c3", "/m1", "/m2", "/m3", "/m5"}
	w.ok(proto.OpCreateContainer, create("/zz", proto.ModeContainer), nil)
	var add, del []proto.MultiOp
	for _, p := range append(candidates, "/zz") {
		add = append(add, proto.MultiOp{Type: proto.OpCreate, Req: create(p+"/x", proto.ModePersistent)})
		del = append(del, proto.MultiOp{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: p + "/x", Version: -1}})
	}
	w.ok(proto.OpMulti, &proto.MultiRequest{Ops: add}, nil)
	w.ok(proto.OpMulti, &proto.MultiRequest{Ops: del}, nil)
	w.waitGone(t, "/zz")
	// TTL nodes: the same with a TTL control.
	w.ok(proto.OpCreateTTL, ttlReq("/zzttl", proto.ModePersistentWithTTL, 1), nil)
	w.waitGone(t, "/zzttl")
	for p, reaped := range map[string]bool{
		"/c1": false, "/c2": false, "/c3": true, "/m1": false, "/m2": true, "/m3": false,
		"/m4": false, "/m5": true, "/m6": true,
	} {
		if gone := w.code(proto.OpExists, &proto.ExistsRequest{Path: p}) == proto.ErrNoNode; gone != reaped {
			t.Errorf("%s reaped: %v, want %v", p, gone, reaped)
		}
	}

	// Invalid flags fail the op with BadArguments.
	var failed proto.MultiResponse
	w.ok(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{{Type: proto.OpCreate, Req: create("/m7", 7)}}}, &failed)
	if len(failed.Results) != 1 || failed.Results[0].Err != proto.ErrBadArguments {
		t.Errorf("create with flags 7 in a multi: %+v", failed.Results)
	}
	// A TTL mode without a TTL record fails the whole request with
	// MarshallingError (Apache casts the record and throws), unless an
	// earlier op already failed.
	ttlInCreate := proto.MultiOp{Type: proto.OpCreate, Req: create("/m9", proto.ModePersistentWithTTL)}
	if code := w.code(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Req: create("/m8", proto.ModePersistent)}, ttlInCreate,
	}}); code != proto.ErrMarshallingError {
		t.Errorf("create with a TTL mode in a multi: %v, want MarshallingError", code)
	}
	if code := w.code(proto.OpExists, &proto.ExistsRequest{Path: "/m8"}); code != proto.ErrNoNode {
		t.Errorf("/m8 after the refused multi: %v", code)
	}
	w.ok(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Req: create("/m1", proto.ModePersistent)}, ttlInCreate,
	}}, &failed)
	if errs := resultCodes(failed); !slices.Equal(errs, []proto.Code{proto.ErrNodeExists, proto.ErrRuntimeInconsistency}) {
		t.Errorf("earlier failure, then a TTL mode: %v", errs)
	}
}

// waitGone polls until path does not exist.
func (w *wire) waitGone(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.code(proto.OpExists, &proto.ExistsRequest{Path: path}) != proto.ErrNoNode {
		if time.Now().After(deadline) {
			t.Fatalf("%s not reaped within 30s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func typeName(r proto.Record) string {
	switch r.(type) {
	case *proto.CreateResponse:
		return "CreateResponse"
	case *proto.Create2Response:
		return "Create2Response"
	case nil:
		return "nil"
	}
	return "other"
}

func resultCodes(m proto.MultiResponse) []proto.Code {
	var out []proto.Code
	for _, r := range m.Results {
		out = append(out, r.Err)
	}
	return out
}

func TestUnknownWatchModesAndTypes(t *testing.T) {
	srv := zktest.Start(t)
	w := dialWire(t, srv.Addr())
	if code := w.code(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: 2}); code != proto.ErrMarshallingError {
		t.Errorf("addWatch mode 2: %v, want MarshallingError", code)
	}
	for _, typ := range []proto.WatcherType{0, 6, -1} {
		if code := w.code(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/", Type: typ}); code != proto.ErrMarshallingError {
			t.Errorf("checkWatches type %d: %v, want MarshallingError", typ, code)
		}
		if code := w.code(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/", Type: typ}); code != proto.ErrMarshallingError {
			t.Errorf("removeWatches type %d: %v, want MarshallingError", typ, code)
		}
	}
	// Known types still answer NoWatcher.
	if code := w.code(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/", Type: proto.WatcherPersistent}); code != proto.ErrNoWatcher {
		t.Errorf("checkWatches type 4: %v", code)
	}
}

func TestMultiReadSetsNoWatch(t *testing.T) {
	srv := zktest.Start(t)
	w := dialWire(t, srv.Addr())
	w.ok(proto.OpCreate, create("/r", proto.ModePersistent), nil)
	w.ok(proto.OpMultiRead, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/r", Watch: true}},
		{Type: proto.OpGetChildren, Req: &proto.GetChildrenRequest{Path: "/r", Watch: true}},
	}}, nil)
	if code := w.code(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/r", Type: proto.WatcherAny}); code != proto.ErrNoWatcher {
		t.Errorf("checkWatches after multiRead with watch flags: %v, want NoWatcher", code)
	}
}

func TestAuthReplyZxidAndAuthACLOrder(t *testing.T) {
	srv := zktest.Start(t)
	w := dialWire(t, srv.Addr())
	w.ok(proto.OpCreate, create("/z", proto.ModePersistent), nil)
	for _, cred := range []string{"u2:p2", "super:test", "u1:p1"} {
		h := w.ok(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte(cred)}, nil)
		if h.Zxid != 0 {
			t.Errorf("addauth %s: reply zxid %d, want 0", cred, h.Zxid)
		}
	}
	w.ok(proto.OpCreate, &proto.CreateRequest{Path: "/acl", ACL: []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "auth"}}}}, nil)
	var got proto.GetACLResponse
	w.ok(proto.OpGetACL, &proto.GetACLRequest{Path: "/acl"}, &got)
	// Apache ZooKeeper 3.8's answer: its connection's identities are a
	// ConcurrentHashMap key set, iterated in hash order.
	want := []string{"u2:o9NxcCGDPOlcV7JVhmKHOf5ctVE=", "u1:fpT/y03U+EjItKZOSLGvjnJlyng=", "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}
	var ids []string
	for _, a := range got.ACL {
		ids = append(ids, a.ID.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("auth ACL expanded to %q, want %q", ids, want)
	}
}

func TestRootAliasAndNULPath(t *testing.T) {
	srv := zktest.Start(t)
	w := dialWire(t, srv.Addr())
	var kids proto.GetChildrenResponse
	w.ok(proto.OpGetChildren, &proto.GetChildrenRequest{Path: ""}, &kids)
	if !slices.Equal(kids.Children, []string{"zookeeper"}) {
		t.Errorf(`getChildren(""): %q, want the root's children`, kids.Children)
	}
	w.ok(proto.OpExists, &proto.ExistsRequest{Path: ""}, nil)
	if code := w.code(proto.OpExists, &proto.ExistsRequest{Path: "/a\x00b", Watch: true}); code != proto.ErrBadArguments {
		t.Errorf("exists with a NUL: %v, want BadArguments", code)
	}
	if code := w.code(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/a\x00b", Type: proto.WatcherData}); code != proto.ErrNoWatcher {
		t.Errorf("refused exists set a watch: %v", code)
	}
	if code := w.code(proto.OpGetData, &proto.GetDataRequest{Path: "/a\x00b"}); code != proto.ErrNoNode {
		t.Errorf("getData with a NUL: %v, want NoNode", code)
	}
}

func TestClosedSessionEphemeralsGoInApacheOrder(t *testing.T) {
	srv := zktest.Start(t)
	watcher, owner := dialWire(t, srv.Addr()), dialWire(t, srv.Addr())
	watcher.ok(proto.OpCreate, create("/a", proto.ModePersistent), nil)
	created := []string{"/e1", "/e2", "/e3", "/a/b", "/a/c"}
	for _, p := range created {
		owner.ok(proto.OpCreate, create(p, proto.ModeEphemeral), nil)
		watcher.ok(proto.OpExists, &proto.ExistsRequest{Path: p, Watch: true}, nil)
	}
	owner.ok(proto.OpCloseSession, nil, nil)
	// Each deletion fires NodeDeleted on the node; Java 17 iterates a copy
	// of the session's HashSet of paths in this order.
	want := []string{"/a/c", "/a/b", "/e1", "/e2", "/e3"}
	deadline := time.Now().Add(30 * time.Second)
	for len(watcher.events) < len(want) && time.Now().Before(deadline) {
		watcher.ok(proto.OpPing, nil, nil)
	}
	var got []string
	for _, e := range watcher.events {
		got = append(got, e.ev.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("NodeDeleted events for %q, want %q", got, want)
	}
}

// TestMultiEventsFilteredByACLAtTheTime: a multi's events are filtered by
// the ACL each node had when its op ran, also for nodes the multi both
// creates and deletes. The expected events are Apache ZooKeeper 3.8's
// (Debian 3.8.0 with the CVE-2024-23944 fix).
func TestMultiEventsFilteredByACLAtTheTime(t *testing.T) {
	srv := zktest.Start(t)
	w, x := dialWire(t, srv.Addr()), dialWire(t, srv.Addr())
	noRead := []proto.ACL{{Perms: proto.PermAll &^ proto.PermRead, ID: proto.Id{Scheme: "world", ID: "anyone"}}}
	w.ok(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/p", Mode: proto.AddWatchPersistent}, nil)
	w.ok(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/q", Mode: proto.AddWatchPersistent}, nil)
	w.ok(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/r", Mode: proto.AddWatchPersistentRecursive}, nil)
	lifecycle := func(p string, acl []proto.ACL) *proto.MultiRequest {
		return &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Req: &proto.CreateRequest{Path: p, ACL: acl}},
			{Type: proto.OpCreate, Req: create(p+"/c", proto.ModePersistent)},
			{Type: proto.OpSetData, Req: &proto.SetDataRequest{Path: p, Version: -1}},
			{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: p + "/c", Version: -1}},
			{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: p, Version: -1}},
		}}
	}
	x.ok(proto.OpMulti, lifecycle("/p", noRead), nil)
	x.ok(proto.OpMulti, lifecycle("/q", proto.OpenACLUnsafe), nil)
	x.ok(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Req: create("/r", proto.ModePersistent)},
		{Type: proto.OpCreate, Req: &proto.CreateRequest{Path: "/r/h", ACL: noRead}},
		{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: "/r/h", Version: -1}},
		{Type: proto.OpCreate, Req: create("/r/v", proto.ModePersistent)},
		{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: "/r/v", Version: -1}},
	}}, nil)
	w.ok(proto.OpPing, nil, nil)
	type ev struct {
		typ  proto.EventType
		path string
	}
	want := []ev{
		{proto.EventNodeCreated, "/q"}, {proto.EventNodeChildrenChanged, "/q"}, {proto.EventNodeDataChanged, "/q"},
		{proto.EventNodeChildrenChanged, "/q"}, {proto.EventNodeDeleted, "/q"},
		{proto.EventNodeCreated, "/r"}, {proto.EventNodeCreated, "/r/v"}, {proto.EventNodeDeleted, "/r/v"},
	}
	var got []ev
	for _, e := range w.events {
		got = append(got, ev{e.ev.Type, e.ev.Path})
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %v\nwant   %v", got, want)
	}
}
