package server

import (
	"bytes"

	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
)

// roSessions are the sessions of a server in read-only mode: local to it,
// never logged (nothing can be logged without a leader), and dropped when a
// leader is elected, as Apache's ReadOnlyZooKeeperServer drops its own.
// Their clients then reconnect and get read-write sessions.
type roSessions struct {
	mu lockorder.Mutex
	m  map[int64][]byte // guarded by mu: session id → password
}

func (r *roSessions) init(locks *lockorder.Checker) {
	r.mu.Init(locks, &rankReadOnly)
	r.m = make(map[int64][]byte)
}

func (r *roSessions) add(id int64, passwd []byte) {
	r.mu.Lock()
	r.m[id] = passwd
	r.mu.Unlock()
}

// valid reports whether id is a read-only session with this password.
func (r *roSessions) valid(id int64, passwd []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.m[id]
	return ok && bytes.Equal(p, passwd)
}

func (r *roSessions) remove(id int64) {
	r.mu.Lock()
	delete(r.m, id)
	r.mu.Unlock()
}

func (r *roSessions) clear() {
	r.mu.Lock()
	clear(r.m)
	r.mu.Unlock()
}

// handshakeReadOnly answers a connect request while the server is in
// read-only mode: only clients that accept a read-only server get (or
// resume) a local session; the reply says the server is read-only.
func (c *conn) handshakeReadOnly(req *proto.ConnectRequest, timeout int32) bool {
	s := c.srv
	if !req.ReadOnly {
		s.logger.Info("refusing session of a client that does not accept a read-only server", "client", c.remote)
		return false
	}
	resp := proto.ConnectResponse{TimeOut: timeout, HasReadOnly: req.HasReadOnly, ReadOnly: true}
	switch {
	case req.SessionID == 0:
		resp.SessionID, resp.Passwd = s.newSessionID(), newPassword()
		s.ro.add(resp.SessionID, resp.Passwd)
	case s.ro.valid(req.SessionID, req.Passwd):
		resp.SessionID, resp.Passwd = req.SessionID, req.Passwd
	default:
		// A read-write session cannot be resumed here: no write could
		// reach the log. The client tries another server, or starts over.
		s.logger.Info("refusing to resume a session in read-only mode", "session", sessionHex(req.SessionID), "client", c.remote)
		c.refuseExpired(req)
		return false
	}
	c.sessionID, c.timeout, c.readOnly = resp.SessionID, resp.TimeOut, true
	s.bind(c, c.sessionID)
	if _, err := c.nc.Write(proto.AppendFrame(nil, proto.Encode(&resp))); err != nil {
		return false
	}
	s.logger.Debug("read-only session established", "session", sessionHex(c.sessionID), "client", c.remote)
	return true
}

// readOnlyRefuses reports whether a read-only connection must answer op
// with NotReadOnly, as Apache's ReadOnlyRequestProcessor does: every write,
// and sync.
func readOnlyRefuses(op proto.OpCode) bool {
	return isWrite(op) || op == proto.OpSync || op == proto.OpReconfig
}
