package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"time"

	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/replication"
	"github.com/zkgo/zkgo/server/tree"
)

// sessionInfo is the replicated part of a session: every replica knows every
// session, so any server can resume it.
type sessionInfo struct {
	timeout int32 // negotiated, ms
	passwd  []byte
}

// database is the replicated state machine: the znode tree, the sessions and
// the zxid counter. The replication layer applies committed txns to it in log
// order on one goroutine; readers take mu.RLock.
//
// Lock order: see locks.go.
type database struct {
	srv *Server

	// v1Flags are the flags of version 1 txns, which predate flags: this
	// server's own settings, which applied them when they were written.
	v1Flags txnFlags

	mu lockorder.RWMutex
	// guarded by mu
	tree     *tree.Tree
	sessions map[int64]*sessionInfo
	zxid     int64 // last applied ZooKeeper txn
	// halted is set when a txn cannot be applied: nothing after it is
	// applied or snapshotted, and the server stops.
	halted error
}

func newDatabase(srv *Server, v1Flags txnFlags) *database {
	db := &database{srv: srv, v1Flags: v1Flags, tree: tree.New(), sessions: make(map[int64]*sessionInfo)}
	db.initConfigNode(db.tree)
	return db
}

// initConfigNode writes an ensemble member's membership into
// "/zookeeper/config" of t, as each Apache ZooKeeper server does when it
// starts and after it loads a snapshot (the node is local state: a snapshot
// from another member, or from before a restart, carries an older mtime).
// A standalone server leaves the node empty, as Apache's does.
func (db *database) initConfigNode(t *tree.Tree) {
	cfg := db.srv.cfg
	if cfg == nil || !cfg.Distributed() {
		return
	}
	// Version 0: the static configuration, never reconfigured.
	t.SetConfigNode([]byte(cfg.Membership(0)), 0, time.Now().UnixMilli())
}

// lastZxid returns the zxid of the last applied txn.
func (db *database) lastZxid() int64 {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.zxid
}

// ErrHalted is wrapped by the error a server stops with when its log holds
// a txn it cannot apply.
var ErrHalted = errors.New("server: cannot apply the replicated log")

// Apply implements replication.FSM.
func (db *database) Apply(index uint64, cmd []byte) any {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.halted != nil {
		return nil
	}
	t, err := decodeTxn(cmd, db.v1Flags)
	if err != nil {
		// A txn this server cannot decode was written by a newer or broken
		// server. Applying anything after it would diverge from the other
		// replicas, so stop here; the entry stays in the log for a server
		// that can apply it.
		db.halted = fmt.Errorf("%w: log entry %d: %w", ErrHalted, index, err)
		db.srv.halt(db.halted)
		return nil
	}
	db.zxid++
	res := db.applyLocked(t)
	res.zxid = db.zxid
	db.srv.applied(t, res)
	return nil
}

// txnResult is the outcome of applying one txn.
type txnResult struct {
	zxid int64
	err  proto.Code
	resp proto.Record // nil for header-only replies
	// events fired by the txn, in order, with the ACL of the node each concerns.
	events []firedEvent
}

type firedEvent struct {
	typ  proto.EventType
	path string
	acl  []proto.ACL
}

func (r *txnResult) fire(typ proto.EventType, path string, acl []proto.ACL) {
	r.events = append(r.events, firedEvent{typ, path, acl})
}

// applyLocked applies t to the state. db.mu is held.
func (db *database) applyLocked(t *txn) txnResult {
	var res txnResult
	switch t.op {
	case proto.OpCreateSession:
		if _, ok := db.sessions[t.sessionID]; ok {
			// Two servers made the same id (session ids come from the
			// server id and its boot time): the second session is refused,
			// never merged into the first.
			res.err = proto.ErrSessionMoved
			return res
		}
		db.sessions[t.sessionID] = &sessionInfo{timeout: t.timeout, passwd: t.passwd}
		return res
	case proto.OpCloseSession:
		if _, ok := db.sessions[t.sessionID]; !ok {
			// Closing an unknown session is harmless: it already went.
			return res
		}
		db.killSessionLocked(t.sessionID, &res)
		return res
	case proto.OpDeleteContainer:
		node, ok := db.tree.Get(t.path)
		if !ok {
			res.err = proto.ErrNoNode
			return res
		}
		if t.flags&txnReapCheck != 0 && !db.tree.ReapDue(t.path, t.czxid, t.time) {
			// No longer the node the reaper chose, or no longer due.
			res.err = proto.ErrBadVersion
			return res
		}
		if err := db.tree.DeleteContainer(t.path, db.zxid); err != nil {
			res.err = proto.AsCode(err)
			return res
		}
		db.fireDeleteLocked(t.path, node.ACL(), &res)
		return res
	}
	if _, ok := db.sessions[t.sessionID]; !ok {
		res.err = proto.ErrSessionExpired
		return res
	}
	req := proto.NewRequest(t.op)
	if req == nil {
		res.err = proto.ErrUnimplemented
		return res
	}
	d := proto.NewDecoder(t.body)
	d.MaxBuffer = len(t.body)
	if err := req.Decode(d); err != nil {
		res.err = proto.ErrMarshallingError
		return res
	}
	ctx := applyCtx{db: db, t: t, res: &res}
	switch r := req.(type) {
	case *proto.CreateRequest:
		res.resp, res.err = ctx.create(t.op, r.Path, r.Data, r.ACL, r.Flags, 0)
	case *proto.CreateTTLRequest:
		res.resp, res.err = ctx.create(t.op, r.Path, r.Data, r.ACL, r.Flags, r.TTL)
	case *proto.DeleteRequest:
		res.err = ctx.delete(r.Path, r.Version)
	case *proto.SetDataRequest:
		res.resp, res.err = ctx.setData(r.Path, r.Data, r.Version)
	case *proto.SetACLRequest:
		res.resp, res.err = ctx.setACL(r.Path, r.ACL, r.Version)
	case *proto.CheckVersionRequest:
		res.resp, res.err = ctx.check(r.Path, r.Version)
	case *proto.MultiRequest:
		res.resp, res.err = ctx.multi(r)
	default:
		res.err = proto.ErrUnimplemented
	}
	return res
}

// killSessionLocked removes a session and its ephemerals, firing their watches.
func (db *database) killSessionLocked(id int64, res *txnResult) {
	// Apache ZooKeeper's order, which clients see in the order of the
	// NodeDeleted events. The resulting tree does not depend on it, so
	// replicas whose peaks differ (one restored from a snapshot) stay equal.
	paths := ephemeralOrder(db.tree, id)
	defer db.tree.ForgetOwner(id)
	for _, p := range paths {
		node, ok := db.tree.Get(p)
		if !ok {
			continue
		}
		if err := db.tree.Delete(p, -1, db.zxid, nil); err != nil {
			db.srv.logger.Warn("deleting ephemeral of closed session", "session", sessionHex(id), "path", p, "err", err)
			continue
		}
		db.fireDeleteLocked(p, node.ACL(), res)
	}
	delete(db.sessions, id)
}

func (db *database) fireDeleteLocked(path string, acl []proto.ACL, res *txnResult) {
	res.fire(proto.EventNodeDeleted, path, acl)
	parent := parentPath(path)
	if pn, ok := db.tree.Get(parent); ok {
		res.fire(proto.EventNodeChildrenChanged, parent, pn.ACL())
	}
}

// --- snapshots ---

const snapshotMagic = "ZKGS"
const snapshotVersion = 1

// ErrCorruptSnapshot is wrapped by errors restoring a damaged snapshot.
var ErrCorruptSnapshot = errors.New("server: corrupt snapshot")

// dbSnapshot is a point-in-time view of the database.
type dbSnapshot struct {
	zxid     int64
	sessions map[int64]sessionInfo
	tree     *tree.Tree
}

// Snapshot implements replication.FSM: an O(1) view of the tree plus a copy
// of the (small) session table.
func (db *database) Snapshot() (replication.Snapshot, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.halted != nil {
		// A snapshot would record entries as applied that were skipped,
		// and let raft trim them from the log.
		return nil, db.halted
	}
	s := &dbSnapshot{zxid: db.zxid, sessions: make(map[int64]sessionInfo, len(db.sessions)), tree: db.tree.Clone()}
	for id, si := range db.sessions {
		s.sessions[id] = *si
	}
	return s, nil
}

// Persist writes the snapshot: magic, version, zxid, sessions with a CRC, then
// the tree's own checksummed stream.
func (s *dbSnapshot) Persist(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	e := proto.NewEncoder(nil)
	e.Raw([]byte(snapshotMagic))
	e.Int(snapshotVersion)
	e.Long(s.zxid)
	ids := make([]int64, 0, len(s.sessions))
	for id := range s.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	e.Int(int32(len(ids)))
	for _, id := range ids {
		e.Long(id)
		e.Int(s.sessions[id].timeout)
		e.Buffer(s.sessions[id].passwd)
	}
	e.Int(int32(crc32.ChecksumIEEE(e.Bytes())))
	if _, err := bw.Write(e.Bytes()); err != nil {
		return err
	}
	if _, err := s.tree.WriteTo(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// Release implements replication.Snapshot.
func (s *dbSnapshot) Release() {}

// Restore implements replication.FSM.
func (db *database) Restore(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	head := make([]byte, 4+4+8+4)
	if _, err := io.ReadFull(br, head); err != nil {
		return fmt.Errorf("%w: header: %v", ErrCorruptSnapshot, err)
	}
	if string(head[:4]) != snapshotMagic {
		return fmt.Errorf("%w: bad magic %q", ErrCorruptSnapshot, head[:4])
	}
	if v := binary.BigEndian.Uint32(head[4:8]); v != snapshotVersion {
		return fmt.Errorf("%w: unknown version %d", ErrCorruptSnapshot, v)
	}
	zxid := int64(binary.BigEndian.Uint64(head[8:16]))
	n := int(int32(binary.BigEndian.Uint32(head[16:20])))
	if n < 0 {
		return fmt.Errorf("%w: negative session count", ErrCorruptSnapshot)
	}
	crc := crc32.NewIEEE()
	crc.Write(head)
	sessions := make(map[int64]*sessionInfo, n)
	for i := 0; i < n; i++ {
		var fixed [16]byte
		if _, err := io.ReadFull(br, fixed[:]); err != nil {
			return fmt.Errorf("%w: session %d: %v", ErrCorruptSnapshot, i, err)
		}
		crc.Write(fixed[:])
		plen := int(int32(binary.BigEndian.Uint32(fixed[12:16])))
		if plen < 0 || plen > 256 {
			return fmt.Errorf("%w: session %d: password length %d", ErrCorruptSnapshot, i, plen)
		}
		pw := make([]byte, plen)
		if _, err := io.ReadFull(br, pw); err != nil {
			return fmt.Errorf("%w: session %d: %v", ErrCorruptSnapshot, i, err)
		}
		crc.Write(pw)
		id := int64(binary.BigEndian.Uint64(fixed[0:8]))
		sessions[id] = &sessionInfo{timeout: int32(binary.BigEndian.Uint32(fixed[8:12])), passwd: pw}
	}
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return fmt.Errorf("%w: session checksum: %v", ErrCorruptSnapshot, err)
	}
	if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
		return fmt.Errorf("%w: session table checksum mismatch", ErrCorruptSnapshot)
	}
	t, err := tree.ReadTree(br)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorruptSnapshot, err)
	}
	db.initConfigNode(t)
	db.mu.Lock()
	db.tree, db.sessions, db.zxid = t, sessions, zxid
	db.mu.Unlock()
	db.srv.restored()
	return nil
}
