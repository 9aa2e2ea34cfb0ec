package server_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
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
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return
			}
		case <-deadline:
			t.Fatal("no session within 10s")
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
	_, pst2, _ := c.Exists("/a")
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
	srv := zktest.Start(t, zktest.WithTickTime(100*time.Millisecond))
	watcher := connect(t, srv.Addr())
	owner := connect(t, srv.Addr())
	if _, err := owner.Create("/e1", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	_, st, _ := watcher.Exists("/e1")
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
	case <-time.After(10 * time.Second):
		t.Fatal("ephemeral not deleted after close")
	}
}

func TestSessionExpiry(t *testing.T) {
	srv := zktest.Start(t, zktest.WithTickTime(50*time.Millisecond))
	watcher := connect(t, srv.Addr())
	// A raw session that never pings: it must expire after its timeout.
	nc := rawConnect(t, srv.Addr(), 100)
	rawRequest(t, nc, 1, proto.OpCreate, &proto.CreateRequest{Path: "/exp", ACL: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral})
	_, _, ch, err := watcher.ExistsW("/exp")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-ch:
		if ev.Type != zk.EventNodeDeleted {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session did not expire")
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
	nc.Write(frame)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(nc); err != nil {
		t.Fatalf("connection not closed cleanly: %v", err)
	}
	if _, err := good.Create("/still-fine", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
}

func TestOversizedRequestRefused(t *testing.T) {
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.JuteMaxBuffer = 4096 }))
	nc := rawConnect(t, srv.Addr(), 10000)
	req := proto.AppendRequest(nil, proto.RequestHeader{Xid: 1, Type: proto.OpCreate},
		&proto.CreateRequest{Path: "/big", Data: make([]byte, 5000), ACL: proto.OpenACLUnsafe})
	nc.Write(req)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(nc)
	c := connect(t, srv.Addr())
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
	if got := fourLetter(t, srv.Addr(), "ruok"); got != "imok" {
		t.Fatalf("ruok: %q", got)
	}
	srvr := fourLetter(t, srv.Addr(), "srvr")
	for _, want := range []string{"Zookeeper version: 3.", "Mode: standalone", "Node count: ", "Zxid: 0x"} {
		if !strings.Contains(srvr, want) {
			t.Fatalf("srvr lacks %q:\n%s", want, srvr)
		}
	}
	if mntr := fourLetter(t, srv.Addr(), "mntr"); !strings.Contains(mntr, "zk_server_state\tstandalone") {
		t.Fatalf("mntr:\n%s", mntr)
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	srv := zktest.Start(t, zktest.WithConfig(func(c *config.Config) { c.FourLetterWhitelist = config.WordSet{"srvr": {}} }))
	if got := fourLetter(t, srv.Addr(), "ruok"); got != "ruok is not executed because it is not in the whitelist.\n" {
		t.Fatalf("ruok: %q", got)
	}
}

func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte(word))
	out, err := io.ReadAll(nc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// rawConnect opens a session by hand, without a pinging client library.
func rawConnect(t *testing.T, addr string, timeoutMs int32) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := proto.ConnectRequest{TimeOut: timeoutMs, Passwd: make([]byte, 16)}
	nc.Write(proto.AppendFrame(nil, proto.Encode(&req)))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := proto.ReadFrame(nc, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cr proto.ConnectResponse
	if err := proto.Decode(resp, &cr); err != nil || cr.SessionID == 0 {
		t.Fatalf("connect response %+v %v", cr, err)
	}
	return nc
}

func rawRequest(t *testing.T, nc net.Conn, xid int32, op proto.OpCode, req proto.Record) proto.ReplyHeader {
	t.Helper()
	nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: op}, req))
	for {
		frame, err := proto.ReadFrame(nc, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var h proto.ReplyHeader
		h.Decode(proto.NewDecoder(frame))
		if h.Xid == xid {
			return h
		}
	}
}
