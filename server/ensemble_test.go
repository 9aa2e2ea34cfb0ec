package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/replication"
)

// member is one server of an in-process ensemble.
type member struct {
	cfg  *config.Config
	srv  *Server
	addr string
}

// startEnsemble starts n participants on 127.0.0.1 with a 200 ms tick.
func startEnsemble(t *testing.T, n int) []*member {
	t.Helper()
	ms := newEnsemble(t, n, 0)
	for _, m := range ms {
		m.start(t)
	}
	return ms
}

// newEnsemble configures n participants and then observers, and starts
// none.
func newEnsemble(t *testing.T, n, observers int) []*member {
	t.Helper()
	var servers []config.Server
	for id := 1; id <= n+observers; id++ {
		servers = append(servers, config.Server{ID: int64(id), Host: "127.0.0.1", QuorumPort: freePort(t), ElectionPort: freePort(t), Observer: id > n})
	}
	ms := make([]*member, n+observers)
	for i := range ms {
		cfg := hConfig(t)
		cfg.MyID = int64(i + 1)
		cfg.Servers = servers
		// A 1 s heartbeat timeout (5 ticks): a loaded 2-core machine under
		// -race must not make followers give up on a live leader.
		cfg.TickTime = 200 * time.Millisecond
		cfg.InitLimit, cfg.SyncLimit = 10, 5
		cfg.ExtendedTypesEnabled = true
		ms[i] = &member{cfg: cfg}
	}
	return ms
}

func (m *member) start(t *testing.T) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("ZKGO_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("myid", m.cfg.MyID)
	}
	s, err := New(m.cfg, logger)
	if err != nil {
		t.Fatalf("server %d: %v", m.cfg.MyID, err)
	}
	addr := m.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	m.srv, m.addr = s, ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
}

func (m *member) stop() {
	m.srv.Close()
	m.srv = nil
}

// live returns the members that run.
func live(ms []*member) []*member {
	var out []*member
	for _, m := range ms {
		if m.srv != nil {
			out = append(out, m)
		}
	}
	return out
}

// waitModes waits until the live members report one leader and followers.
func waitModes(t *testing.T, ms []*member) *member {
	t.Helper()
	var leader *member
	waitFor(t, 30*time.Second, "one leader and serving followers", func() bool {
		leader = nil
		for _, m := range ms {
			if m.srv == nil || !m.srv.serving() {
				return false
			}
			switch m.srv.mode() {
			case "leader":
				if leader != nil {
					return false
				}
				leader = m
			case "follower", "observer":
			default:
				return false
			}
		}
		return leader != nil
	})
	return leader
}

func TestEnsembleFollowersForwardAndServeReads(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := waitModes(t, ms)
	var followers []*member
	for _, m := range ms {
		if m != leader {
			followers = append(followers, m)
		}
	}

	// A write through a follower is acknowledged after that follower
	// applied it: the same session reads it back at once.
	c1 := hDial(t, followers[0].addr, 10*time.Second)
	if _, err := c1.Create("/f", []byte("one"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if data, _, err := c1.Get("/f"); err != nil || string(data) != "one" {
		t.Fatalf("read own write on a follower: %q %v", data, err)
	}
	eph, err := c1.Create("/e-", nil, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatal(err)
	}

	// Another session on the other follower sees it after sync.
	c2 := hDial(t, followers[1].addr, 10*time.Second)
	if _, err := c2.Sync("/f"); err != nil {
		t.Fatal(err)
	}
	if data, st, err := c2.Get("/f"); err != nil || string(data) != "one" || st.Version != 0 {
		t.Fatalf("read on the other follower after sync: %q %+v %v", data, st, err)
	}
	st, err := c2.Set("/f", []byte("two"), 0)
	if err != nil || st.Version != 1 {
		t.Fatalf("set through the other follower: %+v %v", st, err)
	}
	if _, err := c1.Set("/f", []byte("stale"), 0); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("compare-and-set with a stale version: %v, want ErrBadVersion", err)
	}

	// Every server holds the same tree, and the ctime came from the leader
	// (within the test's window).
	for _, m := range ms {
		waitFor(t, 10*time.Second, fmt.Sprintf("server %d to apply the writes", m.cfg.MyID), func() bool {
			m.srv.db.mu.RLock()
			defer m.srv.db.mu.RUnlock()
			n, ok := m.srv.db.tree.Get("/f")
			_, e := m.srv.db.tree.Get(eph)
			return ok && string(n.Data()) == "two" && e
		})
	}

	// A client's session outlives a stop of its server: it resumes on
	// another one with its ephemeral.
	c3, _, err := zk.Connect([]string{followers[0].addr, leader.addr}, 4*time.Second, zk.WithLogger(hQuiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	waitFor(t, 10*time.Second, "c3's session", func() bool { return c3.State() == zk.StateHasSession })
	e3, err := c3.Create("/e3", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
	if err != nil {
		t.Fatal(err)
	}
	sid := c3.SessionID()
	if _, err := c2.Sync("/"); err != nil {
		t.Fatal(err)
	}
	followers[0].stop()
	waitFor(t, 30*time.Second, "c3 to resume its session on another server", func() bool {
		if c3.State() != zk.StateHasSession || c3.SessionID() != sid {
			return false
		}
		_, _, err := c3.Get(e3)
		return err == nil
	})
	if c3.SessionID() != sid {
		t.Fatalf("session changed from %#x to %#x", sid, c3.SessionID())
	}
	// c1's session (its server stopped, its client has no other address)
	// expires on the leader: its ephemeral goes everywhere.
	waitFor(t, 30*time.Second, "c1's ephemeral to go with its expired session", func() bool {
		_, err := c2.Sync("/")
		if err != nil {
			return false
		}
		ok, _, err := c2.Exists(eph)
		return err == nil && !ok
	})
	kids, _, err := c2.Children("/")
	if err != nil || !slices.Contains(kids, "e3") {
		t.Fatalf("children of / after c1 expired: %v %v (c3's ephemeral must stay)", kids, err)
	}
}

func TestEnsembleLosesQuorumAndRecovers(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := waitModes(t, ms)
	c := hDial(t, leader.addr, 10*time.Second)
	if _, err := c.Create("/q", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	// Stop both followers: the leader has no quorum and stops serving.
	var others []*member
	for _, m := range ms {
		if m != leader {
			m.stop()
			others = append(others, m)
		}
	}
	waitFor(t, 30*time.Second, "the lone server to stop serving", func() bool { return !leader.srv.serving() })

	// Bring them back: service resumes, the write is still there.
	for _, m := range others {
		m.start(t)
	}
	leader = waitModes(t, ms)
	c2 := hDial(t, leader.addr, 10*time.Second)
	if ok, _, err := c2.Exists("/q"); err != nil || !ok {
		t.Fatalf("/q after the quorum came back: %v %v", ok, err)
	}
}

// TestEnsembleElectsLikeApache runs the tutorials' sequence: among the
// servers that form a majority, the highest id leads; a returning server
// never takes over from an established leader.
func TestEnsembleElectsLikeApache(t *testing.T) {
	ms := newEnsemble(t, 3, 0)
	ms[0].start(t)
	ms[1].start(t)
	if l := waitModes(t, live(ms)); l != ms[1] {
		t.Fatalf("servers 1 and 2 up: server %d leads, want 2", l.cfg.MyID)
	}
	ms[2].start(t)
	if l := waitModes(t, ms); l != ms[1] {
		t.Fatalf("server 3 joined: server %d leads, want 2 (never preempted)", l.cfg.MyID)
	}
	c := hDial(t, ms[0].addr, 10*time.Second)
	if _, err := c.Create("/kept", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	ms[1].stop()
	if l := waitModes(t, live(ms)); l != ms[2] {
		t.Fatalf("server 2 stopped: server %d leads, want 3", l.cfg.MyID)
	}
	ms[1].start(t)
	if l := waitModes(t, ms); l != ms[2] {
		t.Fatalf("server 2 came back: server %d leads, want 3", l.cfg.MyID)
	}
	c2 := hDial(t, ms[1].addr, 10*time.Second)
	if _, err := c2.Sync("/"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := c2.Exists("/kept"); err != nil || !ok {
		t.Fatalf("/kept on the returned server: %v %v", ok, err)
	}
}

func TestEnsembleObserverServesAndNeverVotes(t *testing.T) {
	ms := newEnsemble(t, 3, 1)
	for _, m := range ms {
		m.start(t)
	}
	leader := waitModes(t, ms)
	obs := ms[3]
	if mode := obs.srv.mode(); mode != "observer" {
		t.Fatalf("server 4 (observer line) reports %q", mode)
	}
	c := hDial(t, obs.addr, 10*time.Second)
	if _, err := c.Create("/via-observer", []byte("o"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if data, _, err := c.Get("/via-observer"); err != nil || string(data) != "o" {
		t.Fatalf("observer reads its write: %q %v", data, err)
	}
	// One voter down: two of three voters are a majority; the observer
	// never counts, so a second voter down stops everyone.
	var voters []*member
	for _, m := range ms[:3] {
		if m != leader {
			voters = append(voters, m)
		}
	}
	voters[0].stop()
	waitModes(t, live(ms))
	voters[1].stop()
	waitFor(t, 30*time.Second, "no quorum: the leader and the observer stop serving", func() bool {
		return !leader.srv.serving() && !obs.srv.serving()
	})
	if obs.srv.mode() == "leader" {
		t.Fatal("the observer leads")
	}
}

// TestEnsembleReadOnlyMode: with readonlymode.enabled a server cut off from
// its quorum serves read-only sessions to clients that accept them, as
// Apache's ReadOnlyZooKeeperServer, and goes back to read-write service
// when a leader is elected.
func TestEnsembleReadOnlyMode(t *testing.T) {
	ms := newEnsemble(t, 3, 0)
	for _, m := range ms {
		m.cfg.ReadOnlyModeEnabled = true
		m.start(t)
	}
	leader := waitModes(t, ms)
	c := hDial(t, leader.addr, 10*time.Second)
	if _, err := c.Create("/ro", []byte("before"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	lone := ms[0]
	waitFor(t, 10*time.Second, "server 1 to apply /ro", func() bool {
		lone.srv.db.mu.RLock()
		defer lone.srv.db.mu.RUnlock()
		_, ok := lone.srv.db.tree.Get("/ro")
		return ok
	})
	for _, m := range ms[1:] {
		m.stop()
	}
	waitFor(t, 30*time.Second, "server 1 in read-only mode", func() bool { return lone.srv.mode() == "read-only" })
	if got := askWordInternal(t, lone.addr, "isro"); got != "ro" {
		t.Fatalf("isro = %q, want ro", got)
	}
	if got := askWordInternal(t, lone.addr, "srvr"); !strings.Contains(got, "Mode: read-only") {
		t.Fatalf("srvr in read-only mode:\n%s", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A client that does not accept a read-only server is refused.
	if _, err := client.Connect(ctx, lone.addr, client.WithSessionTimeout(2*time.Second), client.WithConnectTimeout(2*time.Second)); err == nil {
		t.Fatal("a read-write client got a session on a read-only server")
	}
	ro, err := client.Connect(ctx, lone.addr, client.WithReadOnly(true), client.WithSessionTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if st := ro.State(); st != client.ReadOnly {
		t.Fatalf("state %v, want ReadOnly", st)
	}
	if data, _, err := ro.Get(ctx, "/ro"); err != nil || string(data) != "before" {
		t.Fatalf("read-only read: %q %v", data, err)
	}
	if _, err := ro.Create(ctx, "/no", nil); !errors.Is(err, client.ErrNotReadOnly) {
		t.Fatalf("write on a read-only server: %v, want ErrNotReadOnly", err)
	}

	// A leader again: read-only sessions end, the server serves read-write.
	for _, m := range ms[1:] {
		m.start(t)
	}
	waitModes(t, ms)
	if got := askWordInternal(t, lone.addr, "isro"); got != "rw" {
		t.Fatalf("isro after the quorum came back = %q, want rw", got)
	}
}

// askWordInternal sends a four-letter word and returns the answer.
func askWordInternal(t *testing.T, addr, word string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte(word)); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(nc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestEnsembleFollowerCatchesUpFromSnapshot: a follower that missed more
// writes than the leader keeps in its log is sent a snapshot, installs it
// while running, and serves the whole tree.
func TestEnsembleFollowerCatchesUpFromSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("writes more than the leader's trailing log (10240 entries)")
	}
	ms := newEnsemble(t, 3, 0)
	for _, m := range ms {
		m.cfg.SnapCount = 2 // snapshot at the next check
		m.start(t)
	}
	leader := waitModes(t, ms)
	lagging := ms[(leader.cfg.MyID)%3] // a follower
	had := lagging.srv.node.(*replication.Node).AppliedIndex()
	lagging.stop()
	waitModes(t, live(ms))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.Connect(ctx, leader.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const writes = 11000 // more than raft's 10240 trailing log entries
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < writes; i += 16 {
				if _, err := c.Create(ctx, fmt.Sprintf("/n%05d", i), nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Wait until the leader snapshotted and trimmed its log past what the
	// stopped follower has.
	waitFor(t, 60*time.Second, "the leader's log to be trimmed by a snapshot", func() bool {
		first, err := leader.srv.firstLogIndex()
		return err == nil && first > had+1
	})
	lagging.start(t)
	waitModes(t, ms)
	waitFor(t, 60*time.Second, "the lagging follower to hold every node", func() bool {
		lagging.srv.db.mu.RLock()
		defer lagging.srv.db.mu.RUnlock()
		_, first := lagging.srv.db.tree.Get("/n00000")
		_, last := lagging.srv.db.tree.Get(fmt.Sprintf("/n%05d", writes-1))
		return first && last
	})
	lc := hDial(t, lagging.addr, 10*time.Second)
	kids, _, err := lc.Children("/")
	if err != nil || len(kids) != writes+1 {
		t.Fatalf("children of / on the caught-up follower: %d, %v", len(kids), err)
	}
}

// firstLogIndex is the index of the oldest entry in the server's log.
func (s *Server) firstLogIndex() (uint64, error) {
	n, ok := s.node.(*replication.Node)
	if !ok {
		return 0, fmt.Errorf("node is a %T", s.node)
	}
	return n.FirstIndex()
}

// rawSession opens a connection to addr and starts (id 0) or resumes a
// session, failing the test if the server does not grant it.
func rawSession(t *testing.T, addr string, id int64, passwd []byte) (net.Conn, proto.ConnectResponse) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := proto.ConnectRequest{TimeOut: 10000, SessionID: id, Passwd: passwd}
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := proto.ReadFrame(nc, nil, 0)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(f, &resp); err != nil || resp.SessionID == 0 {
		t.Fatalf("connect to %s: %+v %v", addr, resp, err)
	}
	return nc, resp
}

// rawCreate sends a create on nc and returns the reply's error code.
func rawCreate(t *testing.T, nc net.Conn, xid int32, path string) proto.Code {
	t.Helper()
	req := &proto.CreateRequest{Path: path, ACL: []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "world", ID: "anyone"}}}}
	if _, err := nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: xid, Type: proto.OpCreate}, req)); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := proto.ReadFrame(nc, nil, 0)
		if err != nil {
			t.Fatalf("create %s: %v", path, err)
		}
		var h proto.ReplyHeader
		if err := h.Decode(proto.NewDecoder(f)); err != nil {
			t.Fatal(err)
		}
		if h.Xid == xid {
			return h.Err
		}
	}
}

// TestEnsembleSessionMoved: once a session is resumed on another server,
// its old connection's writes are refused with SessionMoved, as Apache
// refuses them.
func TestEnsembleSessionMoved(t *testing.T) {
	ms := startEnsemble(t, 3)
	leader := waitModes(t, ms)
	var fs []*member
	for _, m := range ms {
		if m != leader {
			fs = append(fs, m)
		}
	}
	// Old connection on one follower, then the session resumed on the
	// other follower, and on the leader.
	for _, to := range []*member{fs[1], leader} {
		old, resp := rawSession(t, fs[0].addr, 0, nil)
		if code := rawCreate(t, old, 1, fmt.Sprintf("/before-%d", to.cfg.MyID)); code != proto.OK {
			t.Fatalf("create on the session's first server: %v", code)
		}
		moved, _ := rawSession(t, to.addr, resp.SessionID, resp.Passwd)
		if code := rawCreate(t, old, 2, fmt.Sprintf("/stale-%d", to.cfg.MyID)); code != proto.ErrSessionMoved {
			t.Fatalf("write on the old connection after the session moved to server %d: %v, want SessionMoved", to.cfg.MyID, code)
		}
		if code := rawCreate(t, moved, 1, fmt.Sprintf("/after-%d", to.cfg.MyID)); code != proto.OK {
			t.Fatalf("write on the session's new server %d: %v", to.cfg.MyID, code)
		}
	}
}

// TestEnsembleConfigNode checks that every member of an ensemble holds the
// membership in /zookeeper/config, as an Apache ensemble does (getConfig,
// zkCli's config command): the server lines in id order with the observer
// marked, "version=0", node version -1, readable by anyone.
func TestEnsembleConfigNode(t *testing.T) {
	ms := newEnsemble(t, 2, 1)
	for _, m := range ms {
		m.start(t)
	}
	waitModes(t, ms)
	var want strings.Builder
	for _, s := range ms[0].cfg.Servers {
		role := "participant"
		if s.Observer {
			role = "observer"
		}
		fmt.Fprintf(&want, "server.%d=127.0.0.1:%d:%d:%s\n", s.ID, s.QuorumPort, s.ElectionPort, role)
	}
	want.WriteString("version=0")
	for _, m := range ms {
		c := hDial(t, m.addr, 10*time.Second)
		data, st, err := c.Get("/zookeeper/config")
		if err != nil {
			t.Fatalf("server %d: %v", m.cfg.MyID, err)
		}
		if string(data) != want.String() || st.Version != -1 || st.Mzxid != 0 || st.Mtime == 0 {
			t.Errorf("server %d: /zookeeper/config = %q %+v, want %q with version -1", m.cfg.MyID, data, st, want.String())
		}
	}
}
