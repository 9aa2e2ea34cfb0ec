// Package client is zkgo's Go client for ZooKeeper (Apache ZooKeeper 3.4+
// and zkgo servers): a Conn is one session, resumed on another server of
// the connect string after a connection loss, with Curator-style connection
// states (Connected, Suspended, Reconnected, Lost, ReadOnly), retry policies
// applied around every operation, chroot and namespace, one-shot watches as
// channels that deliver one event and close, persistent watches as streams,
// transactions, and protected and guaranteed operations as in Apache
// Curator. Every method of Conn, Txn excepted, is safe for concurrent use:
// requests from many goroutines are pipelined over one TCP connection, with
// one send and one receive goroutine per connection and no goroutine per
// request; errors wrap the server's code (errors.Is(err, client.ErrNoNode))
// in an *OpError naming the op and path. Close stops every goroutine a Conn
// started.
package client
