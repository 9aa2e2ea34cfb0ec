package replication

import (
	"time"

	"github.com/hashicorp/raft"
)

// A follower notices a silent leader after the heartbeat timeout (zoo.cfg
// syncLimit ticks), as Apache's followers do. A leader whose process died
// is not silent, though: its connections break at once, and Apache's
// followers start an election right away. A follower whose cluster RPC
// connection to the leader breaks does the same here: it shortens raft's
// heartbeat timeout until a leader is known again, so that it campaigns as
// soon as the leader has really gone quiet. If the leader is in fact alive
// (only this link broke), the other servers refuse the pre-vote and nothing
// changes.

// campaignNow makes a follower that knows no leader start an election at
// once instead of after a heartbeat timeout: raft fires its heartbeat timer
// right away when the timeout is lowered, and campaigns if the leader has
// been silent for longer than the (restored) timeout, which a server that
// just started, and has never heard a leader, always has. Apache's servers
// likewise start their leader election as soon as they start, so an
// ensemble serves within a second of its majority's start rather than
// after syncLimit ticks. If a leader exists, the other servers refuse the
// pre-vote and the server simply follows it.
func (n *Node) campaignNow() {
	if n.raft.State() != raft.Follower {
		return
	}
	if _, id := n.raft.LeaderWithID(); id != "" {
		return
	}
	n.failoverMu.Lock()
	defer n.failoverMu.Unlock()
	hb := n.raft.ReloadableConfig().HeartbeatTimeout
	if err := n.raft.ReloadConfig(n.reloadable(hb - time.Millisecond)); err != nil {
		n.cfg.Logger.Warn("cannot start an election early", "err", err)
		return
	}
	if err := n.raft.ReloadConfig(n.reloadable(hb)); err != nil {
		n.cfg.Logger.Warn("cannot restore the heartbeat timeout", "err", err)
	}
}

// leaderConnLost runs when the connection to leader id broke or closed.
func (n *Node) leaderConnLost(id string) {
	if n.raft.State() != raft.Follower {
		return
	}
	if _, cur := n.raft.LeaderWithID(); string(cur) != id {
		return // the leader changed already: this was the old one's
	}
	n.goMu.Lock()
	stopped := n.goStopped
	n.goMu.Unlock()
	if stopped {
		return
	}
	n.failoverMu.Lock()
	defer n.failoverMu.Unlock()
	if n.fastFailover {
		return
	}
	short := n.shortHeartbeat()
	if short >= n.cfg.HeartbeatTimeout {
		return
	}
	if err := n.raft.ReloadConfig(n.reloadable(short)); err != nil {
		n.cfg.Logger.Warn("cannot shorten the heartbeat timeout", "err", err)
		return
	}
	n.fastFailover = true
	n.cfg.Logger.Info("connection to the leader broke: waiting only a short time for its heartbeats", "leader", id, "timeout", short)
}

// leaderKnown restores the heartbeat timeout once a leader is known.
func (n *Node) leaderKnown() {
	n.failoverMu.Lock()
	defer n.failoverMu.Unlock()
	if !n.fastFailover {
		return
	}
	if err := n.raft.ReloadConfig(n.reloadable(n.cfg.HeartbeatTimeout)); err != nil {
		n.cfg.Logger.Warn("cannot restore the heartbeat timeout", "err", err)
		return
	}
	n.fastFailover = false
}

// shortHeartbeat is the heartbeat timeout of a follower whose connection
// to the leader broke: the leader lease, the shortest raft accepts (a
// leader steps down after a lease without a quorum's contact, so a leader
// that is alive keeps a follower's contact fresher than that).
func (n *Node) shortHeartbeat() time.Duration { return n.cfg.LeaderLeaseTimeout }

// reloadable is raft's reloadable configuration with heartbeat timeout hb.
func (n *Node) reloadable(hb time.Duration) raft.ReloadableConfig {
	rc := n.raft.ReloadableConfig()
	rc.HeartbeatTimeout = hb
	rc.ElectionTimeout = hb
	return rc
}
