package replication

import (
	"strconv"
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
	n.setReachable(id, false)
	n.goFunc(func() { n.replaceDeadLeader(id) })
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

// replaceDeadLeader starts an election at once when leader id is gone: its
// cluster port does not answer a status call (the process died or
// stopped), so no heartbeat will come. Of the voters still up, the one with the highest id
// whose log is at least as complete as this server's campaigns, as
// Apache's election would pick it; the others wait, and vote for it. The
// campaign goes through raft's leadership-transfer path (a TimeoutNow
// request this server sends itself), whose votes are granted even by
// servers that have not yet noticed the leader's death; raft's term and
// log checks still decide who may win. Were the leader alive with only its
// cluster port out of this server's reach, that would cost one needless
// election, never a second leader in a term.
func (n *Node) replaceDeadLeader(id string) {
	if !n.isVoter(n.cfg.ID) || n.raft.State() != raft.Follower {
		return
	}
	if addr := n.rpcAddrs[id]; addr != "" {
		// A round trip, not just a dial: a process being killed may still
		// complete a connection on its closing listener.
		if _, err := peerLastIndex(addr, n.cfg.LeaderLeaseTimeout); err == nil {
			n.cfg.Logger.Info("the connection to the leader broke, but it answers: waiting for its heartbeats", "leader", id)
			return
		}
	}
	self, err := strconv.ParseInt(n.cfg.ID, 10, 64)
	if err != nil {
		return
	}
	mine := n.raft.LastIndex()
	for _, s := range n.Servers() {
		other, err := strconv.ParseInt(s.ID, 10, 64)
		if err != nil || !s.Voter || s.ID == id || other <= self || n.rpcAddrs[s.ID] == "" {
			continue
		}
		if last, err := peerLastIndex(n.rpcAddrs[s.ID], n.cfg.LeaderLeaseTimeout); err == nil && last >= mine {
			return // a higher id with as complete a log campaigns
		}
	}
	if _, cur := n.raft.LeaderWithID(); string(cur) != id || n.raft.State() != raft.Follower {
		return // a leader was elected meanwhile, or raft campaigns already
	}
	n.cfg.Logger.Info("the leader is gone: starting an election now", "leader", id, "last_index", mine)
	req := &raft.TimeoutNowRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(n.cfg.ID), Addr: []byte(n.address)}}
	if err := n.trans.TimeoutNow(raft.ServerID(n.cfg.ID), raft.ServerAddress(n.address), req, &raft.TimeoutNowResponse{}); err != nil {
		n.cfg.Logger.Warn("cannot start an election", "err", err)
	}
}

// isVoter reports whether server id votes, in the latest membership.
func (n *Node) isVoter(id string) bool {
	for _, s := range n.Servers() {
		if s.ID == id {
			return s.Voter
		}
	}
	return false
}
