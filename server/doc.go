// Package server is the zkgo server: it accepts ZooKeeper client
// connections, keeps sessions and watches, checks ACLs, and runs every write
// through the replicated log (package replication) before applying it to the
// znode tree (package tree). Standalone is a one-voter cluster: there is no
// separate standalone code path.
//
// # Request flow
//
// A connection's reader goroutine decodes each request into a call queued in
// request order. A write becomes a txn proposed to the log; when the log
// applies it, the database changes the tree, fires watches and completes the
// call. A read is executed when every earlier call of the connection has been
// answered, so it sees that session's writes. Replies and events are encoded
// into one outbound buffer in order and written by the connection's writer
// goroutine.
//
// # Concurrency
//
// Server's methods are safe for concurrent use. Locks are taken in the
// order database.mu, conn.mu, Server.mu, watchTable.mu, then the leaves
// (sessionTracker.mu, waitRegistry.mu, stats.mu); locks.go says why, and
// race builds check it on every lock. The database is changed only on the
// apply goroutine of the replication node.
package server
