package server

import (
	"math"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/proto"
)

// The classic malformed-packet cases, one test each, on the harness of
// robust_test.go: each checks what the offending connection gets, that
// nothing of it is applied, and that the probe client and the server's
// bookkeeping are unaffected.

func TestMalformedOversizedFrame(t *testing.T) {
	const maxBuffer = 4096
	r := startRB(t, func(c *config.Config) { c.JuteMaxBuffer = maxBuffer })
	sid := r.client.SessionID()
	bystander := r.session(t, 30000)

	// A frame of exactly jute.maxbuffer bytes is accepted, as by Apache.
	hdr := proto.RequestHeader{Xid: 1, Type: proto.OpCreate}
	sized := func(path string, frameLen int) []byte {
		req := &proto.CreateRequest{Path: path, Data: []byte{}, ACL: proto.OpenACLUnsafe}
		empty := len(proto.AppendRequest(nil, hdr, req)) - 4
		req.Data = make([]byte, frameLen-empty)
		b := proto.AppendRequest(nil, hdr, req)
		if len(b)-4 != frameLen {
			t.Fatalf("built a %d-byte frame, want %d", len(b)-4, frameLen)
		}
		return b
	}
	exact := r.session(t, 30000)
	exact.send(sized("/exact", maxBuffer))
	if hs, closed := exact.replies(1); closed || hs[0].Err != proto.OK {
		t.Fatalf("frame of jute.maxbuffer bytes: %+v closed=%v", hs, closed)
	}

	// One byte more closes the connection, with a log line, and applies
	// nothing; other connections carry on.
	big := r.session(t, 30000)
	big.send(sized("/big", maxBuffer+1))
	big.closedByServer()
	r.logs.waitLine(t, "closing connection", big.nc.LocalAddr().String(), "too large")
	if r.exists(t, "/big") || !r.exists(t, "/exact") {
		t.Fatal("/big was created or /exact was not")
	}
	exact.alive()
	bystander.alive()
	exact.nc.Close()
	bystander.nc.Close()
	r.unaffected(t, sid)
}

func TestMalformedTruncatedBody(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	hdr := rbCat(rbI32(1), rbI32(int32(proto.OpCreate)))
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"path past the end", rbCat(hdr, rbI32(100), []byte("/trunc"))},
		{"no body", hdr},
		{"no ACL", rbCat(hdr, rbI32(6), []byte("/trunc"), rbI32(0))},
		{"half an ACL", rbCat(hdr, rbI32(6), []byte("/trunc"), rbI32(0), rbI32(1), rbI32(31))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := r.session(t, 30000)
			s.send(proto.AppendFrame(nil, tc.frame))
			s.closedByServer()
			r.logs.waitLine(t, "closing connection: bad request", s.nc.LocalAddr().String())
			if r.exists(t, "/trunc") {
				t.Fatal("/trunc was created")
			}
			r.unaffected(t, sid)
		})
	}
}

func TestMalformedMultiKinds(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	create := &proto.CreateRequest{Path: "/mixed", ACL: proto.OpenACLUnsafe}
	for _, tc := range []struct {
		name string
		op   proto.OpCode
		ops  []proto.MultiOp
	}{
		{"multi with a read", proto.OpMulti, []proto.MultiOp{
			{Type: proto.OpCreate, Req: create}, {Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/"}}}},
		{"multi of reads", proto.OpMulti, []proto.MultiOp{
			{Type: proto.OpGetChildren, Req: &proto.GetChildrenRequest{Path: "/"}}}},
		{"multiRead with a write", proto.OpMultiRead, []proto.MultiOp{
			{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/"}}, {Type: proto.OpCreate, Req: create}}},
		{"multiRead of a write", proto.OpMultiRead, []proto.MultiOp{{Type: proto.OpCreate, Req: create}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := r.session(t, 30000)
			s.send(proto.AppendRequest(nil, proto.RequestHeader{Xid: 1, Type: tc.op}, &proto.MultiRequest{Ops: tc.ops}))
			s.closedByServer()
			r.logs.waitLine(t, "closing connection: bad request", s.nc.LocalAddr().String())
			if r.exists(t, "/mixed") {
				t.Fatal("an op of the refused multi was applied")
			}
			r.unaffected(t, sid)
		})
	}
}

// Apache ZooKeeper 3.8 answers a request of unknown type with Unimplemented
// and zxid -1, then closes the connection (ZooKeeperServer.submitRequestNow,
// UnimplementedRequestProcessor: sendResponse, then sendCloseSession).
func TestMalformedUnknownOp(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	for _, op := range []proto.OpCode{999, proto.OpNotification, proto.OpError, proto.OpCreateSession, proto.OpDeleteContainer, math.MinInt32} {
		t.Run(op.String(), func(t *testing.T) {
			s := r.session(t, 30000)
			zxid := r.srv.db.lastZxid()
			// A body, in case the server reads one, then a request that must
			// not be answered.
			var b rbStream
			b.reqBody(op, []byte("/x")...).req(proto.OpExists, &proto.ExistsRequest{Path: "/"})
			s.send(b.b)
			hs, closed := s.replies(1)
			if closed || hs[0] != (proto.ReplyHeader{Xid: 1, Zxid: -1, Err: proto.ErrUnimplemented}) {
				t.Fatalf("reply %+v closed=%v, want xid 1, zxid -1, Unimplemented", hs, closed)
			}
			s.closedByServer()
			if got := r.srv.db.lastZxid(); got != zxid {
				t.Fatalf("an unknown op changed the zxid: %d -> %d", zxid, got)
			}
			r.unaffected(t, sid)
		})
	}
}

// Apache ZooKeeper 3.8 answers AuthFailed (zxid 0) to an auth packet whose
// scheme it does not know, then stops reading and closes the connection:
// requests pipelined after it are not executed.
func TestMalformedAuthUnknownScheme(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	s := r.session(t, 30000)
	var b rbStream
	b.reqXid(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: "nope", Auth: []byte("x")}).
		req(proto.OpCreate, &proto.CreateRequest{Path: "/after-authfail", ACL: proto.OpenACLUnsafe})
	s.send(b.b)
	hs, closed := s.replies(1)
	if closed || hs[0] != (proto.ReplyHeader{Xid: proto.XidAuth, Zxid: 0, Err: proto.ErrAuthFailed}) {
		t.Fatalf("reply %+v closed=%v, want xid -4, zxid 0, AuthFailed", hs, closed)
	}
	s.closedByServer()
	r.logs.waitLine(t, "authentication failed", s.nc.LocalAddr().String(), "nope")
	r.checkState(t, 1)
	if r.exists(t, "/after-authfail") {
		t.Fatal("a request sent after the failed auth was executed")
	}
	r.unaffected(t, sid)
}

// A second connect request on an established session is read as a request
// header: xid = protocolVersion (0), type = the high half of lastZxidSeen
// (0, no such op). Apache 3.8 answers Unimplemented and closes; the session
// itself survives.
func TestMalformedSecondConnect(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	s := r.session(t, 30000)
	sessions := func() int {
		r.srv.db.mu.RLock()
		defer r.srv.db.mu.RUnlock()
		return len(r.srv.db.sessions)
	}
	before := sessions()
	again := proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true}
	s.send(proto.AppendFrame(nil, proto.Encode(&again)))
	hs, closed := s.replies(1)
	if closed || hs[0] != (proto.ReplyHeader{Xid: 0, Zxid: -1, Err: proto.ErrUnimplemented}) {
		t.Fatalf("reply %+v closed=%v, want xid 0, zxid -1, Unimplemented", hs, closed)
	}
	s.closedByServer()
	if got := sessions(); got != before {
		t.Fatalf("sessions %d -> %d", before, got)
	}
	r.srv.db.mu.RLock()
	_, ok := r.srv.db.sessions[s.id]
	r.srv.db.mu.RUnlock()
	if !ok {
		t.Fatal("the session was closed")
	}
	r.unaffected(t, sid)
}

// Requests pipelined after closeSession must not act for the closed session.
func TestMalformedRequestsAfterCloseSession(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	s := r.session(t, 30000)
	var b rbStream
	b.req(proto.OpCreate, &proto.CreateRequest{Path: "/eph", ACL: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral}).
		req(proto.OpCloseSession, nil).
		req(proto.OpCreate, &proto.CreateRequest{Path: "/after-close", ACL: proto.OpenACLUnsafe}).
		req(proto.OpCreate, &proto.CreateRequest{Path: "/eph-after-close", ACL: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral}).
		req(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: proto.AddWatchPersistentRecursive})
	s.send(b.b)
	hs, closed := s.replies(2)
	if closed || hs[0].Err != proto.OK || hs[1].Err != proto.OK || hs[1].Xid != 2 {
		t.Fatalf("create and closeSession: %+v closed=%v", hs, closed)
	}
	// Apache answers the later requests SessionExpired, or closes first.
	for {
		hs, closed := s.replies(1)
		if closed {
			break
		}
		if hs[0].Xid <= 2 || hs[0].Xid > 5 {
			t.Fatalf("unexpected reply %+v", hs[0])
		}
	}
	r.checkState(t, 1)
	for _, p := range []string{"/eph", "/after-close", "/eph-after-close"} {
		if r.exists(t, p) {
			t.Errorf("%s exists after its session was closed", p)
		}
	}
	r.srv.db.mu.RLock()
	_, ok := r.srv.db.sessions[s.id]
	r.srv.db.mu.RUnlock()
	if ok {
		t.Fatal("the closed session is still in the database")
	}
	r.unaffected(t, sid)
}

// A connection that ends while a write is in flight must not leave watches
// behind: reads queued after the write run when it is applied, after the
// connection dropped its watches.
func TestClosedConnectionKeepsNoWatches(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	for i := range 20 {
		s := r.session(t, 30000)
		var b rbStream
		b.req(proto.OpSetData, &proto.SetDataRequest{Path: "/", Version: -1}).
			req(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: proto.AddWatchPersistentRecursive}).
			req(proto.OpGetData, &proto.GetDataRequest{Path: "/", Watch: true}).
			reqXid(proto.XidSetWatches, proto.OpSetWatches, &proto.SetWatches{ChildWatches: []string{"/zookeeper"}})
		s.send(b.b)
		s.nc.Close()
		r.checkState(t, 1)
		if t.Failed() {
			t.Fatalf("after %d connections", i+1)
		}
	}
	r.unaffected(t, sid)
}

// A client that sends 10,000 requests and reads no reply must not make the
// server buffer replies without bound, nor stall other clients; once it
// reads, it gets every reply in order.
func TestOutstandingRequestsAreBounded(t *testing.T) {
	r := startRB(t, nil)
	sid := r.client.SessionID()
	const (
		n     = 10000
		size  = 16 << 10
		limit = 8 << 20 // far below the n*size = 160 MB the replies add up to
	)
	if _, err := r.client.Create("/big", make([]byte, size), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	s := r.session(t, 60000)
	c := r.srv.connOf(s.id)
	var b rbStream
	for range n {
		b.req(proto.OpGetData, &proto.GetDataRequest{Path: "/big"})
	}
	wrote := make(chan error, 1)
	go func() {
		// Blocks while the server is not reading; ends at the latest with
		// the connection (closed by the test's cleanup).
		_, err := s.nc.Write(b.b)
		wrote <- err
	}()
	outbound := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.out)
	}
	// While the client reads nothing, the server must stop reading its
	// requests once more than outLimit bytes of replies wait for it. Wait
	// for that, however slow the machine, watching what it buffers.
	peak := 0
	rbWaitFor(t, 2*time.Minute, "the server to stop reading from a client that reads nothing", func() bool {
		l := outbound()
		if peak = max(peak, l); peak > limit {
			s.nc.Close()
			t.Fatalf("server buffered %d bytes of replies for a client that reads nothing (limit %d)", peak, limit)
		}
		return l > outLimit
	})
	r.probe(t) // other clients are served meanwhile
	if l := outbound(); l > limit {
		s.nc.Close()
		t.Fatalf("server buffered %d bytes of replies for a client that reads nothing (limit %d)", l, limit)
	}
	// Now read: every reply arrives, in order.
	s.nc.SetDeadline(time.Now().Add(2 * time.Minute))
	for i := int32(1); i <= n; i++ {
		f, err := proto.ReadFrame(s.br, nil, 1<<20)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		d := proto.NewDecoder(f)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			t.Fatalf("reply %d: header %x: %v", i, f, err)
		}
		if h.Xid != i || h.Err != proto.OK || d.Remaining() < size {
			t.Fatalf("reply %d: %+v with %d body bytes", i, h, d.Remaining())
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	s.nc.Close()
	r.unaffected(t, sid)
	t.Logf("peak outbound buffer %d bytes", peak)
}
