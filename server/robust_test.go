package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/tree"
)

// This file holds the harness of the server-side robustness tests (the fuzz
// targets in fuzz_test.go and the classic malformed-packet cases in
// malformed_test.go): an in-process server whose log lines are kept, a
// healthy probe client, raw sessions, request frame builders, and a check of
// the server's own bookkeeping (connections, watch table, waiters, sessions,
// tree) besides what a client can observe. The tests are internal tests for
// that check.

// rbTimeout bounds every exchange with the server: a connection that is
// neither answered nor closed within it counts as a hang.
const rbTimeout = 15 * time.Second

// rbServer is an in-process server with a healthy go-zookeeper client.
type rbServer struct {
	srv    *Server
	addr   string
	logs   *rbLogStore
	client *zk.Conn
	probes int // health probes so far; names each probe's node
}

// startRB starts a server on 127.0.0.1 with a temporary data directory and
// connects a go-zookeeper client to it. Everything stops when tb ends.
func startRB(tb testing.TB, mod func(*config.Config)) *rbServer {
	tb.Helper()
	cfg := config.Default()
	cfg.DataDir = tb.TempDir()
	cfg.ClientPortAddress = "127.0.0.1"
	cfg.ClientPort = 0
	cfg.ExtendedTypesEnabled = true
	cfg.FourLetterWhitelist = config.WordSet{"*": {}}
	cfg.AdminEnableServer = false
	cfg.MaxClientCnxns = 0
	// Fuzzed sessions ask for the minimum and expire soon after their
	// connection, so they do not pile up; the probe client asks for more.
	cfg.MinSessionTimeout = 500 * time.Millisecond
	cfg.MaxSessionTimeout = 60 * time.Second
	cfg.ContainerCheckInterval = 100 * time.Millisecond
	if mod != nil {
		mod(cfg)
	}
	logs := &rbLogStore{}
	srv, err := New(cfg, slog.New(rbLogHandler{store: logs}))
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	r := &rbServer{srv: srv, addr: ln.Addr().String(), logs: logs}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			tb.Errorf("serve: %v", err)
		}
		if tb.Failed() {
			tb.Logf("last server log lines:\n%s", strings.Join(logs.tail(40), "\n"))
		}
	})
	r.client = rbDial(tb, r.addr)
	return r
}

// rbDial connects a go-zookeeper client and waits for its session.
func rbDial(tb testing.TB, addr string) *zk.Conn {
	tb.Helper()
	c, events, err := zk.Connect([]string{addr}, 20*time.Second, zk.WithLogger(rbQuiet{}))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	deadline := time.After(rbTimeout)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				// Drain later events so the client never blocks on them; the
				// loop ends when Close closes the channel.
				go func() {
					for range events {
					}
				}()
				return c
			}
		case <-deadline:
			tb.Fatal("go-zookeeper: no session")
		}
	}
}

type rbQuiet struct{}

func (rbQuiet) Printf(string, ...any) {}

// rbLogStore keeps the server's log lines for assertions and failure reports.
type rbLogStore struct {
	mu    sync.Mutex
	lines []string // guarded by mu; the most recent rbMaxLogLines
}

const rbMaxLogLines = 2000

func (s *rbLogStore) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == rbMaxLogLines {
		s.lines = append(s.lines[:0], s.lines[rbMaxLogLines/2:]...)
	}
	s.lines = append(s.lines, line)
}

func (s *rbLogStore) tail(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines[max(0, len(s.lines)-n):])
}

// waitLine waits until a line containing every part has been logged.
func (s *rbLogStore) waitLine(tb testing.TB, parts ...string) {
	tb.Helper()
	rbWaitFor(tb, rbTimeout, "log line with "+strings.Join(parts, ", "), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range s.lines {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(l, p)
			}
			if all {
				return true
			}
		}
		return false
	})
}

// rbLogHandler is a slog.Handler writing "LEVEL msg k=v ..." lines into a store.
type rbLogHandler struct {
	store *rbLogStore
	attrs string
}

func (h rbLogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h rbLogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message + h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.store.add(b.String())
	return nil
}

func (h rbLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		h.attrs += " " + a.String()
	}
	return h
}

func (h rbLogHandler) WithGroup(string) slog.Handler { return h }

func rbWaitFor(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// probe checks that the healthy client can still create, read and delete.
func (r *rbServer) probe(tb testing.TB) {
	tb.Helper()
	r.probes++
	p := fmt.Sprintf("/rb-probe-%d", r.probes)
	if _, err := r.client.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
		tb.Fatalf("healthy client: create %s: %v", p, err)
	}
	data, _, err := r.client.Get(p)
	if err != nil || string(data) != p {
		tb.Fatalf("healthy client: get %s: %q %v", p, data, err)
	}
	if err := r.client.Delete(p, 0); err != nil {
		tb.Fatalf("healthy client: delete %s: %v", p, err)
	}
	for _, must := range []string{"/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"} {
		if ok, _, err := r.client.Exists(must); err != nil || !ok {
			tb.Fatalf("healthy client: %s: exists=%v %v", must, ok, err)
		}
	}
}

// checkState waits until only `live` connections remain and every write
// proposed for a closed connection has been applied, then checks the
// server's bookkeeping: no watch of a closed connection, an index of
// watches that agrees with the tables, sessions that agree between the
// database and the expiry tracker, ephemerals owned by live sessions, and a
// tree whose child counts and node count are consistent.
func (r *rbServer) checkState(tb testing.TB, live int) {
	tb.Helper()
	s := r.srv
	rbWaitFor(tb, rbTimeout, fmt.Sprintf("the server to drop all but %d connections", live), func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.conns) <= live
	})
	rbWaitFor(tb, rbTimeout, "proposals of closed connections to be applied", func() bool {
		s.waiters.mu.Lock()
		defer s.waiters.mu.Unlock()
		return len(s.waiters.m) == 0
	})
	// Holding db.mu also waits for the apply that took the last waiter to
	// finish completing it (lock order: db.mu, s.mu, watches.mu, tracker.mu).
	db := s.db
	db.mu.RLock()
	defer db.mu.RUnlock()

	s.mu.Lock()
	conns := make(map[*conn]bool, len(s.conns))
	for c := range s.conns {
		conns[c] = true
	}
	for id, c := range s.bySession {
		if !conns[c] {
			tb.Errorf("session %s is bound to a connection the server has dropped", sessionHex(id))
		}
	}
	s.mu.Unlock()

	w := s.watches
	w.mu.Lock()
	recursive := 0
	for kind, m := range w.byKind {
		for path, set := range m {
			if len(set) == 0 {
				tb.Errorf("watch table keeps an empty set for %q", path)
			}
			for x := range set {
				c, ok := x.(*conn)
				if !ok || !conns[c] {
					tb.Errorf("watch %d on %q belongs to a closed connection", kind, path)
				}
				if _, ok := w.byWatcher[x][watchKey{watchKind(kind), path}]; !ok {
					tb.Errorf("watch %d on %q missing from the per-watcher index", kind, path)
				}
				if watchKind(kind) == watchRecursive {
					recursive++
				}
			}
		}
	}
	for x, keys := range w.byWatcher {
		for k := range keys {
			if _, ok := w.byKind[k.kind][k.path][x]; !ok {
				tb.Errorf("per-watcher index lists watch %d on %q that the tables lack", k.kind, k.path)
			}
		}
	}
	if recursive != w.recursiveCount {
		tb.Errorf("recursiveCount %d, tables hold %d recursive watches", w.recursiveCount, recursive)
	}
	w.mu.Unlock()

	s.tracker.mu.Lock()
	for id := range db.sessions {
		if _, ok := s.tracker.sessions[id]; !ok {
			tb.Errorf("session %s is in the database but not tracked for expiry", sessionHex(id))
		}
	}
	for id := range s.tracker.sessions {
		if _, ok := db.sessions[id]; !ok {
			tb.Errorf("tracker expires session %s that the database lacks", sessionHex(id))
		}
	}
	s.tracker.mu.Unlock()
	t := db.tree
	for _, p := range []string{"/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"} {
		if _, ok := t.Get(p); !ok {
			tb.Errorf("%s is gone", p)
		}
	}
	children := map[string]int{}
	nodes := 0
	t.Walk(func(path string, n *tree.Node) bool {
		nodes++
		if path != "/" {
			parent := parentPath(path)
			if _, ok := t.Get(parent); !ok {
				tb.Errorf("%q has no parent", path)
			}
			children[parent]++
		}
		return true
	})
	t.Walk(func(path string, n *tree.Node) bool {
		if n.NumChildren() != children[path] {
			tb.Errorf("%q counts %d children, has %d", path, n.NumChildren(), children[path])
		}
		return true
	})
	if nodes != t.Len() {
		tb.Errorf("walk saw %d nodes, tree counts %d", nodes, t.Len())
	}
	eph := 0
	for id, p := range t.AllEphemerals() {
		eph++
		if _, ok := db.sessions[id]; !ok {
			tb.Errorf("ephemeral %q outlived its session %s", p, sessionHex(id))
		}
		if n, ok := t.Get(p); !ok || n.Owner() != id {
			tb.Errorf("ephemeral index lists %q for %s, which the tree does not hold", p, sessionHex(id))
		}
	}
	if eph != t.EphemeralCount() {
		tb.Errorf("ephemeral index holds %d entries, count says %d", eph, t.EphemeralCount())
	}
}

// rbSentinelXid marks the request the fuzz harness appends to learn that
// every earlier request has been answered.
const rbSentinelXid = 0x5e471e1

// rbClosed reports whether err means the peer closed the connection.
func rbClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// exchange writes one fuzz input on a fresh connection and checks what comes
// back: the connection must be answered or closed within rbTimeout; every

// rbStream builds request frames with increasing xids.
type rbStream struct {
	b   []byte
	xid int32
}

func (s *rbStream) req(op proto.OpCode, r proto.Record) *rbStream {
	s.xid++
	return s.reqXid(s.xid, op, r)
}

func (s *rbStream) reqXid(xid int32, op proto.OpCode, r proto.Record) *rbStream {
	s.b = proto.AppendRequest(s.b, proto.RequestHeader{Xid: xid, Type: op}, r)
	return s
}

// reqBody appends a request whose body is given as bytes.
func (s *rbStream) reqBody(op proto.OpCode, body ...byte) *rbStream {
	s.xid++
	hdr := proto.RequestHeader{Xid: s.xid, Type: op}
	return s.frame(append(proto.Encode(&hdr), body...)...)
}

// frame appends a frame with the given payload as is.
func (s *rbStream) frame(payload ...byte) *rbStream {
	s.b = proto.AppendFrame(s.b, payload)
	return s
}

// raw appends bytes without framing.
func (s *rbStream) raw(b ...byte) *rbStream {
	s.b = append(s.b, b...)
	return s
}

func (s *rbStream) input(mode byte) []byte { return append([]byte{mode}, s.b...) }

func rbI32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func rbCat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// rbSession is a raw client session of its own on r's server.
type rbSession struct {
	tb  testing.TB
	nc  net.Conn
	br  *bufio.Reader
	id  int64
	xid int32
}

// session opens a raw session asking for timeoutMs.
func (r *rbServer) session(tb testing.TB, timeoutMs int32) *rbSession {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", r.addr, rbTimeout)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	req := proto.ConnectRequest{TimeOut: timeoutMs, Passwd: make([]byte, 16), HasReadOnly: true}
	nc.SetDeadline(time.Now().Add(rbTimeout))
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	f, err := proto.ReadFrame(br, nil, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(f, &resp); err != nil || resp.SessionID == 0 {
		tb.Fatalf("connect response %+v %v", resp, err)
	}
	return &rbSession{tb: tb, nc: nc, br: br, id: resp.SessionID}
}

// send writes the frames built by fill.
func (s *rbSession) send(b []byte) {
	s.tb.Helper()
	s.nc.SetDeadline(time.Now().Add(rbTimeout))
	if _, err := s.nc.Write(b); err != nil {
		s.tb.Fatalf("write: %v", err)
	}
}

// replies reads up to n replies (notifications are skipped) and reports
// whether the server closed the connection instead of sending them all.
func (s *rbSession) replies(n int) (hs []proto.ReplyHeader, closed bool) {
	s.tb.Helper()
	s.nc.SetDeadline(time.Now().Add(rbTimeout))
	for len(hs) < n {
		f, err := proto.ReadFrame(s.br, nil, 64<<20)
		if err != nil {
			if rbClosed(err) {
				return hs, true
			}
			s.tb.Fatalf("after %d replies: %v", len(hs), err)
		}
		var h proto.ReplyHeader
		if err := h.Decode(proto.NewDecoder(f)); err != nil {
			s.tb.Fatal(err)
		}
		if h.Xid != proto.XidNotification {
			hs = append(hs, h)
		}
	}
	return hs, false
}

// closedByServer waits for the server to close the connection, failing on
// any further reply.
func (s *rbSession) closedByServer() {
	s.tb.Helper()
	const wait = rbTimeout
	s.nc.SetReadDeadline(time.Now().Add(wait))
	f, err := proto.ReadFrame(s.br, nil, 64<<20)
	switch {
	case err == nil:
		var h proto.ReplyHeader
		herr := h.Decode(proto.NewDecoder(f))
		s.tb.Fatalf("connection still open: got reply %+v (%v)", h, herr)
	case rbClosed(err):
	default:
		s.tb.Fatalf("connection still open after %v: %v", wait, err)
	}
}

// alive checks that the connection still answers requests.
func (s *rbSession) alive() {
	s.tb.Helper()
	s.send(proto.AppendRequest(nil, proto.RequestHeader{Xid: rbSentinelXid, Type: proto.OpExists}, &proto.ExistsRequest{Path: "/"}))
	hs, closed := s.replies(1)
	if closed || hs[0].Xid != rbSentinelXid || hs[0].Err != proto.OK {
		s.tb.Fatalf("connection no longer answers: %+v closed=%v", hs, closed)
	}
}

// unaffected checks that the probe client kept its session and connection
// and that the server's state is consistent with only the probe connected.
func (r *rbServer) unaffected(tb testing.TB, sid int64) {
	tb.Helper()
	if r.client.SessionID() != sid || r.client.State() != zk.StateHasSession {
		tb.Fatalf("the probe client was disturbed: session %x -> %x, state %v", sid, r.client.SessionID(), r.client.State())
	}
	r.probe(tb)
	r.checkState(tb, 1)
	if r.client.SessionID() != sid {
		tb.Fatalf("the probe client lost its session")
	}
}

func (r *rbServer) exists(tb testing.TB, path string) bool {
	tb.Helper()
	ok, _, err := r.client.Exists(path)
	if err != nil {
		tb.Fatal(err)
	}
	return ok
}
