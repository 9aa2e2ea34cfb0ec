package replication

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// handOver makes the election's outcome the one Apache ZooKeeper's leader
// election gives: among the servers whose logs are most complete, the one
// with the highest id leads. Raft's vote rule already elects a server with
// a most complete log; handOver, run once by a new leader, transfers
// leadership to the voter with the highest id above its own whose log was
// as complete as the leader's when it was elected, if one answers. It runs
// only right after an election, so an established leader is never
// preempted by a server that comes back. It reports whether leadership
// was handed over.
func (n *Node) handOver(gen uint64, electionIndex uint64) bool {
	self, err := strconv.ParseInt(n.cfg.ID, 10, 64)
	if err != nil {
		return false
	}
	type peer struct {
		id   int64
		srv  Server
		addr string
	}
	var higher []peer
	for _, s := range n.Servers() {
		id, err := strconv.ParseInt(s.ID, 10, 64)
		if err != nil || id <= self || !s.Voter || n.rpcAddrs[s.ID] == "" {
			continue
		}
		higher = append(higher, peer{id, s, n.rpcAddrs[s.ID]})
	}
	slices.SortFunc(higher, func(a, b peer) int { return int(b.id - a.id) })
	for _, p := range higher {
		if !n.stillLeading(gen) {
			return false
		}
		last, err := peerLastIndex(p.addr, n.cfg.HeartbeatTimeout)
		if err != nil || last < electionIndex {
			continue
		}
		n.cfg.Logger.Info("handing leadership to the server with the highest id whose log is as complete",
			"from", n.cfg.ID, "to", p.srv.ID, "its_last_index", last, "election_index", electionIndex)
		f := n.raft.LeadershipTransferToServer(raft.ServerID(p.srv.ID), raft.ServerAddress(p.srv.Address))
		if err := f.Error(); err != nil {
			n.cfg.Logger.Info("leadership handover failed; keeping leadership", "to", p.srv.ID, "err", err)
			return false
		}
		return true
	}
	return false
}

// stillLeading reports whether leader generation gen is still current.
func (n *Node) stillLeading(gen uint64) bool {
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	return n.leadGen == gen && n.isLeader()
}

// peerLastIndex asks the server at a cluster RPC address for its last log
// index.
func peerLastIndex(addr string, timeout time.Duration) (uint64, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	if err := writeFrame(nc, rpcStatus, 1); err != nil {
		return 0, err
	}
	kind, _, body, err := readFrame(bufio.NewReader(nc))
	if err != nil {
		return 0, err
	}
	if kind == rpcErr {
		return 0, errFromFrame(body)
	}
	if kind != rpcOK || len(body) != 8 {
		return 0, errors.New("replication: bad status reply")
	}
	return binary.BigEndian.Uint64(body), nil
}
