package interop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// clusterTick is the tickTime of the ensembles the cluster tests kill
// servers of: sessions may last 1s to 10s, and a dead zkgo leader is
// noticed within syncLimit (5) ticks.
const clusterTick = 500 * time.Millisecond

// TestGoZKCluster ports the scenarios of go-zookeeper's own cluster tests
// (cluster_test.go: BasicCluster, ClientClusterFailover, NoQuorum) to the
// ensemble targets: one ensemble per target, the scenarios one after the
// other, each starting with every server up and serving.
func TestGoZKCluster(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name string
		fn   func(t *testing.T, tg *target, root string)
	}{
		{"BasicCluster", goZKBasicCluster},
		{"ClientFailover", goZKClientFailover},
		{"LeaderFailover", goZKLeaderFailover},
		{"NoQuorum", goZKNoQuorum},
	}
	forEachEnsemble(t, serverOpts{tickTime: clusterTick}, func(t *testing.T, tg *target) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				tg.startStopped(t)
				sc.fn(t, tg, "/gozk-cluster-"+strings.ToLower(sc.name))
			})
		}
	})
}

// waitNotServing waits until the server at addr says, as Apache's srvr does,
// that it is not serving requests.
func waitNotServing(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := fourLetter(ctx, addr, "srvr")
		if err == nil && strings.Contains(out, "This ZooKeeper instance is not currently serving requests") {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("srvr on %s still = %q, %v; want not currently serving", addr, out, err)
		case <-tick.C:
		}
	}
}

// goZKBasicCluster: two clients on different servers see each other's
// writes after sync, and a watch set through one server fires for a write
// made through another.
func goZKBasicCluster(t *testing.T, tg *target, root string) {
	a, _ := connectGoZK(t, tg.members.Addr(0), 10*time.Second)
	b, _ := connectGoZK(t, tg.members.Addr(1), 10*time.Second)
	if a.Server() != tg.members.Addr(0) || b.Server() != tg.members.Addr(1) {
		t.Fatalf("clients on %s and %s, want servers 1 and 2 (%s)", a.Server(), b.Server(), tg.addr)
	}
	mustCreate(t, a, root, "through server 1", 0)
	syncGoZK(t, b, root)
	data, _, err := b.Get(root)
	must(t, err, "get through server 2")
	if string(data) != "through server 1" {
		t.Fatalf("server 2 reads %q after sync", data)
	}

	_, _, w, err := a.GetW(root)
	must(t, err, "getW through server 1")
	_, err = b.Set(root, []byte("through server 2"), 0)
	must(t, err, "set through server 2")
	expectEvent(t, w, zk.EventNodeDataChanged, root)
	// The event comes once server 1 applied the write: a's reads see it.
	data, st, err := a.Get(root)
	must(t, err, "get through server 1")
	if string(data) != "through server 2" || st.Version != 1 {
		t.Fatalf("server 1 reads %q version %d after the watch fired", data, st.Version)
	}

	// A third server, which took part in neither write, has both after sync.
	c, _ := connectGoZK(t, tg.members.Addr(2), 10*time.Second)
	syncGoZK(t, c, root)
	data, st, err = c.Get(root)
	must(t, err, "get through server 3")
	if string(data) != "through server 2" || st.Version != 1 {
		t.Fatalf("server 3 reads %q version %d after sync", data, st.Version)
	}
}

// goZKClientFailover: the server a client is on dies; the client resumes its
// session on another server with its ephemeral, its watch and its digest
// identity (go-zookeeper sends its auth again), reads what it wrote and
// writes again. The server comes back with everything written meanwhile.
func goZKClientFailover(t *testing.T, tg *target, root string) {
	c, log := connectGoZK(t, tg.addr, 10*time.Second)
	must(t, c.AddAuth("digest", []byte("alice:secret")), "add auth")
	mustCreate(t, c, root, "foo-cluster", 0)
	mustCreate(t, c, root+"/e", "", zk.FlagEphemeral)
	_, err := c.Create(root+"/private", []byte("alice's"), 0, zk.DigestACL(zk.PermAll, "alice", "secret"))
	must(t, err, "create private")
	sid := c.SessionID()
	_, _, gw, err := c.ExistsW(root + "/gap")
	must(t, err, "existsW gap")
	was := c.Server()
	on := tg.member(t, was)
	mark := len(log.waitFor(t, "nothing", func([]zk.Event) bool { return true }))

	tg.killMember(t, on)
	// Another client creates the watched node while c moves: go-zookeeper
	// sets its watches again on the new server (SetWatches with the last
	// zxid it saw), which fires the event for a change it missed.
	other, _ := connectGoZK(t, tg.addr, 10*time.Second)
	mustCreate(t, other, root+"/gap", "", 0)
	expectEvent(t, gw, zk.EventNodeCreated, root+"/gap")
	evs := log.waitFor(t, "the session back on another server", func(evs []zk.Event) bool {
		return indexOfState(evs, mark, zk.StateHasSession) >= 0
	})
	back := evs[indexOfState(evs, mark, zk.StateHasSession)]
	if back.Server == was || c.SessionID() != sid {
		t.Fatalf("after server %d died: session %#x on %s, want session %#x on another server", on+1, c.SessionID(), back.Server, sid)
	}
	data, _, err := c.Get(root)
	must(t, err, "get after the failover")
	if string(data) != "foo-cluster" {
		t.Fatalf("data after the failover = %q", data)
	}
	if st := mustStat(t, c, root+"/e"); st.EphemeralOwner != sid {
		t.Fatalf("ephemeral owner after the failover = %#x, want %#x", st.EphemeralOwner, sid)
	}
	if data, _, err := c.Get(root + "/private"); err != nil || string(data) != "alice's" {
		t.Fatalf("digest-protected read after the failover = %q, %v", data, err)
	}
	_, err = c.Set(root, []byte("after failover"), 0)
	must(t, err, "set after the failover")
	mustCreate(t, c, root+"/after", "", 0)

	tg.startMember(t, on)
	tg.waitServing(t)
	// The restarted server caught up with the writes it missed.
	d, _ := connectGoZK(t, tg.members.Addr(on), 10*time.Second)
	syncGoZK(t, d, root)
	data, _, err = d.Get(root)
	must(t, err, "get through the restarted server")
	if string(data) != "after failover" {
		t.Fatalf("restarted server %d reads %q", on+1, data)
	}
	mustStat(t, d, root+"/after")
	if st := mustStat(t, d, root+"/e"); st.EphemeralOwner != sid {
		t.Fatalf("ephemeral owner seen by the restarted server = %#x, want %#x", st.EphemeralOwner, sid)
	}
}

// goZKLeaderFailover: the leader dies, wherever the client is. The two
// others elect a new leader; the client keeps its session and ephemeral and
// writes through the new leader. The old leader comes back as a follower:
// an established leader is not preempted.
func goZKLeaderFailover(t *testing.T, tg *target, root string) {
	c, log := connectGoZK(t, tg.addr, 10*time.Second)
	mustCreate(t, c, root, "", 0)
	mustCreate(t, c, root+"/e", "", zk.FlagEphemeral)
	sid := c.SessionID()
	old := tg.members.Leader()
	if old < 0 {
		t.Fatalf("%s: no leader", tg.name)
	}

	tg.killMember(t, old)
	tg.waitServing(t)
	leader := tg.members.Leader()
	if leader < 0 || leader == old {
		t.Fatalf("leader after server %d died: server %d", old+1, leader+1)
	}
	t.Logf("server %d leads after server %d died", leader+1, old+1)
	// A client on a follower was disconnected when its server lost the
	// leader; wait until it has its session again.
	log.waitFor(t, "a session after the election", func(evs []zk.Event) bool {
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == zk.EventSession {
				return evs[i].State == zk.StateHasSession
			}
		}
		return false
	})
	if c.SessionID() != sid {
		t.Fatalf("session after the leader died = %#x, want %#x", c.SessionID(), sid)
	}
	mustCreate(t, c, root+"/after", "written through the new leader", 0)
	if st := mustStat(t, c, root+"/e"); st.EphemeralOwner != sid {
		t.Fatalf("ephemeral owner after the leader died = %#x, want %#x", st.EphemeralOwner, sid)
	}

	tg.startMember(t, old)
	tg.waitServing(t)
	if mode := tg.members.Mode(old); mode != "follower" {
		t.Fatalf("old leader, server %d, came back as %q, want follower", old+1, mode)
	}
	if now := tg.members.Leader(); now != leader {
		t.Fatalf("leader after server %d came back: server %d, want server %d", old+1, now+1, leader+1)
	}
	d, _ := connectGoZK(t, tg.members.Addr(old), 10*time.Second)
	syncGoZK(t, d, root)
	mustStat(t, d, root+"/after")
	mustStat(t, d, root+"/e")
	_, err := c.Set(root, []byte("x"), -1)
	must(t, err, "set once the old leader is back")
}

// goZKNoQuorum: with two of three servers dead the last one serves nobody;
// the client keeps trying it and is dropped each time. Once a second server
// is back the client resumes its session (its timeout runs again from the
// new leader's start) with its ephemeral.
func goZKNoQuorum(t *testing.T, tg *target, root string) {
	c, log := connectGoZK(t, tg.addr, 8*time.Second)
	mustCreate(t, c, root, "", 0)
	mustCreate(t, c, root+"/e", "", zk.FlagEphemeral)
	sid := c.SessionID()
	all := func([]zk.Event) bool { return true }

	// The client's server dies: it moves to another one.
	firstAddr := c.Server()
	first := tg.member(t, firstAddr)
	mark := len(log.waitFor(t, "nothing", all))
	tg.killMember(t, first)
	evs := log.waitFor(t, "the session on another server", func(evs []zk.Event) bool {
		return indexOfState(evs, mark, zk.StateHasSession) >= 0
	})
	secondAddr := evs[indexOfState(evs, mark, zk.StateHasSession)].Server
	second := tg.member(t, secondAddr)
	if second == first || c.SessionID() != sid {
		t.Fatalf("after server %d died: session %#x on server %d, want %#x on another", first+1, c.SessionID(), second+1, sid)
	}

	// That one dies too: the last server has no quorum. A leader notices
	// the loss within syncLimit, and may serve until then.
	last := 3 - first - second
	lastAddr := tg.members.Addr(last)
	tg.killMember(t, second)
	waitNotServing(t, lastAddr)
	mark = len(log.waitFor(t, "nothing", all))
	evs = log.waitFor(t, "repeated drops by the last server", func(evs []zk.Event) bool {
		drops := 0
		for _, ev := range evs[mark:] {
			if ev.Type == zk.EventSession && ev.State == zk.StateDisconnected && ev.Server == lastAddr {
				drops++
			}
		}
		return drops >= 2
	})
	if i := indexOfState(evs, mark, zk.StateHasSession); i >= 0 {
		t.Fatalf("session established on %s without a quorum", evs[i].Server)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := handshake(ctx, lastAddr); err == nil {
		t.Fatalf("server %d opened a session without a quorum", last+1)
	}
	// A request fails rather than being served.
	done := make(chan error, 1)
	go func() { _, err := c.Create(root+"/lost", nil, 0, openACL); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, zk.ErrNoServer) && !errors.Is(err, zk.ErrConnectionClosed) {
			t.Fatalf("create without a quorum: err = %v, want no server or connection closed", err)
		}
	case <-time.After(eventTimeout):
		t.Fatalf("create without a quorum: no answer within %v", eventTimeout)
	}

	// A second server is back: the quorum and the session with it.
	mark = len(log.waitFor(t, "nothing", all))
	tg.startMember(t, first)
	log.waitFor(t, "the session back with the quorum", func(evs []zk.Event) bool {
		return indexOfState(evs, mark, zk.StateHasSession) >= 0 || indexOfState(evs, mark, zk.StateExpired) >= 0
	})
	if c.SessionID() != sid {
		t.Fatalf("session after the quorum came back = %#x, want %#x (events %v)", c.SessionID(), sid, log.waitFor(t, "nothing", all)[mark:])
	}
	if st := mustStat(t, c, root+"/e"); st.EphemeralOwner != sid {
		t.Fatalf("ephemeral owner after the quorum came back = %#x, want %#x", st.EphemeralOwner, sid)
	}
	if ok, _, err := c.Exists(root + "/lost"); err != nil || ok {
		t.Fatalf("create refused without a quorum: exists=%v err=%v", ok, err)
	}
	mustCreate(t, c, root+"/after", "", 0)

	tg.startMember(t, second)
	tg.waitServing(t)
	if c.SessionID() != sid {
		t.Fatalf("session once every server is back = %#x, want %#x", c.SessionID(), sid)
	}
	_, err := c.Set(root, []byte("all back"), -1)
	must(t, err, "set once every server is back")
}
