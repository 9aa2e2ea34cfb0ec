// Package barrier implements Apache Curator's barriers on a client.Conn,
// with the znode layouts and names Curator 5 uses, so that Go and Java
// processes wait at one barrier:
//
//   - [Barrier] (DistributedBarrier): a single node at PATH. While it
//     exists the barrier is up and Wait blocks; Remove lets every waiter
//     through. Set creates it (parents as containers).
//   - [DoubleBarrier] (DistributedDoubleBarrier): members enter and leave
//     together. Each member has an ephemeral node PATH/<uuid> (a random
//     version 4 UUID, as Java's UUID.randomUUID prints it). Enter returns
//     once the threshold of members have arrived: the member that counts
//     enough nodes creates PATH/ready, which releases the others (a member
//     arriving after that passes at once). Leave returns once every member
//     node is gone, following the ZooKeeper double barrier recipe (the
//     lowest node by name leaves last), and then deletes PATH/ready so
//     that the barrier can be used again.
//
// Nodes the barriers create hold the data given with [WithData], by
// default the local host's address as text, which is what Curator writes
// (CuratorFrameworkFactory's defaultData).
//
// # Waiting and connection loss
//
// Waits end when ctx ends. Watches survive a Suspended connection, so a
// waiter keeps waiting until the session is resumed. When the session is
// Lost, a DoubleBarrier member waiting in Enter creates its node again on the
// new session and keeps waiting; a member whose node vanished before it
// deleted it in Leave gets [ErrMemberLost], since the others may have
// counted it as gone. An Enter that fails (ctx ended, error) deletes the
// member's node, so that a member that gave up is not counted later.
//
// # Concurrency
//
// Barrier and DoubleBarrier are safe for concurrent use; Enter and Leave on
// one DoubleBarrier value run one at a time. Neither starts a goroutine.
package barrier
