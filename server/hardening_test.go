package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/replication"
)

// hServer is a server under test with its Serve result.
type hServer struct {
	*Server
	addr   string
	served chan error
}

func hConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.ClientPort = 0
	cfg.TickTime = 100 * time.Millisecond
	return cfg
}

// hStart starts a server on cfg with an optional replicator wrapper and
// serves on a 127.0.0.1 port until the test ends.
func hStart(t *testing.T, cfg *config.Config, wrap func(*replication.Node) replicator) *hServer {
	t.Helper()
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), wrap)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	h := &hServer{Server: s, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { h.served <- s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return h
}

func hDial(t *testing.T, addr string, timeout time.Duration) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, timeout, zk.WithLogger(hQuiet{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatal("no session within 10s")
		}
	}
}

type hQuiet struct{}

func (hQuiet) Printf(string, ...any) {}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// proposeRaw puts a txn into the log as is, bypassing submit's stamping.
func (s *Server) proposeRaw(t *testing.T, tx *txn) error {
	t.Helper()
	e := proto.NewEncoder(nil)
	tx.encode(e)
	done := make(chan error, 1)
	s.node.Propose(e.Bytes(), func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("proposal not answered within 30s")
		return nil
	}
}

// sessionOf creates a session in the log and returns its id.
func (s *Server) sessionOf(t *testing.T) int64 {
	t.Helper()
	id := s.newSessionID()
	w := make(handshakeWaiter, 1)
	s.propose(&txn{op: proto.OpCreateSession, sessionID: id, timeout: 30000, passwd: newPassword()}, w)
	if err := <-w; err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStandaloneDataDirRefusedByEnsemble(t *testing.T) {
	cfg := hConfig(t)
	s := hStart(t, cfg, nil)
	s.Close()
	cfg.MyID = 1
	for id := int64(1); id <= 3; id++ {
		cfg.Servers = append(cfg.Servers, config.Server{ID: id, Host: "127.0.0.1", QuorumPort: freePort(t), ElectionPort: freePort(t)})
	}
	_, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, replication.ErrMembership) || !strings.Contains(err.Error(), "empty dataDir") {
		t.Fatalf("ensemble start on a standalone data dir: err = %v, want ErrMembership saying what to do", err)
	}
	t.Log(err)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestDataDirOfAnotherServerRefused(t *testing.T) {
	cfg := hConfig(t)
	cfg.MyID = 1
	s := hStart(t, cfg, nil)
	s.Close()
	cfg.MyID = 2 // the data dir's membership says server 1
	_, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, replication.ErrMembership) {
		t.Fatalf("New on server 1's data dir as server 2: err = %v, want ErrMembership", err)
	}
	t.Log(err)
}

func TestUnknownTxnVersionStopsServer(t *testing.T) {
	cfg := hConfig(t)
	s := hStart(t, cfg, nil)
	c := hDial(t, s.addr, 10*time.Second)
	if _, err := c.Create("/before", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	zxid := s.db.lastZxid()

	bad := proto.NewEncoder(nil)
	bad.Int(99) // a txn version from the future
	bad.Raw(make([]byte, 40))
	done := make(chan error, 1)
	s.node.Propose(bad.Bytes(), func(err error) { done <- err })
	select {
	case err := <-s.served:
		if !errors.Is(err, ErrHalted) || !strings.Contains(err.Error(), "unknown txn version 99") {
			t.Fatalf("Serve returned %v, want ErrHalted naming the version", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server still serving 30s after an unknown txn version was committed")
	}
	<-done

	// Nothing after the bad entry is applied, and no snapshot skips it.
	good := &txn{op: proto.OpCreateSession, sessionID: 42, timeout: 30000, passwd: newPassword(), flags: s.opts.txnFlags()}
	if err := s.proposeRaw(t, good); err != nil {
		t.Fatal(err)
	}
	if got := s.db.lastZxid(); got != zxid {
		t.Fatalf("zxid went from %d to %d after the halt", zxid, got)
	}
	if _, err := s.db.Snapshot(); !errors.Is(err, ErrHalted) {
		t.Fatalf("Snapshot after halt: %v, want ErrHalted", err)
	}
	s.Close()

	// The entry stays in the log: a restart stops at it again.
	s2 := hStart(t, cfg, nil)
	select {
	case err := <-s2.served:
		if !errors.Is(err, ErrHalted) {
			t.Fatalf("after restart Serve returned %v, want ErrHalted", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("restarted server serves a log it cannot apply")
	}
}

func TestCollidingCreateSessionRefused(t *testing.T) {
	s := hStart(t, hConfig(t), nil)
	id := s.sessionOf(t)
	first := bytes.Clone(s.db.sessions[id].passwd)

	w := make(handshakeWaiter, 1)
	s.propose(&txn{op: proto.OpCreateSession, sessionID: id, timeout: 30000, passwd: newPassword()}, w)
	if err := <-w; !errors.Is(err, proto.ErrSessionMoved) {
		t.Fatalf("second createSession with id %#x: %v, want refusal", id, err)
	}
	s.db.mu.RLock()
	kept := bytes.Equal(s.db.sessions[id].passwd, first)
	s.db.mu.RUnlock()
	if !kept {
		t.Fatal("the colliding createSession replaced the first session's password")
	}
}

func TestMyIDBoundBySessionIDLayout(t *testing.T) {
	cfg := hConfig(t)
	cfg.MyID = 256
	if err := cfg.Validate(); err == nil {
		t.Fatal("myid 256 accepted: its sessions would collide with server 0's")
	}
	cfg.MyID = 255
	cfg.ExtendedTypesEnabled = true
	if err := cfg.Validate(); err == nil {
		t.Fatal("myid 255 accepted with extended types")
	}
}

// TestApplyUsesTxnFlagsNotLocalConfig: whether a TTL create succeeds is
// decided by the proposer's settings carried in the txn, so replicas with
// different zoo.cfg files apply it alike.
func TestApplyUsesTxnFlagsNotLocalConfig(t *testing.T) {
	for _, local := range []bool{false, true} {
		cfg := hConfig(t)
		cfg.ExtendedTypesEnabled = local
		s := hStart(t, cfg, nil)
		sid := s.sessionOf(t)
		for _, proposer := range []bool{false, true} {
			path := "/ttl-" + map[bool]string{false: "off", true: "on"}[proposer]
			body := proto.Encode(&proto.CreateTTLRequest{Path: path, ACL: []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "world", ID: "anyone"}}}, Flags: proto.ModePersistentWithTTL, TTL: 60000})
			tx := &txn{op: proto.OpCreateTTL, sessionID: sid, time: time.Now().UnixMilli(), body: body}
			if proposer {
				tx.flags = txnExtendedTypes
			}
			if err := s.proposeRaw(t, tx); err != nil {
				t.Fatal(err)
			}
			s.db.mu.RLock()
			_, exists := s.db.tree.Get(path)
			s.db.mu.RUnlock()
			if exists != proposer {
				t.Errorf("local extendedTypes=%v, proposer's=%v: node created = %v, want %v", local, proposer, exists, proposer)
			}
		}
	}
}

func TestTxnVersion1StillDecodes(t *testing.T) {
	e := proto.NewEncoder(nil)
	e.Int(txnVersionV1)
	e.Long(1) // origin
	e.Long(2) // reqID
	e.Long(3) // session
	e.Int(4)  // cxid
	e.Long(5) // time
	e.Int(int32(proto.OpCloseSession))
	tx, err := decodeTxn(e.Bytes(), txnExtendedTypes)
	if err != nil {
		t.Fatal(err)
	}
	if tx.sessionID != 3 || tx.op != proto.OpCloseSession || tx.flags != txnExtendedTypes {
		t.Fatalf("decoded %+v", tx)
	}
}

// TestDeleteContainerTxnRoundTrip checks that a reaper's deleteContainer
// txn keeps the chosen node's czxid through the log, and that one written
// without txnReapCheck (before it existed) still decodes.
func TestDeleteContainerTxnRoundTrip(t *testing.T) {
	for _, flags := range []txnFlags{txnReapCheck, 0, txnReapCheck | txnExtendedTypes} {
		in := &txn{op: proto.OpDeleteContainer, path: "/c", flags: flags, czxid: 0x100000007, time: 9}
		if flags&txnReapCheck == 0 {
			in.czxid = 0
		}
		e := proto.NewEncoder(nil)
		in.encode(e)
		out, err := decodeTxn(e.Bytes(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if out.path != in.path || out.czxid != in.czxid || out.flags != in.flags || out.time != in.time {
			t.Errorf("flags %b: decoded %+v, want %+v", flags, out, in)
		}
	}
}

// flakyNode fails the first n closeSession proposals as a leadership loss
// would, and lets the test drive the leadership signal.
type flakyNode struct {
	replicator
	failCloses atomic.Int32
	failed     atomic.Int32

	mu      sync.Mutex
	ready   bool
	changed chan struct{}
}

func (f *flakyNode) Propose(cmd []byte, done func(error)) {
	if tx, err := decodeTxn(cmd, 0); err == nil && tx.op == proto.OpCloseSession && f.failCloses.Add(-1) >= 0 {
		f.failed.Add(1)
		go done(replication.ErrLeadershipLost)
		return
	}
	f.replicator.Propose(cmd, done)
}

func (f *flakyNode) Leadership() (bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready, f.changed
}

func (f *flakyNode) setLeader(ready bool) {
	f.mu.Lock()
	f.ready = ready
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

func newFlaky(n *replication.Node) *flakyNode {
	return &flakyNode{replicator: n, ready: true, changed: make(chan struct{})}
}

func TestExpiryRetriedAfterFailedCloseSession(t *testing.T) {
	var flaky *flakyNode
	s := hStart(t, hConfig(t), func(n *replication.Node) replicator {
		flaky = newFlaky(n)
		flaky.failCloses.Store(1)
		return flaky
	})
	// A session with no connection: nothing touches it, so it expires.
	id := s.newSessionID()
	w := make(handshakeWaiter, 1)
	s.propose(&txn{op: proto.OpCreateSession, sessionID: id, timeout: 200, passwd: newPassword()}, w)
	if err := <-w; err != nil {
		t.Fatal(err)
	}
	body := proto.Encode(&proto.CreateRequest{Path: "/eph", ACL: []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "world", ID: "anyone"}}}, Flags: proto.ModeEphemeral})
	if err := s.proposeRaw(t, &txn{op: proto.OpCreate, sessionID: id, time: time.Now().UnixMilli(), body: body}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the session to expire after a failed closeSession", func() bool {
		s.db.mu.RLock()
		defer s.db.mu.RUnlock()
		_, live := s.db.sessions[id]
		_, eph := s.db.tree.Get("/eph")
		return !live && !eph
	})
	if flaky.failed.Load() == 0 {
		t.Fatal("no closeSession proposal was failed: the test proved nothing")
	}
}

// TestLeadershipFlapGivesFreshTimeouts: a lose-and-regain of leadership,
// however quick, gives every session a new timeout before any expires.
func TestLeadershipFlapGivesFreshTimeouts(t *testing.T) {
	var flaky *flakyNode
	s := hStart(t, hConfig(t), func(n *replication.Node) replicator {
		flaky = newFlaky(n)
		return flaky
	})
	id := s.sessionOf(t)
	deadline := func() time.Time {
		s.tracker.mu.Lock()
		defer s.tracker.mu.Unlock()
		return s.tracker.sessions[id].deadline
	}
	before := deadline()
	flapped := time.Now()
	flaky.setLeader(false)
	flaky.setLeader(true) // back before any tick could see the gap
	waitFor(t, 10*time.Second, "a fresh deadline after the flap", func() bool {
		return !deadline().Before(flapped.Add(30 * time.Second))
	})
	if !deadline().After(before) {
		t.Fatal("deadline not extended")
	}
}

// pendingWaiter records how it was finished.
type pendingWaiter struct{ failed chan error }

func (w pendingWaiter) complete(txnResult) {}
func (w pendingWaiter) fail(err error)     { w.failed <- err }

func TestRestoreFailsPendingAndClosesConnections(t *testing.T) {
	// The state a leader would send: taken from another server, without the
	// session of the client below.
	other := hStart(t, hConfig(t), nil)
	oc := hDial(t, other.addr, 10*time.Second)
	if _, err := oc.Create("/from-leader", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	snap, err := other.db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := snap.Persist(&buf); err != nil {
		t.Fatal(err)
	}

	s := hStart(t, hConfig(t), nil)
	c, events, err := zk.Connect([]string{s.addr}, 10*time.Second, zk.WithLogger(hQuiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, 10*time.Second, "a session", func() bool { return c.State() == zk.StateHasSession })
	id := c.SessionID()
	w := pendingWaiter{failed: make(chan error, 1)}
	s.waiters.add(1, w)

	if err := s.db.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.failed:
		if !errors.Is(err, errStateRestored) {
			t.Fatalf("pending waiter failed with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pending waiter neither failed nor completed by the restore")
	}
	// The client's connection is closed; its session is not in the restored
	// state, so resuming it fails as expired.
	deadline := time.After(30 * time.Second)
	for expired := false; !expired; {
		select {
		case ev := <-events:
			expired = ev.State == zk.StateExpired
		case <-deadline:
			t.Fatalf("session %#x not reported expired after the restore", id)
		}
	}
	s.mu.Lock()
	_, bound := s.bySession[id]
	s.mu.Unlock()
	if bound {
		t.Fatal("a connection still serves the vanished session")
	}
}

func TestLockOrderChecked(t *testing.T) {
	if !lockorder.Enabled {
		t.Skip("lock order is checked in race builds only (go test -race)")
	}
	s := hStart(t, hConfig(t), nil)
	s.watches.mu.Lock()
	defer s.watches.mu.Unlock()
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "database.mu") {
			t.Fatalf("recovered %q, want a lock order panic", msg)
		}
	}()
	s.db.mu.RLock() // database.mu under watchTable.mu: the wrong order
	s.db.mu.RUnlock()
	t.Fatal("database.mu taken under watchTable.mu without a panic")
}
