// Package cache keeps local views of ZooKeeper nodes up to date from
// watches, as Apache Curator's caches do:
//
//   - [NodeCache]: one node, which need not exist (NodeCache).
//   - [PathChildrenCache]: the children of one node (PathChildrenCache).
//   - [TreeCache]: a node and its descendants, optionally down to a
//     maximum depth (TreeCache).
//   - [CuratorCache]: a whole subtree on one persistent recursive watch
//     (Curator 5's CuratorCache), falling back to one-shot watches on
//     servers without persistent watches.
//
// Each cache is created with New...(conn, path, opts...), started with
// Start(ctx), which returns once the initial population is delivered, and
// stopped with Close. Get, Current and the like return copies, safe to
// keep and change.
//
// # Events
//
// Listeners added with AddListener receive [Event] values. Curator's event
// names map to this package's types as follows:
//
//	this package           NodeCache  PathChildrenCache       TreeCache               CuratorCache
//	NodeCreated            changed    CHILD_ADDED             NODE_ADDED              NODE_CREATED
//	NodeChanged            changed    CHILD_UPDATED           NODE_UPDATED            NODE_CHANGED
//	NodeDeleted            changed    CHILD_REMOVED           NODE_REMOVED            NODE_DELETED
//	Initialized            -          INITIALIZED             INITIALIZED             initialized
//	ConnectionSuspended    -          CONNECTION_SUSPENDED    CONNECTION_SUSPENDED    -
//	ConnectionReconnected  -          CONNECTION_RECONNECTED  CONNECTION_RECONNECTED  -
//	ConnectionLost         -          CONNECTION_LOST         CONNECTION_LOST         -
//
// Every cache reports all of them. The initial population arrives as
// NodeCreated events, parents before children, then Initialized. A
// subtree that disappears is reported children first. NodeChanged means
// the node's mzxid moved: a write of the same data is reported too.
//
// # Consistency after a reconnect
//
// Each event is the difference between the cache's view and what the cache
// has just read from the server, so no change is reported twice. After a
// reconnect (ConnectionReconnected), including one that starts a new
// session after ConnectionLost, the cache reads the whole subtree again and
// reports the differences, so its final view matches the server. Changes
// that the cache could not see while disconnected are folded: a node
// changed three times is reported as one NodeChanged, and a node deleted
// and created again as NodeChanged.
//
// # Delivery, slow listeners and memory
//
// Each cache runs one goroutine from Start until Close, which waits for it.
// That goroutine updates the view and calls the listeners, in order; the
// view already holds the change when a listener sees it, and a listener
// may call the cache's read methods (but not Close). No event queue stands
// between the two: while a listener runs, the cache reads nothing, and the
// notifications that arrive meanwhile wait, coalesced per node, to be read
// afterwards. So a slow listener delays the view and folds intermediate
// changes together (it sees each node's latest state, not every state in
// between), but costs no memory beyond:
//
//   - with one-shot watches (NodeCache, PathChildrenCache, TreeCache, and
//     CuratorCache without persistent watches): at most one pending
//     notification per watch, and the cache holds at most two watches per
//     cached node (data, and children above the maximum depth). Each armed
//     watch has a small goroutine waiting on its channel (the client
//     delivers one-shot watches as channels), so a cache of N nodes runs
//     up to 2N of them, all stopped by Close;
//   - with a persistent watch (CuratorCache): one goroutine reads the
//     watch's events as they come into a set of pending paths of at most
//     WithMaxPending entries; past that the set is dropped and the whole
//     subtree is read again.
//
// Connection states are taken from the Conn with a listener that never
// blocks; if more than a few pile up while a listener is busy, the latest
// replaces the last kept, and the resync after it makes up the difference.
//
// # Errors
//
// The caches retry by themselves: a read that fails because of the
// connection is done again after the reconnect, and other failures (such as
// ErrNoAuth on one node, which is then left out) are passed to the
// function given with WithErrorHandler.
package cache
