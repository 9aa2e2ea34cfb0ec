package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/zktest"
)

func connect(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	waitConnected(t, events)
	t.Cleanup(c.Close)
	return c
}

func waitConnected(t *testing.T, events <-chan zk.Event) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return
			}
		case <-deadline:
			t.Fatal("no session within 30s")
		}
	}
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func TestCRUDAndStat(t *testing.T) {
	srv := zktest.Start(t)
	c := connect(t, srv.Addr())

	p, err := c.Create("/a", []byte("one"), 0, zk.WorldACL(zk.PermAll))
	if err != nil || p != "/a" {
		t.Fatalf("create: %q %v", p, err)
	}
	if _, err := c.Create("/a", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("second create: %v", err)
	}
	data, st, err := c.Get("/a")
	if err != nil || string(data) != "one" {
		t.Fatalf("get: %q %v", data, err)
	}
	if st.Version != 0 || st.DataLength != 3 || st.Czxid != st.Mzxid || st.Czxid != st.Pzxid || st.NumChildren != 0 {
		t.Fatalf("stat after create: %+v", st)
	}
	st2, err := c.Set("/a", []byte("two!"), 0)
	if err != nil || st2.Version != 1 || st2.DataLength != 4 || st2.Mzxid <= st.Mzxid || st2.Czxid != st.Czxid {
		t.Fatalf("set: %+v %v", st2, err)
	}
	if _, err := c.Set("/a", nil, 0); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("set with stale version: %v", err)
	}
	for i := 0; i < 3; i++ {
		p, err := c.Create("/a/s-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
		if err != nil || p != fmt.Sprintf("/a/s-%010d", i) {
			t.Fatalf("sequential %d: %q %v", i, p, err)
		}
	}
	kids, pst, err := c.Children("/a")
	sort.Strings(kids)
	if err != nil || strings.Join(kids, ",") != "s-0000000000,s-0000000001,s-0000000002" || pst.NumChildren != 3 || pst.Cversion != 3 {
		t.Fatalf("children: %v %+v %v", kids, pst, err)
	}
	if err := c.Delete("/a", -1); !errors.Is(err, zk.ErrNotEmpty) {
		t.Fatalf("delete non-empty: %v", err)
	}
	if err := c.Delete("/a/s-0000000001", 5); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("delete bad version: %v", err)
	}
	if err := c.Delete("/a/s-0000000001", 0); err != nil {
		t.Fatal(err)
	}
	_, pst2, err := c.Exists("/a")
	if err != nil {
		t.Fatal(err)
	}
	if pst2.Cversion != 4 || pst2.NumChildren != 2 || pst2.Pzxid <= pst.Pzxid {
		t.Fatalf("parent after delete: %+v", pst2)
	}
	if _, err := c.Create("/nope/x", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("create under missing parent: %v", err)
	}
	if _, err := c.Create("/bad/", nil, 0, zk.WorldACL(zk.PermAll)); err == nil {
		t.Fatal("create with trailing slash succeeded")
	}
	ok, _, err := c.Exists("/zookeeper/config")
	if err != nil || !ok {
		t.Fatalf("/zookeeper/config: %v %v", ok, err)
	}
}

func TestWatchEventsComeBeforeLaterReplies(t *testing.T) {
	srv := zktest.Start(t)
	c := connect(t, srv.Addr())
	if _, err := c.Create("/w", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	_, _, dataCh, err := c.GetW("/w")
	if err != nil {
		t.Fatal(err)
	}
	_, _, childCh, err := c.ChildrenW("/w")
	if err != nil {
		t.Fatal(err)
	}
	_, _, existCh, err := c.ExistsW("/w/missing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set("/w", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
	// The event was queued before the set's reply, so it is here already.
	select {
	case ev := <-dataCh:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != "/w" {
			t.Fatalf("data event: %+v", ev)
		}
	default:
		t.Fatal("data event not delivered before the reply")
	}
	if _, err := c.Create("/w/missing", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ch   <-chan zk.Event
		typ  zk.EventType
		path string
	}{{existCh, zk.EventNodeCreated, "/w/missing"}, {childCh, zk.EventNodeChildrenChanged, "/w"}} {
		select {
		case ev := <-tc.ch:
			if ev.Type != tc.typ || ev.Path != tc.path {
				t.Fatalf("event %+v, want %v %s", ev, tc.typ, tc.path)
			}
		default:
			t.Fatalf("%v on %s not delivered before the reply", tc.typ, tc.path)
		}
	}
}

func TestEphemeralsGoWithSession(t *testing.T) {
	srv := zktest.Start(t)
	watcher := connect(t, srv.Addr())
	// The owner's session (40 s, the most the default tickTime allows)
	// outlasts the wait below: only closing it can delete the ephemeral.
	owner, events, err := zk.Connect([]string{srv.Addr()}, 40*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	waitConnected(t, events)
	t.Cleanup(owner.Close)
	if _, err := owner.Create("/e1", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	_, st, err := watcher.Exists("/e1")
	if err != nil {
		t.Fatal(err)
	}
	if st.EphemeralOwner != owner.SessionID() {
		t.Fatalf("ephemeralOwner %x, want %x", st.EphemeralOwner, owner.SessionID())
	}
	if _, err := owner.Create("/e1/child", nil, 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNoChildrenForEphemerals) {
		t.Fatalf("child of ephemeral: %v", err)
	}
	_, _, ch, err := watcher.ExistsW("/e1")
	if err != nil {
		t.Fatal(err)
	}
	owner.Close()
	select {
	case ev := <-ch:
		if ev.Type != zk.EventNodeDeleted {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ephemeral not deleted after close")
	}
}

// A session whose client never pings expires after its negotiated timeout,
// counted from its last request and never earlier: its ephemerals go and
// the server closes its connection.
func TestSessionExpiry(t *testing.T) {
	// Sessions may ask 2 to 20 ticks; 2 s gives a loaded machine time to
	// create the ephemeral and set the watch before the session expires.
	srv := zktest.Start(t, zktest.WithTickTime(100*time.Millisecond))
	watcher := connect(t, srv.Addr())
	// A raw session that never pings.
	nc, resp := rawSession(t, srv.Addr(), 2000)
	timeout := time.Duration(resp.TimeOut) * time.Millisecond
	if timeout != 2*time.Second {
		t.Fatalf("negotiated timeout %v, want 2s", timeout)
	}
	lastRequest := time.Now()
	if h := rawRequest(t, nc, 1, proto.OpCreate, &proto.CreateRequest{Path: "/exp", ACL: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral}); h.Err != proto.OK {
		t.Fatalf("create of the ephemeral: %v", h.Err)
	}
	ok, st, ch, err := watcher.ExistsW("/exp")
	if err != nil {
		t.Fatal(err)
	}
	if !ok || st.EphemeralOwner != resp.SessionID {
		t.Fatalf("ephemeral right after its create: exists=%v owner %x, want session %x (expired %v after its last request?)",
			ok, st.EphemeralOwner, resp.SessionID, time.Since(lastRequest))
	}
	select {
	case ev := <-ch:
		if ev.Type != zk.EventNodeDeleted {
			t.Fatalf("event %+v, want NodeDeleted", ev)
		}
	case <-time.After(timeout + 30*time.Second):
		t.Fatalf("session of %v not expired after %v", timeout, time.Since(lastRequest))
	}
	if gone := time.Since(lastRequest); gone < timeout {
		t.Fatalf("session of %v expired %v after its last request", timeout, gone)
	}
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if f, err := proto.ReadFrame(nc, nil, 0); !closedErr(err) {
		t.Fatalf("connection of the expired session: frame %x, %v; want it closed", f, err)
	}
}

func TestRestartKeepsStateAndSessions(t *testing.T) {
	srv := zktest.Start(t)
	c, events, err := zk.Connect([]string{srv.Addr()}, 20*time.Second, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitConnected(t, events)
	for i := 0; i < 50; i++ {
		if _, err := c.Create(fmt.Sprintf("/r%d", i), []byte{byte(i)}, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	srv.Restart()
	// go-zookeeper reconnects and resumes the session.
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, _, err := c.Get("/r49")
		if err == nil {
			if data[0] != 49 {
				t.Fatalf("data %v", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.SessionID() != sid {
		t.Fatalf("session changed: %x -> %x", sid, c.SessionID())
	}
	_, st, err := c.Exists("/eph")
	if err != nil || st == nil || st.EphemeralOwner != sid {
		t.Fatalf("ephemeral after restart: %+v %v", st, err)
	}
	p, err := c.Create("/seq-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil || p != "/seq-0000000051" {
		t.Fatalf("sequence after restart: %q %v", p, err)
	}
}

func TestMalformedPacketClosesOnlyThatConnection(t *testing.T) {
	srv := zktest.Start(t)
	good := connect(t, srv.Addr())
	nc := rawConnect(t, srv.Addr(), 10000)
	// A create whose path length points past the end of the frame.
	frame := []byte{0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0, 0, 0}
	if _, err := nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("connection not closed cleanly: %v", err)
	}
	if _, err := good.Create("/still-fine", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
}

// A request frame longer than jute.maxbuffer closes its connection without
// a reply, as Apache ZooKeeper 3.8 does (NIOServerCnxn.readLength, "Len
// error"): it is neither logged nor applied, and the server says why.
func TestOversizedRequestRefused(t *testing.T) {
	var logs lockedBuffer
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.JuteMaxBuffer = 4096 }),
		zktest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	c := connect(t, srv.Addr())
	nc, _ := rawSession(t, srv.Addr(), 10000)
	before := srvrZxid(t, srv.Addr())
	req := proto.AppendRequest(nil, proto.RequestHeader{Xid: 1, Type: proto.OpCreate},
		&proto.CreateRequest{Path: "/big", Data: make([]byte, 5000), ACL: proto.OpenACLUnsafe})
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if f, err := proto.ReadFrame(nc, nil, 0); !closedErr(err) {
		t.Fatalf("after a %d-byte frame (jute.maxbuffer 4096): frame %x, %v; want the connection closed without a reply", len(req)-4, f, err)
	}
	if !strings.Contains(logs.String(), "frame too large") {
		t.Errorf("no log line says why the connection was closed:\n%s", logs.String())
	}
	if after := srvrZxid(t, srv.Addr()); after != before {
		t.Errorf("zxid %s -> %s: the oversized request was logged", before, after)
	}
	if ok, _, err := c.Exists("/big"); err != nil || ok {
		t.Fatalf("oversized create was applied: %v %v", ok, err)
	}
}

func TestPipelinedClientsFromManyGoroutines(t *testing.T) {
	srv := zktest.Start(t)
	c := connect(t, srv.Addr())
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				p := fmt.Sprintf("/p%d-%d", g, i)
				if _, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
					errs <- err
					return
				}
				data, _, err := c.Get(p)
				if err != nil || string(data) != p {
					errs <- fmt.Errorf("get %s: %q %v", p, data, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestFourLetterWords(t *testing.T) {
	srv := zktest.Start(t)
	connect(t, srv.Addr())
	if got := askWord(t, srv.Addr(), "ruok", nil); got != "imok" {
		t.Fatalf("ruok: %q", got)
	}
	srvr := askWord(t, srv.Addr(), "srvr", nil)
	for _, want := range []string{"Zookeeper version: 3.", "Mode: standalone", "Node count: ", "Zxid: 0x"} {
		if !strings.Contains(srvr, want) {
			t.Fatalf("srvr lacks %q:\n%s", want, srvr)
		}
	}
	if mntr := askWord(t, srv.Addr(), "mntr", nil); !strings.Contains(mntr, "zk_server_state\tstandalone") {
		t.Fatalf("mntr:\n%s", mntr)
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.FourLetterWhitelist = config.WordSet{"srvr": {}} }))
	if got := askWord(t, srv.Addr(), "ruok", nil); got != "ruok is not executed because it is not in the whitelist.\n" {
		t.Fatalf("ruok: %q", got)
	}
}

// srvrZxid returns the Zxid line of srvr.
func srvrZxid(t *testing.T, addr string) string {
	t.Helper()
	srvr := askWord(t, addr, "srvr", nil)
	for _, l := range strings.Split(srvr, "\n") {
		if z, ok := strings.CutPrefix(l, "Zxid: "); ok {
			return z
		}
	}
	t.Fatalf("srvr without a Zxid line:\n%s", srvr)
	return ""
}

// closedErr reports whether err means the peer closed the connection: an
// end of stream, or a reset when it closed with our bytes unread.
func closedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// lockedBuffer collects a server's log output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rawConnect opens a session by hand, without a pinging client library.
func rawConnect(t *testing.T, addr string, timeoutMs int32) net.Conn {
	t.Helper()
	nc, _ := rawSession(t, addr, timeoutMs)
	return nc
}

// rawSession is rawConnect that also returns the connect response.
func rawSession(t *testing.T, addr string, timeoutMs int32) (net.Conn, proto.ConnectResponse) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := proto.ConnectRequest{TimeOut: timeoutMs, Passwd: make([]byte, 16)}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		t.Fatal(err)
	}
	resp, err := proto.ReadFrame(nc, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cr proto.ConnectResponse
	if err := proto.Decode(resp, &cr); err != nil || cr.SessionID == 0 {
		t.Fatalf("connect response %+v %v", cr, err)
	}
	return nc, cr
}

// rawRequest sends one request and returns the header of its reply,
// skipping notifications.
func rawRequest(t *testing.T, nc net.Conn, xid int32, op proto.OpCode, req proto.Record) proto.ReplyHeader {
	t.Helper()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: op}, req)); err != nil {
		t.Fatal(err)
	}
	for {
		frame, err := proto.ReadFrame(nc, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var h proto.ReplyHeader
		if err := h.Decode(proto.NewDecoder(frame)); err != nil {
			t.Fatalf("reply header %x: %v", frame, err)
		}
		if h.Xid == xid {
			return h
		}
		if h.Xid != proto.XidNotification {
			t.Fatalf("reply %+v to xid %d, want %d", h, h.Xid, xid)
		}
	}
}
