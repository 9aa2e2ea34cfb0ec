package tree

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"unsafe"

	"github.com/zkgo/zkgo/proto"
)

// ErrCorrupt is wrapped by the errors ReadTree returns for a stream that is
// truncated, damaged or not a tree snapshot.
var ErrCorrupt = errors.New("tree: corrupt snapshot")

// Snapshot stream layout (all of it but the last 4 bytes is covered by the
// checksum):
//
//	magic    "zkgotree" (8 bytes)
//	version  uint32 big-endian (1)
//	records  uvarint length L > 0, then L bytes:
//	         'A' uvarint id, uvarint count, count × (varint perms,
//	             uvarint len, scheme, uvarint len, id)        an ACL list
//	         'N' uvarint len, path, varint len (-1 = null), data,
//	             uvarint acl id, varint czxid, mzxid, ctime, mtime, pzxid,
//	             version, cversion, aversion, byte mode, varint owner
//	end      uvarint 0, uvarint node count
//	checksum uint32 big-endian CRC-32 (IEEE) of everything before it
//
// Nodes come in key order, so a parent precedes its children; ACL list ids
// are 0, 1, 2... in order of first use, each defined before the first node
// that uses it. Child counts are not stored: they are recomputed.
const (
	snapMagic   = "zkgotree"
	snapVersion = 1
	tagACL      = 'A'
	tagNode     = 'N'
	// maxRecord bounds one record (a node's data plus its path).
	maxRecord = 1 << 30
)

// WriteTo streams every node of t to w (see the layout above) and returns
// the number of bytes written. It holds no more than one record in memory
// beyond t itself. Call it on a [Tree.Clone] to serialise while the original
// keeps changing.
func (t *Tree) WriteTo(w io.Writer) (int64, error) {
	s := snapWriter{bw: bufio.NewWriterSize(w, 64<<10), acls: make(map[*aclList]uint64)}
	var head [12]byte
	copy(head[:], snapMagic)
	binary.BigEndian.PutUint32(head[8:], snapVersion)
	s.write(head[:])
	t.nodes.Ascend(func(n *Node) bool {
		s.node(n)
		return s.err == nil
	})
	var end [2 * binary.MaxVarintLen64]byte
	e := binary.AppendUvarint(end[:0], 0)
	e = binary.AppendUvarint(e, uint64(t.nodes.Len()))
	s.write(e)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], s.crc)
	s.write(sum[:])
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	return s.n, s.err
}

type snapWriter struct {
	bw   *bufio.Writer
	crc  uint32
	n    int64
	err  error
	rec  []byte
	len  [binary.MaxVarintLen64]byte
	acls map[*aclList]uint64
}

func (s *snapWriter) write(b []byte) {
	if s.err != nil {
		return
	}
	s.crc = crc32.Update(s.crc, crc32.IEEETable, b)
	m, err := s.bw.Write(b)
	s.n += int64(m)
	s.err = err
}

// record writes s.rec framed by its length.
func (s *snapWriter) record() {
	s.write(binary.AppendUvarint(s.len[:0], uint64(len(s.rec))))
	s.write(s.rec)
}

func (s *snapWriter) node(n *Node) {
	id, ok := s.acls[n.acl]
	if !ok {
		id = uint64(len(s.acls))
		s.acls[n.acl] = id
		r := append(s.rec[:0], tagACL)
		r = binary.AppendUvarint(r, id)
		r = binary.AppendUvarint(r, uint64(len(n.acl.acls)))
		for _, a := range n.acl.acls {
			r = binary.AppendVarint(r, int64(a.Perms))
			r = binary.AppendUvarint(r, uint64(len(a.ID.Scheme)))
			r = append(r, a.ID.Scheme...)
			r = binary.AppendUvarint(r, uint64(len(a.ID.ID)))
			r = append(r, a.ID.ID...)
		}
		s.rec = r
		s.record()
	}
	r := append(s.rec[:0], tagNode)
	r = binary.AppendUvarint(r, uint64(n.plen))
	r = append(r, n.path()...)
	r = binary.AppendVarint(r, int64(n.dlen))
	r = append(r, n.Data()...)
	r = binary.AppendUvarint(r, id)
	for _, v := range [...]int64{n.czxid, n.mzxid, n.ctime, n.mtime, n.pzxid,
		int64(n.version), int64(n.cversion), int64(n.aversion)} {
		r = binary.AppendVarint(r, v)
	}
	r = append(r, byte(n.mode))
	r = binary.AppendVarint(r, n.owner)
	s.rec = r
	s.record()
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

// ReadTree reads a tree written by [Tree.WriteTo] and rebuilds its indexes
// and, as Apache ZooKeeper does on loading a snapshot, its quota
// bookkeeping: the quotas are registered again and their stats nodes
// recounted.
// A stream that is truncated, fails its checksum or breaks the tree's
// structure (order, missing parent, invalid path or field) yields an error
// wrapping [ErrCorrupt]. If r is an io.ByteReader (e.g. a *bufio.Reader),
// ReadTree reads exactly the snapshot and leaves r just after it; otherwise
// it buffers and may read past the end.
func ReadTree(r io.Reader) (*Tree, error) {
	br, ok := r.(byteReader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	s := snapReader{r: br}
	head, err := s.read(12)
	if err != nil {
		return nil, err
	}
	if string(head[:8]) != snapMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrCorrupt, head[:8])
	}
	if v := binary.BigEndian.Uint32(head[8:]); v != snapVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrCorrupt, v)
	}
	b := builder{t: empty()}
	for {
		l, err := s.uvarint()
		if err != nil {
			return nil, err
		}
		if l == 0 {
			break
		}
		if l > maxRecord {
			return nil, fmt.Errorf("%w: record %d: length %d", ErrCorrupt, b.count, l)
		}
		rec, err := s.read(int(l))
		if err != nil {
			return nil, err
		}
		if err := b.record(rec); err != nil {
			return nil, fmt.Errorf("%w: record after node %d: %s", ErrCorrupt, b.count, err)
		}
	}
	count, err := s.uvarint()
	if err != nil {
		return nil, err
	}
	want := s.crc
	var sum [4]byte
	if _, err := io.ReadFull(s.r, sum[:]); err != nil {
		return nil, s.ioErr(err)
	}
	if got := binary.BigEndian.Uint32(sum[:]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, computed %08x", ErrCorrupt, got, want)
	}
	if count != uint64(b.count) || b.count == 0 {
		return nil, fmt.Errorf("%w: %d nodes, trailer says %d", ErrCorrupt, b.count, count)
	}
	b.t.rebuildQuotas()
	return b.t, nil
}

type snapReader struct {
	r   byteReader
	crc uint32
	buf []byte
}

func (s *snapReader) ioErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	return fmt.Errorf("tree: reading snapshot: %w", err)
}

func (s *snapReader) uvarint() (uint64, error) {
	var b [binary.MaxVarintLen64]byte
	for i := range b {
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, s.ioErr(err)
		}
		b[i] = c
		if c < 0x80 {
			s.crc = crc32.Update(s.crc, crc32.IEEETable, b[:i+1])
			v, n := binary.Uvarint(b[:i+1])
			if n <= 0 {
				return 0, fmt.Errorf("%w: bad length", ErrCorrupt)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: bad length", ErrCorrupt)
}

// read returns the next n bytes, valid until the next call. A large n is read
// in steps, so a corrupt length fails at the end of the stream rather than
// allocating all of it up front.
func (s *snapReader) read(n int) ([]byte, error) {
	const step = 1 << 20
	s.buf = s.buf[:0]
	for len(s.buf) < n {
		k := min(n-len(s.buf), step)
		s.buf = slices.Grow(s.buf, k)
		chunk := s.buf[len(s.buf) : len(s.buf)+k]
		if _, err := io.ReadFull(s.r, chunk); err != nil {
			return nil, s.ioErr(err)
		}
		s.buf = s.buf[:len(s.buf)+k]
	}
	s.crc = crc32.Update(s.crc, crc32.IEEETable, s.buf)
	return s.buf, nil
}

// builder inserts the records of a snapshot into a new tree.
type builder struct {
	t     *Tree
	acls  []*aclList
	count int
	prev  *Node
	// parent caches the last parent looked up: siblings come together.
	parentPath string
	parent     *Node
}

func (b *builder) record(rec []byte) error {
	c := cursor{b: rec}
	switch c.byte() {
	case tagACL:
		return b.acl(&c)
	case tagNode:
		return b.node(&c)
	}
	return errors.New("unknown record type")
}

func (b *builder) acl(c *cursor) error {
	id := c.uvarint()
	count := c.uvarint()
	if c.bad || id != uint64(len(b.acls)) || count == 0 || count > uint64(len(c.b)) {
		return errors.New("bad ACL list header")
	}
	acls := make([]proto.ACL, count)
	for i := range acls {
		perms := c.varint()
		acls[i] = proto.ACL{Perms: int32(perms), ID: proto.Id{Scheme: c.str(), ID: c.str()}}
		if perms != int64(int32(perms)) {
			c.bad = true
		}
	}
	if c.bad || len(c.b) != 0 {
		return errors.New("bad ACL list")
	}
	b.acls = append(b.acls, b.t.aclTable().intern(acls, nil))
	return nil
}

func (b *builder) node(c *cursor) error {
	path := c.bytes(c.uvarint())
	dlen := c.varint()
	var data []byte
	switch {
	case dlen >= 0:
		data = c.bytes(uint64(dlen))
		if data == nil {
			data = []byte{}
		}
	case dlen != -1:
		c.bad = true
	}
	if c.bad {
		return errors.New("bad node record")
	}
	n := newNode(unsafe.String(unsafe.SliceData(path), len(path)), bytes.LastIndexByte(path, '/'), data) // newNode copies
	id := c.uvarint()
	n.czxid, n.mzxid, n.ctime, n.mtime, n.pzxid = c.varint(), c.varint(), c.varint(), c.varint(), c.varint()
	n.version, n.cversion, n.aversion = c.int32(), c.int32(), c.int32()
	n.mode = Mode(c.byte())
	n.owner = c.varint()
	if c.bad || len(c.b) != 0 {
		return errors.New("bad node record")
	}
	p := n.path()
	if id >= uint64(len(b.acls)) {
		return fmt.Errorf("node %q: unknown ACL list %d", p, id)
	}
	n.acl = b.acls[id]
	if n.mode > ModeTTL || (n.mode == ModeTTL && (n.owner <= 0 || n.owner > MaxTTL)) {
		return fmt.Errorf("node %q: bad mode %d/%d", p, n.mode, n.owner)
	}
	if r := pathProblem(p); r != "" {
		return fmt.Errorf("node %q: %s", p, r)
	}
	if b.count == 0 {
		if p != "/" {
			return fmt.Errorf("first node is %q, not /", p)
		}
	} else {
		if !nodeLess(b.prev, n) {
			return fmt.Errorf("node %q out of order after %q", p, b.prev.path())
		}
		parentPath, _, _ := splitParent(p)
		if parentPath != b.parentPath {
			parent, ok := b.t.find(parentPath)
			if !ok {
				return fmt.Errorf("node %q has no parent", p)
			}
			b.parentPath, b.parent = parent.path(), parent
		}
		// The parent is not yet visible to anyone: counting in place is safe.
		b.parent.numChildren++
	}
	b.t.store(nil, n)
	b.prev = n
	b.count++
	return nil
}

// cursor decodes a record; any overrun sets bad.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) byte() byte {
	if len(c.b) == 0 {
		c.bad = true
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) uvarint() uint64 {
	v, n := binary.Uvarint(c.b)
	if n <= 0 {
		c.bad = true
		return 0
	}
	c.b = c.b[n:]
	return v
}

func (c *cursor) varint() int64 {
	v, n := binary.Varint(c.b)
	if n <= 0 {
		c.bad = true
		return 0
	}
	c.b = c.b[n:]
	return v
}

func (c *cursor) int32() int32 {
	v := c.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		c.bad = true
	}
	return int32(v)
}

func (c *cursor) bytes(n uint64) []byte {
	if n > uint64(len(c.b)) {
		c.bad = true
		c.b = nil
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) str() string { return string(c.bytes(c.uvarint())) }
