// Package leader implements Apache Curator's leader election recipes on a
// client.Conn, with Curator 5's znode layouts, so that Go and Java
// processes take part in one election:
//
//   - [Latch] (LeaderLatch): each participant keeps a protected ephemeral
//     sequential node PATH/_c_<uuid>-latch-NNNNNNNNNN whose data is its id;
//     the first by sequence number is the leader until it closes the latch
//     or loses its session. Await waits for leadership and returns a channel
//     that is closed when that leadership ends.
//   - [Selector] (LeaderSelector): participants queue on a lock.Mutex at
//     PATH (nodes _c_<uuid>-lock-NNNNNNNNNN holding the id); the holder
//     runs the take-leadership function, and gives leadership up when it
//     returns. It can requeue, automatically or on demand.
//
// # Connection loss
//
// Both follow Curator's default error policy (StandardConnectionStateErrorPolicy
// and LeaderSelectorListenerAdapter): leadership ends as soon as the
// connection is Suspended, since the session may expire on the server
// before the client learns it, and another participant may then lead. A
// Latch checks again after Reconnected and leads again if its node is
// still first; after Lost it joins again with a new node on the new session.
// A Selector cancels the context of the take-leadership function on
// Suspended and Lost, and on the loss of its lock node; the function must
// return promptly when its context ends.
//
// # Concurrency
//
// Latch and Selector are safe for concurrent use. Each runs one goroutine
// from Start until Close, which waits for it. Listeners and the
// take-leadership function run on that goroutine.
package leader
