package replication

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// clusterTimeout is short for a quick failover, yet long enough that a
// loaded 2-core machine running -race does not cause spurious elections.
const clusterTimeout = 200 * time.Millisecond

// startCluster starts voters and observers on 127.0.0.1.
func startCluster(t *testing.T, voters, observers int) []*Node {
	t.Helper()
	var servers []Server
	var cfgs []Config
	for i := range voters + observers {
		ln := listen(t)
		id := fmt.Sprint(i + 1)
		servers = append(servers, Server{ID: id, Address: ln.Addr().String(), Voter: i < voters})
		cfgs = append(cfgs, Config{
			ID: id, DataDir: t.TempDir(), Listener: ln, Logger: testLogger(t),
			HeartbeatTimeout: clusterTimeout, ElectionTimeout: clusterTimeout,
			LeaderLeaseTimeout: clusterTimeout / 2, CommitTimeout: 5 * time.Millisecond,
		})
	}
	nodes := make([]*Node, len(cfgs))
	for i, cfg := range cfgs {
		cfg.Servers = servers
		n, err := Open(testContext(t), cfg, &listFSM{})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		t.Cleanup(func() { shutdown(t, n) })
	}
	return nodes
}

// readyLeader waits until exactly one live node is a ready leader.
func readyLeader(t *testing.T, nodes []*Node) *Node {
	t.Helper()
	var leader *Node
	waitFor(t, "a ready leader", func() bool {
		leader = nil
		for _, n := range nodes {
			if ready, _ := n.Leadership(); ready {
				if leader != nil {
					return false
				}
				leader = n
			}
		}
		return leader != nil
	})
	return leader
}

func commands(n *Node) []string {
	var out []string
	for _, e := range n.fsm.fsm.(*listFSM).list() {
		out = append(out, e.Cmd)
	}
	return out
}

// waitSame waits until every node applied exactly want, in order.
func waitSame(t *testing.T, nodes []*Node, want []string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d commands on every node", len(want)), func() bool {
		for _, n := range nodes {
			if !slices.Equal(commands(n), want) {
				return false
			}
		}
		return true
	})
}

// proposeOnce gets cmd applied exactly once, as a client must: retry
// where it was not logged (ErrNotLeader) and, when the outcome is unknown
// (ErrLeadershipLost), look for it on the next ready leader, which has
// applied everything committed before its term.
func proposeOnce(t *testing.T, nodes []*Node, cmd string) {
	t.Helper()
	for range 10 {
		_, err := readyLeader(t, nodes).ProposeWait(testContext(t), []byte(cmd))
		switch {
		case err == nil:
			return
		case errors.Is(err, ErrLeadershipLost):
			if slices.Contains(commands(readyLeader(t, nodes)), cmd) {
				return
			}
		case !errors.Is(err, ErrNotLeader):
			t.Fatalf("ProposeWait %s: %v", cmd, err)
		}
	}
	t.Fatalf("ProposeWait %s: no stable leader", cmd)
}

func TestClusterReplicatesAndFailsOver(t *testing.T) {
	nodes := startCluster(t, 3, 1)
	leader := readyLeader(t, nodes)
	observer := nodes[3]

	var want []string
	for i := range 50 {
		want = append(want, fmt.Sprintf("one-%d", i))
	}
	errs := make(chan error, len(want))
	for _, c := range want {
		leader.Propose([]byte(c), func(err error) { errs <- err })
	}
	for range want {
		if err := <-errs; err != nil {
			t.Fatalf("Propose on leader: %v", err)
		}
	}
	waitSame(t, nodes, want)

	for _, n := range nodes {
		if n == leader {
			continue
		}
		if _, err := n.ProposeWait(testContext(t), []byte("x")); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("ProposeWait on %s (%s): %v, want ErrNotLeader", n.cfg.ID, n.State(), err)
		}
		if err := n.Barrier(testContext(t)); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("Barrier on a follower: %v, want ErrNotLeader", err)
		}
		if id, _ := n.Leader(); id != leader.cfg.ID {
			t.Fatalf("node %s sees leader %q, want %s", n.cfg.ID, id, leader.cfg.ID)
		}
	}
	if s := observer.State(); s != "observer" {
		t.Fatalf("observer State = %q", s)
	}
	if err := leader.VerifyLeader(testContext(t)); err != nil {
		t.Fatalf("VerifyLeader: %v", err)
	}

	// Kill the leader: another voter takes over with every committed entry.
	shutdown(t, leader)
	var rest []*Node
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	next := readyLeader(t, rest)
	if next == observer {
		t.Fatal("an observer became leader")
	}
	if got := commands(next); !slices.Equal(got, want) {
		t.Fatalf("new leader lost committed entries: has %d, want %d", len(got), len(want))
	}
	for i := range 20 {
		c := fmt.Sprintf("two-%d", i)
		proposeOnce(t, rest, c)
		want = append(want, c)
	}
	waitSame(t, rest, want)
	// Every node applied the same commands at the same indexes.
	base := next.fsm.fsm.(*listFSM).list()
	for _, n := range rest {
		if got := n.fsm.fsm.(*listFSM).list(); !slices.Equal(got, base) {
			t.Fatalf("node %s applied different (index, command) pairs", n.cfg.ID)
		}
	}
}

func TestClusterMembership(t *testing.T) {
	ln := listen(t)
	leader := open(t, Config{
		ID: "1", DataDir: t.TempDir(), Listener: ln, Logger: testLogger(t),
		TrailingLogs: 5, SnapshotThreshold: 1 << 30, SegmentSize: 4 << 10,
		// Not the standalone defaults: this server gets a peer.
		HeartbeatTimeout: clusterTimeout, ElectionTimeout: clusterTimeout,
		LeaderLeaseTimeout: clusterTimeout / 2, CommitTimeout: 5 * time.Millisecond,
	}, &listFSM{})
	waitReady(t, leader)
	proposeAll(t, leader, "before", 200)
	// Compact the log (whole segments go: raft-wal still serves entries
	// below FirstIndex while their segment exists) so that the joiner can
	// only catch up from a snapshot.
	if err := leader.Snapshot(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if first, err := leader.stores.wal.FirstIndex(); err != nil || first <= 1 {
		t.Fatalf("leader log not compacted (first index %d, %v)", first, err)
	}

	jl := listen(t)
	joinerFSM := &listFSM{}
	joiner := open(t, Config{
		ID: "2", DataDir: t.TempDir(), Listener: jl, Logger: testLogger(t), Join: true,
		Servers:          []Server{{ID: "2", Address: jl.Addr().String()}},
		HeartbeatTimeout: clusterTimeout, ElectionTimeout: clusterTimeout,
		LeaderLeaseTimeout: clusterTimeout / 2, CommitTimeout: 5 * time.Millisecond,
	}, joinerFSM)
	if err := leader.AddNonvoter(testContext(t), "2", joiner.Address()); err != nil {
		t.Fatalf("AddNonvoter: %v", err)
	}
	waitSame(t, []*Node{leader, joiner}, commands(leader))
	if joinerFSM.restores != 1 {
		t.Fatalf("joiner restored %d snapshots, want 1", joinerFSM.restores)
	}
	waitFor(t, "joiner to be an observer", func() bool { return joiner.State() == "observer" })
	waitFor(t, "joiner to apply up to the leader's index", func() bool {
		return joiner.AppliedIndex() == leader.AppliedIndex()
	})

	if err := leader.AddVoter(testContext(t), "2", joiner.Address()); err != nil {
		t.Fatalf("AddVoter: %v", err)
	}
	waitFor(t, "joiner to be a voting follower", func() bool { return joiner.State() == "follower" })
	proposeAll(t, leader, "after", 10) // needs both votes now
	waitSame(t, []*Node{leader, joiner}, commands(leader))

	if err := joiner.RemoveServer(testContext(t), "2"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("RemoveServer on a follower: %v, want ErrNotLeader", err)
	}
	if err := leader.RemoveServer(testContext(t), "2"); err != nil {
		t.Fatalf("RemoveServer: %v", err)
	}
	if got := leader.Servers(); len(got) != 1 || got[0].ID != "1" || !got[0].Voter {
		t.Fatalf("Servers after removal = %v", got)
	}
	proposeAll(t, leader, "alone", 5) // quorum is the leader alone again
}
