package server

import (
	"context"
	"time"

	"github.com/zkgo/zkgo/server/replication"
)

// replicator is what the server needs from its replication node
// (*replication.Node). It is an interface so that tests can put faults
// between the server and the log (failed proposals, leadership flaps).
type replicator interface {
	// Propose submits an encoded txn; done gets nil once it is applied
	// here, or why it did not commit (see replication.Node.Propose).
	Propose(cmd []byte, done func(error))
	// Leadership reports whether this server is the ready leader, and a
	// channel closed at the next change.
	Leadership() (ready bool, changed <-chan struct{})
	// State is "leader", "follower", "observer", "candidate" or "shutdown".
	State() string
	// Leader is the current leader's id and address, empty if unknown.
	Leader() (id, addr string)
	// LeaderID is the leader this server follows (or is), "" if none, and
	// a channel closed at the next change of it or of Leadership.
	LeaderID() (id string, changed <-chan struct{})
	// Touch tells the leader of activity on sessions.
	Touch(sessions []int64)
	// Claim tells the leader that this server now serves a session.
	Claim(ctx context.Context, session int64) error
	// Sync calls done once this server has applied every write committed
	// before the call.
	Sync(done func(error))
	// Peers are the servers a leader heard from since it was elected, with
	// when it last did (nil when not leading).
	Peers() map[string]time.Time
	// Servers is the membership.
	Servers() []replication.Server
	// Shutdown stops the node.
	Shutdown(ctx context.Context) error
}

var _ replicator = (*replication.Node)(nil)
