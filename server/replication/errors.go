package replication

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// Errors returned by this package; match them with errors.Is.
var (
	// ErrNotLeader: this node is not the leader, so it cannot accept the
	// request. The command was not logged.
	ErrNotLeader = errors.New("replication: not the leader")
	// ErrLeadershipLost: this node stopped being leader before the command
	// committed. The outcome is unknown: a new leader may still apply it.
	ErrLeadershipLost = errors.New("replication: leadership lost, outcome unknown")
	// ErrShutdown: the node is shutting down or shut down.
	ErrShutdown = errors.New("replication: node shut down")
	// ErrCorrupt: a file in the data or log directory is damaged or missing;
	// the message names it.
	ErrCorrupt = errors.New("replication: corrupt data")
	// ErrLocked: another process holds the data or log directory.
	ErrLocked = errors.New("replication: directory in use")
	// ErrMembership: the data directory belongs to another membership than
	// the configured one (another ensemble, another server id, a standalone
	// server's data); the message names both.
	ErrMembership = errors.New("replication: data directory belongs to other servers")
	// ErrNoNetwork: a membership change was asked of a node that runs on the
	// in-memory transport (no BindAddr), which cannot reach other servers.
	ErrNoNetwork = errors.New("replication: node has no network transport")
)

// raftErr translates raft's errors into this package's sentinels so that
// callers never need to import raft.
func raftErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrNotVoter),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrAbortedByRestore):
		return ErrLeadershipLost
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	}
	return fmt.Errorf("replication: %w", err)
}
