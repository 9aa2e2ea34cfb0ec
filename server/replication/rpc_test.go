package replication

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// rpcTimeout is the raft timing of the forwarding tests: generous, so that
// a loaded 2-core machine under -race does not re-elect in the middle.
const rpcTimeout = time.Second

// hooks records what a leader's LeaderHooks saw.
type hooks struct {
	mu      sync.Mutex
	touched []int64
	refuse  string // PrepareForwarded refuses commands equal to it
}

func (h *hooks) PrepareForwarded(cmd []byte) ([]byte, error) {
	if string(cmd) == h.refuse {
		return nil, errors.New("refused by hook")
	}
	return append([]byte("fwd:"), cmd...), nil
}

func (h *hooks) Touched(keys []int64) {
	h.mu.Lock()
	h.touched = append(h.touched, keys...)
	h.mu.Unlock()
}

func (h *hooks) Claim(from string, key int64) error {
	if key < 0 {
		return &CodedError{Code: -112, Msg: "no such key"}
	}
	return nil
}

func (h *hooks) seen() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.touched)
}

// startRPCCluster starts voters with cluster RPC listeners; each node gets
// its own hooks.
func startRPCCluster(t *testing.T, voters int) ([]*Node, []*hooks) {
	t.Helper()
	var servers []Server
	var cfgs []Config
	hs := make([]*hooks, voters)
	for i := range voters {
		ln, rl := listen(t), listen(t)
		id := fmt.Sprint(i + 1)
		hs[i] = &hooks{refuse: "refuse-me"}
		servers = append(servers, Server{ID: id, Address: ln.Addr().String(), RPCAddress: rl.Addr().String(), Voter: true})
		cfgs = append(cfgs, Config{
			ID: id, DataDir: t.TempDir(), Listener: ln, RPCListener: rl, Hooks: hs[i], Logger: testLogger(t),
			HeartbeatTimeout: rpcTimeout, ElectionTimeout: rpcTimeout,
			LeaderLeaseTimeout: rpcTimeout / 2, CommitTimeout: 5 * time.Millisecond,
		})
	}
	nodes := make([]*Node, voters)
	for i, cfg := range cfgs {
		cfg.Servers = servers
		n, err := Open(testContext(t), cfg, &listFSM{})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		t.Cleanup(func() { shutdown(t, n) })
	}
	return nodes, hs
}

// proposeOn proposes cmd on n and waits for the outcome.
func proposeOn(t *testing.T, n *Node, cmd string) error {
	t.Helper()
	ch := make(chan error, 1)
	n.Propose([]byte(cmd), func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-testContext(t).Done():
		t.Fatalf("Propose %s: no outcome", cmd)
		return nil
	}
}

func TestFollowerForwardsToLeader(t *testing.T) {
	nodes, hs := startRPCCluster(t, 3)
	leader, _ := readyLeader(t, nodes)
	var followers []*Node
	for _, n := range nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}

	// A follower's proposal is logged by the leader (through its hook) and
	// done runs only once the follower itself applied it. A leader change
	// in between (a slow machine) refuses it cleanly; retry then.
	var want []string
	for i, f := range followers {
		cmd := fmt.Sprintf("from-%s-%d", f.cfg.ID, i)
		var err error
		for range 5 {
			if err = proposeOn(t, f, cmd); err == nil || !(errors.Is(err, ErrNotLeader) || errors.Is(err, ErrLeadershipLost)) {
				break
			}
			readyLeader(t, nodes)
		}
		if err != nil {
			t.Fatalf("Propose on follower %s: %v", f.cfg.ID, err)
		}
		if got := commands(f); !slices.Contains(got, "fwd:"+cmd) {
			t.Fatalf("done ran on follower %s before it applied %q (has %q)", f.cfg.ID, cmd, got)
		}
		want = append(want, "fwd:"+cmd)
	}
	waitFor(t, "forwarded commands on every node", func() bool {
		for _, n := range nodes {
			for _, w := range want {
				if !slices.Contains(commands(n), w) {
					return false
				}
			}
		}
		return true
	})

	// The leader's hook can refuse; the follower gets its error.
	if err := proposeOn(t, followers[0], "refuse-me"); err == nil || !strings.Contains(err.Error(), "refused by hook") {
		t.Fatalf("refused command: err = %v", err)
	}

	// Touches reach the leader's hook.
	leader, _ = readyLeader(t, nodes)
	var lh *hooks
	for i, n := range nodes {
		if n == leader {
			lh = hs[i]
		}
	}
	for _, n := range nodes {
		if n != leader {
			n.Touch([]int64{42, 43})
		}
	}
	waitFor(t, "touches at the leader", func() bool { return slices.Contains(lh.seen(), 42) && slices.Contains(lh.seen(), 43) })
	// Claims reach the leader's hook; its coded refusal comes back as is.
	for _, n := range nodes {
		if err := n.Claim(testContext(t), 7); err != nil {
			t.Fatalf("Claim on %s: %v", n.cfg.ID, err)
		}
		var ce *CodedError
		if err := n.Claim(testContext(t), -1); !errors.As(err, &ce) || ce.Code != -112 {
			t.Fatalf("refused Claim on %s: %v, want a CodedError -112", n.cfg.ID, err)
		}
	}
	// The leader knows which followers it heard from.
	waitFor(t, "both followers in the leader's peers", func() bool {
		peers := leader.Peers()
		for _, n := range nodes {
			if _, ok := peers[n.cfg.ID]; n != leader && !ok {
				return false
			}
		}
		return true
	})
}

func TestFollowerReadIndexSeesCommittedWrites(t *testing.T) {
	nodes, _ := startRPCCluster(t, 3)
	leader, _ := readyLeader(t, nodes)
	for i := range 20 {
		if _, err := leader.ProposeWait(testContext(t), []byte(fmt.Sprint("w", i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		if n == leader {
			continue
		}
		index, err := n.ReadIndex(testContext(t))
		if err != nil {
			t.Fatalf("ReadIndex on %s: %v", n.cfg.ID, err)
		}
		if err := n.WaitApplied(testContext(t), index); err != nil {
			t.Fatal(err)
		}
		// Every write acknowledged before the read index was taken is here.
		if got := commands(n); !slices.Contains(got, "w19") {
			t.Fatalf("after ReadIndex %d and WaitApplied, %s has %d commands without w19", index, n.cfg.ID, len(got))
		}
		done := make(chan error, 1)
		n.Sync(func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatalf("Sync on %s: %v", n.cfg.ID, err)
		}
	}
}

func TestForwardedProposalFailsWhenLeaderStops(t *testing.T) {
	nodes, _ := startRPCCluster(t, 3)
	leader, _ := readyLeader(t, nodes)
	var follower *Node
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	if err := proposeOn(t, follower, "before"); err != nil {
		t.Fatal(err)
	}
	shutdown(t, leader)
	// With the leader gone, a proposal either fails with a sentinel or,
	// once a new leader is elected, succeeds through it: never hangs.
	err := proposeOn(t, follower, "after")
	if err != nil && !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrLeadershipLost) {
		t.Fatalf("Propose after the leader stopped: %v, want nil, ErrNotLeader or ErrLeadershipLost", err)
	}
}
