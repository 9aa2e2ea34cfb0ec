package tree

import (
	"fmt"
	"unsafe"

	"github.com/zkgo/zkgo/proto"
)

// Mode is the lifetime class of a znode.
type Mode uint8

// Node modes.
const (
	// ModePersistent nodes live until deleted.
	ModePersistent Mode = iota
	// ModeEphemeral nodes belong to a session and go with it.
	ModeEphemeral
	// ModeContainer nodes are reaped once they had a child and are empty again.
	ModeContainer
	// ModeTTL nodes are reaped when childless and not modified for their TTL.
	ModeTTL
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case ModePersistent:
		return "persistent"
	case ModeEphemeral:
		return "ephemeral"
	case ModeContainer:
		return "container"
	case ModeTTL:
		return "ttl"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Node is one znode. It is immutable once stored in a tree: changes replace
// the Node, so a *Node obtained from a tree never changes under its holder.
// Slices returned by its accessors are shared and must not be modified.
type Node struct {
	// buf holds the path followed by the data, in one allocation: the
	// B-tree orders nodes by the path, and one buffer costs less than two.
	buf   *byte
	plen  uint32 // path length
	dlen  int32  // data length, -1 for null data
	slash uint32 // index of the last '/' in the path
	mode  Mode
	acl   *aclList
	czxid int64
	mzxid int64
	ctime int64
	mtime int64
	pzxid int64
	// owner is the session of an ephemeral node or the TTL (ms) of a TTL
	// node, else 0.
	owner    int64
	version  int32
	aversion int32
	// cversion counts child creates, as Apache's persisted StatPersisted
	// does; clients see cversion*2-numChildren (creates plus deletes).
	cversion    int32
	numChildren int32
}

// newNode returns a node holding a private copy of path and data (nil data
// is null).
func newNode(path string, slash int, data []byte) *Node {
	n := &Node{slash: uint32(slash)}
	n.setBuf(path, data)
	return n
}

func (n *Node) setBuf(path string, data []byte) {
	b := make([]byte, len(path)+len(data))
	copy(b, path)
	copy(b[len(path):], data)
	n.buf = unsafe.SliceData(b)
	n.plen = uint32(len(path))
	n.dlen = int32(len(data))
	if data == nil {
		n.dlen = -1
	}
}

// path returns the node's path. The string shares the node's buffer.
func (n *Node) path() string { return unsafe.String(n.buf, n.plen) }

// Data returns the node's data; nil means null data (as opposed to empty).
// The slice is shared and must not be modified.
func (n *Node) Data() []byte {
	switch {
	case n.dlen < 0:
		return nil
	case n.dlen == 0:
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(n.buf), n.plen)), n.dlen)
}

// DataLength returns the length of the data (0 for null).
func (n *Node) DataLength() int { return int(max(n.dlen, 0)) }

// ACL returns the node's ACL list. The slice is shared with every node that
// has the same ACL and must not be modified.
func (n *Node) ACL() []proto.ACL { return n.acl.acls }

// Mode returns the node's mode.
func (n *Node) Mode() Mode { return n.mode }

// Owner returns the session owning an ephemeral node, else 0.
func (n *Node) Owner() int64 {
	if n.mode == ModeEphemeral {
		return n.owner
	}
	return 0
}

// TTL returns the time to live in milliseconds of a TTL node, else 0.
func (n *Node) TTL() int64 {
	if n.mode == ModeTTL {
		return n.owner
	}
	return 0
}

// NumChildren returns the number of children.
func (n *Node) NumChildren() int { return int(n.numChildren) }

// Stat returns the node's Stat as Apache ZooKeeper reports it to clients:
// cversion counts child creates and deletes, and ephemeralOwner is 0 for
// container and TTL nodes.
func (n *Node) Stat() proto.Stat {
	return proto.Stat{
		Czxid:          n.czxid,
		Mzxid:          n.mzxid,
		Ctime:          n.ctime,
		Mtime:          n.mtime,
		Version:        n.version,
		Cversion:       n.cversion*2 - n.numChildren, // int32 wrap as in Java
		Aversion:       n.aversion,
		EphemeralOwner: n.Owner(),
		DataLength:     int32(n.DataLength()),
		NumChildren:    n.numChildren,
		Pzxid:          n.pzxid,
	}
}

// withData returns a copy of n holding data.
func (n *Node) withData(data []byte) *Node {
	c := *n
	c.setBuf(n.path(), data)
	return &c
}
