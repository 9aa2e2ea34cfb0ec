package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge is wrapped by ReadFrame's error when a frame's length
// exceeds the limit (Apache ZooKeeper's "Len error" / "Packet len out of
// range").
var ErrFrameTooLarge = errors.New("proto: frame too large")

// ReadFrame reads one frame (an int32 length and that many bytes) from r and
// returns its payload. The payload is stored in buf when buf has the capacity,
// else in a new slice. A negative length is an error wrapping ErrMalformed and
// a length above max (DefaultMaxBuffer if max <= 0) one wrapping
// ErrFrameTooLarge; both are detected before anything is allocated. A clean
// end of input before the length yields io.EOF; an end inside the frame
// yields io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	if max <= 0 {
		max = DefaultMaxBuffer
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: negative frame length %d", ErrMalformed, n)
	}
	if int64(n) > int64(max) {
		return nil, fmt.Errorf("%w: length %d, limit %d", ErrFrameTooLarge, n, max)
	}
	if cap(buf) >= int(n) {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// AppendFrame appends payload to dst as one frame.
func AppendFrame(dst []byte, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// BeginFrame starts a frame in e by reserving its length field, and returns
// the mark to pass to EndFrame once the payload has been encoded after it.
// This builds a frame without copying the payload.
func BeginFrame(e *Encoder) (mark int) {
	mark = len(e.buf)
	e.Int(0)
	return mark
}

// EndFrame sets the length of the frame begun at mark to the number of bytes
// encoded since.
func EndFrame(e *Encoder, mark int) {
	binary.BigEndian.PutUint32(e.buf[mark:mark+4], uint32(len(e.buf)-mark-4))
}

// AppendRequest appends a whole request frame: the header, then req unless
// it is nil (header-only ops such as ping and closeSession).
func AppendRequest(dst []byte, hdr RequestHeader, req Record) []byte {
	e := Encoder{buf: dst}
	mark := BeginFrame(&e)
	hdr.Encode(&e)
	if req != nil {
		req.Encode(&e)
	}
	EndFrame(&e, mark)
	return e.buf
}

// AppendReply appends a whole reply frame: the header, then resp unless it
// is nil. Callers pass a nil resp when hdr.Err is not OK, since error replies
// are header-only.
func AppendReply(dst []byte, hdr ReplyHeader, resp Record) []byte {
	e := Encoder{buf: dst}
	mark := BeginFrame(&e)
	hdr.Encode(&e)
	if resp != nil {
		resp.Encode(&e)
	}
	EndFrame(&e, mark)
	return e.buf
}

// AppendNotification appends a whole watch notification frame: a ReplyHeader
// with xid -1, the event's zxid and err 0, then the event.
func AppendNotification(dst []byte, zxid int64, ev WatcherEvent) []byte {
	return AppendReply(dst, ReplyHeader{Xid: XidNotification, Zxid: zxid, Err: OK}, &ev)
}
