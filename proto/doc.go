// Package proto is the ZooKeeper wire format: jute encoding, every request and
// response record, op codes, error codes, event types and create modes. It is
// shared by the server and the client. It opens no connections and starts no
// goroutines ([ReadFrame] reads only from the io.Reader it is given); records,
// Encoders and Decoders are plain values for one goroutine at a time.
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
// [ReadFrame] reads a frame, [AppendFrame], [AppendRequest], [AppendReply] and
// [AppendNotification] write whole frames, and [BeginFrame]/[EndFrame] build
// one in place in an [Encoder]. [NewRequest] and [NewResponse] map an op code
// to the record that follows its header.
//
// The connect handshake ([ConnectRequest], [ConnectResponse]) is the one
// exchange without headers. Its trailing readOnly byte is optional: clients
// before 3.4 (and go-zookeeper) omit it, and a server answers in kind.
//
// A multi or multiRead body ([MultiRequest], [MultiResponse]) is a sequence of
// [MultiHeader] and record pairs ended by a header with Done set.
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
