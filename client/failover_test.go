package client_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

// TestFailover runs the client against a 3-node Apache ZooKeeper ensemble
// (until zkgo ensembles exist) and kills the server it is connected to: the
// session must survive with its ephemerals and watches, operations in flight
// must be retried per the policy, and a client cut off past its session
// timeout must report expiry.
func TestFailover(t *testing.T) {
	e := startEnsemble(t)

	// Each subtest kills a server; the next one that needs all three
	// restarts it. Expiry needs only a quorum, so it runs while the server
	// killed by the first subtest rejoins. Clients are steered onto the
	// leader, whose death also costs an election (during which the
	// followers drop their clients too), or onto a follower.
	t.Run("SessionSurvivesLeaderKill", func(t *testing.T) {
		x := e.withMode(t, "leader")
		defer e.start(t, x)
		failoverSessionSurvives(t, e, x)
	})
	t.Run("Expiry", func(t *testing.T) { failoverExpiry(t, e) })
	for _, mode := range []string{"leader", "follower"} {
		t.Run("InFlightRetried/"+mode, func(t *testing.T) {
			start := time.Now()
			e.restartDead(t)
			e.waitServing(t)
			t.Logf("ensemble serving again after %v", time.Since(start))
			failoverInFlight(t, e, e.withMode(t, mode))
		})
	}
}

// steering makes a client's first connection go to one address: its dialer
// refuses every other until release.
type steering struct {
	target   string
	released atomic.Bool
}

func (s *steering) option() client.Option {
	return client.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !s.released.Load() && addr != s.target {
			return nil, fmt.Errorf("test steers the client to %s", s.target)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	})
}

func (s *steering) release() { s.released.Store(true) }

// failoverSessionSurvives checks scenario 1, killing server x, the one
// the client is steered onto.
func failoverSessionSurvives(t *testing.T, e *ensemble, x int) {
	ctx := ctxFor(t)
	// One proxy per server: the client reaches the servers only through
	// them, so the test can hold it disconnected while the node changes.
	px := make([]*proxy, len(e.nodes))
	addrs := make([]string, len(e.nodes))
	for i, n := range e.nodes {
		px[i] = newProxy(t, n.addr)
		addrs[i] = px[i].addr()
	}
	steer := &steering{target: addrs[x]}
	c := connectTo(t, strings.Join(addrs, ","), client.WithSessionTimeout(12*time.Second), steer.option())
	steer.release()
	expectStates(t, c, client.Connected)
	sid := c.SessionID()
	if got := c.Server(); got != addrs[x] {
		t.Fatalf("Server() = %q, want %q (server %d)", got, addrs[x], e.nodes[x].id)
	}
	var survivors []string
	for i, n := range e.nodes {
		if i != x {
			survivors = append(survivors, n.addr)
		}
	}
	// The other client talks to the survivors directly and retries without
	// limit (bounded by ctx): if the leader dies it waits out the election.
	other := connectTo(t, strings.Join(survivors, ","),
		client.WithRetryPolicy(client.Forever(100*time.Millisecond)))

	// The watched client creates the nodes, so that its own reads see them
	// (another session's writes may not have reached its server yet).
	const b = "/failover-session"
	if _, err := c.Create(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"/n", "/m"} {
		if _, err := c.Create(ctx, b+n, []byte("0")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(ctx, b+"/eph", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Fatal(err)
	}
	_, _, dataW, err := c.GetW(ctx, b+"/n")
	if err != nil {
		t.Fatal(err)
	}
	_, existW, err := c.ExistsW(ctx, b+"/gap")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.AddWatch(ctx, b, true)
	if err != nil {
		t.Fatal(err)
	}

	// Keep the client away from the survivors, then kill -9 its server.
	for i := range px {
		if i != x {
			px[i].cut(true)
		}
	}
	e.kill(t, x)
	expectStates(t, c, client.Suspended)

	// Changes made while the client is disconnected.
	if _, err := other.Set(ctx, b+"/n", []byte("1"), -1); err != nil {
		t.Fatalf("set during the gap: %v", err)
	}
	if _, err := other.Create(ctx, b+"/gap", nil); err != nil {
		t.Fatalf("create during the gap: %v", err)
	}
	if _, err := other.Set(ctx, b+"/m", []byte("1"), -1); err != nil { // no one-shot watch on /m
		t.Fatalf("set during the gap: %v", err)
	}
	if s := c.State(); s != client.Suspended {
		t.Fatalf("state %v while every reachable server is cut off, want SUSPENDED", s)
	}

	for i := range px {
		if i != x {
			px[i].resume()
		}
	}
	expectStates(t, c, client.Reconnected)
	if got := c.SessionID(); got != sid {
		t.Fatalf("session 0x%x after failover, want the same session 0x%x", got, sid)
	}
	if s := c.Server(); s == addrs[x] || s == "" {
		t.Errorf("Server() = %q after failover; %q is dead", s, addrs[x])
	}

	// One-shot watches were re-registered with setWatches and fire for the
	// changes made during the gap.
	expectEvent(t, dataW, client.EventNodeDataChanged, b+"/n")
	expectClosed(t, dataW)
	expectEvent(t, existW, client.EventNodeCreated, b+"/gap")
	expectClosed(t, existW)

	// The ephemeral survived, seen from both sessions.
	if st, err := other.Exists(ctx, b+"/eph"); err != nil || st == nil || st.EphemeralOwner != sid {
		t.Errorf("ephemeral seen by another client after failover: %+v, %v", st, err)
	}
	if st, err := c.Exists(ctx, b+"/eph"); err != nil || st == nil || st.EphemeralOwner != sid {
		t.Errorf("ephemeral seen by its owner after failover: %+v, %v", st, err)
	}

	// Apache ZooKeeper re-adds persistent watches on setWatches2 without
	// replaying what changed in the gap (DataTree.setWatches), so the
	// recursive watcher sees no event for /m. It does see the gap events
	// that the server replays for the one-shot watches on /n and /gap: the
	// server sends one notification per connection and the client hands it
	// to every watch it matches, as the Java client's ZKWatchManager does.
	// The read makes sure the server has processed the setWatches that
	// preceded it on this connection before the next change is made.
	if _, _, err := c.Get(ctx, b+"/n"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create(ctx, b+"/after", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		ev := nextEvent(t, rec.C())
		if ev.Type == client.EventNodeCreated && ev.Path == b+"/after" {
			break
		}
		got = append(got, fmt.Sprintf("%v %s", ev.Type, ev.Path))
	}
	slices.Sort(got)
	want := []string{
		fmt.Sprintf("%v %s", client.EventNodeCreated, b+"/gap"),
		fmt.Sprintf("%v %s", client.EventNodeDataChanged, b+"/n"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("recursive watcher events before the post-failover change: %q, want %q", got, want)
	}
	if err := rec.Err(); err != nil {
		t.Errorf("recursive watcher ended: %v", err)
	}

	// Nothing but SUSPENDED, RECONNECTED: never LOST.
	select {
	case s := <-c.States():
		t.Errorf("unexpected state %v after RECONNECTED", s)
	default:
	}
	if s := c.State(); s != client.Reconnected || c.SessionID() != sid {
		t.Errorf("final state %v session 0x%x, want RECONNECTED 0x%x", s, c.SessionID(), sid)
	}
}

// failoverExpiry checks scenario 3: a client cut off from every server for
// longer than its session timeout reports Lost, its ephemerals disappear,
// and it gets a new session once a server is reachable again.
func failoverExpiry(t *testing.T, e *ensemble) {
	ctx := ctxFor(t)
	var px []*proxy
	var addrs, direct []string
	for _, n := range e.nodes {
		p := newProxy(t, n.addr)
		px = append(px, p)
		addrs = append(addrs, p.addr())
		direct = append(direct, n.addr)
	}
	other := connectTo(t, strings.Join(direct, ","),
		client.WithRetryPolicy(client.Forever(100*time.Millisecond)))
	const b = "/failover-expiry"
	c := connectTo(t, strings.Join(addrs, ","), client.WithSessionTimeout(2*time.Second))
	expectStates(t, c, client.Connected)
	sid := c.SessionID()
	timeout := c.SessionTimeout()
	if timeout != 2*time.Second {
		t.Fatalf("negotiated session timeout %v, want 2s", timeout)
	}
	if _, err := c.Create(ctx, b+"/eph", nil, client.WithMode(client.Ephemeral), client.WithParents()); err != nil {
		t.Fatal(err)
	}
	_, _, w, err := c.GetW(ctx, b+"/eph")
	if err != nil {
		t.Fatal(err)
	}

	cutAt := time.Now()
	for _, p := range px {
		p.cut(true)
	}
	expectStates(t, c, client.Suspended, client.Lost)
	// The client must not give up on the session much before it can have
	// expired: it last heard from the server at most a ping interval (a
	// third of the timeout) before the cut.
	if d := time.Since(cutAt); d < timeout/2 {
		t.Errorf("LOST %v after the cut, before the %v session timeout could pass", d, timeout)
	}
	if got := c.SessionID(); got != 0 {
		t.Errorf("session id 0x%x after LOST, want 0", got)
	}
	ev := nextEvent(t, w)
	if ev.Type != client.EventNone || ev.State != client.KeeperExpired || !errors.Is(ev.Err, client.ErrSessionExpired) {
		t.Errorf("watch final event %+v, want an expiry", ev)
	}
	expectClosed(t, w)
	waitFor(t, "the ensemble to delete the expired session's ephemeral", func() bool {
		st, err := other.Exists(ctx, b+"/eph")
		return err == nil && st == nil
	})

	for _, p := range px {
		p.resume()
	}
	expectStates(t, c, client.Reconnected)
	if got := c.SessionID(); got == 0 || got == sid {
		t.Errorf("session 0x%x after LOST then RECONNECTED, want a new one (old 0x%x)", got, sid)
	}
	if _, err := c.Create(ctx, b+"/eph2", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Errorf("create on the new session: %v", err)
	}
}

// countingPolicy wraps a policy and counts its decisions.
type countingPolicy struct {
	inner      client.RetryPolicy
	maxRetries int
	retried    atomic.Int64 // Next said retry
	gaveUp     atomic.Int64 // Next said stop
	earlyStops atomic.Int64 // stops after fewer than maxRetries retries
}

func (p *countingPolicy) Next(retries int, elapsed time.Duration) (time.Duration, bool) {
	d, ok := p.inner.Next(retries, elapsed)
	if ok {
		p.retried.Add(1)
	} else {
		p.gaveUp.Add(1)
		if retries != p.maxRetries {
			p.earlyStops.Add(1)
		}
	}
	return d, ok
}

// setWorker issues Sets of increasing values to its own node, one at a
// time. Fields other than ok are owned by its goroutine until it ends.
type setWorker struct {
	path      string
	ok        atomic.Int64 // successful calls, read while running
	attempted int          // last value sent
	acked     int          // last value acknowledged
	slowest   time.Duration
	failures  []setFailure
}

type setFailure struct {
	value   int
	err     error
	dur     time.Duration
	ctxDone bool // the call's context had ended when it returned
}

// failoverInFlight checks scenario 2: streams of Sets from several
// goroutines are cut by kill -9 of server x, the one the clients are
// steered onto. One client retries up to 5 times, one never: every call
// returns success or an error its retry policy explains, within its
// context, and no acknowledged write is lost.
func failoverInFlight(t *testing.T, e *ensemble, x int) {
	ctx := ctxFor(t)
	const (
		workers     = 4 // per client
		callTimeout = 20 * time.Second
		perPhase    = 20 // successes wanted before the kill and after reconnecting
	)
	b := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	groups := []*setGroup{{name: "ntimes", maxRetries: 5}, {name: "noretry", maxRetries: 0}}
	var all []*setWorker
	for _, g := range groups {
		g.policy = &countingPolicy{inner: client.NTimes(g.maxRetries, 200*time.Millisecond), maxRetries: g.maxRetries}
		steer := &steering{target: e.nodes[x].addr}
		g.c = connectTo(t, e.connectString(), client.WithRetryPolicy(g.policy), steer.option(),
			client.WithSessionTimeout(12*time.Second), client.WithConnectTimeout(2*time.Second))
		steer.release()
		expectStates(t, g.c, client.Connected)
		g.sid = g.c.SessionID()
		if got := g.c.Server(); got != e.nodes[x].addr {
			t.Fatalf("Server() = %q, want %q", got, e.nodes[x].addr)
		}
		for i := range workers {
			w := &setWorker{path: fmt.Sprintf("%s/%s-%d", b, g.name, i)}
			if _, err := g.c.Create(ctx, w.path, []byte("0"), client.WithParents()); err != nil {
				t.Fatal(err)
			}
			g.ws = append(g.ws, w)
			all = append(all, w)
		}
		g.retried0, g.gaveUp0 = g.policy.retried.Load(), g.policy.gaveUp.Load()
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, g := range groups {
		for _, w := range g.ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(ctx, g.c, stop, callTimeout)
			}()
		}
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	stopped := false
	stopWorkers := func() {
		if !stopped {
			stopped = true
			close(stop)
		}
		select {
		case <-finished:
		case <-time.After(callTimeout + 10*time.Second):
			t.Fatal("a Set call hung past its context")
		}
	}
	defer stopWorkers()

	atLeast := func(n int64) func() bool {
		return func() bool {
			for _, w := range all {
				if w.ok.Load() < n {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, "every worker to complete Sets", atLeast(perPhase))
	e.kill(t, x)
	for _, g := range groups {
		expectStates(t, g.c, client.Suspended, client.Reconnected)
		if got := g.c.SessionID(); got != g.sid {
			t.Fatalf("%s: session 0x%x after failover, want 0x%x", g.name, got, g.sid)
		}
	}
	var after int64
	for _, w := range all {
		after = max(after, w.ok.Load())
	}
	waitFor(t, "every worker to complete Sets after the failover", atLeast(after+perPhase))
	stopWorkers()

	for _, g := range groups {
		g.check(t, ctx, callTimeout)
	}
}

// setGroup is one client and the workers sharing it.
type setGroup struct {
	name              string
	maxRetries        int
	policy            *countingPolicy
	c                 *client.Conn
	sid               int64
	ws                []*setWorker
	retried0, gaveUp0 int64 // policy counts before the stream
}

// check verifies a group's results once its workers have stopped.
func (g *setGroup) check(t *testing.T, ctx context.Context, callTimeout time.Duration) {
	t.Helper()
	retried, gaveUp := g.policy.retried.Load()-g.retried0, g.policy.gaveUp.Load()-g.gaveUp0
	t.Logf("%s: policy said retry %d times, stop %d times", g.name, retried, gaveUp)
	// The kill interrupts the Sets in flight: with retries they are retried,
	// without they fail.
	if g.maxRetries > 0 && retried == 0 {
		t.Errorf("%s: no Set was retried: none was in flight when the server died?", g.name)
	}
	if g.maxRetries == 0 && gaveUp == 0 {
		t.Errorf("%s: no Set failed: none was in flight when the server died?", g.name)
	}
	if n := g.policy.earlyStops.Load(); n > 0 {
		t.Errorf("%s: the retry loop gave up %d times before %d retries", g.name, n, g.maxRetries)
	}
	var givenUp int64
	for _, w := range g.ws {
		if w.slowest > callTimeout+5*time.Second {
			t.Errorf("%s: a set returned after %v, past its %v context", w.path, w.slowest, callTimeout)
		}
		for _, f := range w.failures {
			switch {
			case f.ctxDone:
				// Bounded by the context: allowed, but only as a context
				// error or the retryable error it interrupted.
				if !errors.Is(f.err, context.DeadlineExceeded) && !client.IsRetryable(f.err) {
					t.Errorf("%s set %d: %v after its context ended", w.path, f.value, f.err)
				}
			case client.IsRetryable(f.err):
				givenUp++ // the policy must have said stop for this one
			default:
				t.Errorf("%s set %d: %v, neither success nor a retryable error", w.path, f.value, f.err)
			}
		}
		// No acknowledged write is lost, and nothing never sent appears.
		data, _, err := g.c.Get(ctx, w.path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.Atoi(string(data))
		if err != nil || v < w.acked || v > w.attempted {
			t.Errorf("%s holds %q; last acknowledged %d, last attempted %d", w.path, data, w.acked, w.attempted)
		}
	}
	if givenUp != gaveUp {
		t.Errorf("%s: %d calls failed with a retryable error, but the policy gave up %d times", g.name, givenUp, gaveUp)
	}
}

// run issues Sets of 1, 2, ... until stop is closed, recording outcomes.
func (w *setWorker) run(ctx context.Context, c *client.Conn, stop <-chan struct{}, callTimeout time.Duration) {
	for v := 1; ctx.Err() == nil; v++ {
		select {
		case <-stop:
			return
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		start := time.Now()
		w.attempted = v
		_, err := c.Set(cctx, w.path, []byte(strconv.Itoa(v)), -1)
		dur := time.Since(start)
		ctxDone := cctx.Err() != nil
		cancel()
		w.slowest = max(w.slowest, dur)
		if err == nil {
			w.acked = v
			w.ok.Add(1)
		} else {
			w.failures = append(w.failures, setFailure{value: v, err: err, dur: dur, ctxDone: ctxDone})
		}
	}
}

// ensembleClasspath lists the jars QuorumPeerMain needs from the Debian
// package zookeeper.
func ensembleClasspath() []string {
	return []string{
		"/usr/share/java/zookeeper.jar",
		"/usr/share/java/zookeeper-jute.jar",
		"/usr/share/java/slf4j-api.jar",
		"/usr/share/java/slf4j-simple.jar",
	}
}

// ensemble is a 3-node Apache ZooKeeper ensemble of local processes. Its
// methods are called from the test goroutine only.
type ensemble struct {
	java  string
	props []string // extra JVM options, e.g. -Dreadonlymode.enabled=true
	dir   string
	nodes []*ensembleNode
}

// ensembleNode is one QuorumPeerMain process; cmd and exited are nil while
// it is not running.
type ensembleNode struct {
	id     int
	addr   string // client address
	cfg    string
	log    string
	logf   *os.File
	cmd    *exec.Cmd
	exited chan struct{} // closed by the reaper goroutine when cmd has exited
}

// startEnsemble starts three servers with small ticks and waits until all
// serve as leader or follower. Without java or the jars the test is skipped
// (naming the Debian package), unless ZKGO_INTEROP_REQUIRED=1.
func startEnsemble(t *testing.T) *ensemble { return startEnsembleWith(t, nil, nil) }

// startEnsembleWith is startEnsemble with extra JVM options (props) and
// zoo.cfg lines (cfg).
func startEnsembleWith(t *testing.T, props, cfg []string) *ensemble {
	t.Helper()
	missing := ""
	java, err := exec.LookPath("java")
	if err != nil {
		missing = "java not found"
	}
	for _, jar := range ensembleClasspath() {
		if _, err := os.Stat(jar); err != nil && missing == "" {
			missing = jar + " missing"
		}
	}
	if missing != "" {
		if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
			t.Fatalf("%s (install the Debian package `zookeeper`)", missing)
		}
		t.Skipf("%s (install the Debian package `zookeeper`)", missing)
	}
	e := &ensemble{java: java, dir: t.TempDir(), props: props}
	// Hold all nine listeners at once so that the ports are distinct.
	var lns []net.Listener
	for range 9 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	port := func(i int) int { return lns[i].Addr().(*net.TCPAddr).Port }
	var servers strings.Builder
	for i := range 3 {
		fmt.Fprintf(&servers, "server.%d=127.0.0.1:%d:%d\n", i+1, port(3*i+1), port(3*i+2))
	}
	for i := range 3 {
		dir := filepath.Join(e.dir, fmt.Sprintf("n%d", i+1))
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(i+1)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		zooCfg := fmt.Sprintf("tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\n"+
			"clientPort=%d\nclientPortAddress=127.0.0.1\nmaxSessionTimeout=20000\nmaxClientCnxns=0\n"+
			"4lw.commands.whitelist=*\nadmin.enableServer=false\n%s",
			data, port(3*i), servers.String())
		for _, line := range cfg {
			zooCfg += line + "\n"
		}
		n := &ensembleNode{
			id:   i + 1,
			addr: fmt.Sprintf("127.0.0.1:%d", port(3*i)),
			cfg:  filepath.Join(dir, "zoo.cfg"),
			log:  filepath.Join(dir, "server.log"),
		}
		if err := os.WriteFile(n.cfg, []byte(zooCfg), 0o644); err != nil {
			t.Fatal(err)
		}
		e.nodes = append(e.nodes, n)
	}
	for _, ln := range lns {
		ln.Close()
	}
	t.Cleanup(func() {
		if t.Failed() {
			e.dumpLogs(t)
		}
		for i := range e.nodes {
			e.stop(i)
		}
	})
	for i := range e.nodes {
		e.start(t, i)
	}
	e.waitServing(t)
	return e
}

// connectString lists every server of the ensemble.
func (e *ensemble) connectString() string {
	var addrs []string
	for _, n := range e.nodes {
		addrs = append(addrs, n.addr)
	}
	return strings.Join(addrs, ",")
}

// withMode returns the index of a node serving in mode ("leader" or
// "follower"), waiting for one.
func (e *ensemble) withMode(t *testing.T, mode string) int {
	t.Helper()
	x := -1
	waitFor(t, "a "+mode, func() bool {
		x = slices.IndexFunc(e.nodes, func(n *ensembleNode) bool {
			return n.cmd != nil && ensembleMode(n.addr) == mode
		})
		return x >= 0
	})
	return x
}

// start launches node i (which must not be running) without waiting for it.
func (e *ensemble) start(t *testing.T, i int) {
	t.Helper()
	n := e.nodes[i]
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", strings.Join(ensembleClasspath(), ":"),
		// No fsync and small log preallocation: durability across machine
		// crashes is not under test, and the machine is shared.
		"-Dzookeeper.forceSync=no", "-Dzookeeper.preAllocSize=1024"}, e.props...)
	cmd := exec.Command(e.java, append(args, "org.apache.zookeeper.server.quorum.QuorumPeerMain", n.cfg)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start server %d: %v", n.id, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	n.cmd, n.exited, n.logf = cmd, exited, logf
}

// kill sends SIGKILL to node i, the process this test started, by PID, and
// waits for it to exit.
func (e *ensemble) kill(t *testing.T, i int) {
	t.Helper()
	n := e.nodes[i]
	if n.cmd == nil {
		t.Fatalf("server %d is not running", n.id)
	}
	e.stop(i)
}

// stop kills node i if it is running and reaps it.
func (e *ensemble) stop(i int) {
	n := e.nodes[i]
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Kill()
	<-n.exited
	n.logf.Close()
	n.cmd, n.exited, n.logf = nil, nil, nil
}

// restartDead starts every node that is not running.
func (e *ensemble) restartDead(t *testing.T) {
	t.Helper()
	for i, n := range e.nodes {
		if n.cmd == nil {
			e.start(t, i)
		}
	}
}

// waitServing waits until every node answers srvr as leader or follower.
func (e *ensemble) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range e.nodes {
		for {
			if n.cmd == nil {
				t.Fatalf("server %d is not running", n.id)
			}
			if m := ensembleMode(n.addr); m == "leader" || m == "follower" {
				break
			}
			select {
			case <-n.exited:
				t.Fatalf("server %d exited", n.id)
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("server %d not serving after 60s", n.id)
			}
		}
	}
}

// dumpLogs logs the end of every server's log.
func (e *ensemble) dumpLogs(t *testing.T) {
	for _, n := range e.nodes {
		b, _ := os.ReadFile(n.log)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		lines = lines[max(0, len(lines)-40):]
		t.Logf("server %d (%s) log tail:\n%s", n.id, n.addr, strings.Join(lines, "\n"))
	}
}

// ensembleMode returns the Mode line of addr's srvr reply ("" if none).
func ensembleMode(addr string) string {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(nc, "srvr"); err != nil {
		return ""
	}
	sc := bufio.NewScanner(nc)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}
