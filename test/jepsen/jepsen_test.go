package jepsen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/internal/netproxy"
)

var (
	flagSeed     = flag.Uint64("jepsen.seed", 1, "seed of the nemesis's and the clients' choices")
	flagDuration = flag.Duration("jepsen.duration", 15*time.Second, "how long the nemesis injects faults")
	flagBackend  = flag.String("jepsen.backend", "", "clusters under test, comma-separated: zkgo, apache (default: $"+backendEnv+", else "+defaultBackends+")")
	flagNodes    = flag.Int("jepsen.nodes", 3, "number of servers")
	flagClients  = flag.Int("jepsen.clients", 6, "number of client sessions, spread over the servers")
	flagKeys     = flag.Int("jepsen.keys", 3, "number of keys in use at a time")
	flagKeyLife  = flag.Duration("jepsen.keylife", 3*time.Second, "how long the workload uses a key before it moves on to fresh ones")
	flagCheck    = flag.Duration("jepsen.checktimeout", time.Minute, "bound on the linearizability check")
)

const (
	// tickTime is the ensemble's tick: short, so that faults are noticed
	// (syncLimit = 5 ticks) and sessions expire within the test.
	tickTime          = 300 * time.Millisecond
	minSessionTimeout = time.Second
	maxSessionTimeout = 30 * time.Second
	// workerSession is the session timeout of the workload's clients,
	// which survive faults by reconnecting to another server.
	workerSession = 6 * time.Second
	// holderSession is the timeout of the sessions whose ephemerals must
	// survive every fault: longer than any fault the nemesis holds.
	holderSession = 15 * time.Second
	// expiringSession is the timeout of the session the test lets expire.
	expiringSession = 2 * time.Second
)

// TestFaults runs the workload against a cluster while the nemesis injects
// faults, then checks that the history is linearizable, that some writes
// were acknowledged, and that ephemerals follow their sessions.
func TestFaults(t *testing.T) {
	if *flagNodes < 3 {
		t.Fatalf("-jepsen.nodes=%d: a fault test needs at least 3 servers", *flagNodes)
	}
	eachBackend(t, faults)
}

func faults(t *testing.T, startCluster func(n int) Cluster) {
	seed := *flagSeed
	t.Logf("seed %d, duration %v (rerun with -jepsen.seed=%d -jepsen.duration=%v)", seed, *flagDuration, seed, *flagDuration)
	c := startCluster(*flagNodes)
	ctx, cancel := context.WithTimeout(context.Background(), *flagDuration+5*time.Minute)
	defer cancel()

	setup := connect(t, c.ConnectString(), 0, workerSession, nil)
	mustCreate(t, setup, "/jepsen", "")
	mustCreate(t, setup, "/jepsen/eph", "")
	// Enough periods for the run and for the repair of its last fault;
	// the last period's keys stay in use if it overruns.
	keys := keySpace{life: *flagKeyLife, perPeriod: *flagKeys, periods: int((*flagDuration + 20*time.Second) / *flagKeyLife)}
	for k := range keys.total() {
		mustCreate(t, setup, keyPath(k), "0")
	}
	setup.Close()

	// Sessions whose ephemerals must survive every leader change, one
	// started on each server; and one session, reaching a single server
	// through a proxy of the test's, that the test cuts off so that the
	// ensemble expires it in the middle of the faults.
	var holders []*holder
	for i := range c.Size() {
		holders = append(holders, newHolder(t, c.ConnectString(), i, "/jepsen/eph/live"+strconv.Itoa(i), holderSession))
	}
	px, err := netproxy.Listen(c.Addr(0))
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	expiring := newHolder(t, px.Addr(), 0, "/jepsen/eph/expiring", expiringSession)

	rec := newRecorder()
	keys.start = rec.start
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, *flagClients)
	var conns []*zk.Conn
	// halt stops the workers: closing their sessions ends operations
	// blocked on a lost server (their outcomes stay unknown). Deferred,
	// it also stops them when the test fails on the way.
	var haltOnce sync.Once
	halt := func() {
		haltOnce.Do(func() {
			close(stop)
			for _, conn := range conns {
				conn.Close()
			}
			wg.Wait()
			close(errs)
		})
	}
	defer halt()
	for id := range *flagClients {
		w := &worker{
			id:   id + 1,
			conn: connect(t, c.ConnectString(), id, workerSession, nil),
			rng:  rand.New(rand.NewPCG(seed, uint64(id))),
			rec:  rec,
			keys: keys,
		}
		conns = append(conns, w.conn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.run(stop)
		}()
	}

	// A watch on the expiring ephemeral, from a live session, times its
	// deletion: the expiry should fall in the middle of the faults.
	_, _, deleted, err := holders[0].conn.ExistsW(expiring.path)
	if err != nil {
		t.Fatalf("watching %s: %v", expiring.path, err)
	}
	px.Cut()
	expiredFrom := time.Now()
	deletedAfter := make(chan time.Duration, 1)
	go func() {
		// Ends with the event, or when the holder's session is closed.
		ev := <-deleted
		if ev.Type == zk.EventNodeDeleted {
			deletedAfter <- time.Since(expiredFrom)
		}
		close(deletedAfter)
	}()
	nctx, ncancel := context.WithTimeout(ctx, *flagDuration)
	n := &nemesis{c: c, rng: rand.New(rand.NewPCG(seed, 1<<32)), logf: t.Logf}
	nemErr := n.run(nctx)
	ncancel()
	halt()
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if nemErr != nil {
		t.Fatal(nemErr)
	}
	t.Logf("nemesis: %d rounds, %d leader changes", n.rounds, n.leaderChanges)

	// Every server serves: check what each one holds, after sync.
	if err := c.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	waitExpired(t, ctx, c, expiring, px, expiredFrom)
	select {
	case d, ok := <-deletedAfter:
		if ok {
			t.Logf("the watch saw %s deleted %v after its client was cut off (the nemesis ran for %v)", expiring.path, d.Round(time.Millisecond), *flagDuration)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("no watch event for the deletion of %s", expiring.path)
	}
	live := 0
	for _, h := range holders {
		if h.expired.Load() {
			t.Logf("holder %s: session 0x%x expired during the faults", h.path, h.session)
			continue
		}
		live++
	}
	if live == 0 {
		t.Error("every holder session expired: the survival of ephemerals was not tested")
	}
	for i := range c.Size() {
		checkServer(t, c, i, rec, keys.total(), append(holders, expiring))
	}

	h := rec.history()
	s := statsOf(h)
	t.Logf("history: %d operations: %v", len(h), s)
	if s.ackedWrites == 0 {
		t.Fatal("no write was acknowledged: the fault test proved nothing")
	}
	start := time.Now()
	v := check(h, *flagCheck)
	t.Logf("linearizability check: %s in %v", v.result, time.Since(start).Round(time.Millisecond))
	switch {
	case v.result == porcupine.Ok:
	case v.visualization != "":
		t.Errorf("history is %s (seed %d); porcupine's visualization: %s", v.result, seed, v.visualization)
	default:
		t.Errorf("history is %s (seed %d); no visualization: %v", v.result, seed, v.err)
	}
}

// connect opens a session to servers (a connect string), trying the
// start-th server first, and waits until it is established. events, if
// set, is called with every session event.
func connect(t *testing.T, servers string, start int, timeout time.Duration, events func(zk.Event)) *zk.Conn {
	t.Helper()
	established := make(chan struct{})
	var once sync.Once
	cb := func(ev zk.Event) {
		if ev.State == zk.StateHasSession {
			once.Do(func() { close(established) })
		}
		if events != nil {
			events(ev)
		}
	}
	conn, _, err := zk.Connect(splitServers(servers), timeout,
		zk.WithHostProvider(&rotated{start: start}), zk.WithLogger(nopLogger{}), zk.WithEventCallback(cb))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	select {
	case <-established:
	case <-time.After(time.Minute):
		t.Fatalf("no session with %s within a minute", servers)
	}
	return conn
}

func splitServers(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		out = append(out, s[:i])
		s = s[min(i+1, len(s)):]
	}
	return out
}

// retry runs f until it returns nil or an error that is not a connection
// loss, for a minute at most: the set-up and the final checks run on a
// healthy cluster, where a lost connection is transient.
func retry(f func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil || !(errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer)) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond) // a pause between attempts, not a wait for a condition
	}
}

// mustCreate creates a persistent znode; after a lost connection it may
// already exist, created by the lost attempt.
func mustCreate(t *testing.T, conn *zk.Conn, path, data string) {
	t.Helper()
	err := retry(func() error {
		_, err := conn.Create(path, []byte(data), 0, zk.WorldACL(zk.PermAll))
		if errors.Is(err, zk.ErrNodeExists) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
}

// holder is a session that owns an ephemeral znode.
type holder struct {
	path    string
	conn    *zk.Conn
	session int64       // the session that created the ephemeral
	expired atomic.Bool // the client was told the session expired
}

// newHolder opens a session with timeout (trying server start first) and
// creates its ephemeral at path.
func newHolder(t *testing.T, servers string, start int, path string, timeout time.Duration) *holder {
	t.Helper()
	h := &holder{path: path}
	h.conn = connect(t, servers, start, timeout, func(ev zk.Event) {
		if ev.State == zk.StateExpired {
			h.expired.Store(true)
		}
	})
	h.session = h.conn.SessionID()
	err := retry(func() error {
		_, err := h.conn.Create(path, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll))
		if errors.Is(err, zk.ErrNodeExists) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatalf("create ephemeral %s: %v", path, err)
	}
	return h
}

// waitExpired waits until the ensemble has expired the session of h, cut
// off by px since cutAt: its ephemeral is gone (after sync, from the first
// server) and, once px heals, its client is told.
func waitExpired(t *testing.T, ctx context.Context, c Cluster, h *holder, px *netproxy.Proxy, cutAt time.Time) {
	t.Helper()
	conn := connect(t, c.Addr(0), 0, workerSession, nil)
	defer conn.Close()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := retry(func() error {
			if _, err := conn.Sync(h.path); err != nil {
				return err
			}
			ok, _, err := conn.Exists(h.path)
			if err == nil && ok {
				return errStillThere
			}
			return err
		})
		if err == nil {
			break
		}
		if !errors.Is(err, errStillThere) {
			t.Fatalf("checking %s: %v", h.path, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s of session 0x%x still exists %v after its client was cut off", h.path, h.session, time.Since(cutAt))
		case <-tick.C:
		}
	}
	t.Logf("session 0x%x expired: %s gone when checked, %v after its client was cut off", h.session, h.path, time.Since(cutAt).Round(time.Millisecond))
	px.Heal()
	for !h.expired.Load() {
		select {
		case <-ctx.Done():
			t.Fatalf("client of session 0x%x not told of its expiry %v after the link healed", h.session, time.Since(cutAt))
		case <-tick.C:
		}
	}
}

var errStillThere = errors.New("still exists")

// checkServer checks what server i holds, after sync on a session to it
// alone: the ephemerals of live holders, owned by their sessions, and none
// of expired ones. It also records a read of every key in the history,
// so that the final state is checked as well.
func checkServer(t *testing.T, c Cluster, i int, rec *recorder, keys int, holders []*holder) {
	t.Helper()
	conn := connect(t, c.Addr(i), 0, workerSession, nil)
	defer conn.Close()
	client := rec.newClient()
	for k := range keys {
		err := retry(func() error {
			call := rec.now()
			if _, err := conn.Sync(keyPath(k)); err != nil {
				return err
			}
			data, st, err := conn.Get(keyPath(k))
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(string(data))
			if err != nil {
				return fmt.Errorf("%s holds %q", keyPath(k), data)
			}
			rec.add(client, call, rec.now(), input{kind: opRead, key: k}, output{value: v, version: st.Version})
			return nil
		})
		if err != nil {
			t.Fatalf("server %d: reading %s: %v", i+1, keyPath(k), err)
		}
	}
	for _, h := range holders {
		var st *zk.Stat
		var exists bool
		err := retry(func() error {
			if _, err := conn.Sync(h.path); err != nil {
				return err
			}
			var err error
			exists, st, err = conn.Exists(h.path)
			return err
		})
		if err != nil {
			t.Fatalf("server %d: %s: %v", i+1, h.path, err)
		}
		switch {
		case h.expired.Load() && exists:
			t.Errorf("server %d holds %s (owner 0x%x) of expired session 0x%x", i+1, h.path, st.EphemeralOwner, h.session)
		case !h.expired.Load() && !exists:
			t.Errorf("server %d lost %s of live session 0x%x", i+1, h.path, h.session)
		case !h.expired.Load() && st.EphemeralOwner != h.session:
			t.Errorf("server %d: %s is owned by 0x%x, want live session 0x%x", i+1, h.path, st.EphemeralOwner, h.session)
		}
	}
}
