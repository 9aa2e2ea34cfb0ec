package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/replication"
)

// conn is one client connection. Its reader goroutine (serve) decodes
// requests into calls, kept in order in calls; its writer goroutine
// (writeLoop) alone writes to the socket. Replies and watch events are
// encoded into out in the order the client must see them: a call's reply is
// encoded when it reaches the head of calls and is complete, and events are
// encoded when the txn that fires them is applied, which precedes the reply
// of any later call.
type conn struct {
	srv    *Server
	nc     net.Conn
	ip     string
	remote string
	est    time.Time

	// Set once by the handshake, before any other goroutine reads them.
	sessionID int64
	timeout   int32
	readOnly  bool // a read-only session (see readonly.go)

	// auth is the identities of the connection (ip, then added by addauth).
	auth atomic.Pointer[[]proto.Id]

	slots   chan struct{} // one per outstanding call: reader back-pressure
	wake    chan struct{} // capacity 1: out has data or the conn is closing
	drained chan struct{} // capacity 1: the writer took out
	done    chan struct{} // closed by close

	mu lockorder.Mutex
	// guarded by mu
	calls    []*call
	out      []byte
	closing  bool // close once out is flushed
	closed   bool
	lastCxid int32
	lastZxid int64
	lastOp   string
	lastLat  int64
	latMin   int64
	latMax   int64
	latSum   int64
	latCount int64
	recv     int64
	sent     int64

	closeOnce sync.Once
}

// call is one request waiting for its reply.
type call struct {
	c     *conn
	xid   int32
	op    proto.OpCode
	req   proto.Record
	write bool // the reply comes from applying a txn
	done  bool // write applied; guarded by c.mu
	res   txnResult
	// preErr answers the call with an error without executing anything.
	preErr     proto.Code
	closeAfter bool
	start      time.Time
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		srv:     s,
		nc:      nc,
		ip:      remoteIP(nc),
		remote:  nc.RemoteAddr().String(),
		est:     time.Now(),
		slots:   make(chan struct{}, s.opts.maxOutstandingPerCnx),
		wake:    make(chan struct{}, 1),
		drained: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	c.mu.Init(s.locks, &rankConn)
	ids := []proto.Id{{Scheme: schemeIP, ID: c.ip}}
	c.auth.Store(&ids)
	return c
}

func (c *conn) ids() []proto.Id { return *c.auth.Load() }

// close ends the connection at once. Safe to call from any goroutine.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
		// Unlist first, so no four-letter word lists a closed connection.
		c.srv.forget(c)
		c.nc.Close()
	})
}

// closeAfterFlush closes the connection once what is queued is written.
func (c *conn) closeAfterFlush() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// serve runs the connection: handshake, then the request loop.
func (c *conn) serve() {
	defer c.srv.wg.Done()
	defer c.close()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var first [4]byte
	c.nc.SetReadDeadline(time.Now().Add(c.srv.opts.tickTime * 5))
	if _, err := io.ReadFull(br, first[:]); err != nil {
		return
	}
	if c.srv.isFourLetterWord(first) {
		c.srv.serveFourLetter(c, string(first[:]), br)
		return
	}
	n := int32(binary.BigEndian.Uint32(first[:]))
	if n < 0 || int(n) > c.srv.opts.maxBuffer {
		c.srv.logger.Warn("closing connection: bad connect request length", "client", c.remote, "len", n)
		return
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return
	}
	if !c.srv.serving() && !c.srv.readOnly.Load() {
		// As Apache ZooKeeper: a server without a leader (or one shutting
		// down) closes the connection; the client tries another server.
		c.srv.logger.Info("refusing client: not serving (no leader)", "client", c.remote)
		return
	}
	if !c.handshake(payload) {
		return
	}
	c.nc.SetReadDeadline(time.Time{})
	c.srv.wg.Add(1)
	go c.writeLoop()
	var buf []byte
	for {
		if !c.waitOutbound() {
			return
		}
		frame, err := proto.ReadFrame(br, buf, c.srv.opts.maxBuffer)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.srv.logger.Warn("closing connection", "client", c.remote, "session", sessionHex(c.sessionID), "err", err)
			}
			return
		}
		if cap(frame) <= 64<<10 {
			buf = frame[:0]
		}
		if err := c.handle(frame); errors.Is(err, errStopReading) {
			// Read nothing more; the writer closes once the reply is out.
			<-c.done
			return
		} else if err != nil {
			c.srv.logger.Warn("closing connection: bad request", "client", c.remote, "session", sessionHex(c.sessionID), "err", err)
			return
		}
		select {
		case <-c.done:
			return
		default:
		}
	}
}

// errStopReading is returned by handle after queueing a reply that ends
// the connection (closeAfter): nothing after it may be read or executed.
var errStopReading = errors.New("server: connection ends after this reply")

// outLimit is how many bytes of replies may wait for a slow client before
// its connection stops reading requests.
const outLimit = 1 << 20

// handshakeWaiter waits for the createSession txn of a new session.
type handshakeWaiter chan error

func (w handshakeWaiter) complete(res txnResult) {
	if res.err != proto.OK {
		w <- fmt.Errorf("createSession: %w", res.err)
		return
	}
	w <- nil
}
func (w handshakeWaiter) fail(err error) { w <- err }

// handshake answers the connect request; false means close.
func (c *conn) handshake(payload []byte) bool {
	s := c.srv
	var req proto.ConnectRequest
	if err := req.Decode(proto.NewDecoder(payload)); err != nil {
		s.logger.Warn("closing connection: bad connect request", "client", c.remote, "err", err)
		return false
	}
	if last := s.db.lastZxid(); req.LastZxidSeen > last {
		s.logger.Info("refusing session: client has seen a later zxid than this server",
			"client", c.remote, "clientZxid", req.LastZxidSeen, "serverZxid", last)
		return false
	}
	timeout := min(max(req.TimeOut, s.opts.minSessionTimeout), s.opts.maxSessionTimeout)
	if s.readOnly.Load() && !s.serving() {
		return c.handshakeReadOnly(&req, timeout)
	}
	resp := proto.ConnectResponse{TimeOut: timeout, HasReadOnly: req.HasReadOnly}
	if req.SessionID == 0 {
		id := s.newSessionID()
		passwd := newPassword()
		w := make(handshakeWaiter, 1)
		s.propose(&txn{op: proto.OpCreateSession, sessionID: id, timeout: timeout, passwd: passwd}, w)
		select {
		case err := <-w:
			if err != nil {
				s.logger.Warn("creating session failed", "client", c.remote, "err", err)
				return false
			}
		case <-c.done:
			return false
		}
		resp.SessionID, resp.Passwd = id, passwd
	} else {
		// Whether the session lives is the replicated state's answer and,
		// in an ensemble, the leader's (which expires sessions); this
		// server's own tracker may not know a session it has yet to apply.
		s.db.mu.RLock()
		si := s.db.sessions[req.SessionID]
		valid := si != nil && bytes.Equal(si.passwd, req.Passwd)
		s.db.mu.RUnlock()
		if !s.cfg.Distributed() {
			valid = valid && s.tracker.touch(req.SessionID)
		}
		if valid {
			err := c.claim(req.SessionID)
			if err != nil && !errors.Is(err, proto.ErrSessionExpired) {
				// No leader to ask: the client tries again, here or
				// elsewhere, with its session.
				s.logger.Info("session not resumed: no answer from the leader", "session", sessionHex(req.SessionID), "client", c.remote, "err", err)
				return false
			}
			valid = err == nil
			s.tracker.touch(req.SessionID)
		}
		if !valid {
			s.logger.Info("invalid session, probably expired", "session", sessionHex(req.SessionID), "client", c.remote)
			c.refuseExpired(&req)
			return false
		}
		resp.SessionID, resp.Passwd = req.SessionID, req.Passwd
	}
	c.sessionID, c.timeout = resp.SessionID, resp.TimeOut
	s.bind(c, c.sessionID)
	if _, err := c.nc.Write(proto.AppendFrame(nil, proto.Encode(&resp))); err != nil {
		return false
	}
	s.logger.Debug("session established", "session", sessionHex(c.sessionID), "client", c.remote, "timeout", timeout)
	return true
}

// refuseExpired answers a connect request as Apache does for a session it
// does not know: no session id, a zero timeout and password, which the
// client reports as Expired. The caller then closes the connection.
func (c *conn) refuseExpired(req *proto.ConnectRequest) {
	resp := proto.ConnectResponse{Passwd: make([]byte, 16), HasReadOnly: req.HasReadOnly}
	c.nc.Write(proto.AppendFrame(nil, proto.Encode(&resp)))
}

// claim tells the leader that this server now serves a resumed session,
// as Apache's followers revalidate a session with the leader before they
// accept it. The error wraps proto.ErrSessionExpired when the leader says
// the session is gone.
func (c *conn) claim(session int64) error {
	s := c.srv
	if !s.cfg.Distributed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(2*time.Second, s.opts.tickTime*5))
	defer cancel()
	err := s.node.Claim(ctx, session)
	var ce *replication.CodedError
	if errors.As(err, &ce) {
		return fmt.Errorf("%w: %s", proto.Code(ce.Code), ce.Msg)
	}
	return err
}

// waitOutbound blocks while more than outLimit bytes of replies wait for
// the client; false means the connection closed.
func (c *conn) waitOutbound() bool {
	for {
		c.mu.Lock()
		n := len(c.out)
		c.mu.Unlock()
		if n <= outLimit {
			return true
		}
		select {
		case <-c.drained:
		case <-c.done:
			return false
		}
	}
}

// writeLoop writes what is queued in out until the connection closes.
func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	defer c.close()
	var spare []byte
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.mu.Lock()
		buf := c.out
		c.out = spare[:0]
		closing := c.closing
		c.mu.Unlock()
		select {
		case c.drained <- struct{}{}:
		default:
		}
		if len(buf) > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(time.Duration(c.timeout) * time.Millisecond))
			if _, err := c.nc.Write(buf); err != nil {
				return
			}
		}
		if closing {
			c.mu.Lock()
			empty := len(c.out) == 0
			c.mu.Unlock()
			if empty {
				return
			}
			c.signal()
		}
		if cap(buf) <= 1<<20 {
			spare = buf
		} else {
			spare = nil
		}
	}
}

// sendEvent implements watcher.
func (c *conn) sendEvent(ev proto.WatcherEvent) {
	c.mu.Lock()
	if !c.closed {
		c.out = proto.AppendNotification(c.out, notificationZxid, ev)
		c.sent++
	}
	c.mu.Unlock()
	c.srv.stats.sent.Add(1)
	c.signal()
}

// allowRead implements watcher.
func (c *conn) allowRead(acl []proto.ACL) bool {
	return checkACL(acl, proto.PermRead, c.ids()) == nil
}

// enqueue appends cl to the calls in order, waiting for a free slot, and
// answers what can be answered at once. False means the conn is closing.
func (c *conn) enqueue(cl *call) bool {
	select {
	case c.slots <- struct{}{}:
	case <-c.done:
		return false
	}
	cl.c = c
	cl.start = time.Now()
	if cl.write {
		c.mu.Lock()
		c.calls = append(c.calls, cl)
		c.mu.Unlock()
		return true
	}
	c.srv.db.mu.RLock()
	c.mu.Lock()
	c.calls = append(c.calls, cl)
	c.drainLocked()
	c.mu.Unlock()
	c.srv.db.mu.RUnlock()
	return true
}

// complete implements waiter for write calls: on the apply goroutine.
func (cl *call) complete(res txnResult) {
	c := cl.c
	c.mu.Lock()
	cl.res = res
	cl.done = true
	c.drainLocked()
	c.mu.Unlock()
}

// fail implements waiter: the write did not commit (this server stopped or
// lost leadership); the client sees a connection loss and retries.
func (cl *call) fail(err error) {
	s := cl.c.srv
	var ce *replication.CodedError
	if errors.As(err, &ce) {
		// The leader refused it with a ZooKeeper error (SessionMoved):
		// the client gets that error, and the connection stays.
		s.db.mu.RLock()
		cl.complete(txnResult{zxid: s.db.zxid, err: proto.Code(ce.Code)})
		s.db.mu.RUnlock()
		return
	}
	s.logger.Warn("request not committed; closing connection", "session", sessionHex(cl.c.sessionID), "op", cl.op, "err", err)
	cl.c.close()
}

// drainLocked answers calls from the head of the queue for as long as they
// can be: reads are executed now (every earlier write of the session has been
// applied), writes once applied. c.mu and db.mu (read or write) are held.
func (c *conn) drainLocked() {
	n := 0
	for _, cl := range c.calls {
		if cl.write && !cl.done {
			break
		}
		// A closed connection dropped its watches (forget); executing a
		// read now could register new ones that nothing removes.
		if !cl.write && !c.closed {
			c.srv.execRead(c, cl)
		}
		c.replyLocked(cl)
		n++
		if cl.closeAfter {
			c.closing = true
		}
	}
	if n == 0 {
		return
	}
	clear(c.calls[:n])
	c.calls = c.calls[n:]
	if len(c.calls) == 0 {
		c.calls = c.calls[:0:0]
	}
	for range n {
		<-c.slots
	}
	c.signal()
}

func (c *conn) replyLocked(cl *call) {
	if c.closed {
		return
	}
	zxid := cl.res.zxid
	resp := cl.res.resp
	if cl.res.err != proto.OK {
		resp = nil
	}
	c.out = proto.AppendReply(c.out, proto.ReplyHeader{Xid: cl.xid, Zxid: zxid, Err: cl.res.err}, resp)
	lat := time.Since(cl.start).Milliseconds()
	c.sent++
	if cl.xid >= 0 { // pings and other special xids are not client requests
		c.lastCxid = cl.xid
	}
	c.lastZxid = zxid
	c.lastOp = opAbbrev(cl.op)
	c.lastLat = lat
	if c.latCount == 0 || lat < c.latMin {
		c.latMin = lat
	}
	c.latMax = max(c.latMax, lat)
	c.latSum += lat
	c.latCount++
	c.srv.stats.sent.Add(1)
	if cl.xid != proto.XidPing {
		c.srv.stats.recordLatency(lat)
	}
}

// isWrite reports whether op changes the state and so goes through the log.
func isWrite(op proto.OpCode) bool {
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL,
		proto.OpDelete, proto.OpSetData, proto.OpSetACL, proto.OpCheck, proto.OpMulti:
		return true
	}
	return false
}

// handle decodes one request frame and queues it. An error closes the conn.
func (c *conn) handle(frame []byte) error {
	s := c.srv
	d := proto.NewDecoder(frame)
	d.MaxBuffer = s.opts.maxBuffer
	var hdr proto.RequestHeader
	if err := hdr.Decode(d); err != nil {
		return err
	}
	body := d.Rest()
	s.stats.received.Add(1)
	c.mu.Lock()
	c.recv++
	c.mu.Unlock()
	s.tracker.touch(c.sessionID)

	op := hdr.Type
	if c.readOnly {
		switch {
		case op == proto.OpCloseSession:
			s.ro.remove(c.sessionID)
			c.enqueue(&call{xid: hdr.Xid, op: op, closeAfter: true})
			return errStopReading
		case readOnlyRefuses(op):
			c.enqueue(&call{xid: hdr.Xid, op: op, preErr: proto.ErrNotReadOnly})
			return nil
		}
	}
	switch {
	case op == proto.OpPing:
		c.enqueue(&call{xid: hdr.Xid, op: op})
		return nil
	case op == proto.OpAuth:
		return c.handleAuth(hdr, body)
	case op == proto.OpSASL:
		// SASL is not supported: say so rather than leave the client hanging.
		s.logger.Warn("SASL authentication is not supported", "client", c.remote)
		c.enqueue(&call{xid: hdr.Xid, op: op, preErr: proto.ErrAuthFailed, closeAfter: true})
		return errStopReading
	case op == proto.OpCloseSession:
		cl := &call{xid: hdr.Xid, op: op, write: true, closeAfter: true}
		if c.enqueue(cl) {
			s.propose(&txn{op: op, sessionID: c.sessionID, cxid: hdr.Xid}, cl)
		}
		// The session ends here: nothing pipelined after it is executed.
		return errStopReading
	case op == proto.OpSync:
		return c.handleSync(hdr, body)
	case op == proto.OpReconfig:
		c.enqueue(&call{xid: hdr.Xid, op: op, preErr: proto.ErrReconfigDisabled})
		return nil
	}
	req := proto.NewRequest(op)
	if req == nil {
		if op == proto.OpWhoAmI {
			c.enqueue(&call{xid: hdr.Xid, op: op})
			return nil
		}
		s.logger.Warn("unknown request type", "client", c.remote, "type", int32(op))
		c.enqueue(&call{xid: hdr.Xid, op: op, preErr: proto.ErrUnimplemented, closeAfter: true})
		return errStopReading
	}
	rd := proto.NewDecoder(body)
	rd.MaxBuffer = s.opts.maxBuffer
	if err := req.Decode(rd); err != nil {
		return err
	}
	if op == proto.OpMultiRead || op == proto.OpMulti {
		if err := checkMultiKinds(op, req.(*proto.MultiRequest)); err != nil {
			return err
		}
	}
	if !isWrite(op) {
		c.enqueue(&call{xid: hdr.Xid, op: op, req: req})
		return nil
	}
	cl := &call{xid: hdr.Xid, op: op, write: true}
	if c.enqueue(cl) {
		s.propose(&txn{op: op, sessionID: c.sessionID, cxid: hdr.Xid, body: bytes.Clone(body), auth: c.ids()}, cl)
	}
	return nil
}

// handleSync queues a sync: it is answered, in order, once this server has
// applied every write the leader had committed when the sync arrived.
func (c *conn) handleSync(hdr proto.RequestHeader, body []byte) error {
	var req proto.SyncRequest
	rd := proto.NewDecoder(body)
	rd.MaxBuffer = c.srv.opts.maxBuffer
	if err := req.Decode(rd); err != nil {
		return err
	}
	cl := &call{xid: hdr.Xid, op: proto.OpSync, write: true}
	if !c.enqueue(cl) {
		return nil
	}
	s := c.srv
	s.node.Sync(func(err error) {
		if err != nil {
			cl.fail(err)
			return
		}
		s.db.mu.RLock()
		cl.complete(txnResult{zxid: s.db.zxid, resp: &proto.SyncResponse{Path: req.Path}})
		s.db.mu.RUnlock()
	})
	return nil
}

// checkMultiKinds rejects a multi with read ops or a multiRead with writes,
// which Apache ZooKeeper treats as a malformed request.
func checkMultiKinds(op proto.OpCode, m *proto.MultiRequest) error {
	for _, o := range m.Ops {
		read := o.Type == proto.OpGetData || o.Type == proto.OpGetChildren
		if read != (op == proto.OpMultiRead) {
			return errors.New("server: invalid op type " + o.Type.String() + " in " + op.String())
		}
	}
	return nil
}

// handleAuth processes addauth at once, as Apache ZooKeeper does, so
// requests after it use the new identity; the reply keeps its place in order.
func (c *conn) handleAuth(hdr proto.RequestHeader, body []byte) error {
	var p proto.AuthPacket
	if err := proto.Decode(body, &p); err != nil {
		return err
	}
	ids, err := authenticate(p.Scheme, p.Auth, c.srv.opts.superDigest, c.ip)
	if err != nil {
		c.srv.stats.authFail.Add(1)
		c.srv.logger.Warn("authentication failed", "client", c.remote, "scheme", p.Scheme)
		c.enqueue(&call{xid: hdr.Xid, op: proto.OpAuth, preErr: proto.ErrAuthFailed, closeAfter: true})
		return errStopReading
	}
	cur := c.ids()
	next := append([]proto.Id(nil), cur...)
	for _, id := range ids {
		dup := false
		for _, x := range next {
			if x == id {
				dup = true
				break
			}
		}
		if !dup {
			next = append(next, id)
		}
	}
	next = authSetOrder(next)
	c.auth.Store(&next)
	c.enqueue(&call{xid: hdr.Xid, op: proto.OpAuth})
	return nil
}

// opAbbrev is the four-letter op name Apache ZooKeeper shows in cons.
func opAbbrev(op proto.OpCode) string {
	switch op {
	case proto.OpPing:
		return "PING"
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		return "CREA"
	case proto.OpDelete:
		return "DELE"
	case proto.OpExists:
		return "EXIS"
	case proto.OpGetData:
		return "GETD"
	case proto.OpSetData:
		return "SETD"
	case proto.OpGetACL:
		return "GACL"
	case proto.OpSetACL:
		return "SACL"
	case proto.OpGetChildren, proto.OpGetChildren2:
		return "GETC"
	case proto.OpSync:
		return "SYNC"
	case proto.OpMulti:
		return "MULT"
	case proto.OpMultiRead:
		return "MLTR"
	case proto.OpCloseSession:
		return "CLOS"
	case proto.OpSetWatches, proto.OpSetWatches2:
		return "SETW"
	case proto.OpAuth:
		return "AUTH"
	}
	return "NA"
}
