package replication

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// pending is a submitted raft request waiting for its outcome.
type pending struct {
	f    raft.Future
	done func(resp any, index uint64, err error)
}

// Propose submits cmd to the log without waiting for it. done (may be nil)
// is called exactly once: with nil after FSM.Apply ran for cmd on this
// node, or with an error wrapping ErrNotLeader (cmd was not logged),
// ErrLeadershipLost (outcome unknown) or ErrShutdown. Callbacks run on the
// Node's completion goroutine in submission order, except that when the
// Node is shut down done runs before Propose returns. Propose may block
// briefly while raft's main loop takes the request. cmd must not be
// modified afterwards.
//
// On a follower or observer the command is forwarded to the leader over
// the cluster RPC, and done runs once the leader logged it and this node
// applied it, or with the error (ErrNotLeader when no leader could take it,
// ErrLeadershipLost when the outcome is unknown); such callbacks run in
// submission order for each leader, on the cluster RPC's goroutines.
func (n *Node) Propose(cmd []byte, done func(err error)) {
	if done == nil {
		done = func(error) {}
	}
	if !n.isLeader() && n.cfg.network() {
		n.forward(cmd, func(index uint64, err error) {
			if err != nil {
				done(err)
				return
			}
			n.fsm.waiters.when(index, done)
		})
		return
	}
	n.submit(func() raft.Future { return n.raft.Apply(cmd, 0) }, func(_ any, _ uint64, err error) {
		done(err)
	})
}

// proposeForwarded logs a command a follower forwarded (leader side of the
// cluster RPC); done gets its log index once applied here.
func (n *Node) proposeForwarded(cmd []byte, done func(index uint64, err error)) {
	if h := n.cfg.Hooks; h != nil {
		var err error
		if cmd, err = h.PrepareForwarded(cmd); err != nil {
			done(0, err)
			return
		}
	}
	n.submit(func() raft.Future { return n.raft.Apply(cmd, 0) }, func(_ any, index uint64, err error) {
		done(index, err)
	})
}

// ProposeWait submits cmd and waits until it is applied, returning
// FSM.Apply's result. If ctx ends first it returns ctx's error, and cmd may
// still be applied.
func (n *Node) ProposeWait(ctx context.Context, cmd []byte) (any, error) {
	type result struct {
		v   any
		err error
	}
	ch := make(chan result, 1)
	n.submit(func() raft.Future { return n.raft.Apply(cmd, 0) }, func(v any, _ uint64, err error) { ch <- result{v, err} })
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("replication: propose: %w (the command may still be applied)", ctx.Err())
	}
}

// Barrier waits until every command submitted before it has been applied
// to the FSM. Leader only (ErrNotLeader otherwise).
func (n *Node) Barrier(ctx context.Context) error {
	return n.await(ctx, func() raft.Future { return n.raft.Barrier(0) })
}

// VerifyLeader confirms with a quorum that this node is still the leader.
func (n *Node) VerifyLeader(ctx context.Context) error {
	return n.await(ctx, n.raft.VerifyLeader)
}

// AddVoter adds a voting server, or promotes an observer. Leader only.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	if !n.cfg.network() {
		return ErrNoNetwork
	}
	return n.await(ctx, func() raft.Future {
		return n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 0)
	})
}

// AddNonvoter adds an observer: it receives the log but does not vote.
// Leader only.
func (n *Node) AddNonvoter(ctx context.Context, id, addr string) error {
	if !n.cfg.network() {
		return ErrNoNetwork
	}
	return n.await(ctx, func() raft.Future {
		return n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 0)
	})
}

// RemoveServer removes a server from the membership. Leader only.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	if !n.cfg.network() {
		return ErrNoNetwork
	}
	return n.await(ctx, func() raft.Future { return n.raft.RemoveServer(raft.ServerID(id), 0, 0) })
}

// Snapshot takes a snapshot now, then trims the log and old snapshots as
// an automatic one would. Having nothing new to snapshot is not an error.
func (n *Node) Snapshot(ctx context.Context) error {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return ErrShutdown
	}
	// Snapshots can take long, so they do not hold up the completion
	// goroutine; raft answers every snapshot future, even at shutdown.
	n.wg.Add(1)
	n.mu.Unlock()
	ch := make(chan error, 1)
	f := n.raft.Snapshot()
	go func() {
		defer n.wg.Done()
		ch <- f.Error()
	}()
	select {
	case err := <-ch:
		if errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return nil
		}
		return raftErr(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// await submits a request and waits for its outcome or ctx.
func (n *Node) await(ctx context.Context, start func() raft.Future) error {
	ch := make(chan error, 1)
	n.submit(start, func(_ any, _ uint64, err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit starts a raft request and queues its future for the completion
// goroutine. Raft may leave a future unanswered when it shuts down with
// committed entries not yet applied, so futures are only waited on while
// raft runs: Shutdown first lets the queue drain.
func (n *Node) submit(start func() raft.Future, done func(any, uint64, error)) {
	n.submitMu.Lock()
	if n.closing {
		n.submitMu.Unlock()
		done(nil, 0, ErrShutdown)
		return
	}
	f := start()
	n.mu.Lock()
	n.queue = append(n.queue, pending{f: f, done: done})
	n.mu.Unlock()
	n.submitMu.Unlock()
	n.signal()
}

func (n *Node) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// complete is the completion goroutine: it waits for queued futures in
// order and runs their callbacks. It returns once the Node is closing and
// the queue is empty.
func (n *Node) complete() {
	defer close(n.drained)
	var batch []pending
	for {
		n.mu.Lock()
		for len(n.queue) == 0 {
			if n.closing {
				n.mu.Unlock()
				return
			}
			n.mu.Unlock()
			<-n.wake
			n.mu.Lock()
		}
		batch, n.queue = n.queue, batch[:0]
		n.mu.Unlock()
		for i := range batch {
			p := &batch[i]
			err := p.f.Error()
			var (
				resp  any
				index uint64
			)
			if af, ok := p.f.(raft.ApplyFuture); ok && err == nil {
				resp, index = af.Response(), af.Index()
			}
			p.done(resp, index, raftErr(err))
			*p = pending{}
		}
	}
}
