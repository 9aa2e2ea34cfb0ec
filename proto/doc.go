// Package proto is the ZooKeeper wire format: jute encoding, every request and
// response record, op codes, error codes, event types and create modes. It is
// shared by the server and the client and does no I/O and starts no goroutines.
//
// # Framing
//
// Every message after the connect handshake is a frame:
//
//	+----------------+------------------------------------------+
//	| int32 length   | payload (length bytes)                   |
//	+----------------+------------------------------------------+
//
// A client request payload is RequestHeader{xid, type} followed by the request
// record; a server reply payload is ReplyHeader{xid, zxid, err} followed by the
// response record when err is 0. Notifications use xid -1, pings -2, auth -4 and
// setWatches -8.
//
// # Encoding
//
// All integers are big-endian. A buffer or string is an int32 length followed by
// the bytes, where length -1 means null. A vector is an int32 count followed by
// the elements, -1 meaning null. A record is its fields in order, with no tags.
//
// Decoding is explicit and bounds-checked: a short or malformed input yields an
// error wrapping [ErrMalformed], never a panic.
package proto
