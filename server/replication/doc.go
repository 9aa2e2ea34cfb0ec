// Package replication runs zkgo's replicated log on hashicorp/raft, with
// raft-wal as log and stable store and a file snapshot store. It knows
// nothing about ZooKeeper: commands are opaque bytes that the server's [FSM]
// decodes, and no other package imports raft. Standalone is a one-voter
// cluster on an in-memory transport; ensembles use TCP ([Config.BindAddr]),
// with non-voters acting as observers.
//
// The apply contract, in order:
//
//  1. A leader submits a command with [Node.Propose] (or [Node.ProposeWait]).
//     Submission is serialized, so commands are logged in submission order.
//  2. Raft replicates the entry; raft-wal fsyncs it before it counts toward
//     a quorum, so an acknowledged command survives a crash.
//  3. Committed entries reach [FSM.Apply] in log order, one call per
//     command, on one goroutine, in batches. Raft's own entries
//     (configuration changes, no-ops, barriers) never reach it.
//  4. After FSM.Apply returned for a command proposed on this node, its done
//     callback runs with a nil error. Callbacks run one at a time, in
//     submission order, on the Node's completion goroutine, so they must not
//     block and must not wait for later proposals.
//  5. [FSM.Snapshot] runs on the apply goroutine and must only capture a
//     view; [Snapshot.Persist] streams it to disk while Apply goes on.
//     [FSM.Restore] replaces the whole state, at Open or when a leader sends
//     a snapshot.
//
// A Node runs two goroutines of its own: the completion goroutine that waits
// for raft's futures in submission order, and a leadership watcher (plus one
// per [Node.Snapshot] call in progress). All methods of Node are safe for
// concurrent use. [Node.Shutdown] stops them and closes the stores.
package replication
