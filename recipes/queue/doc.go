// Package queue implements Apache Curator's SimpleDistributedQueue on a
// client.Conn, with the znode layout Curator 5 uses, so that Go and Java
// processes produce into and consume from one queue.
//
// Every item is a persistent sequential node PATH/qn-NNNNNNNNNN holding the
// item's bytes; PATH is a container (created with its parents as
// containers), which the server deletes once the queue is empty. Items
// come out in the order of their sequence numbers. A consumer takes the
// first item by reading it and deleting its node: the one whose delete
// succeeds has it, the others go on to the next item. Children of PATH not
// named qn-... are ignored.
//
// # Delivery and connection loss
//
// An item is delivered to at most one consumer. Requests go through the
// Conn's retry policy; as with Curator, an item whose delete was applied
// but whose reply was lost with the connection is seen as taken by someone
// else on the retry, and so is lost. An Offer retried after a lost reply
// may likewise add its item twice. Take waits across a Suspended
// connection, and on a new session after Lost.
//
// # Concurrency
//
// Simple is safe for concurrent use and starts no goroutine.
package queue
