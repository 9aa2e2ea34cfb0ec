package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/replication"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = errors.New("server: closed")

// Server is a zkgo server: it accepts ZooKeeper client connections, runs
// their requests through the replicated log and answers them.
//
// Goroutines: one accept loop per Serve call, a reader and a writer per
// connection, the session expiry loop and the container reaper (leader only),
// plus those of the replication node. Shutdown and Close stop and wait for
// all of them.
type Server struct {
	cfg     *config.Config
	opts    settings
	logger  *slog.Logger
	db      *database
	node    replicator
	watches *watchTable
	tracker *sessionTracker
	waiters waitRegistry
	stats   stats
	started time.Time

	// nextReqID keys this server's waiters; it starts at the boot time so
	// ids of a previous run replayed from the log never match.
	nextReqID atomic.Int64
	// nextSessionID is the last session id handed out (Apache's scheme:
	// server id in the top byte, boot time below).
	nextSessionID atomic.Int64

	mu lockorder.Mutex
	// guarded by mu
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	bySession map[int64]*conn
	closed    bool

	done chan struct{} // closed by Shutdown/Close
	wg   sync.WaitGroup

	// locks checks the lock order (see locks.go) in race builds.
	locks *lockorder.Checker

	// readOnly is set while this ensemble member, without a leader, serves
	// read-only sessions (readonlymode.enabled); ro holds those sessions.
	readOnly atomic.Bool
	ro       roSessions
	// owners is which server serves each session (leader side, owner.go).
	owners sessionOwners

	haltOnce sync.Once
	haltErr  atomic.Pointer[error] // why the server stopped on its own (see halt)
}

// settings are the config values the server uses, in the types it uses.
type settings struct {
	serverID             int64
	tickTime             time.Duration
	minSessionTimeout    int32 // ms
	maxSessionTimeout    int32 // ms
	maxBuffer            int
	maxClientCnxns       int
	extendedTypes        bool
	readOnlyMode         bool   // readonlymode.enabled
	superDigest          string // "super:<digest>" id, or ""
	fourLetter           config.WordSet
	containerInterval    time.Duration
	containerMaxPerMin   int
	maxOutstandingPerCnx int
}

// New opens the data directory, recovers the state from it and starts the
// replication node. The server answers clients once Serve is called.
func New(cfg *config.Config, logger *slog.Logger) (*Server, error) {
	return newServer(cfg, logger, nil)
}

// newServer is New with a hook for tests: wrap, if not nil, is given the
// replication node and returns what the server uses in its place.
func newServer(cfg *config.Config, logger *slog.Logger, wrap func(*replication.Node) replicator) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	opts, err := settingsFrom(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		opts:      opts,
		logger:    logger,
		watches:   newWatchTable(),
		started:   time.Now(),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		bySession: make(map[int64]*conn),
		done:      make(chan struct{}),
	}
	s.locks = lockorder.NewChecker()
	s.mu.Init(s.locks, &rankServer)
	s.watches.mu.Init(s.locks, &rankWatches)
	s.stats.mu.Init(s.locks, &rankStats)
	s.waiters.init(s.locks)
	s.ro.init(s.locks)
	s.owners.init(s.locks)
	s.nextReqID.Store(time.Now().UnixNano())
	// Session ids as Apache ZooKeeper makes them: the server id in the top
	// byte and the boot time in ms below it (an unsigned shift, as Java's
	// >>>, so the top byte stays the server id), then counting up.
	s.nextSessionID.Store(int64(uint64(time.Now().UnixMilli()<<24)>>8) | opts.serverID<<56)
	s.db = newDatabase(s, opts.txnFlags())
	s.db.mu.Init(s.locks, &rankDatabase)
	s.tracker = newSessionTracker(s)
	s.tracker.mu.Init(s.locks, &rankTracker)

	rcfg, err := replicationConfig(cfg, logger)
	if err != nil {
		return nil, err
	}
	rcfg.Hooks = leaderHooks{s}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, err := replication.Open(ctx, rcfg, s.db)
	if errors.Is(err, replication.ErrMembership) {
		return nil, fmt.Errorf("%w; start with an empty dataDir (and dataLogDir) to join the configured servers, or restore the zoo.cfg this data was made with", err)
	}
	if err != nil {
		return nil, err
	}
	s.node = node
	if wrap != nil {
		s.node = wrap(node)
	}
	// A standalone server answers clients once it can commit, within
	// milliseconds. An ensemble member serves once it has a leader; until
	// then it refuses clients (see followLeader).
	for !cfg.Distributed() {
		ready, changed := node.Leadership()
		if ready {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			node.Shutdown(context.Background())
			return nil, fmt.Errorf("server: no leader elected: %w", ctx.Err())
		}
	}
	s.tracker.resetFromDB()
	s.wg.Add(4)
	go s.followLeader()
	go s.tracker.run()
	go s.reapContainers()
	go s.releaseMemoryWhenIdle()
	return s, nil
}

// txnFlags are the settings this server proposes its txns with.
func (o settings) txnFlags() txnFlags {
	var f txnFlags
	if o.extendedTypes {
		f |= txnExtendedTypes
	}
	return f
}

func settingsFrom(cfg *config.Config) (settings, error) {
	o := settings{
		serverID:             cfg.MyID,
		tickTime:             cfg.TickTime,
		maxBuffer:            cfg.JuteMaxBuffer,
		maxClientCnxns:       cfg.MaxClientCnxns,
		extendedTypes:        cfg.ExtendedTypesEnabled,
		readOnlyMode:         cfg.ReadOnlyModeEnabled && cfg.Distributed(),
		containerInterval:    cfg.ContainerCheckInterval,
		containerMaxPerMin:   cfg.ContainerMaxPerMinute,
		fourLetter:           cfg.FourLetterWhitelist,
		maxOutstandingPerCnx: 1000,
	}
	if o.tickTime <= 0 {
		o.tickTime = config.DefaultTickTime
	}
	minTimeout, maxTimeout := cfg.SessionTimeouts()
	o.minSessionTimeout = int32(minTimeout / time.Millisecond)
	o.maxSessionTimeout = int32(maxTimeout / time.Millisecond)
	if o.maxBuffer <= 0 {
		o.maxBuffer = proto.DefaultMaxBuffer
	}
	if o.containerInterval <= 0 {
		o.containerInterval = time.Minute
	}
	if o.containerMaxPerMin <= 0 {
		o.containerMaxPerMin = 10000
	}
	if o.fourLetter == nil {
		o.fourLetter = config.WordSet{"srvr": {}}
	}
	if o.readOnlyMode {
		// As Apache: isro is allowed whenever read-only mode is enabled.
		o.fourLetter = maps.Clone(o.fourLetter)
		o.fourLetter["isro"] = struct{}{}
	}
	if cfg.SuperDigest != "" {
		user, digest, ok := strings.Cut(cfg.SuperDigest, ":")
		if !ok || user != "super" || digest == "" {
			return o, fmt.Errorf("server: DigestAuthenticationProvider.superDigest %q: want super:<base64 sha1>", cfg.SuperDigest)
		}
		o.superDigest = user + ":" + digest
	}
	return o, nil
}

// replicationConfig maps zoo.cfg to the replication node's config: server.N
// port1 is the raft transport, port2 the cluster RPC; observers are
// non-voters. A dead leader is noticed after syncLimit ticks, as a follower
// of Apache ZooKeeper notices it.
func replicationConfig(cfg *config.Config, logger *slog.Logger) (replication.Config, error) {
	dataDir := cfg.DataDir
	if dataDir == "" {
		return replication.Config{}, errors.New("server: dataDir is not set")
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return replication.Config{}, fmt.Errorf("server: creating dataDir: %w", err)
	}
	logDir := cfg.TxnLogDir()
	id := cfg.MyID
	rc := replication.Config{
		ID:                fmt.Sprint(id),
		DataDir:           filepath.Join(dataDir, "zkgo"), // replication adds snapshots/
		LogDir:            filepath.Join(logDir, "zkgo"),  // replication adds wal/
		SnapshotThreshold: uint64(cfg.SnapCount),
		SnapshotRetain:    cfg.AutopurgeSnapRetainCount,
		Logger:            logger.With("component", "raft"),
	}
	if !cfg.Distributed() {
		return rc, nil
	}
	self, ok := cfg.Self()
	if !ok {
		return rc, fmt.Errorf("server: myid %d has no server.%d line", cfg.MyID, cfg.MyID)
	}
	for _, srv := range cfg.Servers {
		rc.Servers = append(rc.Servers, replication.Server{
			ID:         fmt.Sprint(srv.ID),
			Address:    srv.QuorumAddr(),
			RPCAddress: srv.ElectionAddr(),
			Voter:      !srv.Observer,
		})
	}
	rc.BindAddr = self.QuorumAddr()
	rc.RPCBindAddr = self.ElectionAddr()
	tick := cfg.TickTime
	if tick <= 0 {
		tick = config.DefaultTickTime
	}
	rc.HeartbeatTimeout = tick * time.Duration(max(cfg.SyncLimit, 2))
	rc.ElectionTimeout = rc.HeartbeatTimeout
	rc.LeaderLeaseTimeout = rc.HeartbeatTimeout / 2
	// Followers learn that entries committed from the leader's next
	// AppendEntries: under load that is the next batch, but a lone write
	// through a follower waits up to two CommitTimeouts before the follower
	// applies it and answers (BenchmarkEnsembleCreate/follower/serial: 17 ms
	// at 10 ms, 3 ms at 1 ms). Apache's followers get a COMMIT at once.
	rc.CommitTimeout = time.Millisecond
	return rc, nil
}

// ListenAndServe listens on the configured client address and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.ClientAddr())
	if err != nil {
		return fmt.Errorf("server: listen on client port: %w", err)
	}
	return s.Serve(ln)
}

// Serve accepts client connections on ln until Shutdown or Close, and then
// returns ErrServerClosed; if the server stopped on its own because it
// cannot apply its log, Serve returns that error (wrapping ErrHalted).
// Serve closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return s.closedErr()
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.logger.Debug("serving clients", "addr", ln.Addr().String()) // zkserver logs it with the version, mode and dataDir
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return s.closedErr()
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		backoff = 0
		if !s.admit(nc) {
			nc.Close()
			continue
		}
	}
}

// admit registers and starts a connection, enforcing maxClientCnxns per IP.
func (s *Server) admit(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	ip := remoteIP(nc)
	if s.opts.maxClientCnxns > 0 {
		n := 0
		for c := range s.conns {
			if c.ip == ip {
				n++
			}
		}
		if n >= s.opts.maxClientCnxns {
			s.logger.Warn("too many connections from client, max is "+fmt.Sprint(s.opts.maxClientCnxns), "client", ip)
			return false
		}
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	go c.serve()
	return true
}

// Mode is the server's role as srvr and zkServer.sh status report it:
// "standalone", "leader", "follower" or "observer".
func (s *Server) Mode() string { return s.mode() }

// Serving reports whether the server answers clients: it is not shutting
// down and, in an ensemble, it follows (or is) a ready leader.
func (s *Server) Serving() bool { return s.serving() }

// Addrs returns the addresses the server is listening on.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for ln := range s.listeners {
		out = append(out, ln.Addr())
	}
	return out
}

// Shutdown stops accepting, closes every connection and the replication
// node, and waits for the server's goroutines until ctx ends. Sessions stay
// in the replicated state; clients resume them after a restart.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if nerr := s.node.Shutdown(ctx); nerr != nil && err == nil {
		err = nerr
	}
	return err
}

// Close is Shutdown without a deadline.
func (s *Server) Close() error { return s.Shutdown(context.Background()) }

func (s *Server) stop() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// followLeader closes every client connection and fails every pending
// call when the leader changes (or is lost), as an Apache ZooKeeper server
// restarts its request pipeline on every election: a pending write's
// outcome is unknown, and a server without a leader must not serve. Clients
// reconnect, to this server once it follows a leader again or to another,
// and resume their sessions.
func (s *Server) followLeader() {
	defer s.wg.Done()
	leader, changed := s.node.LeaderID()
	// While there is no leader, say every waitLogInterval which servers
	// this one waits for, so a user starting an ensemble sees why it does
	// not serve yet.
	wait := time.NewTicker(waitLogInterval)
	defer wait.Stop()
	// With readonlymode.enabled, a server that has had no leader for a
	// while serves read-only sessions until one is elected.
	var roTimer <-chan time.Time
	if leader == "" && s.cfg.Distributed() {
		s.logWaiting()
		if s.opts.readOnlyMode {
			roTimer = time.After(s.readOnlyDelay())
		}
	}
	for {
		select {
		case <-s.done:
			return
		case <-wait.C:
			if leader == "" && s.cfg.Distributed() {
				s.logWaiting()
			}
			continue
		case <-roTimer:
			roTimer = nil
			if next, _ := s.node.LeaderID(); next == "" {
				s.logger.Info("no leader: serving read-only sessions (readonlymode.enabled)")
				s.readOnly.Store(true)
			}
			continue
		case <-changed:
		}
		var next string
		next, changed = s.node.LeaderID()
		if next == leader {
			continue
		}
		if next == "" {
			s.logger.Warn("lost the leader: not serving clients until one is elected", "leader", leader)
		} else {
			s.logger.Info("following a new leader", "leader", next, "previous", leader, "mode", s.mode())
		}
		leader = next
		if s.readOnly.Swap(false) {
			s.logger.Info("leaving read-only mode", "leader", next)
		}
		roTimer = nil
		if next == "" && s.opts.readOnlyMode {
			roTimer = time.After(s.readOnlyDelay())
		}
		s.resetClients(errLeaderChanged)
		s.ro.clear()
	}
}

// readOnlyDelay is how long a server waits for a leader before it serves
// read-only sessions: Apache's ReadOnlyZooKeeperServer starts after
// max(2 s, tickTime).
func (s *Server) readOnlyDelay() time.Duration { return max(2*time.Second, s.opts.tickTime) }

// waitLogInterval is how often a server without a leader says so.
const waitLogInterval = 10 * time.Second

// logWaiting logs that this server waits for a majority of its ensemble.
func (s *Server) logWaiting() {
	var peers []string
	for _, sv := range s.cfg.Servers {
		if sv.ID != s.cfg.MyID && !sv.Observer {
			peers = append(peers, fmt.Sprintf("server.%d=%s", sv.ID, sv.QuorumAddr()))
		}
	}
	s.logger.Info("waiting for a leader: not serving clients until a majority of the voters is up",
		"voters", s.cfg.Voters(), "majority", s.cfg.Voters()/2+1, "peers", strings.Join(peers, " "))
}

// errLeaderChanged fails calls pending when the leader changed.
var errLeaderChanged = errors.New("server: the leader changed")

// resetClients fails every pending call and closes every client connection.
func (s *Server) resetClients(reason error) {
	s.waiters.failAll(reason)
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if len(conns) > 0 {
		s.logger.Info("closing client connections", "connections", len(conns), "reason", reason)
	}
	for _, c := range conns {
		c.close()
	}
}

// leaderHooks is what the replication node calls on the leader for what
// followers send (replication.LeaderHooks).
type leaderHooks struct{ s *Server }

// PrepareForwarded stamps the leader's clock on a txn a follower forwarded,
// so ctime and mtime come from the leader, as in Apache ZooKeeper.
func (h leaderHooks) PrepareForwarded(cmd []byte) ([]byte, error) {
	if err := stampTime(cmd, time.Now().UnixMilli()); err != nil {
		return nil, err
	}
	if err := h.s.checkForwarded(cmd); err != nil {
		return nil, err
	}
	return cmd, nil
}

// Claim records that a session moved to server from.
func (h leaderHooks) Claim(from string, session int64) error { return h.s.claim(from, session) }

// Touched keeps sessions alive that followers' clients used.
func (h leaderHooks) Touched(sessions []int64) {
	for _, id := range sessions {
		h.s.tracker.touch(id)
	}
}

// leading reports whether this server is the ready leader.
func (s *Server) leading() bool {
	ready, _ := s.node.Leadership()
	return ready
}

// closedErr is what Serve returns once the server is closed.
func (s *Server) closedErr() error {
	if err := s.haltErr.Load(); err != nil {
		return *err
	}
	return ErrServerClosed
}

// halt stops the server on its own because its state can no longer be
// trusted: it closes listeners and connections, and Serve returns err.
// Called with db.mu held, so the stop runs on its own goroutine.
func (s *Server) halt(err error) {
	s.haltOnce.Do(func() {
		s.haltErr.Store(&err)
		s.logger.Error("stopping: " + err.Error())
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.stop()
		}()
	})
}

// forget unregisters a closed connection.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.sessionID != 0 && s.bySession[c.sessionID] == c {
		delete(s.bySession, c.sessionID)
	}
	s.mu.Unlock()
	s.watches.removeAll(c)
}

// bind makes c the connection of session id, closing the one it replaces.
func (s *Server) bind(c *conn, id int64) {
	s.mu.Lock()
	old := s.bySession[id]
	s.bySession[id] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.close()
	}
}

func (s *Server) connOf(id int64) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySession[id]
}

func (s *Server) newSessionID() int64 { return s.nextSessionID.Add(1) }

func newPassword() []byte {
	p := make([]byte, 16)
	if _, err := rand.Read(p); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return p
}

// propose submits t to the replicated log with w (may be nil) as its
// waiter. w is completed by the apply of t, or failed if the proposal does
// not commit.
func (s *Server) propose(t *txn, w waiter) {
	if w == nil {
		s.submit(t, 0, nil)
		return
	}
	reqID := s.nextReqID.Add(1)
	s.waiters.add(reqID, w)
	s.submit(t, reqID, func(err error) {
		if err == nil {
			return
		}
		if w := s.waiters.take(reqID); w != nil {
			w.fail(err)
		}
	})
}

// proposeFunc submits t without a waiter; done (may be nil) gets nil once t
// is applied here, or the reason it did not commit.
func (s *Server) proposeFunc(t *txn, done func(error)) { s.submit(t, 0, done) }

// submit stamps t with this server's id, reqID, the time and the settings
// it applies with, and hands it to the replication node.
func (s *Server) submit(t *txn, reqID int64, done func(error)) {
	t.origin = s.opts.serverID
	t.reqID = reqID
	if t.time == 0 {
		t.time = time.Now().UnixMilli()
	}
	t.flags |= s.opts.txnFlags()
	// Sessions move only between the servers of an ensemble: a standalone
	// write skips the owner check (and its lock).
	if s.cfg.Distributed() && ownerChecked(t.op) && s.leading() && !s.owners.check(t.sessionID, t.origin) {
		if done != nil {
			done(errSessionMoved(t.sessionID))
		}
		return
	}
	e := proto.NewEncoder(make([]byte, 0, t.sizeHint()))
	t.encode(e)
	s.node.Propose(e.Bytes(), done)
}

// applied runs on the apply goroutine with db.mu held, after t changed the
// state: it delivers watch events, keeps session bookkeeping and completes
// the local waiter.
func (s *Server) applied(t *txn, res txnResult) {
	s.stats.txns.Add(1)
	if len(res.events) > 0 {
		var pend []pendingEvent
		for _, ev := range res.events {
			pend = s.watches.trigger(ev.path, ev.typ, pend[:0])
			for _, p := range pend {
				if p.w.allowRead(ev.acl) {
					p.w.sendEvent(p.ev)
				}
			}
		}
	}
	switch {
	case res.err != proto.OK:
	case t.op == proto.OpCreateSession:
		s.tracker.add(t.sessionID, t.timeout)
		s.owners.set(t.sessionID, t.origin)
	case t.op == proto.OpCloseSession:
		s.tracker.remove(t.sessionID)
		s.owners.forget(t.sessionID)
	}
	if t.origin == s.opts.serverID && t.reqID != 0 {
		if w := s.waiters.take(t.reqID); w != nil {
			w.complete(res)
		}
	}
	if t.op == proto.OpCloseSession {
		// A session closed by expiry, or by its client on this server: its
		// connection ends once the reply (if any) is out.
		if c := s.connOf(t.sessionID); c != nil {
			c.closeAfterFlush()
		}
	}
}

// restored runs on the apply goroutine after the state was replaced from
// a snapshot: at Open, or when a leader sends one to a lagging server. The
// connections' view then jumps forward: the outcome of their pending writes
// is unknown (the snapshot may or may not hold them), their watches missed
// the changes in between, and their sessions may be gone. So every pending
// call fails and every connection closes, as Apache ZooKeeper closes its
// clients when a server resynchronizes; clients reconnect, resume their
// sessions if they still exist, and re-register their watches with the zxid
// they last saw, which fires the ones whose changes they missed.
func (s *Server) restored() {
	s.tracker.resetFromDB()
	s.resetClients(errStateRestored)
}

// errStateRestored fails calls pending when the state was replaced from a
// snapshot.
var errStateRestored = errors.New("server: state replaced from a snapshot")

func remoteIP(nc net.Conn) string {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	return host
}

// waiter is completed by the apply of the txn it waits for.
type waiter interface {
	complete(res txnResult) // on the apply goroutine, db.mu held
	fail(err error)         // the proposal did not commit
}

// waitRegistry maps request ids to waiters (etcd's pkg/wait shape).
type waitRegistry struct {
	mu lockorder.Mutex
	m  map[int64]waiter // guarded by mu
}

func (r *waitRegistry) init(locks *lockorder.Checker) {
	r.mu.Init(locks, &rankWaiters)
	r.m = make(map[int64]waiter)
}

func (r *waitRegistry) add(id int64, w waiter) {
	r.mu.Lock()
	r.m[id] = w
	r.mu.Unlock()
}

// failAll fails and removes every waiter.
func (r *waitRegistry) failAll(err error) {
	r.mu.Lock()
	m := r.m
	r.m = make(map[int64]waiter)
	r.mu.Unlock()
	for _, w := range m {
		w.fail(err)
	}
}

func (r *waitRegistry) take(id int64) waiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.m[id]
	delete(r.m, id)
	return w
}

func sessionHex(id int64) string { return fmt.Sprintf("0x%x", uint64(id)) }
