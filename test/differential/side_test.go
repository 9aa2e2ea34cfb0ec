package differential

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// sessionTimeout is what every test session asks for; keepalive pings go out
// well within it.
const (
	sessionTimeout = 30000
	replyTimeout   = 15 * time.Second
)

// session is one logical session's current incarnation on one server.
type session struct {
	label    string // "s<i>.<incarnation>"
	c        *conn
	id       int64
	passwd   []byte
	inc      int
	lastZxid int64
	stash    []event // notifications read by keepalive pings, owed to the next compared op
	lastUse  time.Time
	node     int // index of the server it is connected to, in side.addrs
}

// side is one server under test with its sessions. Only one goroutine uses a
// side at a time.
type side struct {
	name  string
	addrs []string // one server, or an ensemble's client addresses
	ctx   context.Context
	sess  []*session
	admin *session
	// hosts holds, in an ensemble, one session per server that sets no
	// watches, for making a server catch up before a session moves there.
	hosts []*session
	lab   *labeler
	hello []string // normalised handshakes of the first sessions
	// quietLimit is how long a session may stay quiet before the side pings
	// it outside the compared sequence.
	quietLimit time.Duration
	// nudges counts the stalled replies nudged (see nudge).
	nudges int
}

// result is what one op produced on one server.
type result struct {
	err     error // the harness cannot go on (timeout, protocol violation)
	lost    bool  // the server closed the connection instead of replying
	hasHdr  bool
	hdr     proto.ReplyHeader
	resp    proto.Record
	bodyLen int
	decErr  error
	events  []event
	after   []event // notifications read after the reply (closeSession)
	conns   []string
	notes   []string
}

// newSide opens nSess sessions and the admin session on the server at
// addrs[0], or spread over an ensemble's servers: session i starts on
// addrs[i%len(addrs)], the admin session on addrs[0].
func newSide(ctx context.Context, name string, addrs []string, nSess int, keepalive time.Duration) (*side, error) {
	s := &side{name: name, addrs: addrs, ctx: ctx, lab: newLabeler(), quietLimit: keepalive}
	if err := s.start(nSess); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *side) start(nSess int) error {
	for i := 0; i < nSess; i++ {
		ss := &session{node: i % len(s.addrs)}
		s.sess = append(s.sess, ss)
		// Half the sessions announce the readOnly byte, half are "old"
		// clients without it.
		h, err := s.open(ss, i, i%2 == 0)
		if err != nil {
			return err
		}
		s.hello = append(s.hello, h)
	}
	s.admin = &session{}
	if _, err := s.open(s.admin, -1, true); err != nil {
		return err
	}
	for k := range s.addrs {
		if !s.ensemble() {
			break
		}
		h := &session{node: k}
		if _, err := s.open(h, -2-k, true); err != nil {
			return err
		}
		s.hosts = append(s.hosts, h)
	}
	// The admin session reads every node for tree dumps.
	r, _, err := s.admin.c.call(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte(superCred)})
	if err != nil || r.hdr.Err != proto.OK {
		return fmt.Errorf("%s: admin addauth %s: %v %v", s.name, superCred, err, r.hdr.Err)
	}
	return nil
}

// all returns the logical sessions followed by the admin session and the
// host sessions.
func (s *side) all() []*session {
	out := make([]*session, 0, len(s.sess)+1+len(s.hosts))
	return append(append(append(out, s.sess...), s.admin), s.hosts...)
}

func (s *side) close() {
	for _, ss := range s.all() {
		if ss != nil && ss.c != nil {
			ss.c.close()
		}
	}
}

// open starts a new session for logical session i (-1 for admin).
func (s *side) open(ss *session, i int, hasRO bool) (string, error) {
	req := &proto.ConnectRequest{TimeOut: sessionTimeout, Passwd: make([]byte, 16), HasReadOnly: hasRO}
	c, resp, err := dial(s.ctx, s.addrs[ss.node], req, replyTimeout, s.stallHook(ss))
	if err != nil {
		return "", fmt.Errorf("%s: open session %d: %w", s.name, i, err)
	}
	if resp.SessionID == 0 {
		c.close()
		return "", fmt.Errorf("%s: open session %d: server refused a new session", s.name, i)
	}
	s.watchStalls(c, ss)
	// Notifications owed to the next compared op survive the new incarnation.
	*ss = session{c: c, id: resp.SessionID, passwd: resp.Passwd, inc: ss.inc + 1, stash: ss.stash, lastUse: time.Now(), node: ss.node}
	ss.label = fmt.Sprintf("s%d.%d", i, ss.inc)
	switch {
	case i == -1:
		ss.label = "admin"
	case i < -1:
		ss.label = fmt.Sprintf("host%d", -2-i)
	}
	if _, dup := s.lab.owners[ss.id]; dup {
		s.lab.violate("session id %#x granted twice", ss.id)
	}
	s.lab.owners[ss.id] = ss.label
	return handshake(resp, 0), nil
}

// resume reconnects ss with its session id and password; if the server says
// the session has expired it opens a new one.
func (s *side) resume(ss *session, i int, hasRO bool) ([]string, error) {
	req := &proto.ConnectRequest{LastZxidSeen: ss.lastZxid, TimeOut: sessionTimeout, SessionID: ss.id, Passwd: ss.passwd, HasReadOnly: hasRO}
	c, resp, err := dial(s.ctx, s.addrs[ss.node], req, replyTimeout, s.stallHook(ss))
	if err != nil {
		return nil, fmt.Errorf("%s: resume session %d: %w", s.name, i, err)
	}
	out := []string{handshake(resp, ss.id)}
	if resp.SessionID == 0 {
		c.close()
		h, err := s.open(ss, i, hasRO)
		return append(out, h), err
	}
	if resp.SessionID != ss.id {
		s.lab.violate("resume of session %#x granted session %#x", ss.id, resp.SessionID)
	}
	s.watchStalls(c, ss)
	ss.c, ss.lastUse = c, time.Now()
	return out, nil
}

// watchStalls makes a reply that stalls on c, in an ensemble, nudge the
// ensemble. Apache ZooKeeper 3.8.0 (Debian's) has ZOOKEEPER-4537, fixed in
// 3.8.1: a server may leave a request unanswered until some other commit
// reaches it, and the test sends one op at a time, so nothing else would.
func (s *side) watchStalls(c *conn, ss *session) {
	c.stalled = s.stallHook(ss)
}

// stallHook is what a stalled reply to ss calls: a nudge in an ensemble,
// nothing (nil) on a standalone server.
func (s *side) stallHook(ss *session) func() {
	if !s.ensemble() {
		return nil
	}
	return func() { s.nudge(ss.node) }
}

// nudge commits something that reaches server k without touching the tree:
// it opens a session through another server and closes it (two txns, whose
// zxids appear only in reply headers, where the labeler ignores unanchored
// zxids). Not through k itself: a stalled server may not answer there.
func (s *side) nudge(k int) {
	s.nudges++
	via := (k + 1) % len(s.addrs)
	req := &proto.ConnectRequest{TimeOut: sessionTimeout, Passwd: make([]byte, 16)}
	c, resp, err := dial(s.ctx, s.addrs[via], req, 2*stallAfter, nil)
	if err != nil {
		return
	}
	defer c.close()
	if resp.SessionID != 0 {
		c.call(c.nextXid(), proto.OpCloseSession, nil)
	}
}

func (ss *session) sawZxid(z int64) {
	if z > ss.lastZxid {
		ss.lastZxid = z
	}
}

// keepalive pings sessions that have been quiet, stashing what they read so
// that the next compared op of that session reports it.
func (s *side) keepalive() error {
	now := time.Now()
	for i, ss := range s.all() {
		if now.Sub(ss.lastUse) < s.quietLimit {
			continue
		}
		// The reply's zxid is not recorded: setWatches uses the last zxid
		// a session saw, which must not depend on when keepalives ran.
		_, evs, err := ss.c.call(proto.XidPing, proto.OpPing, nil)
		ss.stash = append(ss.stash, evs...)
		if err != nil {
			return fmt.Errorf("%s: keepalive ping on session %d: %w", s.name, i, err)
		}
		ss.lastUse = now
	}
	return nil
}

// exec runs op o on this server.
func (s *side) exec(o op) *result {
	r := &result{}
	if err := s.keepalive(); err != nil {
		r.err = err
		return r
	}
	ss := s.sess[o.sess]
	if err := s.catchUp(ss); err != nil {
		r.err = err
		return r
	}
	ss.lastUse = time.Now()
	switch o.kind {
	case kindRequest:
		s.finish(ss, o, r, ss.c.nextXid(), o.req)
	case kindAuth:
		s.finish(ss, o, r, proto.XidAuth, o.req)
	case kindSetWatch:
		// Like a reconnecting client, relative to the last zxid this session saw.
		var req proto.Record
		switch q := o.req.(type) {
		case *proto.SetWatches:
			c := *q
			c.RelativeZxid = ss.lastZxid
			req = &c
		case *proto.SetWatches2:
			c := *q
			c.RelativeZxid = ss.lastZxid
			req = &c
		}
		s.finish(ss, o, r, proto.XidSetWatches, req)
	case kindPing:
		o.code = proto.OpPing
		s.finish(ss, o, r, proto.XidPing, nil)
	case kindReopen:
		rep, evs, err := ss.c.call(ss.c.nextXid(), proto.OpCloseSession, nil)
		r.events = evs
		if err == nil {
			r.hasHdr, r.hdr, r.bodyLen = true, rep.hdr, len(rep.body)
			ss.sawZxid(rep.hdr.Zxid)
			after, derr := ss.c.drainUntilClosed()
			r.after = after
			if derr != nil {
				r.notes = append(r.notes, "connection not closed by the server after closeSession: "+errKind(derr))
			}
		} else if errors.Is(err, errConnLost) {
			r.lost = true
		} else {
			r.err = err
			return r
		}
		ss.c.close()
		h, err := s.open(ss, o.sess, o.hasRO)
		if err != nil {
			r.err = err
			return r
		}
		r.conns = append(r.conns, h)
	case kindReconnect:
		// Collect pending notifications first so that what is dropped with
		// the connection does not depend on when keepalives ran.
		pr, evs, err := ss.c.call(proto.XidPing, proto.OpPing, nil)
		r.events = evs
		if err != nil {
			r.err = fmt.Errorf("ping before dropping the connection: %w", err)
			return r
		}
		ss.sawZxid(pr.hdr.Zxid)
		ss.c.close()
		if err := s.move(ss); err != nil {
			r.err = err
			return r
		}
		hs, err := s.resume(ss, o.sess, o.hasRO)
		r.conns = hs
		if err != nil {
			r.err = err
		}
	case kindOversize:
		// Collect pending notifications first: a reset connection may lose
		// what was still unread.
		pr, evs, err := ss.c.call(proto.XidPing, proto.OpPing, nil)
		r.events = evs
		if err != nil {
			r.err = fmt.Errorf("ping before oversized request: %w", err)
			return r
		}
		ss.sawZxid(pr.hdr.Zxid)
		s.finish(ss, o, r, ss.c.nextXid(), o.req)
	}
	r.events = append(ss.stash, r.events...)
	ss.stash = nil
	return r
}

// ensemble reports whether the side's sessions are spread over several
// servers.
func (s *side) ensemble() bool { return len(s.addrs) > 1 }

// catchUp makes the server of ss apply every write acknowledged so far (by
// any server of the ensemble) before ss's next op, with a sync outside the
// compared sequence: ops are issued one at a time, so the outcome of a read
// and the notifications it finds must not depend on how far its server lags.
// Notifications read with the sync's reply are owed to the next op.
func (s *side) catchUp(ss *session) error {
	if !s.ensemble() {
		return nil
	}
	// The reply's zxid is not recorded, as for keepalive pings.
	rep, evs, err := ss.c.call(ss.c.nextXid(), proto.OpSync, &proto.SyncRequest{Path: "/"})
	ss.stash = append(ss.stash, evs...)
	if err != nil {
		return fmt.Errorf("%s: sync before op on %s (server %d): %w", s.name, ss.label, ss.node, err)
	}
	if rep.hdr.Err != proto.OK {
		return fmt.Errorf("%s: sync before op on %s (server %d): %s", s.name, ss.label, ss.node, rep.hdr.Err.Name())
	}
	ss.lastUse = time.Now()
	return nil
}

// move sends ss's next connection to the next server of the ensemble, as a
// client does when its server goes away, after making that server catch up
// through its host session: a server that has not seen the session's
// last zxid refuses to resume it.
func (s *side) move(ss *session) error {
	if !s.ensemble() {
		return nil
	}
	ss.node = (ss.node + 1) % len(s.addrs)
	h := s.hosts[ss.node]
	if err := s.catchUp(h); err != nil {
		return err
	}
	if len(h.stash) > 0 {
		s.lab.violate("%s, which sets no watches, got %d notifications", h.label, len(h.stash))
		h.stash = nil
	}
	return nil
}

func errKind(err error) string {
	switch {
	case errors.Is(err, errTimeout):
		return "timeout"
	case errors.Is(err, errConnLost):
		return "closed"
	}
	return err.Error()
}

// finish sends req with xid, reads the reply and decodes it; a lost
// connection is resumed.
func (s *side) finish(ss *session, o op, r *result, xid int32, req proto.Record) {
	rep, evs, err := ss.c.call(xid, o.code, req)
	r.events = append(r.events, evs...)
	switch {
	case errors.Is(err, errConnLost):
		r.lost = true
		ss.c.close()
		hs, rerr := s.resume(ss, o.sess, true)
		r.conns = append(r.conns, hs...)
		if rerr != nil {
			r.err = rerr
		}
		return
	case err != nil:
		r.err = err
		return
	}
	ss.sawZxid(rep.hdr.Zxid)
	r.hasHdr, r.hdr, r.bodyLen = true, rep.hdr, len(rep.body)
	if len(rep.body) == 0 {
		if rep.hdr.Err == proto.OK && o.kind == kindRequest && proto.NewResponse(o.code) != nil {
			r.decErr = errors.New("missing body")
		}
		return
	}
	rec := proto.NewResponse(o.code)
	if o.kind != kindRequest && o.kind != kindOversize {
		rec = nil
	}
	if rec == nil {
		r.decErr = fmt.Errorf("unexpected %d-byte body", len(rep.body))
		return
	}
	if err := proto.Decode(rep.body, rec); err != nil {
		r.decErr = err
		return
	}
	r.resp = rec
}

// isTreeWrite reports whether a successful op of this code changes the tree,
// so that its zxid can appear in Stats.
func isTreeWrite(code proto.OpCode) bool {
	switch code {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL,
		proto.OpDelete, proto.OpSetData, proto.OpSetACL, proto.OpMulti:
		return true
	}
	return false
}

// multiSucceeded reports whether rec is a multi response without errors.
func multiSucceeded(rec proto.Record) bool {
	m, ok := rec.(*proto.MultiResponse)
	if !ok {
		return false
	}
	for _, r := range m.Results {
		if r.Type == proto.OpError {
			return false
		}
	}
	return true
}

// normalize turns r into comparable lines, first recording the zxid of a
// successful write.
func (s *side) normalize(o op, r *result) []string {
	l := s.lab
	anchored := false
	if r.hasHdr && r.hdr.Err == proto.OK {
		switch {
		case o.kind == kindRequest && o.code == proto.OpMulti:
			// Apache ZooKeeper 3.8 answers a failed multi with err 0 in the
			// header and the errors in the results.
			if m := o.req.(*proto.MultiRequest); len(m.Ops) > 0 && multiSucceeded(r.resp) {
				anchored = true
			}
		case o.kind == kindRequest && isTreeWrite(o.code), o.kind == kindReopen:
			anchored = true
		}
	}
	if anchored {
		l.anchor(r.hdr.Zxid, o.index)
	}
	var out []string
	for _, e := range r.events {
		out = append(out, l.event("event", e))
	}
	if r.err != nil {
		return append(out, "harness error: "+r.err.Error())
	}
	if r.lost {
		out = append(out, "connection closed by server")
	}
	if r.hasHdr {
		zxid := l.hdrZxid(r.hdr.Zxid)
		if s.ensemble() && !anchored {
			// Any other reply carries the last zxid its server applied,
			// and an Apache leader may apply a commit after a follower has
			// acknowledged it: after a sync on the leader the read's zxid
			// can be older than the last write another session saw.
			zxid = "(server's last)"
		}
		line := fmt.Sprintf("reply err=%s zxid=%s", r.hdr.Err.Name(), zxid)
		if r.decErr != nil {
			line += fmt.Sprintf(" body(%d bytes) undecodable: %v", r.bodyLen, r.decErr)
		} else if b := l.body(r.resp); b != "" {
			line += " " + b
		}
		out = append(out, line)
	}
	for _, e := range r.after {
		out = append(out, l.event("event after reply", e))
	}
	out = append(out, r.conns...)
	return append(out, r.notes...)
}

// reapKind says why a tracked node may be removed by the server itself.
type reapKind int

const (
	reapContainer reapKind = iota
	reapTTL
)

func (k reapKind) String() string {
	if k == reapTTL {
		return "ttl"
	}
	return "container"
}

// pendingReaps returns, of the tracked paths, those present on this server
// and those present that the server is due to remove.
func (s *side) pendingReaps(tracked map[string]reapKind) (present, pending []string, err error) {
	paths := make([]string, 0, len(tracked))
	for p := range tracked {
		paths = append(paths, p)
	}
	// Descendants before ancestors: a parent that becomes due when its
	// child is removed is then read after that removal.
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	ss := s.admin
	if err := s.catchUp(ss); err != nil {
		return nil, nil, err
	}
	for _, p := range paths {
		rep, evs, err := ss.c.call(ss.c.nextXid(), proto.OpExists, &proto.ExistsRequest{Path: p})
		ss.stash = append(ss.stash, evs...)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: exists %s: %w", s.name, p, err)
		}
		ss.lastUse = time.Now()
		if rep.hdr.Err == proto.ErrNoNode {
			continue
		}
		var st proto.ExistsResponse
		if rep.hdr.Err != proto.OK || proto.Decode(rep.body, &st) != nil {
			return nil, nil, fmt.Errorf("%s: exists %s: err %v, %d-byte body", s.name, p, rep.hdr.Err, len(rep.body))
		}
		present = append(present, p)
		if st.Stat.NumChildren == 0 && (tracked[p] == reapTTL || st.Stat.Cversion > 0) {
			pending = append(pending, p)
		}
	}
	return present, pending, nil
}

// settle waits until no tracked node is due for removal, or until limit,
// and returns the tracked paths still present and those still due.
func (s *side) settle(tracked map[string]reapKind, limit time.Duration) (present, pending []string, err error) {
	deadline := time.Now().Add(limit)
	nextNudge := time.Now().Add(stallAfter)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last []string
	for settled := false; ; {
		present, pending, err := s.pendingReaps(tracked)
		if err != nil || time.Now().After(deadline) {
			return present, pending, err
		}
		// The leader's reaper submits its deletions like a client; on
		// Apache 3.8.0 they can stall as client requests do (see
		// watchStalls), with no reply for the harness to notice.
		if len(pending) > 0 && s.ensemble() && time.Now().After(nextNudge) {
			s.nudge(0)
			nextNudge = time.Now().Add(stallAfter)
		}
		// Done after two rounds in a row found nothing due and the same
		// nodes present.
		if len(pending) == 0 && settled && slices.Equal(present, last) {
			return present, nil, nil
		}
		settled, last = len(pending) == 0, present
		if settled {
			continue
		}
		select {
		case <-s.ctx.Done():
			return nil, nil, s.ctx.Err()
		case <-tick.C:
		}
	}
}

// dump lists every node with its data, Stat and ACL, read by the admin
// session (a superuser).
func (s *side) dump() ([]string, error) {
	var out []string
	ss := s.admin
	if err := s.catchUp(ss); err != nil {
		return nil, err
	}
	call := func(op proto.OpCode, req, resp proto.Record) (proto.Code, error) {
		rep, evs, err := ss.c.call(ss.c.nextXid(), op, req)
		ss.stash = append(ss.stash, evs...)
		if err != nil {
			return 0, fmt.Errorf("%s: dump %v: %w", s.name, op, err)
		}
		ss.lastUse = time.Now()
		if rep.hdr.Err != proto.OK {
			return rep.hdr.Err, nil
		}
		return proto.OK, proto.Decode(rep.body, resp)
	}
	var walk func(p string) error
	walk = func(p string) error {
		var ch proto.GetChildren2Response
		code, err := call(proto.OpGetChildren2, &proto.GetChildren2Request{Path: p}, &ch)
		if err != nil {
			return err
		}
		if code != proto.OK {
			out = append(out, fmt.Sprintf("%s getChildren2 %s", p, code.Name()))
			return nil
		}
		var data proto.GetDataResponse
		dcode, err := call(proto.OpGetData, &proto.GetDataRequest{Path: p}, &data)
		if err != nil {
			return err
		}
		var acl proto.GetACLResponse
		acode, err := call(proto.OpGetACL, &proto.GetACLRequest{Path: p}, &acl)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s", p, s.lab.stat(&ch.Stat))
		if dcode == proto.OK {
			line += " data=" + dataString(data.Data)
		} else {
			line += " getData " + dcode.Name()
		}
		if acode == proto.OK {
			line += " acl=" + aclString(acl.ACL)
		} else {
			line += " getACL " + acode.Name()
		}
		out = append(out, line)
		kids := append([]string(nil), ch.Children...)
		sort.Strings(kids)
		for _, k := range kids {
			child := p + "/" + k
			if p == "/" {
				child = "/" + k
			}
			if err := walk(child); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("/"); err != nil {
		return nil, err
	}
	// The admin session sets no watches, so nothing should have arrived.
	if len(ss.stash) > 0 {
		s.lab.violate("admin session without watches got %d notifications", len(ss.stash))
		ss.stash = nil
	}
	return out, nil
}

func (r *result) summary() string {
	var parts []string
	if r.lost {
		parts = append(parts, "lost")
	}
	if r.hasHdr {
		parts = append(parts, r.hdr.Err.Name())
	}
	if m, ok := r.resp.(*proto.MultiResponse); ok {
		for _, res := range m.Results {
			if res.Type == proto.OpError && res.Err != proto.OK && res.Err != proto.ErrRuntimeInconsistency {
				parts = append(parts, "failed with "+res.Err.Name())
				break
			}
		}
	}
	if len(r.events) > 0 {
		parts = append(parts, fmt.Sprintf("%d events", len(r.events)))
	}
	return strings.Join(parts, ", ")
}
