package jepsen

import (
	"context"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestPartition checks a backend's peer-link proxies, which the nemesis
// relies on: once every link of the leader is cut, it stops serving and
// the other servers elect a leader among themselves and take a write that
// the cut server does not see; once healed, it serves again, as a
// follower, and has the write.
func TestPartition(t *testing.T) { eachBackend(t, partition) }

func partition(t *testing.T, startCluster func(n int) Cluster) {
	c := startCluster(3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	x := leaderOf(c)
	if x < 0 {
		t.Fatal("no leader")
	}
	var majority []int
	for j := range c.Size() {
		if j != x {
			c.Cut(x, j)
			majority = append(majority, j)
		}
	}
	start := time.Now()
	waitFor(t, ctx, "the cut leader to stop serving and the others to elect a leader", func() bool {
		if c.Mode(x) != "" {
			return false
		}
		modes := map[string]int{}
		for _, j := range majority {
			modes[c.Mode(j)]++
		}
		return modes["leader"] == 1 && modes["follower"] == len(majority)-1
	})
	t.Logf("server %d cut off: not serving, server %d leads, after %v", x+1, leaderOf(c)+1, time.Since(start).Round(time.Millisecond))

	conn := connect(t, c.Addr(majority[0]), 0, workerSession, nil)
	if err := retry(func() error {
		_, err := conn.Create("/partitioned", []byte("written by the majority"), 0, zk.WorldACL(zk.PermAll))
		return err
	}); err != nil {
		t.Fatalf("write through the majority: %v", err)
	}
	// The round trip above took the majority's commit; the cut server
	// still has no quorum.
	if m := c.Mode(x); m != "" {
		t.Fatalf("cut server %d serves as %s after the majority's write", x+1, m)
	}

	for _, j := range majority {
		c.Heal(x, j)
	}
	if err := c.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	if m := c.Mode(x); m != "follower" {
		t.Errorf("healed server %d: Mode %q, want follower", x+1, m)
	}
	conn = connect(t, c.Addr(x), 0, workerSession, nil)
	var data []byte
	if err := retry(func() error {
		if _, err := conn.Sync("/partitioned"); err != nil {
			return err
		}
		var err error
		data, _, err = conn.Get("/partitioned")
		return err
	}); err != nil || string(data) != "written by the majority" {
		t.Fatalf("healed server %d: /partitioned = %q, %v", x+1, data, err)
	}
}

// leaderOf returns the server that reports Mode: leader, or -1.
func leaderOf(c Cluster) int {
	for i := range c.Size() {
		if c.Mode(i) == "leader" {
			return i
		}
	}
	return -1
}

// waitFor polls cond until it holds, failing t when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}
