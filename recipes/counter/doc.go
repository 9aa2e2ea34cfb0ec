// Package counter implements Apache Curator's shared counters on a
// client.Conn, with the znode data Curator 5 writes, so that Go and Java
// processes share one counter:
//
//   - [SharedCount] (SharedCount): a 32-bit count in a node at PATH, as 4
//     bytes big endian, and [SharedValue] (SharedValue), the same for any
//     bytes. Each process keeps a copy that a watch brings up to date and
//     tells listeners about; SetCount writes unconditionally, TrySetCount
//     only over the version the process has seen (optimistic
//     concurrency), so that a read-modify-write cycle never loses an update.
//   - [AtomicLong] (DistributedAtomicLong): a 64-bit counter in a node at
//     PATH, as 8 bytes big endian. Add, Increment, TrySet and the others
//     read the value and write the new one over the version read; when
//     another writer got there first they try again under a retry policy
//     and, in Curator's promoted-to-lock mode ([WithPromotedLock]), then
//     while holding a lock.Mutex, which spares the losers of a hot counter
//     from spinning. The outcome is an [AtomicValue] with the values
//     before and after.
//
// Nodes are created with missing parents as containers, as Curator does.
//
// # Connection loss
//
// Every request goes through the Conn's retry policy. As with Curator, a
// write whose reply was lost with the connection is sent again; if the
// first one had been applied, the second fails with a version conflict and
// the operation reads and tries again, so in that rare case an AtomicLong
// operation can be applied twice. A SharedValue's watch survives a
// Suspended connection; after Lost it reads the node again on the new
// session, and a listener hears about any change it missed (as the last
// value, not every step).
//
// # Concurrency
//
// All types are safe for concurrent use. A SharedValue or SharedCount runs
// one goroutine from Start until Close, which also calls its listeners, in
// order; an AtomicLong starts none.
package counter
