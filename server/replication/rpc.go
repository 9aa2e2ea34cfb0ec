package replication

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// The cluster RPC: what followers and observers ask of the leader, on each
// server's cluster port (zoo.cfg server.N port2), beside raft's own
// transport. Every server listens; only the leader answers calls.
//
// A frame is a uint32 length of what follows, a kind byte, a uint64 call id
// and a body. Calls on one connection are handled in the order they arrive,
// so commands forwarded by one follower are logged in its submission order.
// Replies may come in any order and are matched by call id.
const (
	rpcForward   byte = 1    // body: a command; reply: uint64 log index
	rpcReadIndex byte = 2    // body: empty; reply: uint64 read index
	rpcTouch     byte = 3    // body: uint16 len + sender id, uint32 n, n × int64; one-way, no reply
	rpcStatus    byte = 4    // body: empty; reply: uint64 last log index (any server answers)
	rpcClaim     byte = 5    // body: as rpcTouch, with one key; reply: uint64 0
	rpcOK        byte = 0x80 // body: uint64
	rpcErr       byte = 0x81 // body: uint8 errCode, then the message
)

// Error codes of an rpcErr frame, so that a follower returns the same
// sentinels a leader would.
const (
	rpcErrOther byte = iota
	rpcErrNotLeader
	rpcErrLeadershipLost
	rpcErrShutdown
	rpcErrCoded // then an int32 code (CodedError)
)

// CodedError is how a leader's LeaderHooks refuse a request with a code of
// the application's (a ZooKeeper error code): the follower that sent it gets
// a *CodedError with the same code back.
type CodedError struct {
	Code int32
	Msg  string
}

func (e *CodedError) Error() string { return e.Msg }

// maxRPCFrame bounds one frame: a command is at most a ZooKeeper request
// (jute.maxbuffer, 1 MB by default) plus the server's txn header.
const maxRPCFrame = 64 << 20

// rpcDialTimeout bounds a follower's dial of the leader's cluster port.
const rpcDialTimeout = 3 * time.Second

// LeaderHooks is implemented by the server above: a leader calls it for
// what followers send. Both methods are called on the connection's reader
// goroutine and must not block.
type LeaderHooks interface {
	// PrepareForwarded is called on the leader for a command a follower
	// forwards, before it is logged. It returns the command to log (for
	// example with the leader's clock stamped in) or an error to refuse it.
	PrepareForwarded(cmd []byte) ([]byte, error)
	// Touched tells the leader of activity on keys (session ids) that a
	// follower saw.
	Touched(keys []int64)
	// Claim tells the leader that server from now serves key (a session
	// that moved there); an error refuses it.
	Claim(from string, key int64) error
}

func writeFrame(w io.Writer, kind byte, id uint64, body ...[]byte) error {
	n := 9
	for _, b := range body {
		n += len(b)
	}
	buf := make([]byte, 4, 4+n)
	binary.BigEndian.PutUint32(buf, uint32(n))
	buf = append(buf, kind)
	buf = binary.BigEndian.AppendUint64(buf, id)
	for _, b := range body {
		buf = append(buf, b...)
	}
	_, err := w.Write(buf)
	return err
}

func readFrame(r io.Reader) (kind byte, id uint64, body []byte, err error) {
	var hdr [13]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 9 || n > maxRPCFrame {
		return 0, 0, nil, fmt.Errorf("replication: cluster RPC frame of %d bytes", n)
	}
	body = make([]byte, n-9)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, nil, err
	}
	return hdr[4], binary.BigEndian.Uint64(hdr[5:13]), body, nil
}

func errFrameBody(err error) []byte {
	var ce *CodedError
	if errors.As(err, &ce) {
		b := binary.BigEndian.AppendUint32([]byte{rpcErrCoded}, uint32(ce.Code))
		return append(b, ce.Msg...)
	}
	code := rpcErrOther
	switch {
	case errors.Is(err, ErrNotLeader):
		code = rpcErrNotLeader
	case errors.Is(err, ErrLeadershipLost):
		code = rpcErrLeadershipLost
	case errors.Is(err, ErrShutdown):
		code = rpcErrShutdown
	}
	return append([]byte{code}, err.Error()...)
}

func errFromFrame(body []byte) error {
	if len(body) == 0 {
		return errors.New("replication: leader: empty error")
	}
	msg := string(body[1:])
	if body[0] == rpcErrCoded && len(body) >= 5 {
		return &CodedError{Code: int32(binary.BigEndian.Uint32(body[1:5])), Msg: string(body[5:])}
	}
	switch body[0] {
	case rpcErrNotLeader:
		return fmt.Errorf("%w (leader said: %s)", ErrNotLeader, msg)
	case rpcErrLeadershipLost:
		return fmt.Errorf("%w (leader said: %s)", ErrLeadershipLost, msg)
	case rpcErrShutdown:
		// The leader is going away: for this server the outcome is unknown.
		return fmt.Errorf("%w (leader said: %s)", ErrLeadershipLost, msg)
	}
	return fmt.Errorf("replication: leader: %s", msg)
}

// rpcServer answers the cluster RPC on this server's cluster port.
type rpcServer struct {
	n  *Node
	ln net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // guarded by mu
	closed bool                  // guarded by mu
	wg     sync.WaitGroup
}

func (s *rpcServer) serve() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if !closed {
				s.n.cfg.Logger.Warn("cluster port stopped accepting", "err", err)
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(nc)
	}
}

func (s *rpcServer) close() {
	s.mu.Lock()
	s.closed = true
	s.ln.Close()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// handle serves one follower's connection: calls in arrival order, replies
// written under wmu as they complete.
func (s *rpcServer) handle(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		nc.Close()
	}()
	var wmu sync.Mutex
	reply := func(id uint64, v uint64, err error) {
		wmu.Lock()
		defer wmu.Unlock()
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err != nil {
			writeFrame(nc, rpcErr, id, errFrameBody(err))
			return
		}
		writeFrame(nc, rpcOK, id, binary.BigEndian.AppendUint64(nil, v))
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	for {
		kind, id, body, err := readFrame(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.n.cfg.Logger.Warn("closing cluster connection", "peer", nc.RemoteAddr().String(), "err", err)
			}
			return
		}
		switch kind {
		case rpcForward:
			s.n.proposeForwarded(body, func(index uint64, err error) { reply(id, index, err) })
		case rpcReadIndex:
			s.n.goFunc(func() {
				ctx, cancel := context.WithTimeout(context.Background(), s.n.cfg.HeartbeatTimeout*4)
				defer cancel()
				index, err := s.n.ReadIndex(ctx)
				reply(id, index, err)
			})
		case rpcStatus:
			reply(id, s.n.raft.LastIndex(), nil)
		case rpcClaim:
			from, keys, ok := decodeKeys(body)
			if !ok || len(keys) != 1 {
				s.n.cfg.Logger.Warn("closing cluster connection: bad claim", "peer", nc.RemoteAddr().String())
				return
			}
			reply(id, 0, s.n.claimLocal(from, keys[0]))
		case rpcTouch:
			from, keys, ok := decodeKeys(body)
			if !ok {
				s.n.cfg.Logger.Warn("closing cluster connection: bad touch", "peer", nc.RemoteAddr().String())
				return
			}
			if s.n.isLeader() {
				s.n.peerSeen(from)
				if h := s.n.cfg.Hooks; h != nil && len(keys) > 0 {
					h.Touched(keys)
				}
			}
		default:
			s.n.cfg.Logger.Warn("closing cluster connection: unknown call", "peer", nc.RemoteAddr().String(), "kind", kind)
			return
		}
	}
}

// leaderConn is a follower's connection to the leader's cluster port.
type leaderConn struct {
	leaderID string
	nc       net.Conn
	wmu      sync.Mutex // serializes writes

	mu      sync.Mutex
	nextID  uint64                         // guarded by mu
	pending map[uint64]func(uint64, error) // guarded by mu; nil once closed
	err     error                          // guarded by mu: why it closed
}

// call sends a frame; cb (may be nil for one-way frames) gets the reply, or
// an error if the connection fails first.
func (lc *leaderConn) call(kind byte, body []byte, cb func(uint64, error)) {
	lc.mu.Lock()
	if lc.pending == nil {
		err := lc.err
		lc.mu.Unlock()
		if cb != nil {
			cb(0, err)
		}
		return
	}
	lc.nextID++
	id := lc.nextID
	if cb != nil {
		lc.pending[id] = cb
	}
	lc.mu.Unlock()
	lc.wmu.Lock()
	lc.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := writeFrame(lc.nc, kind, id, body)
	lc.wmu.Unlock()
	if err != nil {
		lc.fail(fmt.Errorf("%w: sending to leader %s: %w", ErrLeadershipLost, lc.leaderID, err))
	}
}

// fail closes the connection and fails every pending call with err.
func (lc *leaderConn) fail(err error) {
	lc.mu.Lock()
	pending := lc.pending
	if pending != nil {
		lc.pending = nil
		lc.err = err
	}
	lc.mu.Unlock()
	lc.nc.Close()
	for _, cb := range pending {
		cb(0, err)
	}
}

// readLoop dispatches replies until the connection fails.
func (lc *leaderConn) readLoop() {
	br := bufio.NewReaderSize(lc.nc, 64<<10)
	for {
		kind, id, body, err := readFrame(br)
		if err != nil {
			lc.fail(fmt.Errorf("%w: connection to leader %s: %w", ErrLeadershipLost, lc.leaderID, err))
			return
		}
		lc.mu.Lock()
		cb := lc.pending[id]
		delete(lc.pending, id)
		lc.mu.Unlock()
		if cb == nil {
			continue
		}
		switch {
		case kind == rpcOK && len(body) == 8:
			cb(binary.BigEndian.Uint64(body), nil)
		case kind == rpcErr:
			cb(0, errFromFrame(body))
		default:
			lc.fail(fmt.Errorf("%w: leader %s sent a bad reply (kind %d, %d bytes)", ErrLeadershipLost, lc.leaderID, kind, len(body)))
			return
		}
	}
}

// toLeader returns the connection to the current leader, dialing it if
// needed; a connection to a former leader is closed, failing its calls.
func (n *Node) toLeader() (*leaderConn, error) {
	_, id := n.raft.LeaderWithID()
	n.rpcMu.Lock()
	defer n.rpcMu.Unlock()
	n.goMu.Lock()
	stopped := n.goStopped
	n.goMu.Unlock()
	if stopped {
		return nil, ErrShutdown
	}
	if lc := n.leaderConn; lc != nil {
		lc.mu.Lock()
		alive := lc.pending != nil
		lc.mu.Unlock()
		if alive && lc.leaderID == string(id) {
			return lc, nil
		}
		lc.fail(fmt.Errorf("%w: leader changed from %s to %q", ErrLeadershipLost, lc.leaderID, id))
		n.leaderConn = nil
	}
	if id == "" {
		return nil, fmt.Errorf("%w: no leader known", ErrNotLeader)
	}
	addr := n.rpcAddrs[string(id)]
	if addr == "" {
		return nil, fmt.Errorf("%w: no cluster address for leader %s", ErrNotLeader, id)
	}
	nc, err := net.DialTimeout("tcp", addr, rpcDialTimeout)
	if err != nil {
		n.setReachable(string(id), false)
		return nil, fmt.Errorf("%w: dialing leader %s at %s: %w", ErrNotLeader, id, addr, err)
	}
	n.setReachable(string(id), true)
	lc := &leaderConn{leaderID: string(id), nc: nc, pending: make(map[uint64]func(uint64, error))}
	n.leaderConn = lc
	n.goFunc(func() {
		lc.readLoop()
		n.leaderConnLost(lc.leaderID)
	})
	return lc, nil
}

// closeLeaderConn closes the connection to the leader (at shutdown).
func (n *Node) closeLeaderConn(err error) {
	n.rpcMu.Lock()
	lc := n.leaderConn
	n.leaderConn = nil
	n.rpcMu.Unlock()
	if lc != nil {
		lc.fail(err)
	}
}

// forward sends a command to the leader; done gets the log index it was
// logged at once the leader applied it, or an error.
func (n *Node) forward(cmd []byte, done func(uint64, error)) {
	lc, err := n.toLeader()
	if err != nil {
		done(0, err)
		return
	}
	lc.call(rpcForward, cmd, done)
}

// Touch tells the leader of activity on keys (session ids): on the leader
// it calls LeaderHooks.Touched directly, elsewhere it sends them without
// waiting; dropped when there is no leader. Followers call it every half
// tick, even with no keys: that is how the leader knows which followers are
// in touch (Followers).
func (n *Node) Touch(keys []int64) {
	if n.isLeader() {
		if h := n.cfg.Hooks; h != nil && len(keys) > 0 {
			h.Touched(keys)
		}
		return
	}
	lc, err := n.toLeader()
	if err != nil {
		return
	}
	lc.call(rpcTouch, encodeKeys(n.cfg.ID, keys), nil)
}

// encodeKeys is the body of touch and claim frames: the sender's id and
// keys (session ids).
func encodeKeys(from string, keys []int64) []byte {
	body := make([]byte, 0, 2+len(from)+4+8*len(keys))
	body = binary.BigEndian.AppendUint16(body, uint16(len(from)))
	body = append(body, from...)
	body = binary.BigEndian.AppendUint32(body, uint32(len(keys)))
	for _, k := range keys {
		body = binary.BigEndian.AppendUint64(body, uint64(k))
	}
	return body
}

func decodeKeys(body []byte) (from string, keys []int64, ok bool) {
	if len(body) < 2 {
		return "", nil, false
	}
	l := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+l+4 {
		return "", nil, false
	}
	from = string(body[2 : 2+l])
	body = body[2+l:]
	k := int(binary.BigEndian.Uint32(body))
	if k < 0 || len(body) != 4+8*k {
		return "", nil, false
	}
	keys = make([]int64, k)
	for i := range keys {
		keys[i] = int64(binary.BigEndian.Uint64(body[4+8*i:]))
	}
	return from, keys, true
}

// Claim tells the leader that this server now serves key (a session that
// moved here), and returns the leader's refusal if any (a *CodedError from
// its LeaderHooks), ErrNotLeader without a leader, or ctx's error.
func (n *Node) Claim(ctx context.Context, key int64) error {
	if n.isLeader() {
		return n.claimLocal(n.cfg.ID, key)
	}
	lc, err := n.toLeader()
	if err != nil {
		return err
	}
	ch := make(chan error, 1)
	lc.call(rpcClaim, encodeKeys(n.cfg.ID, []int64{key}), func(_ uint64, err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// claimLocal is the leader's side of Claim.
func (n *Node) claimLocal(from string, key int64) error {
	if !n.isLeader() {
		return ErrNotLeader
	}
	if h := n.cfg.Hooks; h != nil {
		return h.Claim(from, key)
	}
	return nil
}

// peerSeen records that follower id was heard from now (leader side).
func (n *Node) peerSeen(id string) {
	n.peersMu.Lock()
	n.peers[id] = time.Now()
	n.peersMu.Unlock()
}

// Peers returns the ids of the servers a leader heard from (through
// Touch) since it was elected, with when it last did; nil on a server that
// does not lead.
func (n *Node) Peers() map[string]time.Time {
	if !n.isLeader() {
		return nil
	}
	n.peersMu.Lock()
	defer n.peersMu.Unlock()
	out := make(map[string]time.Time, len(n.peers))
	for id, t := range n.peers {
		out[id] = t
	}
	return out
}

// ReadIndex returns an index such that once this node has applied it
// (WaitApplied), it has seen every write committed before ReadIndex was
// called: the leader's commit index, confirmed by a quorum. A follower asks
// the leader.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if !n.isLeader() {
		lc, err := n.toLeader()
		if err != nil {
			return 0, err
		}
		type result struct {
			index uint64
			err   error
		}
		ch := make(chan result, 1)
		lc.call(rpcReadIndex, nil, func(i uint64, err error) { ch <- result{i, err} })
		select {
		case r := <-ch:
			return r.index, r.err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	// Only a leader that has applied every entry of earlier terms knows the
	// commit index is complete.
	if ready, _ := n.Leadership(); !ready {
		return 0, fmt.Errorf("%w: leader not ready yet", ErrNotLeader)
	}
	index := n.raft.CommitIndex()
	if err := n.VerifyLeader(ctx); err != nil {
		return 0, err
	}
	return index, nil
}

// Sync calls done once this node has applied every write committed before
// Sync was called (ReadIndex, then WaitApplied), or with the reason it
// could not. done runs on another goroutine.
func (n *Node) Sync(done func(error)) {
	n.goFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.HeartbeatTimeout*4)
		defer cancel()
		index, err := n.ReadIndex(ctx)
		if err == nil {
			err = n.WaitApplied(ctx, index)
		}
		done(err)
	})
}
