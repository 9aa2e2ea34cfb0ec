package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// faultKind is what the nemesis does to a minority of the servers.
type faultKind int

const (
	faultKill      faultKind = iota // SIGKILL, then a restart on the same data
	faultPause                      // SIGSTOP, then SIGCONT
	faultPartition                  // cut every peer link to the majority, then heal
	numFaults
)

func (f faultKind) String() string {
	return [...]string{"kill -9", "pause", "partition"}[f]
}

// nemesis injects faults into a cluster: each round hits a minority (the
// leader in half the rounds, and always in the first, which kills it and
// holds until another server leads, so that every run sees a leader
// change), holds the fault, repairs it and waits for the cluster to serve
// again. Its choices follow its seed.
type nemesis struct {
	c    Cluster
	rng  *rand.Rand
	logf func(format string, args ...any)

	rounds        int // faults injected
	leaderChanges int // rounds after which another server led
}

// recoverTimeout bounds a repair and the wait for the cluster to serve
// again after it.
const recoverTimeout = 90 * time.Second

// run injects faults until ctx is done; it returns once the last fault is
// repaired and the cluster serves, or with an error if it does not.
func (n *nemesis) run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := n.round(ctx); err != nil {
			return err
		}
		n.wait(ctx, 500*time.Millisecond+n.jitter(time.Second))
	}
	return nil
}

// round injects one fault, holds it and repairs it.
func (n *nemesis) round(ctx context.Context) error {
	size := n.c.Size()
	leader := n.leader()
	kind := faultKind(n.rng.IntN(int(numFaults)))
	first := n.rng.IntN(size)
	if n.rounds == 0 {
		kind = faultKill
	}
	if (n.rounds == 0 || n.rng.IntN(2) == 0) && leader >= 0 {
		first = leader
	}
	minority := []int{first}
	for _, i := range n.rng.Perm(size) {
		if len(minority) < (size-1)/2 && i != first {
			minority = append(minority, i)
		}
	}
	n.rounds++
	n.logf("nemesis: round %d: %v servers %v (leader %d)", n.rounds, kind, ids(minority), leader+1)

	var injectErr error
	for _, i := range minority {
		switch kind {
		case faultKill:
			injectErr = n.c.Kill(i)
		case faultPause:
			injectErr = n.c.Pause(i)
		case faultPartition:
			for j := range size {
				if !contains(minority, j) {
					n.c.Cut(i, j)
				}
			}
		}
		if injectErr != nil {
			break
		}
	}
	// Hold the fault for longer than the servers take to notice it
	// (syncLimit ticks) in most rounds, shorter in some. The first round
	// holds its kill of the leader until another server leads: a short
	// outage can end with the old leader elected again, and every run
	// must see a leader change.
	if n.rounds == 1 && injectErr == nil && minority[0] == leader {
		if err := n.awaitNewLeader(ctx, leader); err != nil {
			injectErr = err
		}
	} else {
		n.wait(ctx, 500*time.Millisecond+n.jitter(3*time.Second))
	}

	// Repair even when ctx is done: the final checks need every server.
	rctx, cancel := context.WithTimeout(context.Background(), recoverTimeout)
	defer cancel()
	for _, i := range minority {
		var err error
		switch kind {
		case faultKill:
			err = n.c.Start(rctx, i)
		case faultPause:
			err = n.c.Resume(i)
		case faultPartition:
			for j := range size {
				n.c.Heal(i, j)
			}
		}
		if err != nil {
			return fmt.Errorf("nemesis: repairing %v on server %d: %w", kind, i+1, err)
		}
	}
	if injectErr != nil {
		return fmt.Errorf("nemesis: %v: %w", kind, injectErr)
	}
	start := time.Now()
	if err := n.c.WaitServing(rctx); err != nil {
		return fmt.Errorf("nemesis: cluster did not recover from %v of %v: %w", kind, ids(minority), err)
	}
	if now := n.leader(); now != leader {
		n.leaderChanges++
		n.logf("nemesis: leader %d -> %d; serving again %v after repair", leader+1, now+1, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// awaitNewLeader waits until a server other than old leads.
func (n *nemesis) awaitNewLeader(ctx context.Context, old int) error {
	ctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if l := n.leader(); l >= 0 && l != old {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no new leader after killing leader %d: %w", old+1, ctx.Err())
		case <-tick.C:
		}
	}
}

// leader returns the server that reports Mode: leader, or -1.
func (n *nemesis) leader() int { return leaderOf(n.c) }

// jitter returns a random duration in [0, d).
func (n *nemesis) jitter(d time.Duration) time.Duration {
	return time.Duration(n.rng.Int64N(int64(d)))
}

// wait lets d pass, or less if ctx ends: faults and quiet periods have
// durations, they are not synchronization.
func (n *nemesis) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ids renders server indexes as myids.
func ids(servers []int) []int {
	out := make([]int, len(servers))
	for i, s := range servers {
		out[i] = s + 1
	}
	return out
}

func contains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
