// Package lock implements Apache Curator's distributed locks on a
// client.Conn, with the znode layouts, names and data Curator 5 uses, so
// that Go and Java processes share one lock:
//
//   - [Mutex]: reentrant mutex (InterProcessMutex). Each contender creates
//     a protected ephemeral sequential node PATH/_c_<uuid>-lock-NNNNNNNNNN
//     (parents as containers) and holds the lock while its node sorts first
//     by sequence number; it watches the node just before its own.
//   - [RWMutex]: read-write lock (InterProcessReadWriteLock): nodes named
//     __READ__ and __WRIT__ in one queue; a reader holds while no writer is
//     ahead of it, a writer while it is first; the write holder may also
//     take the read lock.
//   - [Semaphore]: counting semaphore with leases (InterProcessSemaphoreV2):
//     PATH/leases/_c_<uuid>-lease-N nodes, created while holding the Mutex
//     at PATH/locks, with a fixed number of leases or one read from a
//     shared count (Curator's SharedCount: a 4-byte big-endian int znode).
//   - [SemaphoreMutex]: non-reentrant mutex on a one-lease Semaphore
//     (InterProcessSemaphoreMutex).
//   - [MultiLock]: several Lockers taken all or none (InterProcessMultiLock).
//
// A lock node holds the data given with [WithData], by default the local
// host's address as text, which is what Curator writes by default
// (CuratorFrameworkFactory's defaultData).
//
// # Waiting, cancelling and releasing
//
// Lock and Acquire wait until the lock is granted or ctx ends; when ctx
// ends they delete the node they created (as Curator does when acquire
// times out), so that a cancelled contender never holds the lock later. If
// ctx ends before the reply to the node's create arrived, the node is found
// by its protected name and deleted by the Conn in the background instead
// (client.WithProtection), so that the cancel still returns at once.
// TryLock and TryAcquire do not wait: they fail with [ErrLocked] at once if
// the lock is taken. Unlock and Release delete the node with
// Conn.DeleteGuaranteed, which keeps retrying in the background if the
// outcome is uncertain, as Curator's guaranteed delete does.
//
// # Fencing tokens
//
// Every hold has a fencing token ([Mutex.Token], [Lease.Token]): the czxid
// (creation zxid) of its lock node. Zxids only grow, across the whole
// ensemble and across leader changes, and a lock or lease is granted in the
// order its nodes were created (semaphore leases are created one at a time
// under PATH/locks), so a later holder of the same lock path always has a
// larger token, even after the container parent was deleted and sequence
// numbers restarted. Pass the token to an external resource that rejects
// tokens lower than the highest it has seen, so that a holder that lost the
// lock without knowing it cannot do harm. A reentrant hold keeps its token.
//
// # Connection loss
//
// ZooKeeper grants a lock to a session, so a hold lasts as long as the
// session does:
//
//   - Suspended (connection lost, session possibly alive): the hold is kept
//     and nothing is reported; if the client reconnects within the session
//     timeout nothing was lost. But the server may expire the session before
//     the client learns it, so the hold is uncertain meanwhile: work that
//     must not overlap with another holder should pause on Suspended (see
//     client.Conn.States) and rely on the fencing token.
//   - Lost (session expired, or Conn closed): the server deletes the lock
//     node and another contender may get the lock. The holder is told:
//     the hold's Done channel is closed, and Unlock returns an error
//     wrapping [ErrLockLost]. Done also closes if the lock node is deleted
//     by anyone else.
//   - A contender waiting in Lock keeps waiting across Suspended; after
//     Lost it finds its node gone and queues again with a new node on the
//     new session (Curator's retry after NoNode).
//
// # Concurrency
//
// All types are safe for concurrent use. Curator counts a reentrant hold
// per Java thread; Go has no thread identity, so a Mutex value (and each
// side of an RWMutex) is the owner: Lock on a Mutex that already holds the
// lock returns at once and adds one to a count that Unlock takes down, from
// any goroutine. Goroutines that must exclude each other use separate
// Mutex values. A SemaphoreMutex is not reentrant: a second Lock on the same
// value waits for Unlock, as with sync.Mutex. Once Done has been called on
// a hold, a goroutine watches its node; Unlock stops it.
package lock
