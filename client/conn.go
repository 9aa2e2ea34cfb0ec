package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// Conn is a ZooKeeper session that survives connection losses: operations
// from many goroutines are pipelined over one TCP connection, and when it
// breaks the session is resumed on another server of the connect string
// within the session timeout, with every watch re-registered.
//
// A Conn runs these goroutines, all stopped and awaited by Close: the
// connection loop (dial, handshake, resume, expiry), per TCP connection one
// send goroutine (the only writer; owns the pings) and one receive
// goroutine (and, on a read-only connection, one that looks for a
// read-write server), the background deleter of DeleteGuaranteed, the state channel
// and listener dispatchers, and one event pump per persistent Watcher (which
// may outlive Close until its events are read; see Close).
//
// Lock order: Conn.mu, then watchManager.mu, then Watcher.mu, wire.mu,
// listeners.mu and pump.mu (leaves).
type Conn struct {
	cfg    config
	hosts  []string
	chroot string // from the connect string, "" for none
	ns     string // namespace below the chroot, "" for none
	prefix string // chroot + ns: what client paths are mapped under
	logger *slog.Logger
	clk    clock
	epoch  time.Time // base of lastHeard

	sendq     chan *request
	watches   watchManager
	listeners listeners
	states    *pump[State]     // feeds statesCh
	calls     *pump[stateCall] // feeds listeners
	statesCh  chan State
	deleter   deleter

	lifetime context.Context // cancelled by Close once the session is closed
	cancel   context.CancelFunc
	abort    chan struct{} // closed by Close to stop the pumps
	closed   chan struct{} // closed when Close has finished

	netWG  sync.WaitGroup // connection loop, its wires' loops, deleter
	pumpWG sync.WaitGroup // pumps

	xid       atomic.Int32
	lastZxid  atomic.Int64 // zxid of the last reply, for reconnects and setWatches
	lastHeard atomic.Int64 // time of the last frame received, ns since epoch
	nsReady   atomic.Bool
	nsLock    chan struct{} // one goroutine creates the namespace

	mu        sync.Mutex
	state     State // guarded by mu: last state reported (0 before the first)
	w         *wire // guarded by mu: current connection or nil
	sessionID int64 // guarded by mu
	passwd    []byte
	timeout   time.Duration         // guarded by mu: negotiated session timeout
	auths     []authInfo            // guarded by mu: replayed on every connection
	closing   bool                  // guarded by mu: Close has been called
	fatal     error                 // guarded by mu: terminal failure (auth failed)
	lastErr   error                 // guarded by mu: last connection error
	streams   map[*Watcher]struct{} // guarded by mu: Watchers whose pump runs
	// sessionRW (guarded by mu) says a read-write server granted or resumed
	// the session; a session only read-only servers have seen is local to
	// the one that granted it (Java's seenRwServerBefore).
	sessionRW bool
	connected bool       // guarded by mu: Connected was reported (Curator's initial CONNECTED)
	rwServer  string     // guarded by mu: a read-write server found while read-only, dialed next
	first     chan error // guarded by mu: outcome of the first session, nil once sent
}

// Connect opens a session to one of the servers of connectString
// ("host:port,host:port[/chroot]"; hosts are tried in random order) and
// returns once it is established, or with an error if ctx ends or no server
// answers within the connect timeout.
func Connect(ctx context.Context, connectString string, opts ...Option) (*Conn, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	hosts, chroot, err := parseConnectString(connectString)
	if err != nil {
		return nil, err
	}
	ns, err := normalizeNamespace(cfg.namespace)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
	c := &Conn{
		cfg:      cfg,
		hosts:    hosts,
		chroot:   chroot,
		ns:       ns,
		prefix:   chroot + ns,
		logger:   cfg.logger,
		clk:      realClock{},
		epoch:    time.Now(),
		sendq:    make(chan *request, 1024),
		states:   newPump[State](),
		calls:    newPump[stateCall](),
		statesCh: make(chan State),
		abort:    make(chan struct{}),
		closed:   make(chan struct{}),
		nsLock:   make(chan struct{}, 1),
		auths:    slices.Clone(cfg.auths),
		first:    make(chan error, 1),
		streams:  make(map[*Watcher]struct{}),
		timeout:  cfg.sessionTimeout,
	}
	c.watches.init(c.prefix)
	c.deleter.init()
	c.lifetime, c.cancel = context.WithCancel(context.Background())
	c.pumpWG.Add(2)
	go func() {
		defer c.pumpWG.Done()
		c.states.runChan(c.abort, c.statesCh)
	}()
	go func() {
		defer c.pumpWG.Done()
		c.calls.run(c.abort, func(sc stateCall) bool {
			c.listeners.call(sc.ids, sc.state)
			return true
		})
	}()
	c.netWG.Add(2)
	go c.run()
	go c.deleter.run(c)

	c.mu.Lock()
	first := c.first
	c.mu.Unlock()
	cctx, cancel := context.WithTimeoutCause(ctx, cfg.connectTimeout,
		fmt.Errorf("no session within %v: %w", cfg.connectTimeout, ErrConnectionLoss))
	defer cancel()
	select {
	case err = <-first:
		if err == nil && len(cfg.auths) > 0 {
			err = c.checkAuth(cctx)
		}
		if err == nil {
			return c, nil
		}
	case <-cctx.Done():
		err = context.Cause(cctx)
	}
	c.mu.Lock()
	last := c.lastErr
	c.mu.Unlock()
	c.Close()
	if last != nil {
		return nil, fmt.Errorf("client: connect %q: %w (last error: %v)", connectString, err, last)
	}
	return nil, fmt.Errorf("client: connect %q: %w", connectString, err)
}

// checkAuth makes one round trip after the credentials given with WithAuth:
// the server answers bad ones by closing the connection, which makes the
// Conn fail with ErrAuthFailed. exists never checks ACLs and "/" always
// exists.
func (c *Conn) checkAuth(ctx context.Context) error {
	for {
		err := c.send(ctx, proto.OpExists, &proto.ExistsRequest{Path: "/"}, &proto.ExistsResponse{}, nil)
		c.mu.Lock()
		fatal := c.fatal
		c.mu.Unlock()
		if fatal != nil {
			return fatal
		}
		if !errors.Is(err, ErrConnectionLoss) {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		// The connection dropped before the answer (the server may reset it
		// while rejecting the credentials): ask again on the next one.
	}
}

// States returns the channel on which every state transition is delivered
// in order. It is one channel per Conn, unbuffered but fed from an unbounded
// queue, so a slow reader loses nothing and blocks nobody; it is closed by
// Close.
func (c *Conn) States() <-chan State { return c.statesCh }

// AddListener registers fn to be called with every state transition that
// happens after AddListener returns, in order, on a goroutine shared by all
// listeners (fn must not block for long). The returned function unregisters
// it; fn is not called after that returns, except when a call is already
// running.
func (c *Conn) AddListener(fn func(State)) (remove func()) { return c.listeners.add(fn) }

// State returns the current connection state (Suspended while reconnecting).
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// SessionID returns the id of the current session (0 while none is
// established, for example after Lost).
func (c *Conn) SessionID() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// SessionTimeout returns the session timeout negotiated with the server
// (the requested one before the first session).
func (c *Conn) SessionTimeout() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

// Server returns the address of the server currently connected, or "".
func (c *Conn) Server() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		return ""
	}
	return c.w.addr
}

// closeSessionTimeout bounds how long Close waits for the server to confirm
// closeSession.
const closeSessionTimeout = 3 * time.Second

// Close ends the session (the server deletes its ephemeral nodes at once),
// stops the goroutines of the Conn and waits for them. Pending and later
// operations fail with ErrClosed; the States channel is closed. Background
// guaranteed deletes not yet done are abandoned. Close is idempotent and
// always returns nil.
//
// Every watch still in place receives a final event with KeeperClosed. As
// the Java client's close does, nothing the client had received is dropped:
// a persistent Watcher still active delivers, after Close returns, every
// event received before Close and then the final event, and closes C; its
// pump goroutine ends once they are read (or at Watcher.Remove, which
// discards them). Events the server sends after Close has begun are not
// received. The streams of Watchers that had already ended (removed, or
// their session lost) and that were not read to the end are discarded, so
// a consumer that stopped reading after Remove holds no goroutine.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		<-c.closed
		return nil
	}
	c.closing = true
	live := c.w != nil && c.fatal == nil
	c.mu.Unlock()

	if live {
		ctx, cancel := context.WithTimeout(context.Background(), min(closeSessionTimeout, c.SessionTimeout()))
		if _, err := c.roundTrip(ctx, newRequest(proto.OpCloseSession, nil, nil), true); err != nil {
			c.logger.Debug("zk: closeSession", "err", err)
		}
		cancel()
	}
	c.cancel()
	c.mu.Lock()
	w := c.w
	c.mu.Unlock()
	if w != nil {
		w.shutdown(ErrClosed)
	}
	c.netWG.Wait()

	c.drainQueue(ErrClosed)
	c.mu.Lock()
	streams := slices.Collect(maps.Keys(c.streams))
	c.mu.Unlock()
	c.watches.closeStreams(Event{Type: EventNone, State: KeeperClosed, Err: ErrClosed}, streams)
	c.states.finish(0, false)
	c.calls.finish(stateCall{}, false)
	close(c.abort)
	c.pumpWG.Wait()
	close(c.closed)
	return nil
}

// startStream runs w's pump, which delivers its events to C. It is owned
// by w, not by the Conn: it ends when its stream has been read to the end,
// or when w.discard stops it.
func (c *Conn) startStream(w *Watcher) {
	c.mu.Lock()
	c.streams[w] = struct{}{}
	c.mu.Unlock()
	go func() {
		w.p.runChan(w.stop, w.ch)
		c.mu.Lock()
		delete(c.streams, w)
		c.mu.Unlock()
	}()
}

// heard records that a frame arrived.
func (c *Conn) heard() { c.lastHeard.Store(int64(time.Since(c.epoch))) }

func (c *Conn) sinceHeard() time.Duration {
	return time.Since(c.epoch) - time.Duration(c.lastHeard.Load())
}

// setState reports a transition to the state channel and the listeners.
func (c *Conn) setState(s State) {
	c.mu.Lock()
	c.state = s
	sid := c.sessionID
	c.states.push(s)
	if ids := c.listeners.ids(); len(ids) > 0 {
		c.calls.push(stateCall{state: s, ids: ids})
	}
	c.mu.Unlock()
	c.logger.Info("zk: state", "state", s.String(), "session", fmt.Sprintf("0x%x", sid))
	if s.IsConnected() {
		c.deleter.kick()
	}
}

// stopping reports whether the connection loop must end.
func (c *Conn) stopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.fatal != nil
}

// errSessionExpired is returned by dial when the server refuses to resume
// the session.
var errSessionExpired = fmt.Errorf("server reports session expired: %w", ErrSessionExpired)

// run is the connection loop: it connects to the servers in turn, serves
// each connection until it breaks, and declares the session lost when the
// server says it expired or no server was reached within the session timeout.
func (c *Conn) run() {
	defer c.netWG.Done()
	failedRounds := 0
	for i := 0; ; i++ {
		if c.stopping() {
			return
		}
		if c.sessionTimedOut() {
			c.expire("no server reached within the session timeout")
		}
		if rw := c.takeRWServer(); rw != "" {
			// Found while read-only: dial it first, outside the rotation.
			w, err := c.dial(rw)
			if err == nil {
				failedRounds = 0
				c.serve(w)
				i--
				continue
			}
			c.logger.Debug("zk: connect to read-write server failed", "server", rw, "err", err)
			if errors.Is(err, errSessionExpired) {
				c.expire(err.Error())
				i--
				continue
			}
		}
		addr := c.hosts[i%len(c.hosts)]
		w, err := c.dial(addr)
		if err == nil {
			failedRounds = 0
			c.serve(w)
			continue
		}
		if errors.Is(err, errSessionExpired) {
			c.expire(err.Error())
			i-- // retry the same server with a new session at once
			continue
		}
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		c.logger.Debug("zk: connect failed", "server", addr, "err", err)
		if (i+1)%len(c.hosts) == 0 {
			// Every server failed this round: pause (with jitter, growing up
			// to a second) before the next, but wake for session expiry.
			failedRounds++
			d := min(time.Second, 20*time.Millisecond<<min(failedRounds, 6))
			d = d/2 + rand.N(d/2+1)
			if left, ok := c.expiryIn(); ok && left < d {
				d = max(left, 0)
			}
			if c.clk.Sleep(c.lifetime, d) != nil {
				return
			}
		}
	}
}

// expiryIn returns how long the current session may still be resumed, if
// there is one.
func (c *Conn) expiryIn() (time.Duration, bool) {
	c.mu.Lock()
	sid, timeout := c.sessionID, c.timeout
	c.mu.Unlock()
	if sid == 0 {
		return 0, false
	}
	return timeout - c.sinceHeard(), true
}

func (c *Conn) sessionTimedOut() bool {
	left, ok := c.expiryIn()
	return ok && left <= 0
}

// takeRWServer returns (and forgets) the read-write server found by a
// read-only connection, or "".
func (c *Conn) takeRWServer() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	rw := c.rwServer
	c.rwServer = ""
	return rw
}

// dial connects to addr and performs the handshake, resuming the current
// session if there is one that a read-write server knows. A session granted
// by a read-only server is local to it: as the Java client does, ask for a
// new session instead (serve carries the watches over to it).
func (c *Conn) dial(addr string) (*wire, error) {
	c.mu.Lock()
	sid, passwd, timeout := c.sessionID, c.passwd, c.timeout
	if !c.sessionRW {
		sid, passwd = 0, nil
	}
	c.mu.Unlock()
	attempt := min(max(timeout/time.Duration(len(c.hosts)), time.Second), c.cfg.connectTimeout)
	ctx, cancel := context.WithTimeout(c.lifetime, attempt)
	defer cancel()
	if left, ok := c.expiryIn(); ok {
		var cancel2 context.CancelFunc
		ctx, cancel2 = context.WithTimeout(ctx, max(left, time.Millisecond))
		defer cancel2()
	}
	nc, err := c.cfg.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// Interrupt the blocking handshake when ctx ends.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := proto.ConnectRequest{
		ProtocolVersion: 0,
		LastZxidSeen:    c.lastZxid.Load(),
		TimeOut:         int32(c.cfg.sessionTimeout / time.Millisecond),
		SessionID:       sid,
		Passwd:          passwd,
		ReadOnly:        c.cfg.readOnly,
		HasReadOnly:     true,
	}
	var resp proto.ConnectResponse
	br := bufio.NewReaderSize(nc, 64<<10)
	_, err = nc.Write(proto.AppendFrame(nil, proto.Encode(&req)))
	if err == nil {
		var payload []byte
		payload, err = proto.ReadFrame(br, nil, c.cfg.maxBuffer)
		if err == nil {
			err = proto.Decode(payload, &resp)
		}
	}
	if !stop() {
		nc.Close()
		return nil, fmt.Errorf("handshake with %s: %w", addr, context.Cause(ctx))
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake with %s: %w", addr, err)
	}
	nc.SetDeadline(time.Time{})
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		nc.Close()
		if sid != 0 {
			return nil, errSessionExpired
		}
		return nil, fmt.Errorf("handshake with %s: server refused a new session", addr)
	}
	return &wire{
		c:        c,
		nc:       nc,
		addr:     addr,
		br:       br,
		bw:       bufio.NewWriterSize(nc, 64<<10),
		timeout:  time.Duration(resp.TimeOut) * time.Millisecond,
		session:  resp.SessionID,
		passwd:   resp.Passwd,
		readOnly: resp.ReadOnly,
		done:     make(chan struct{}),
	}, nil
}

// serve runs one established connection until it breaks.
func (c *Conn) serve(w *wire) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		w.nc.Close()
		return
	}
	oldSID, oldRW := c.sessionID, c.sessionRW
	c.mu.Unlock()
	// A read-only session is given up for the new one dial asked for: as
	// in the Java client this is no loss (such a session could write
	// nothing), and its watches carry over.
	replaced := oldSID != 0 && !oldRW && oldSID != w.session
	if replaced {
		c.logger.Info("zk: read-only session replaced", "old", fmt.Sprintf("0x%x", oldSID),
			"session", fmt.Sprintf("0x%x", w.session), "server", w.addr)
	} else if oldSID != 0 && oldSID != w.session {
		// Not the session we asked for: the old one is gone.
		c.expire("server assigned a different session")
	}
	c.mu.Lock()
	resumed := c.sessionID == w.session
	c.sessionRW = (resumed && c.sessionRW) || !w.readOnly
	c.sessionID, c.passwd, c.timeout = w.session, w.passwd, w.timeout
	c.w = w
	auths := slices.Clone(c.auths)
	c.mu.Unlock()
	c.heard()

	// Prime the connection before the send loop exists, so these frames
	// precede every queued request: credentials first, then watches.
	w.nc.SetWriteDeadline(time.Now().Add(w.timeout * 2 / 3))
	err := w.prime(auths, resumed || replaced)
	var loops sync.WaitGroup
	reported := false
	if err != nil {
		w.shutdown(err)
	} else {
		loops.Add(2)
		go func() { defer loops.Done(); w.sendLoop() }()
		go func() { defer loops.Done(); w.recvLoop() }()
		if w.readOnly {
			loops.Add(1)
			go func() { defer loops.Done(); w.seekReadWrite() }()
		}
		c.mu.Lock()
		st := Reconnected
		switch {
		case w.readOnly:
			st = ReadOnly
		case !c.connected:
			// The first read-write connection, even after read-only ones,
			// as Curator reports it.
			st = Connected
		}
		if st != ReadOnly {
			c.connected = true
		}
		c.mu.Unlock()
		c.logger.Info("zk: connected", "server", w.addr, "session", fmt.Sprintf("0x%x", w.session),
			"timeout", w.timeout, "resumed", resumed)
		c.setState(st)
		reported = true
		c.mu.Lock()
		if c.first != nil {
			c.first <- nil
			c.first = nil
		}
		c.mu.Unlock()
	}
	<-w.done
	loops.Wait()

	c.mu.Lock()
	c.w = nil
	closing, fatal := c.closing, c.fatal
	c.mu.Unlock()
	switch {
	case closing:
		w.failPending(ErrClosed)
	case fatal != nil:
		w.failPending(fatal)
	default:
		w.failPending(ErrConnectionLoss)
		c.logger.Info("zk: disconnected", "server", w.addr, "err", w.err)
		if reported {
			c.setState(Suspended)
		}
	}
}

// setWatchesMaxBytes bounds the path bytes per setWatches frame, as the
// Java client does (SET_WATCHES_MAX_LENGTH), to stay far below the frame
// limit.
const setWatchesMaxBytes = 128 << 10

// prime writes the auth replays and, for a resumed session (or one that
// replaces a read-only session), the watches.
func (w *wire) prime(auths []authInfo, resumed bool) error {
	for _, a := range auths {
		w.mu.Lock()
		w.auths = append(w.auths, nil)
		w.mu.Unlock()
		if err := w.writeRaw(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Type: 0, Scheme: a.scheme, Auth: a.auth}); err != nil {
			return err
		}
	}
	if resumed {
		lists := w.c.watches.paths()
		zxid := w.c.lastZxid.Load()
		for _, f := range splitSetWatches(lists, setWatchesMaxBytes) {
			var err error
			if len(f[3]) == 0 && len(f[4]) == 0 {
				// Without persistent watches use the old record, which
				// servers before 3.6 understand too (as the Java client does).
				err = w.writeRaw(proto.XidSetWatches, proto.OpSetWatches, &proto.SetWatches{
					RelativeZxid: zxid, DataWatches: f[0], ExistWatches: f[1], ChildWatches: f[2]})
			} else {
				err = w.writeRaw(proto.XidSetWatches, proto.OpSetWatches2, &proto.SetWatches2{
					RelativeZxid: zxid, DataWatches: f[0], ExistWatches: f[1], ChildWatches: f[2],
					PersistentWatches: f[3], PersistentRecursiveWatches: f[4]})
			}
			if err != nil {
				return err
			}
		}
	}
	return w.bw.Flush()
}

// splitSetWatches cuts five watch lists (data, exist, child, persistent,
// recursive) into frames of at most maxBytes path bytes each. Every list in
// a frame is non-nil, since servers iterate them without null checks.
func splitSetWatches(lists [5][]string, maxBytes int) [][5][]string {
	var frames [][5][]string
	cur := [5][]string{{}, {}, {}, {}, {}}
	size, n := 0, 0
	for k, list := range lists {
		for _, p := range list {
			if n > 0 && size+len(p) > maxBytes {
				frames = append(frames, cur)
				cur = [5][]string{{}, {}, {}, {}, {}}
				size, n = 0, 0
			}
			cur[k] = append(cur[k], p)
			size += len(p)
			n++
		}
	}
	if n > 0 {
		frames = append(frames, cur)
	}
	return frames
}

// expire forgets the session: queued operations fail with
// ErrSessionExpired, every watch gets its final event, and Lost is reported.
// It runs on the connection loop, between connections.
func (c *Conn) expire(reason string) {
	c.mu.Lock()
	sid := c.sessionID
	c.sessionID, c.passwd, c.sessionRW = 0, nil, false
	c.mu.Unlock()
	c.lastZxid.Store(0)
	c.logger.Warn("zk: session lost", "session", fmt.Sprintf("0x%x", sid), "reason", reason)
	c.drainQueue(ErrSessionExpired)
	c.watches.terminate(Event{Type: EventNone, State: KeeperExpired, Err: ErrSessionExpired})
	c.setState(Lost)
}

// authFailed makes the Conn unusable after the server rejected credentials
// (it closes the connection right after), as the Java client does.
func (c *Conn) authFailed(w *wire) {
	c.mu.Lock()
	if c.fatal != nil {
		c.mu.Unlock()
		return
	}
	c.fatal = ErrAuthFailed
	c.mu.Unlock()
	c.logger.Error("zk: authentication failed; the connection is unusable", "server", w.addr)
	c.drainQueue(ErrAuthFailed)
	c.watches.terminate(Event{Type: EventNone, State: KeeperAuthFailed, Err: ErrAuthFailed})
	c.setState(Lost)
	w.shutdown(ErrAuthFailed)
}

// drainQueue fails every request waiting to be sent.
func (c *Conn) drainQueue(err error) {
	for {
		select {
		case r := <-c.sendq:
			r.fail(err)
		default:
			return
		}
	}
}

// call sends one request and waits for its reply. It returns the reply's
// zxid and either nil, the server's proto.Code, ErrConnectionLoss (the
// connection broke, or none was available within the connect timeout),
// ErrSessionExpired, ErrClosed or ctx's error.
func (c *Conn) call(ctx context.Context, r *request) (int64, error) {
	return c.roundTrip(ctx, r, false)
}

func (c *Conn) roundTrip(ctx context.Context, r *request, closing bool) (int64, error) {
	c.mu.Lock()
	fatal, closed := c.fatal, c.closing && !closing
	c.mu.Unlock()
	if fatal != nil {
		return 0, fatal
	}
	if closed {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	connWait := time.NewTimer(c.cfg.connectTimeout)
	defer connWait.Stop()
	select {
	case c.sendq <- r:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.lifetime.Done():
		return 0, ErrClosed
	case <-connWait.C:
		return 0, ErrConnectionLoss
	}
	err := await(ctx, c, r, connWait.C)
	return r.zxid, err // 0 unless a reply came
}

// pipeline queues the requests back to back, in order, without waiting for
// any reply in between, then waits for each as call does and returns their
// errors. The server handles a session's requests in order, so each one
// sees the effects of those before it. A request that could not be queued
// fails with the reason, and so do those after it.
func (c *Conn) pipeline(ctx context.Context, closing bool, rs ...*request) []error {
	errs := make([]error, len(rs))
	fail := func(from int, err error) []error {
		for i := from; i < len(rs); i++ {
			errs[i] = err
		}
		return errs
	}
	c.mu.Lock()
	fatal, closed := c.fatal, c.closing && !closing
	c.mu.Unlock()
	if fatal != nil {
		return fail(0, fatal)
	}
	if closed {
		return fail(0, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fail(0, err)
	}
	// connWait is closed once the connect timeout has passed: every
	// request waiting then sees it.
	connWait := make(chan struct{})
	t := time.AfterFunc(c.cfg.connectTimeout, func() { close(connWait) })
	defer t.Stop()
	queued := 0
enqueue:
	for _, r := range rs {
		select {
		case c.sendq <- r:
			queued++
		case <-ctx.Done():
			fail(queued, ctx.Err())
			break enqueue
		case <-c.lifetime.Done():
			fail(queued, ErrClosed)
			break enqueue
		case <-connWait:
			fail(queued, ErrConnectionLoss)
			break enqueue
		}
	}
	for i, r := range rs[:queued] {
		errs[i] = await(ctx, c, r, connWait)
	}
	return errs
}

// await waits for the reply to the queued request r of c; connWait fires
// once the connect timeout has passed since it was queued.
func await[T any](ctx context.Context, c *Conn, r *request, connWait <-chan T) error {
	for {
		select {
		case <-r.done:
			return r.err
		case <-ctx.Done():
			if r.abandon() {
				return ctx.Err()
			}
			<-r.done
			return r.err
		case <-c.lifetime.Done():
			if r.abandon() {
				return ErrClosed
			}
			<-r.done
			return r.err
		case <-connWait:
			// Still unsent after the connect timeout: no connection.
			if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
				return ErrConnectionLoss
			}
			connWait = nil
		}
	}
}
