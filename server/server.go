package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/config"
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
	node    *replication.Node
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

	mu sync.Mutex
	// guarded by mu
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	bySession map[int64]*conn
	closed    bool

	done chan struct{} // closed by Shutdown/Close
	wg   sync.WaitGroup
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
	superDigest          string // "super:<digest>" id, or ""
	fourLetter           config.WordSet
	containerInterval    time.Duration
	containerMaxPerMin   int
	maxOutstandingPerCnx int
}

// New opens the data directory, recovers the state from it and starts the
// replication node. The server answers clients once Serve is called.
func New(cfg *config.Config, logger *slog.Logger) (*Server, error) {
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
	s.waiters.init()
	s.nextReqID.Store(time.Now().UnixNano())
	// Session ids as Apache ZooKeeper makes them: the server id in the top
	// byte and the boot time in ms below it (an unsigned shift, as Java's
	// >>>, so the top byte stays the server id), then counting up.
	s.nextSessionID.Store(int64(uint64(time.Now().UnixMilli()<<24)>>8) | opts.serverID<<56)
	s.db = newDatabase(s)
	s.tracker = newSessionTracker(s)

	rcfg, err := replicationConfig(cfg, logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, err := replication.Open(ctx, rcfg, s.db)
	if err != nil {
		return nil, err
	}
	s.node = node
	// Answer clients only once this server can commit: a standalone server
	// elects itself within milliseconds.
	for {
		ready, changed := node.Leadership()
		if ready || len(cfg.Servers) > 1 {
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
	s.wg.Add(3)
	go s.tracker.run()
	go s.reapContainers()
	go s.releaseMemoryWhenIdle()
	return s, nil
}

func settingsFrom(cfg *config.Config) (settings, error) {
	o := settings{
		serverID:             cfg.MyID,
		tickTime:             cfg.TickTime,
		maxBuffer:            cfg.JuteMaxBuffer,
		maxClientCnxns:       cfg.MaxClientCnxns,
		extendedTypes:        cfg.ExtendedTypesEnabled,
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
	if cfg.SuperDigest != "" {
		user, digest, ok := strings.Cut(cfg.SuperDigest, ":")
		if !ok || user != "super" || digest == "" {
			return o, fmt.Errorf("server: DigestAuthenticationProvider.superDigest %q: want super:<base64 sha1>", cfg.SuperDigest)
		}
		o.superDigest = user + ":" + digest
	}
	return o, nil
}

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
// returns ErrServerClosed. Serve closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.logger.Info("serving clients", "addr", ln.Addr().String())
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return ErrServerClosed
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

// propose submits t to the replicated log with w as its waiter. w is
// completed by the apply of t, or failed if the proposal does not commit.
func (s *Server) propose(t *txn, w waiter) {
	t.origin = s.opts.serverID
	if w != nil {
		t.reqID = s.nextReqID.Add(1)
		s.waiters.add(t.reqID, w)
	} else {
		t.reqID = 0
	}
	if t.time == 0 {
		t.time = time.Now().UnixMilli()
	}
	e := proto.NewEncoder(make([]byte, 0, t.sizeHint()))
	t.encode(e)
	reqID := t.reqID
	s.node.Propose(e.Bytes(), func(err error) {
		if err == nil || reqID == 0 {
			if err != nil {
				s.logger.Warn("proposal failed", "op", t.op, "err", err)
			}
			return
		}
		if w := s.waiters.take(reqID); w != nil {
			w.fail(err)
		}
	})
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
	switch t.op {
	case proto.OpCreateSession:
		s.tracker.add(t.sessionID, t.timeout)
	case proto.OpCloseSession:
		s.tracker.remove(t.sessionID)
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

// restored runs after the state was replaced from a snapshot.
func (s *Server) restored() {
	s.tracker.resetFromDB()
}

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
	mu sync.Mutex
	m  map[int64]waiter // guarded by mu
}

func (r *waitRegistry) init() { r.m = make(map[int64]waiter) }

func (r *waitRegistry) add(id int64, w waiter) {
	r.mu.Lock()
	r.m[id] = w
	r.mu.Unlock()
}

func (r *waitRegistry) take(id int64) waiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.m[id]
	delete(r.m, id)
	return w
}

func sessionHex(id int64) string { return fmt.Sprintf("0x%x", uint64(id)) }
