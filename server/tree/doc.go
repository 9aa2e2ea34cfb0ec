// Package tree is the in-memory znode tree of a zkgo server: a pure data
// structure with Apache ZooKeeper 3.8's semantics for create, delete,
// setData, setACL, check, multi and the container/TTL reaper, including the
// order in which their errors are detected and every Stat field they change.
// It starts no goroutines, takes no locks and never reads the clock: each
// mutation receives its zxid and time from the transaction, and ACL checks go
// through an [Authorize] callback called at the points where Apache's
// PrepRequestProcessor checks them.
//
// # Concurrency
//
// A [Tree] is not safe for concurrent mutation, nor for reads concurrent with
// a mutation; the caller serialises them (one apply goroutine, readers under
// its lock); concurrent readers are fine. [Tree.Clone] returns in O(1) a
// point-in-time copy that shares storage with the original copy-on-write:
// the clone may be read or written (e.g. serialised with [Tree.WriteTo]) on
// another goroutine while the original keeps being mutated. Clone itself
// may run alongside readers, not alongside a mutation or another Clone. A [*Node] is immutable once it is in a tree,
// so a Node handed to a reader stays valid and unchanged after later writes.
//
// # Storage
//
// Nodes live in a B-tree ordered by (parent path, base name), the order of
// the keys parent+"\x00"+name, so the children of a node are one contiguous
// key range and a parent always sorts before its children. ACL lists are
// interned: nodes with equal ACLs share one slice.
//
// # Quotas
//
// As Apache's DataTree does, the tree keeps the usage of every path with a
// quota (a /zookeeper/quota/<path>/zookeeper_limits node) in its
// zookeeper_stats node, rewriting that node's data as part of each create,
// delete and setData below the path, atomically with the op or multi; see
// quota.go. Limits are not enforced (Apache's zookeeper.enforceQuota is off
// by default). A tree without quotas pays one nil check per mutation.
//
// # Snapshots
//
// [Tree.WriteTo] streams the nodes in key order with a header and a CRC-32C
// trailer; [ReadTree] rebuilds a tree and its indexes from such a stream and
// reports damage as an error wrapping [ErrCorrupt].
package tree
