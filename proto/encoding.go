package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is wrapped by every decoding error: the bytes do not form the
// expected record.
var ErrMalformed = errors.New("proto: malformed record")

// DefaultMaxBuffer is Apache ZooKeeper's default jute.maxbuffer: the largest
// buffer, string or frame accepted (1 MB - 1).
const DefaultMaxBuffer = 0xfffff

// Record is implemented by every jute record.
type Record interface {
	// Encode appends the record to e.
	Encode(e *Encoder)
	// Decode reads the record from d. Errors are also kept in d (see
	// [Decoder.Err]) so callers may check once at the end.
	Decode(d *Decoder) error
}

// Encoder appends jute-encoded values to a byte slice. The zero value is ready
// to use.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an encoder that appends to buf (which may be nil).
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the encoder but keeps its storage.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// Int appends a big-endian int32.
func (e *Encoder) Int(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }

// Long appends a big-endian int64.
func (e *Encoder) Long(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

// Bool appends a boolean as one byte.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Buffer appends a length-prefixed buffer; nil is encoded as length -1.
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends a length-prefixed UTF-8 string. The empty string is encoded
// with length 0 (Apache ZooKeeper never writes null strings it has read).
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.buf = append(e.buf, s...)
}

// Strings appends a vector of strings; nil is encoded as count -1.
func (e *Encoder) Strings(v []string) {
	if v == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Raw appends bytes without a length prefix.
func (e *Encoder) Raw(b []byte) { e.buf = append(e.buf, b...) }

// Decoder reads jute-encoded values from a byte slice. The first error is
// sticky: later reads return zero values and [Decoder.Err] reports it.
type Decoder struct {
	buf []byte
	off int
	err error
	// MaxBuffer bounds the length of buffers, strings and vectors; 0 means
	// DefaultMaxBuffer.
	MaxBuffer int
}

// NewDecoder returns a decoder reading b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first decoding error, if any.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

func (d *Decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (d *Decoder) maxBuffer() int {
	if d.MaxBuffer > 0 {
		return d.MaxBuffer
	}
	return DefaultMaxBuffer
}

func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.fail("%s: need %d bytes at offset %d, have %d", what, n, d.off, len(d.buf)-d.off)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// Int reads a big-endian int32.
func (d *Decoder) Int() int32 {
	b := d.take(4, "int")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Long reads a big-endian int64.
func (d *Decoder) Long() int64 {
	b := d.take(8, "long")
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a one-byte boolean; any non-zero byte is true, as in Java.
func (d *Decoder) Bool() bool {
	b := d.take(1, "boolean")
	if b == nil {
		return false
	}
	return b[0] != 0
}

func (d *Decoder) length(what string) int {
	n := d.Int()
	if d.err != nil {
		return 0
	}
	if n < -1 {
		d.fail("%s: negative length %d", what, n)
		return 0
	}
	if int(n) > d.maxBuffer() {
		d.fail("%s: length %d exceeds limit %d", what, n, d.maxBuffer())
		return 0
	}
	return int(n)
}

// Buffer reads a length-prefixed buffer; length -1 yields nil. The result is a
// copy, so it stays valid after the input is reused.
func (d *Decoder) Buffer() []byte {
	n := d.length("buffer")
	if d.err != nil || n == -1 {
		return nil
	}
	b := d.take(n, "buffer")
	if b == nil {
		return nil
	}
	out := make([]byte, n)
	copy(out, b)
	return out
}

// String reads a length-prefixed string; length -1 yields "".
func (d *Decoder) String() string {
	n := d.length("string")
	if d.err != nil || n <= 0 {
		return ""
	}
	b := d.take(n, "string")
	if b == nil {
		return ""
	}
	return string(b)
}

// Strings reads a vector of strings; count -1 yields nil.
func (d *Decoder) Strings() []string {
	n := d.Count("vector<ustring>", 4)
	if n < 0 {
		return nil
	}
	v := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		v = append(v, d.String())
	}
	if d.err != nil {
		return nil
	}
	return v
}

// Count reads a vector count, checking that at least minElem bytes per element
// remain so that a hostile count cannot make the caller allocate. It returns -1
// for a null vector or on error.
func (d *Decoder) Count(what string, minElem int) int {
	n := d.Int()
	if d.err != nil {
		return -1
	}
	if n == -1 {
		return -1
	}
	if n < 0 {
		d.fail("%s: negative count %d", what, n)
		return -1
	}
	if minElem < 1 {
		minElem = 1
	}
	if int64(n)*int64(minElem) > int64(d.Remaining()) || int64(n) > math.MaxInt32 {
		d.fail("%s: count %d larger than remaining %d bytes", what, n, d.Remaining())
		return -1
	}
	return int(n)
}

// Rest returns the unread bytes without copying and consumes them.
func (d *Decoder) Rest() []byte {
	if d.err != nil {
		return nil
	}
	b := d.buf[d.off:]
	d.off = len(d.buf)
	return b
}

// Encode encodes r into a new byte slice.
func Encode(r Record) []byte {
	var e Encoder
	r.Encode(&e)
	return e.buf
}

// Decode decodes r from b, requiring that the whole of b is consumed.
func Decode(b []byte, r Record) error {
	d := NewDecoder(b)
	if err := r.Decode(d); err != nil {
		return err
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("%w: %d trailing bytes after %T", ErrMalformed, d.Remaining(), r)
	}
	return nil
}
