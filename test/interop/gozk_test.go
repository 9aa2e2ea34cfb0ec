package interop

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// eventTimeout bounds the wait for one watch event or state change.
const eventTimeout = 20 * time.Second

var openACL = zk.WorldACL(zk.PermAll)

// eventLog records, in arrival order, every event a go-zookeeper connection delivers.
type eventLog struct {
	mu     sync.Mutex
	events []zk.Event    // guarded by mu
	wake   chan struct{} // guarded by mu: closed and replaced on every append
}

func newEventLog() *eventLog { return &eventLog{wake: make(chan struct{})} }

func (l *eventLog) add(ev zk.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
	close(l.wake)
	l.wake = make(chan struct{})
}

// waitFor waits until pred accepts the events recorded so far and returns them.
func (l *eventLog) waitFor(t *testing.T, what string, pred func([]zk.Event) bool) []zk.Event {
	t.Helper()
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		l.mu.Lock()
		evs := slices.Clone(l.events)
		wake := l.wake
		l.mu.Unlock()
		if pred(evs) {
			return evs
		}
		select {
		case <-wake:
		case <-timer.C:
			t.Fatalf("no %s within %v; events: %v", what, eventTimeout, evs)
		}
	}
}

// nodeEvents keeps the watch events, dropping session state changes.
func nodeEvents(evs []zk.Event) []zk.Event {
	var out []zk.Event
	for _, ev := range evs {
		if ev.Type != zk.EventSession {
			out = append(out, ev)
		}
	}
	return out
}

// hasState reports whether evs contain a session event with state s after index from.
func indexOfState(evs []zk.Event, from int, s zk.State) int {
	for i := from; i < len(evs); i++ {
		if evs[i].Type == zk.EventSession && evs[i].State == s {
			return i
		}
	}
	return -1
}

// testLogger sends go-zookeeper's log to t until the test ends.
type testLogger struct {
	mu   sync.Mutex
	t    testing.TB
	done bool // guarded by mu
}

func (l *testLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("go-zk: "+format, args...)
	}
}

// connectGoZK opens a session on the connect string addr (go-zookeeper
// takes the servers as a list) and waits until it is established.
func connectGoZK(t *testing.T, addr string, sessionTimeout time.Duration) (*zk.Conn, *eventLog) {
	t.Helper()
	log := newEventLog()
	logger := &testLogger{t: t}
	t.Cleanup(func() {
		logger.mu.Lock()
		logger.done = true
		logger.mu.Unlock()
	})
	c, _, err := zk.Connect(strings.Split(addr, ","), sessionTimeout,
		zk.WithEventCallback(log.add), zk.WithLogger(logger), zk.WithLogInfo(false))
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	log.waitFor(t, "session", func(evs []zk.Event) bool { return indexOfState(evs, 0, zk.StateHasSession) >= 0 })
	return c, log
}

// expectEvent waits for the single event of a one-shot watch and checks it.
func expectEvent(t *testing.T, ch <-chan zk.Event, typ zk.EventType, path string) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("watch on %s closed without an event", path)
		}
		if ev.Type != typ || ev.Path != path {
			t.Fatalf("watch event = %v %q, want %v %q", ev.Type, ev.Path, typ, path)
		}
	case <-time.After(eventTimeout):
		t.Fatalf("no %v on %s within %v", typ, path, eventTimeout)
	}
}

// syncGoZK makes c's server catch up with the leader, so that c's next read
// sees every write other sessions completed before: in an ensemble another
// session may be on a server that has not applied them yet.
func syncGoZK(t *testing.T, c *zk.Conn, path string) {
	t.Helper()
	_, err := c.Sync(path)
	must(t, err, "sync "+path)
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustCreate(t *testing.T, c *zk.Conn, path string, data string, flags int32) string {
	t.Helper()
	p, err := c.Create(path, []byte(data), flags, openACL)
	must(t, err, "create "+path)
	return p
}

func mustStat(t *testing.T, c *zk.Conn, path string) *zk.Stat {
	t.Helper()
	ok, st, err := c.Exists(path)
	must(t, err, "exists "+path)
	if !ok {
		t.Fatalf("%s does not exist", path)
	}
	return st
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// TestGoZK runs the go-zookeeper scenarios that can share one server per target,
// each under its own root znode.
func TestGoZK(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		fn   func(t *testing.T, addr, root string)
	}{
		{"CRUD", goZKCRUD},
		{"Stat", goZKStat},
		{"Sequential", goZKSequential},
		{"EphemeralClose", goZKEphemeralClose},
		{"Watches", goZKWatches},
		{"Multi", goZKMulti},
		{"TTL", goZKTTL},
		{"Container", goZKContainer},
		{"DigestACL", goZKDigestACL},
	}
	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.fn(t, tg.addr, "/gozk-"+strings.ToLower(sc.name))
			})
		}
	})
}

func goZKCRUD(t *testing.T, addr, root string) {
	c, _ := connectGoZK(t, addr, 10*time.Second)
	if p := mustCreate(t, c, root, "root", 0); p != root {
		t.Fatalf("create returned %q, want %q", p, root)
	}
	_, err := c.Create(root, nil, 0, openACL)
	wantErr(t, err, zk.ErrNodeExists, "create existing")
	_, err = c.Create(root+"/missing/x", nil, 0, openACL)
	wantErr(t, err, zk.ErrNoNode, "create under missing parent")

	mustCreate(t, c, root+"/a", "v1", 0)
	mustCreate(t, c, root+"/c", "", 0)
	mustCreate(t, c, root+"/b", strings.Repeat("x", 100_000), 0)

	data, st, err := c.Get(root + "/a")
	must(t, err, "get")
	if string(data) != "v1" || st.Version != 0 || st.DataLength != 2 {
		t.Fatalf("get = %q version %d len %d, want v1 0 2", data, st.Version, st.DataLength)
	}
	data, _, err = c.Get(root + "/b")
	must(t, err, "get big")
	if len(data) != 100_000 {
		t.Fatalf("big node: %d bytes, want 100000", len(data))
	}
	data, st, err = c.Get(root + "/c")
	must(t, err, "get empty")
	if len(data) != 0 || st.DataLength != 0 {
		t.Fatalf("empty node: %q len %d", data, st.DataLength)
	}

	st, err = c.Set(root+"/a", []byte("v2"), -1)
	must(t, err, "set any version")
	if st.Version != 1 {
		t.Fatalf("version after set = %d, want 1", st.Version)
	}
	data, _, err = c.Get(root + "/a")
	must(t, err, "get after set")
	if string(data) != "v2" {
		t.Fatalf("data after set = %q", data)
	}

	kids, st, err := c.Children(root)
	must(t, err, "children")
	slices.Sort(kids)
	if !slices.Equal(kids, []string{"a", "b", "c"}) || st.NumChildren != 3 {
		t.Fatalf("children = %v (numChildren %d)", kids, st.NumChildren)
	}

	wantErr(t, c.Delete(root, -1), zk.ErrNotEmpty, "delete non-empty")
	wantErr(t, c.Delete(root+"/a", 5), zk.ErrBadVersion, "delete wrong version")
	must(t, c.Delete(root+"/a", 1), "delete right version")
	if ok, _, err := c.Exists(root + "/a"); err != nil || ok {
		t.Fatalf("exists after delete = %v, %v", ok, err)
	}
	_, _, err = c.Get(root + "/a")
	wantErr(t, err, zk.ErrNoNode, "get deleted")
	_, err = c.Set(root+"/a", nil, -1)
	wantErr(t, err, zk.ErrNoNode, "set deleted")
	wantErr(t, c.Delete(root+"/a", -1), zk.ErrNoNode, "delete deleted")
	_, _, err = c.Children(root + "/a")
	wantErr(t, err, zk.ErrNoNode, "children of deleted")

	p, err := c.Sync(root)
	must(t, err, "sync")
	if p != root {
		t.Fatalf("sync returned %q", p)
	}
	for _, n := range []string{"b", "c"} {
		must(t, c.Delete(root+"/"+n, -1), "delete "+n)
	}
	must(t, c.Delete(root, -1), "delete root")
}

func goZKStat(t *testing.T, addr, root string) {
	c, _ := connectGoZK(t, addr, 10*time.Second)
	before := time.Now()
	mustCreate(t, c, root, "abc", 0)
	st := mustStat(t, c, root)
	if st.Czxid <= 0 || st.Mzxid != st.Czxid || st.Pzxid != st.Czxid {
		t.Fatalf("new node zxids c=%d m=%d p=%d, want all equal and > 0", st.Czxid, st.Mzxid, st.Pzxid)
	}
	if st.Version != 0 || st.Cversion != 0 || st.Aversion != 0 || st.EphemeralOwner != 0 ||
		st.DataLength != 3 || st.NumChildren != 0 {
		t.Fatalf("new node stat = %+v", st)
	}
	if st.Ctime != st.Mtime {
		t.Fatalf("ctime %d != mtime %d", st.Ctime, st.Mtime)
	}
	if d := time.UnixMilli(st.Ctime).Sub(before); d < -time.Minute || d > time.Minute {
		t.Fatalf("ctime %v is %v away from the test clock", time.UnixMilli(st.Ctime), d)
	}
	_, gst, err := c.Get(root)
	must(t, err, "get")
	if *gst != *st {
		t.Fatalf("get stat %+v != exists stat %+v", gst, st)
	}

	st1, err := c.Set(root, []byte("abcdef"), 0)
	must(t, err, "set version 0")
	if st1.Version != 1 || st1.Czxid != st.Czxid || st1.Mzxid <= st.Mzxid || st1.Pzxid != st.Pzxid ||
		st1.Mtime < st1.Ctime || st1.Ctime != st.Ctime || st1.DataLength != 6 {
		t.Fatalf("stat after set = %+v (before %+v)", st1, st)
	}
	if got := mustStat(t, c, root); *got != *st1 {
		t.Fatalf("exists after set = %+v, set returned %+v", got, st1)
	}
	_, err = c.Set(root, []byte("x"), 0)
	wantErr(t, err, zk.ErrBadVersion, "set stale version")

	mustCreate(t, c, root+"/c1", "", 0)
	cst := mustStat(t, c, root+"/c1")
	pst := mustStat(t, c, root)
	if pst.Cversion != 1 || pst.NumChildren != 1 || pst.Pzxid != cst.Czxid || pst.Mzxid != st1.Mzxid ||
		pst.Version != 1 || cst.Czxid <= st1.Mzxid {
		t.Fatalf("parent after child create = %+v (child %+v)", pst, cst)
	}
	must(t, c.Delete(root+"/c1", 0), "delete child")
	pst2 := mustStat(t, c, root)
	if pst2.Cversion != 2 || pst2.NumChildren != 0 || pst2.Pzxid <= cst.Czxid || pst2.Mzxid != st1.Mzxid {
		t.Fatalf("parent after child delete = %+v", pst2)
	}

	ast, err := c.SetACL(root, zk.WorldACL(zk.PermAll), 0)
	must(t, err, "setACL")
	if ast.Aversion != 1 || ast.Version != 1 || ast.Mzxid != st1.Mzxid {
		t.Fatalf("stat after setACL = %+v", ast)
	}
	_, err = c.SetACL(root, zk.WorldACL(zk.PermAll), 0)
	wantErr(t, err, zk.ErrBadVersion, "setACL stale version")

	mustCreate(t, c, root+"/e", "", zk.FlagEphemeral)
	est := mustStat(t, c, root+"/e")
	if est.EphemeralOwner != c.SessionID() || est.EphemeralOwner == 0 {
		t.Fatalf("ephemeralOwner = %#x, session %#x", est.EphemeralOwner, c.SessionID())
	}
	_, err = c.Create(root+"/e/x", nil, 0, openACL)
	wantErr(t, err, zk.ErrNoChildrenForEphemerals, "child of ephemeral")

	// Every later write gets a larger zxid than the delete recorded in pzxid.
	st3, err := c.Set(root, nil, -1)
	must(t, err, "set")
	if st3.Mzxid <= pst2.Pzxid || st3.DataLength != 0 {
		t.Fatalf("later write stat %+v, pzxid of the delete %d", st3, pst2.Pzxid)
	}
}

func goZKSequential(t *testing.T, addr, root string) {
	c, _ := connectGoZK(t, addr, 10*time.Second)
	mustCreate(t, c, root, "", 0)
	for i := 0; i < 3; i++ {
		p := mustCreate(t, c, root+"/n-", "", zk.FlagSequence)
		if want := fmt.Sprintf("%s/n-%010d", root, i); p != want {
			t.Fatalf("sequential create %d = %q, want %q", i, p, want)
		}
	}
	mustCreate(t, c, root+"/plain", "", 0)
	// The suffix is the parent's cversion, so plain children consume numbers too.
	p := mustCreate(t, c, root+"/e-", "", zk.FlagEphemeralSequential)
	if want := root + "/e-0000000004"; p != want {
		t.Fatalf("ephemeral sequential = %q, want %q", p, want)
	}
	if st := mustStat(t, c, p); st.EphemeralOwner != c.SessionID() {
		t.Fatalf("ephemeral sequential owner = %#x, want %#x", st.EphemeralOwner, c.SessionID())
	}
	must(t, c.Delete(root+"/plain", -1), "delete plain")
	// Deletes do not advance the counter: it counts creates, while the cversion
	// clients see is 2*creates - numChildren.
	if st := mustStat(t, c, root); st.Cversion != 6 || st.NumChildren != 4 {
		t.Fatalf("parent after 5 creates and 1 delete: cversion %d numChildren %d, want 6 4", st.Cversion, st.NumChildren)
	}
	p = mustCreate(t, c, root+"/", "", zk.FlagSequence)
	if want := root + "/0000000005"; p != want {
		t.Fatalf("sequential with empty prefix = %q, want %q", p, want)
	}
	kids, _, err := c.Children(root)
	must(t, err, "children")
	slices.Sort(kids)
	want := []string{"0000000005", "e-0000000004", "n-0000000000", "n-0000000001", "n-0000000002"}
	if !slices.Equal(kids, want) {
		t.Fatalf("children = %v, want %v", kids, want)
	}
}

func goZKEphemeralClose(t *testing.T, addr, root string) {
	owner, _ := connectGoZK(t, addr, 10*time.Second)
	observer, _ := connectGoZK(t, addr, 10*time.Second)
	mustCreate(t, observer, root, "", 0)
	mustCreate(t, owner, root+"/e", "", zk.FlagEphemeral)
	seq := mustCreate(t, owner, root+"/s-", "", zk.FlagEphemeralSequential)
	syncGoZK(t, observer, root)
	ok, _, ew, err := observer.ExistsW(root + "/e")
	must(t, err, "existsW")
	if !ok {
		t.Fatal("ephemeral not visible to another session")
	}
	_, _, sw, err := observer.GetW(seq)
	must(t, err, "getW")
	owner.Close()
	expectEvent(t, ew, zk.EventNodeDeleted, root+"/e")
	expectEvent(t, sw, zk.EventNodeDeleted, seq)
	kids, _, err := observer.Children(root)
	must(t, err, "children")
	if len(kids) != 0 {
		t.Fatalf("children after owner closed = %v", kids)
	}
}

// TestGoZKSessionExpiry cuts a client off long enough for the server to expire
// its session: its ephemerals vanish and the client learns it on reconnect.
// In an ensemble the client reaches every member through its own proxy, and
// all of them are cut: the leader expires the session nobody touches.
func TestGoZKSessionExpiry(t *testing.T) {
	t.Parallel()
	forEachTarget(t, serverOpts{tickTime: time.Second}, func(t *testing.T, tg *target) {
		const root = "/gozk-expiry"
		var proxies []*proxy
		var via []string
		for _, a := range tg.addrs() {
			px := startProxy(t, a)
			proxies = append(proxies, px)
			via = append(via, px.addr())
		}
		owner, ownerLog := connectGoZK(t, strings.Join(via, ","), 2*time.Second)
		observer, _ := connectGoZK(t, tg.addr, 10*time.Second)
		mustCreate(t, observer, root, "", 0)
		mustCreate(t, owner, root+"/e", "", zk.FlagEphemeral)
		syncGoZK(t, observer, root)
		if st := mustStat(t, observer, root+"/e"); st.EphemeralOwner != owner.SessionID() {
			t.Fatalf("ephemeralOwner %#x, want %#x", st.EphemeralOwner, owner.SessionID())
		}
		_, _, ew, err := observer.ExistsW(root + "/e")
		must(t, err, "existsW")
		oldSession := owner.SessionID()
		mark := len(ownerLog.waitFor(t, "nothing", func([]zk.Event) bool { return true }))

		for _, px := range proxies {
			px.block()
		}
		expectEvent(t, ew, zk.EventNodeDeleted, root+"/e")
		for _, px := range proxies {
			px.unblock()
		}

		ownerLog.waitFor(t, "StateExpired then a new session", func(evs []zk.Event) bool {
			i := indexOfState(evs, mark, zk.StateExpired)
			return i >= 0 && indexOfState(evs, i, zk.StateHasSession) >= 0
		})
		if owner.SessionID() == oldSession || owner.SessionID() == 0 {
			t.Fatalf("session after expiry = %#x, old %#x", owner.SessionID(), oldSession)
		}
		if ok, _, err := owner.Exists(root + "/e"); err != nil || ok {
			t.Fatalf("ephemeral after expiry: exists=%v err=%v", ok, err)
		}
	})
}

func goZKWatches(t *testing.T, addr, root string) {
	c, log := connectGoZK(t, addr, 10*time.Second)
	mustCreate(t, c, root, "d0", 0)
	set := func(p string) {
		t.Helper()
		_, err := c.Set(p, []byte("x"), -1)
		must(t, err, "set "+p)
	}
	getW := func(p string) <-chan zk.Event {
		t.Helper()
		_, _, ch, err := c.GetW(p)
		must(t, err, "getW "+p)
		return ch
	}
	existsW := func(p string) <-chan zk.Event {
		t.Helper()
		_, _, ch, err := c.ExistsW(p)
		must(t, err, "existsW "+p)
		return ch
	}
	childrenW := func(p string) <-chan zk.Event {
		t.Helper()
		_, _, ch, err := c.ChildrenW(p)
		must(t, err, "childrenW "+p)
		return ch
	}

	// Data watch.
	dw := getW(root)
	set(root)
	expectEvent(t, dw, zk.EventNodeDataChanged, root)

	// Exists watch on a missing node, children watch on its parent.
	ew := existsW(root + "/n")
	cw := childrenW(root)
	mustCreate(t, c, root+"/n", "", 0)
	expectEvent(t, ew, zk.EventNodeCreated, root+"/n")
	expectEvent(t, cw, zk.EventNodeChildrenChanged, root)

	// A child's data change fires neither the parent's data nor its children watch;
	// a child creation fires only the children watch.
	dw = getW(root)
	cw = childrenW(root)
	set(root + "/n")
	mustCreate(t, c, root+"/m", "", 0)
	expectEvent(t, cw, zk.EventNodeChildrenChanged, root)
	set(root)
	expectEvent(t, dw, zk.EventNodeDataChanged, root)
	set(root) // the watch fired already: one-shot, no event

	// Deleting a node watched by data, exists and children watches of one
	// session delivers one NodeDeleted, then the parent's NodeChildrenChanged.
	dw = getW(root + "/n")
	ew = existsW(root + "/n")
	nw := childrenW(root + "/n")
	cw = childrenW(root)
	mw := existsW(root + "/m")
	must(t, c.Delete(root+"/n", -1), "delete n")
	expectEvent(t, dw, zk.EventNodeDeleted, root+"/n")
	expectEvent(t, ew, zk.EventNodeDeleted, root+"/n")
	expectEvent(t, nw, zk.EventNodeDeleted, root+"/n")
	expectEvent(t, cw, zk.EventNodeChildrenChanged, root)
	set(root + "/m")
	expectEvent(t, mw, zk.EventNodeDataChanged, root+"/m")

	// A children watch on a node that is deleted.
	mustCreate(t, c, root+"/p", "", 0)
	pw := childrenW(root + "/p")
	must(t, c.Delete(root+"/p", -1), "delete p")
	expectEvent(t, pw, zk.EventNodeDeleted, root+"/p")

	// Sentinel: events of one session arrive in order, so once this one is
	// here every event the server sent before it is in the log.
	sw := existsW(root + "/zz")
	mustCreate(t, c, root+"/zz", "", 0)
	expectEvent(t, sw, zk.EventNodeCreated, root+"/zz")

	got := nodeEvents(log.waitFor(t, "sentinel", func(evs []zk.Event) bool {
		n := nodeEvents(evs)
		return len(n) > 0 && n[len(n)-1].Path == root+"/zz"
	}))
	type ev struct {
		Type zk.EventType
		Path string
	}
	want := []ev{
		{zk.EventNodeDataChanged, root},
		{zk.EventNodeCreated, root + "/n"},
		{zk.EventNodeChildrenChanged, root},
		{zk.EventNodeChildrenChanged, root},
		{zk.EventNodeDataChanged, root},
		{zk.EventNodeDeleted, root + "/n"},
		{zk.EventNodeChildrenChanged, root},
		{zk.EventNodeDataChanged, root + "/m"},
		{zk.EventNodeDeleted, root + "/p"},
		{zk.EventNodeCreated, root + "/zz"},
	}
	var gotEv []ev
	for _, e := range got {
		gotEv = append(gotEv, ev{e.Type, e.Path})
	}
	if !reflect.DeepEqual(gotEv, want) {
		t.Fatalf("event sequence:\n got  %v\n want %v", gotEv, want)
	}
}

func goZKMulti(t *testing.T, addr, root string) {
	c, _ := connectGoZK(t, addr, 10*time.Second)
	mustCreate(t, c, root, "", 0)
	a := root + "/a"
	res, err := c.Multi(
		&zk.CreateRequest{Path: a, Data: []byte("1"), Acl: openACL},
		&zk.CreateRequest{Path: a + "/b", Acl: openACL},
		&zk.SetDataRequest{Path: a, Data: []byte("2"), Version: 0},
		&zk.CheckVersionRequest{Path: a, Version: 1},
		&zk.DeleteRequest{Path: a + "/b", Version: 0},
		&zk.CreateRequest{Path: a + "/s-", Acl: openACL, Flags: zk.FlagSequence},
	)
	must(t, err, "multi")
	if len(res) != 6 {
		t.Fatalf("multi results = %d, want 6", len(res))
	}
	for i, r := range res {
		if r.Error != nil {
			t.Fatalf("op %d error %v", i, r.Error)
		}
	}
	if res[0].String != a || res[1].String != a+"/b" || res[5].String != a+"/s-0000000001" {
		t.Fatalf("multi create paths %q %q %q", res[0].String, res[1].String, res[5].String)
	}
	if res[2].Stat == nil || res[2].Stat.Version != 1 {
		t.Fatalf("multi setData stat %+v", res[2].Stat)
	}
	data, st, err := c.Get(a)
	must(t, err, "get")
	if string(data) != "2" || st.Version != 1 || st.NumChildren != 1 {
		t.Fatalf("after multi: %q %+v", data, st)
	}
	if *st != *mustStat(t, c, a) || st.Mzxid != st.Czxid || st.Pzxid != st.Czxid {
		// All ops of a multi share one zxid.
		t.Fatalf("after multi: zxids c=%d m=%d p=%d, want one zxid", st.Czxid, st.Mzxid, st.Pzxid)
	}

	// A failing op rolls back the whole multi and each op reports its own result.
	checkFailed := func(name string, wantIdx int, wantErr error, ops ...any) {
		t.Helper()
		res, err := c.Multi(ops...)
		if !errors.Is(err, wantErr) {
			t.Fatalf("%s: multi err = %v, want %v", name, err, wantErr)
		}
		if len(res) != len(ops) {
			t.Fatalf("%s: %d results for %d ops", name, len(res), len(ops))
		}
		for i, r := range res {
			switch {
			case i < wantIdx:
				if r.Error != nil {
					t.Fatalf("%s: op %d before the failure: %v, want ok", name, i, r.Error)
				}
			case i == wantIdx:
				if !errors.Is(r.Error, wantErr) {
					t.Fatalf("%s: op %d: %v, want %v", name, i, r.Error, wantErr)
				}
			default:
				// RuntimeInconsistency (-2): go-zookeeper has no sentinel for it.
				if r.Error == nil || r.Error.Error() != "unknown error: -2" {
					t.Fatalf("%s: op %d after the failure: %v, want runtime inconsistency (-2)", name, i, r.Error)
				}
			}
		}
	}
	checkFailed("missing node", 1, zk.ErrNoNode,
		&zk.CreateRequest{Path: root + "/x", Acl: openACL},
		&zk.SetDataRequest{Path: root + "/missing", Version: -1},
		&zk.CreateRequest{Path: root + "/y", Acl: openACL},
	)
	checkFailed("bad version", 2, zk.ErrBadVersion,
		&zk.CreateRequest{Path: root + "/x", Acl: openACL},
		&zk.DeleteRequest{Path: a + "/s-0000000001", Version: 0},
		&zk.CheckVersionRequest{Path: a, Version: 0},
	)
	checkFailed("exists", 0, zk.ErrNodeExists,
		&zk.CreateRequest{Path: a, Acl: openACL},
		&zk.CreateRequest{Path: root + "/y", Acl: openACL},
	)
	checkFailed("not empty", 1, zk.ErrNotEmpty,
		&zk.SetDataRequest{Path: a, Data: []byte("3"), Version: 1},
		&zk.DeleteRequest{Path: a, Version: -1},
	)
	for _, p := range []string{root + "/x", root + "/y"} {
		if ok, _, err := c.Exists(p); err != nil || ok {
			t.Fatalf("%s after failed multi: exists=%v err=%v", p, ok, err)
		}
	}
	if got := mustStat(t, c, a); *got != *st {
		t.Fatalf("stat of %s changed by failed multis: %+v, was %+v", a, got, st)
	}
	if ok, _, err := c.Exists(a + "/s-0000000001"); err != nil || !ok {
		t.Fatalf("delete inside failed multi was applied: exists=%v err=%v", ok, err)
	}
}

func goZKTTL(t *testing.T, addr, root string) {
	c, _ := connectGoZK(t, addr, 10*time.Second)
	mustCreate(t, c, root, "", 0)
	short := root + "/short"
	long := root + "/long"
	_, err := c.CreateTTL(short, []byte("s"), zk.FlagTTL, openACL, 500*time.Millisecond)
	must(t, err, "createTTL short")
	_, err = c.CreateTTL(long, []byte("l"), zk.FlagTTL, openACL, time.Hour)
	must(t, err, "createTTL long")
	seq, err := c.CreateTTL(root+"/seq-", nil, zk.FlagPersistentSequentialWithTTL, openACL, 500*time.Millisecond)
	must(t, err, "createTTL sequential")
	if want := root + "/seq-0000000002"; seq != want {
		t.Fatalf("sequential TTL node = %q, want %q", seq, want)
	}
	_, err = c.CreateTTL(root+"/zero", nil, zk.FlagTTL, openACL, 0)
	wantErr(t, err, zk.ErrBadArguments, "TTL 0")

	// The server encodes the TTL in ephemeralOwner but clients are shown 0.
	if st := mustStat(t, c, long); st.EphemeralOwner != 0 {
		t.Fatalf("TTL node ephemeralOwner = %#x, want 0", st.EphemeralOwner)
	}
	ok, _, sw, err := c.ExistsW(short)
	must(t, err, "existsW short")
	_, _, qw, err := c.ExistsW(seq)
	must(t, err, "existsW seq")
	if ok { // the reaper may already have run
		expectEvent(t, sw, zk.EventNodeDeleted, short)
		expectEvent(t, qw, zk.EventNodeDeleted, seq)
	}
	if ok, _, err := c.Exists(short); err != nil || ok {
		t.Fatalf("expired TTL node: exists=%v err=%v", ok, err)
	}
	mustStat(t, c, long) // same reaper pass, TTL not reached: kept
}

func goZKContainer(t *testing.T, addr, root string) {
	c, _ := connectGoZK(t, addr, 10*time.Second)
	mustCreate(t, c, root, "", 0)
	used := root + "/used"     // gets a child that is then deleted: reaped
	fresh := root + "/fresh"   // never had a child: kept
	parent := root + "/parent" // still has a child: kept
	for _, p := range []string{used, fresh, parent} {
		_, err := c.CreateContainer(p, []byte("c"), zk.FlagContainer, openACL)
		must(t, err, "createContainer "+p)
	}
	// The container marker lives in ephemeralOwner but clients are shown 0.
	if st := mustStat(t, c, used); st.EphemeralOwner != 0 {
		t.Fatalf("container ephemeralOwner = %#x, want 0", st.EphemeralOwner)
	}
	mustCreate(t, c, parent+"/child", "", 0)
	mustCreate(t, c, used+"/child", "", 0)
	ok, _, uw, err := c.ExistsW(used)
	must(t, err, "existsW")
	if !ok {
		t.Fatal("container with a child was reaped")
	}
	must(t, c.Delete(used+"/child", -1), "delete last child")
	expectEvent(t, uw, zk.EventNodeDeleted, used)
	mustStat(t, c, fresh)
	mustStat(t, c, parent)
	mustStat(t, c, parent+"/child")
}

// digestID is the id of a digest ACL entry: user:base64(sha1(user:password)).
func digestID(user, password string) string {
	sum := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

func goZKDigestACL(t *testing.T, addr, root string) {
	alice, _ := connectGoZK(t, addr, 10*time.Second)
	must(t, alice.AddAuth("digest", []byte("alice:secret")), "alice auth")
	bob, _ := connectGoZK(t, addr, 10*time.Second)
	must(t, bob.AddAuth("digest", []byte("bob:pw")), "bob auth")
	anon, _ := connectGoZK(t, addr, 10*time.Second)
	super, _ := connectGoZK(t, addr, 10*time.Second)
	must(t, super.AddAuth("digest", []byte("super:test")), "super auth")

	mustCreate(t, alice, root, "", 0)
	private := root + "/private"
	_, err := alice.Create(private, []byte("s"), 0, zk.DigestACL(zk.PermAll, "alice", "secret"))
	must(t, err, "create private")

	acl, _, err := alice.GetACL(private)
	must(t, err, "getACL")
	wantACL := []zk.ACL{{Perms: zk.PermAll, Scheme: "digest", ID: digestID("alice", "secret")}}
	if !reflect.DeepEqual(acl, wantACL) {
		t.Fatalf("ACL = %+v, want %+v", acl, wantACL)
	}

	for name, c := range map[string]*zk.Conn{"anonymous": anon, "bob": bob} {
		syncGoZK(t, c, root)
		_, _, err := c.Get(private)
		wantErr(t, err, zk.ErrNoAuth, name+" get")
		_, err = c.Set(private, []byte("no"), -1)
		wantErr(t, err, zk.ErrNoAuth, name+" set")
		_, _, err = c.Children(private)
		wantErr(t, err, zk.ErrNoAuth, name+" children")
		_, err = c.Create(private+"/x", nil, 0, openACL)
		wantErr(t, err, zk.ErrNoAuth, name+" create child")
		_, err = c.SetACL(private, openACL, -1)
		wantErr(t, err, zk.ErrNoAuth, name+" setACL")
		// exists checks no ACL.
		if ok, _, err := c.Exists(private); err != nil || !ok {
			t.Fatalf("%s exists = %v, %v", name, ok, err)
		}
	}

	data, _, err := alice.Get(private)
	must(t, err, "alice get")
	if string(data) != "s" {
		t.Fatalf("alice reads %q", data)
	}
	_, err = super.Set(private, []byte("t"), -1)
	must(t, err, "super set")
	data, _, err = super.Get(private)
	must(t, err, "super get")
	if string(data) != "t" {
		t.Fatalf("super reads %q", data)
	}

	// The auth scheme expands to the creator's identities.
	authNode := root + "/auth"
	_, err = alice.Create(authNode, nil, 0, zk.AuthACL(zk.PermRead|zk.PermWrite))
	must(t, err, "create with auth ACL")
	acl, _, err = alice.GetACL(authNode)
	must(t, err, "getACL auth")
	// Without ADMIN on the node the digest is redacted to "x".
	wantACL = []zk.ACL{{Perms: zk.PermRead | zk.PermWrite, Scheme: "digest", ID: "alice:x"}}
	if !reflect.DeepEqual(acl, wantACL) {
		t.Fatalf("auth ACL = %+v, want %+v", acl, wantACL)
	}
	syncGoZK(t, super, root)
	acl, _, err = super.GetACL(authNode)
	must(t, err, "super getACL auth")
	wantACL[0].ID = digestID("alice", "secret")
	if !reflect.DeepEqual(acl, wantACL) {
		t.Fatalf("auth ACL seen by super = %+v, want %+v", acl, wantACL)
	}
	_, err = anon.Create(root+"/noauth", nil, 0, zk.AuthACL(zk.PermAll))
	wantErr(t, err, zk.ErrInvalidACL, "auth ACL without identity")

	// World read-only.
	ro := root + "/ro"
	_, err = alice.Create(ro, []byte("r"), 0, zk.WorldACL(zk.PermRead))
	must(t, err, "create read-only")
	syncGoZK(t, anon, root)
	if _, _, err := anon.Get(ro); err != nil {
		t.Fatalf("anonymous read of world-readable node: %v", err)
	}
	_, err = alice.Set(ro, []byte("w"), -1)
	wantErr(t, err, zk.ErrNoAuth, "write to read-only node")
	_, err = super.Set(ro, []byte("w"), -1)
	must(t, err, "super writes read-only node")
}
