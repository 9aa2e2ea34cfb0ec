package server

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/replication"
)

// sessionOwners is which server serves each session, as the leader knows
// it: the server that created it, or the last one a client resumed it on
// (Claim). The leader refuses a write from any other server with
// SessionMoved, as Apache ZooKeeper's PrepRequestProcessor does, so that a
// client's old connection cannot write once its session moved. A session
// whose owner is unknown (after a change of leader) is owned by the first
// server that writes for it.
type sessionOwners struct {
	mu lockorder.Mutex
	m  map[int64]int64 // guarded by mu: session → server id
}

func (o *sessionOwners) init(locks *lockorder.Checker) {
	o.mu.Init(locks, &rankOwners)
	o.m = make(map[int64]int64)
}

func (o *sessionOwners) set(session, server int64) {
	o.mu.Lock()
	o.m[session] = server
	o.mu.Unlock()
}

func (o *sessionOwners) forget(session int64) {
	o.mu.Lock()
	delete(o.m, session)
	o.mu.Unlock()
}

func (o *sessionOwners) reset() {
	o.mu.Lock()
	clear(o.m)
	o.mu.Unlock()
}

// check reports whether server may write for session, making it the owner
// if the session has none.
func (o *sessionOwners) check(session, server int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	owner, ok := o.m[session]
	if !ok {
		o.m[session] = server
		return true
	}
	return owner == server
}

// errSessionMoved refuses a write from a server that no longer serves the
// session; the client gets SessionMoved.
func errSessionMoved(session int64) error {
	return &replication.CodedError{Code: int32(proto.ErrSessionMoved), Msg: "server: session " + sessionHex(session) + " moved to another server"}
}

// ownerChecked reports whether the leader checks the owner of op: every
// write of a client, but not createSession (it makes the owner), nor
// closeSession (the leader expires sessions it does not serve), nor the
// reaper's deleteContainer.
func ownerChecked(op proto.OpCode) bool {
	switch op {
	case proto.OpCreateSession, proto.OpCloseSession, proto.OpDeleteContainer:
		return false
	}
	return true
}

// checkForwarded is the leader's owner check of an encoded txn a follower
// forwarded: its origin, session and op sit at fixed offsets.
func (s *Server) checkForwarded(cmd []byte) error {
	const originAt, sessionAt, opAt = 4, 4 + 8 + 8, 4 + 8 + 8 + 8 + 4 + 8
	if len(cmd) < opAt+4 {
		return errors.New("server: forwarded txn too short")
	}
	origin := int64(binary.BigEndian.Uint64(cmd[originAt:]))
	session := int64(binary.BigEndian.Uint64(cmd[sessionAt:]))
	op := proto.OpCode(int32(binary.BigEndian.Uint32(cmd[opAt:])))
	if ownerChecked(op) && !s.owners.check(session, origin) {
		return errSessionMoved(session)
	}
	return nil
}

// claim is the leader's side of a session resumed on server from.
func (s *Server) claim(from string, session int64) error {
	id, err := strconv.ParseInt(from, 10, 64)
	if err != nil {
		return err
	}
	s.db.mu.RLock()
	_, live := s.db.sessions[session]
	s.db.mu.RUnlock()
	if !live || s.tracker.closing(session) {
		return &replication.CodedError{Code: int32(proto.ErrSessionExpired), Msg: "server: session " + sessionHex(session) + " expired"}
	}
	s.owners.set(session, id)
	return nil
}
