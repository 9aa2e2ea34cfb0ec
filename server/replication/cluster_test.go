package replication

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clusterTimeout is raft's heartbeat and election timeout in these tests. A
// leader steps down when a quorum has not answered within its lease (half
// of it), so it must outlast the stalls of a loaded 2-core machine running
// -race; failover still takes only a few seconds. The tests also tolerate a
// re-election where one can happen (see onLeader, applied and proposeOnce).
const clusterTimeout = time.Second

// startCluster starts voters and observers on 127.0.0.1.
func startCluster(t *testing.T, voters, observers int) []*Node {
	t.Helper()
	var servers []Server
	var cfgs []Config
	for i := range voters + observers {
		ln := listen(t)
		id := fmt.Sprint(i + 1)
		servers = append(servers, Server{ID: id, Address: ln.Addr().String(), Voter: i < voters})
		cfgs = append(cfgs, clusterConfig(t, id, ln))
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

// clusterConfig is the config of a cluster member with the test timings.
func clusterConfig(t *testing.T, id string, ln net.Listener) Config {
	return Config{
		ID: id, DataDir: t.TempDir(), Listener: ln, Logger: testLogger(t),
		HeartbeatTimeout: clusterTimeout, ElectionTimeout: clusterTimeout,
		LeaderLeaseTimeout: clusterTimeout / 2, CommitTimeout: 5 * time.Millisecond,
	}
}

// readyLeader waits until exactly one live node is a ready leader and
// returns it with the channel that its next leadership change closes.
func readyLeader(t *testing.T, nodes []*Node) (*Node, <-chan struct{}) {
	t.Helper()
	var (
		leader  *Node
		changed <-chan struct{}
	)
	waitFor(t, "a ready leader", func() bool {
		leader = nil
		for _, n := range nodes {
			if ready, ch := n.Leadership(); ready {
				if leader != nil {
					return false
				}
				leader, changed = n, ch
			}
		}
		return leader != nil
	})
	return leader, changed
}

// leadershipMoved reports whether a leader's readiness changes (closing
// changed) within a few election timeouts. A node learns that it lost
// leadership a little after its requests fail for it, so this waits.
func leadershipMoved(changed <-chan struct{}) bool {
	select {
	case <-changed:
		return true
	case <-time.After(5 * clusterTimeout):
		return false
	}
}

// onLeader runs op on the ready leader and returns that leader. When op
// fails and leadership moves (a lease ran out during a stall and the
// cluster elected again: harmless, and not what these tests check), it runs
// op again on the next ready leader; a failure while leadership stays put
// fails the test. op must be safe to repeat.
func onLeader(t *testing.T, nodes []*Node, what string, op func(leader *Node) error) *Node {
	t.Helper()
	for range 10 {
		leader, changed := readyLeader(t, nodes)
		err := op(leader)
		if err == nil {
			return leader
		}
		if !leadershipMoved(changed) {
			t.Fatalf("%s (leader %s): %v", what, leader.cfg.ID, err)
		}
		t.Logf("%s (leader %s): %v; leadership moved, again", what, leader.cfg.ID, err)
	}
	t.Fatalf("%s: leadership moved 10 times", what)
	return nil
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
	deadline := time.Now().Add(waitLimit)
	for {
		var diffs []string
		for _, n := range nodes {
			got := commands(n)
			if i := firstDiff(got, want); i >= 0 {
				diffs = append(diffs, fmt.Sprintf("node %s (%s) applied %d, first difference at %d: %q",
					n.cfg.ID, n.State(), len(got), i, got[i:min(i+3, len(got))]))
			}
		}
		if len(diffs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, not every node applied the %d commands %q...:\n%s",
				waitLimit, len(want), want[max(0, len(want)-3):], strings.Join(diffs, "\n"))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// firstDiff returns the first index where got and want differ, or -1.
func firstDiff(got, want []string) int {
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			return i
		}
	}
	return -1
}

// applied reports whether cmd, whose proposal failed with err, was applied:
// never for ErrNotLeader (not logged). For ErrLeadershipLost (outcome
// unknown) it asks a leader that has just passed a barrier: that leader
// has applied every entry of its log, which holds every entry a later
// leader could still commit. (Readiness alone is not enough: a node learns
// late that it lost leadership, and a stale leader may lack the entry that
// its successor commits.) Other errors fail the test.
func applied(t *testing.T, nodes []*Node, cmd string, err error) bool {
	t.Helper()
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrNotLeader):
		return false
	case !errors.Is(err, ErrLeadershipLost):
		t.Fatalf("proposing %s: %v", cmd, err)
	}
	var found bool
	onLeader(t, nodes, "Barrier", func(leader *Node) error {
		if err := leader.Barrier(testContext(t)); err != nil {
			return err
		}
		found = slices.Contains(commands(leader), cmd)
		return nil
	})
	return found
}

// proposeOnce gets cmd applied exactly once, as a client must: propose it
// on the ready leader, and again on the next one when it was not applied
// because leadership moved.
func proposeOnce(t *testing.T, nodes []*Node, cmd string) {
	t.Helper()
	onLeader(t, nodes, "ProposeWait "+cmd, func(leader *Node) error {
		_, err := leader.ProposeWait(testContext(t), []byte(cmd))
		if err != nil && applied(t, nodes, cmd, err) {
			return nil
		}
		return err
	})
}

func TestClusterReplicatesAndFailsOver(t *testing.T) {
	nodes := startCluster(t, 3, 1)
	observer := nodes[3]
	var want []string // every applied command, in log order

	// Pipelined proposals on the leader. Should leadership move meanwhile,
	// the failed ones are a suffix of the batch: each is applied already or
	// proposed again, in batch order, so the log keeps that order.
	leader, _ := readyLeader(t, nodes)
	batch := make([]string, 50)
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i := range batch {
		batch[i] = fmt.Sprintf("one-%d", i)
		wg.Add(1)
		leader.Propose([]byte(batch[i]), func(err error) {
			defer wg.Done()
			errs[i] = err
		})
	}
	wg.Wait()
	for i, c := range batch {
		if errs[i] != nil && !applied(t, nodes, c, errs[i]) {
			t.Logf("Propose %s: %v; proposing it again", c, errs[i])
			proposeOnce(t, nodes, c)
		}
	}
	want = append(want, batch...)
	waitSame(t, nodes, want)

	// Only the leader proposes, takes barriers and verifies its leadership.
	// A check that fails because leadership moved runs again; a probe
	// command that a node took as a new leader is in the log and counts.
	ctx := testContext(t)
	probes := 0
	leader = onLeader(t, nodes, "leader-only requests", func(leader *Node) error {
		for _, n := range nodes {
			if n == leader {
				continue
			}
			probes++
			probe := fmt.Sprintf("probe-%d", probes)
			if _, err := n.ProposeWait(ctx, []byte(probe)); !errors.Is(err, ErrNotLeader) {
				if err == nil || applied(t, nodes, probe, err) {
					want = append(want, probe)
				}
				return fmt.Errorf("ProposeWait on %s (%s): %v, want ErrNotLeader", n.cfg.ID, n.State(), err)
			}
			if err := n.Barrier(ctx); !errors.Is(err, ErrNotLeader) {
				return fmt.Errorf("Barrier on %s (%s): %v, want ErrNotLeader", n.cfg.ID, n.State(), err)
			}
			if id, _ := n.Leader(); id != leader.cfg.ID {
				return fmt.Errorf("node %s sees leader %q, want %s", n.cfg.ID, id, leader.cfg.ID)
			}
		}
		return leader.VerifyLeader(ctx)
	})
	if s := observer.State(); s != "observer" {
		t.Fatalf("observer State = %q", s)
	}
	waitSame(t, nodes, want)

	// Kill the leader: another voter takes over with every committed entry.
	shutdown(t, leader)
	var rest []*Node
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	next, _ := readyLeader(t, rest)
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
	cfg := clusterConfig(t, "1", listen(t))
	cfg.TrailingLogs, cfg.SnapshotThreshold, cfg.SegmentSize = 5, 1<<30, 4<<10
	first := open(t, cfg, &listFSM{})
	waitReady(t, first)
	proposeAll(t, first, "before", 200)
	// Compact the log (whole segments go: raft-wal still serves entries
	// below FirstIndex while their segment exists) so that the joiner can
	// only catch up from a snapshot.
	if err := first.Snapshot(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if idx, err := first.stores.wal.FirstIndex(); err != nil || idx <= 1 {
		t.Fatalf("leader log not compacted (first index %d, %v)", idx, err)
	}

	// Until the joiner votes, the first server is the only voter and so
	// the leader throughout.
	jcfg := clusterConfig(t, "2", listen(t))
	jcfg.Join = true
	jcfg.Servers = []Server{{ID: "2", Address: jcfg.Listener.Addr().String()}}
	joinerFSM := &listFSM{}
	joiner := open(t, jcfg, joinerFSM)
	if err := first.AddNonvoter(testContext(t), "2", joiner.Address()); err != nil {
		t.Fatalf("AddNonvoter: %v", err)
	}
	waitSame(t, []*Node{first, joiner}, commands(first))
	if joinerFSM.restores != 1 {
		t.Fatalf("joiner restored %d snapshots, want 1", joinerFSM.restores)
	}
	waitFor(t, "joiner to be an observer", func() bool { return joiner.State() == "observer" })
	waitFor(t, "joiner to apply up to the leader's index", func() bool {
		return joiner.AppliedIndex() == first.AppliedIndex()
	})

	// With two voters either may lead from now on.
	both := []*Node{first, joiner}
	onLeader(t, both, "AddVoter", func(leader *Node) error {
		return leader.AddVoter(testContext(t), "2", joiner.Address())
	})
	waitFor(t, "joiner to be a voter", func() bool {
		s := joiner.State()
		return s == "follower" || s == "leader"
	})
	for i := range 10 { // needs both votes now
		proposeOnce(t, both, fmt.Sprintf("after-%d", i))
	}
	leader, _ := readyLeader(t, both)
	waitSame(t, both, commands(leader))

	// A follower refuses membership changes. (It is asked to remove a
	// server that does not exist, harmless should it have become leader.)
	onLeader(t, both, "RemoveServer on a follower", func(leader *Node) error {
		follower := first
		if leader == first {
			follower = joiner
		}
		if err := follower.RemoveServer(testContext(t), "3"); !errors.Is(err, ErrNotLeader) {
			return fmt.Errorf("RemoveServer on follower %s: %v, want ErrNotLeader", follower.cfg.ID, err)
		}
		return nil
	})
	// Removing the joiner (even by itself, as leader) leaves the first
	// server as the only voter, and so the leader again.
	onLeader(t, both, "RemoveServer", func(leader *Node) error {
		return leader.RemoveServer(testContext(t), "2")
	})
	waitReady(t, first)
	waitFor(t, "the first server alone in the membership", func() bool {
		got := first.Servers()
		return len(got) == 1 && got[0].ID == "1" && got[0].Voter
	})
	proposeAll(t, first, "alone", 5) // quorum is the first server alone again
}
