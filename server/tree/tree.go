package tree

import (
	"cmp"
	"iter"
	"slices"
	"strings"
	"unsafe"

	"github.com/google/btree"

	"github.com/zkgo/zkgo/proto"
)

// degree is the B-tree degree: nodes hold up to 63 items, which keeps the
// per-item overhead low and copy-on-write copies small.
const degree = 32

// nodeLess orders nodes by (parent, base name), which is the byte order of
// the keys parent+"\x00"+name: with the last '/' at the same index, comparing
// the paths compares those keys; otherwise the parents differ in length and
// decide alone (a proper prefix sorts first, as its key has "\x00" where the
// other has a non-zero byte).
func nodeLess(a, b *Node) bool {
	ap, bp := a.path(), b.path()
	if a.slash == b.slash {
		return ap < bp
	}
	return ap[:a.slash] < bp[:b.slash]
}

// setKey makes k a search key for path; it returns false for strings that
// cannot name a stored node. k then shares path's memory and must not be
// stored.
func (k *Node) setKey(path string) bool {
	if path == "" { // Apache aliases "" to the root
		path = "/"
	}
	s := strings.LastIndexByte(path, '/')
	if s < 0 {
		return false
	}
	*k = Node{buf: unsafe.StringData(path), plen: uint32(len(path)), slash: uint32(s)}
	return true
}

// ephItem is an entry of the ephemeral index, keyed by owner and path.
type ephItem struct {
	owner int64
	path  string
	seq   uint64 // order of insertion into the index (Tree.ephSeq)
}

func ephLess(a, b ephItem) bool {
	if a.owner != b.owner {
		return a.owner < b.owner
	}
	return a.path < b.path
}

// ephCount is an entry of the per-session ephemeral counts: how many
// ephemeral nodes the session owns, and the most it has owned at once since
// the tree was built (New or ReadTree) or [Tree.ForgetOwner] last ran for it.
type ephCount struct {
	owner int64
	n     int
	peak  int
}

func ephCountLess(a, b ephCount) bool { return a.owner < b.owner }

// Authorize checks that the requester holds perm (proto.Perm*) on a node with
// the given ACL and returns an error, normally proto.ErrNoAuth, if not. The
// tree calls it where Apache ZooKeeper calls checkACL: CREATE and DELETE on
// the parent, WRITE for setData, ADMIN for setACL, READ for check. A nil
// Authorize allows everything. The acl slice is shared and read-only.
type Authorize func(acl []proto.ACL, perm int32) error

// Tree is an in-memory znode tree. It is not safe for concurrent use while
// it is being mutated; see the package documentation for the contract of
// [Tree.Clone].
type Tree struct {
	nodes      *btree.BTreeG[*Node]
	ephemerals *btree.BTreeG[ephItem]
	ephCounts  *btree.BTreeG[ephCount]
	containers *btree.BTreeG[string]
	ttls       *btree.BTreeG[string]
	dataSize   int64  // sum of javaLen(path) + len(data)
	ephSeq     uint64 // ephemeral index insertions so far
	// quotas holds the paths with a quota (nil: none, the common case);
	// quotaDrift is how much the server's rewrites of their stats nodes
	// changed dataSize, which Apache's data size does not see (quota.go).
	quotas     *quotaSet
	quotaDrift int64
	acls       *aclTable // nil in a clone until it is first mutated
	// scratch is the search key of lookups made by mutations, which have
	// the tree to themselves; readers allocate their own (see Get).
	scratch Node
}

func empty() *Tree {
	return &Tree{
		nodes:      btree.NewG(degree, nodeLess),
		ephemerals: btree.NewG(degree, ephLess),
		ephCounts:  btree.NewG(degree, ephCountLess),
		containers: btree.NewG(degree, btree.Less[string]()),
		ttls:       btree.NewG(degree, btree.Less[string]()),
		acls:       newACLTable(),
	}
}

// New returns the tree of a fresh Apache ZooKeeper 3.8 server: "/",
// "/zookeeper", "/zookeeper/quota" and "/zookeeper/config", all with zxids
// and times 0 and empty (not null) data. "/zookeeper/config" has ACL
// world:anyone:r and aversion -1 (DataTree.addConfigNode sets its ACL with
// version -1); the others have world:anyone:cdrwa.
func New() *Tree {
	t := empty()
	open := t.acls.intern(proto.OpenACLUnsafe, nil)
	read := t.acls.intern(proto.ReadACLUnsafe, nil)
	add := func(path string, acl *aclList, children, aversion int32) {
		n := newNode(path, strings.LastIndexByte(path, '/'), []byte{})
		n.acl, n.numChildren, n.aversion = acl, children, aversion
		t.store(nil, n)
	}
	add("/", open, 1, 0)
	add("/zookeeper", open, 2, 0)
	add(configPath, read, 0, -1)
	add("/zookeeper/quota", open, 0, 0)
	return t
}

// Clone returns a point-in-time copy of t in O(1). The copy and t share
// storage copy-on-write, and each may be used (read, written, serialised) on
// its own goroutine once Clone returns. Clone marks t's storage as shared, so
// it may run alongside readers of t but not alongside a mutation or another
// Clone of t.
func (t *Tree) Clone() *Tree {
	return &Tree{
		nodes:      t.nodes.Clone(),
		ephemerals: t.ephemerals.Clone(),
		ephCounts:  t.ephCounts.Clone(),
		containers: t.containers.Clone(),
		ttls:       t.ttls.Clone(),
		dataSize:   t.dataSize,
		ephSeq:     t.ephSeq,
		quotas:     t.quotas,
		quotaDrift: t.quotaDrift,
	}
}

// find is Get for mutations: it uses t.scratch instead of allocating a key.
func (t *Tree) find(path string) (*Node, bool) {
	if !t.scratch.setKey(path) {
		return nil, false
	}
	n, ok := t.nodes.Get(&t.scratch)
	t.scratch.buf = nil // do not pin the caller's string
	return n, ok
}

// Get returns the node at path. As in Apache ZooKeeper, "" names the root;
// any string that is not a stored path simply misses.
func (t *Tree) Get(path string) (*Node, bool) {
	k := new(Node) // the B-tree's less function makes any key escape
	if !k.setKey(path) {
		return nil, false
	}
	return t.nodes.Get(k)
}

// Len returns the number of znodes, the root included (4 in a new tree).
func (t *Tree) Len() int { return t.nodes.Len() }

// NodeCount returns the node count Apache ZooKeeper reports (srvr "Node
// count", mntr zk_znode_count): Len()+1, because Apache's node map holds the
// root under both "" and "/" (a new server reports 5).
func (t *Tree) NodeCount() int { return t.nodes.Len() + 1 }

// ApproximateDataSize returns Apache's approximate_data_size: the sum over
// all nodes of the path length in UTF-16 units plus the data length, except
// that, as in Apache, the server's rewrites of quota stats nodes since the
// tree was built are not counted.
func (t *Tree) ApproximateDataSize() int64 { return t.dataSize - t.quotaDrift }

// EphemeralCount returns the number of ephemeral nodes.
func (t *Tree) EphemeralCount() int { return t.ephemerals.Len() }

// ContainerCount returns the number of container nodes.
func (t *Tree) ContainerCount() int { return t.containers.Len() }

// TTLCount returns the number of TTL nodes.
func (t *Tree) TTLCount() int { return t.ttls.Len() }

// children calls fn for each child of the node at parent (a stored path, "/"
// for the root) in name order until fn returns false.
func (t *Tree) children(parent string, fn func(n *Node) bool) {
	pk := parent
	if parent == "/" {
		pk = ""
	}
	t.nodes.AscendGreaterOrEqual(blockStart(pk), func(n *Node) bool {
		p := n.path()
		if int(n.slash) != len(pk) || p[:n.slash] != pk {
			return false
		}
		if p == "/" {
			return true
		}
		return fn(n)
	})
}

// blockStart returns a key that sorts before every node whose parent is pk
// ("" for the root's children) and after every node whose parent sorts
// before pk: a path equal to the parent with the slash index past its end.
func blockStart(pk string) *Node {
	return &Node{buf: unsafe.StringData(pk), plen: uint32(len(pk)), slash: uint32(len(pk))}
}

// Children returns the names of the children of path in byte order, or
// proto.ErrNoNode. The names share memory with the nodes (data included):
// clone them to keep them beyond answering a request.
func (t *Tree) Children(path string) ([]string, error) {
	n, ok := t.Get(path)
	if !ok {
		return nil, proto.ErrNoNode
	}
	out := make([]string, 0, n.numChildren)
	t.children(n.path(), func(c *Node) bool {
		out = append(out, c.path()[c.slash+1:])
		return true
	})
	return out, nil
}

// AllChildrenNumber returns the number of descendants of path, as Apache's
// getAllChildrenNumber counts them (every stored path starting with
// path+"/"; for "/" every node but the root). It is 0 for a missing path.
func (t *Tree) AllChildrenNumber(path string) int {
	switch path {
	case "/":
		return t.nodes.Len() - 1
	case "": // every key starts with "/", the root's too
		return t.nodes.Len()
	}
	n := 0
	// Direct children: the block whose parent is path.
	t.children(path, func(*Node) bool { n++; return true })
	// Deeper descendants: the blocks whose parent starts with path+"/",
	// contiguous because parents are compared as strings.
	pfx := path + "/"
	t.nodes.AscendGreaterOrEqual(blockStart(pfx), func(c *Node) bool {
		if !strings.HasPrefix(c.path()[:c.slash], pfx) {
			return false
		}
		n++
		return true
	})
	return n
}

// Walk calls fn for every node in key order (a parent before its children)
// until fn returns false. The path shares the node's memory (see Children).
func (t *Tree) Walk(fn func(path string, n *Node) bool) {
	t.nodes.Ascend(func(n *Node) bool { return fn(n.path(), n) })
}

// Ephemerals returns the paths of the ephemeral nodes of session, sorted.
func (t *Tree) Ephemerals(session int64) []string {
	var out []string
	t.ephemerals.AscendGreaterOrEqual(ephItem{owner: session}, func(e ephItem) bool {
		if e.owner != session {
			return false
		}
		out = append(out, e.path)
		return true
	})
	return out
}

// EphemeralsByCreation returns the paths of the ephemeral nodes of session
// in the order they became ephemeral nodes of this tree: creation order,
// with a multi's creates in op order. A tree read by ReadTree numbers its
// ephemerals in the order the snapshot lists them.
func (t *Tree) EphemeralsByCreation(session int64) []string {
	var items []ephItem
	t.ephemerals.AscendGreaterOrEqual(ephItem{owner: session}, func(e ephItem) bool {
		if e.owner != session {
			return false
		}
		items = append(items, e)
		return true
	})
	slices.SortFunc(items, func(a, b ephItem) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]string, len(items))
	for i, e := range items {
		out[i] = e.path
	}
	return out
}

// EphemeralPeak returns the largest number of ephemeral nodes session has
// owned at once since the tree was built or ForgetOwner(session) ran. The
// count survives the session's ephemerals being deleted, as Apache
// ZooKeeper's per-session set of ephemeral paths does (its capacity, which
// orders its iteration, only grows).
func (t *Tree) EphemeralPeak(session int64) int {
	c, _ := t.ephCounts.Get(ephCount{owner: session})
	return c.peak
}

// ForgetOwner drops the ephemeral count of a session that owns no ephemeral
// node any more (it was closed).
func (t *Tree) ForgetOwner(session int64) {
	if c, ok := t.ephCounts.Get(ephCount{owner: session}); ok && c.n == 0 {
		t.ephCounts.Delete(c)
	}
}

// AllEphemerals yields (session, path) for every ephemeral node, ordered by
// session and then path.
func (t *Tree) AllEphemerals() iter.Seq2[int64, string] {
	return func(yield func(int64, string) bool) {
		t.ephemerals.Ascend(func(e ephItem) bool { return yield(e.owner, e.path) })
	}
}

// EmptyContainers returns the container nodes Apache's ContainerManager would
// delete: no children, and at least one child created at some point
// (cversion > 0), sorted.
func (t *Tree) EmptyContainers() []string {
	var out []string
	t.containers.Ascend(func(p string) bool {
		if n, ok := t.Get(p); ok && n.numChildren == 0 && n.cversion > 0 {
			out = append(out, p)
		}
		return true
	})
	return out
}

// ExpiredTTLs returns the TTL nodes Apache's ContainerManager would delete at
// nowMs: no children and nowMs-mtime > ttl, sorted.
func (t *Tree) ExpiredTTLs(nowMs int64) []string {
	var out []string
	t.ttls.Ascend(func(p string) bool {
		if n, ok := t.Get(p); ok && n.numChildren == 0 && n.owner != 0 && nowMs-n.mtime > n.owner {
			out = append(out, p)
		}
		return true
	})
	return out
}

// ReapDue reports whether the node at path is still the one the reaper
// chose (created at czxid, not deleted and re-created since) and still due
// for removal at nowMs: a container with no children that has had one, or
// a TTL node with no children whose time ran out.
func (t *Tree) ReapDue(path string, czxid, nowMs int64) bool {
	n, ok := t.Get(path)
	if !ok || n.czxid != czxid || n.numChildren != 0 {
		return false
	}
	switch n.mode {
	case ModeContainer:
		return n.cversion > 0
	case ModeTTL:
		return n.owner != 0 && nowMs-n.mtime > n.owner
	}
	return false
}

// store makes cur the node at its path in place of old (either may be nil,
// not both; both have the same path) and keeps the indexes and counters in
// step.
func (t *Tree) store(old, cur *Node) {
	if cur == nil {
		t.nodes.Delete(old)
	} else {
		t.nodes.ReplaceOrInsert(cur)
	}
	switch {
	case old == nil:
		t.dataSize += javaLen(cur.path()) + int64(cur.DataLength())
		t.index(cur, true)
	case cur == nil:
		t.dataSize -= javaLen(old.path()) + int64(old.DataLength())
		t.index(old, false)
	default:
		t.dataSize += int64(cur.DataLength()) - int64(old.DataLength())
		if old.mode != cur.mode || old.owner != cur.owner {
			t.index(old, false)
			t.index(cur, true)
		}
	}
	if invariants {
		t.checkStore(old, cur)
	}
}

// index adds (add) or removes n in the index of its mode. Entries get their
// own copy of the path: the node's buffer also holds its data, which a
// later setData replaces.
func (t *Tree) index(n *Node, add bool) {
	if n.mode == ModePersistent {
		return
	}
	path := n.path()
	if add {
		path = strings.Clone(path)
	}
	switch n.mode {
	case ModeEphemeral:
		e := ephItem{owner: n.owner, path: path}
		c, _ := t.ephCounts.Get(ephCount{owner: n.owner})
		c.owner = n.owner
		if add {
			t.ephSeq++
			e.seq = t.ephSeq
			t.ephemerals.ReplaceOrInsert(e)
			c.n++
			c.peak = max(c.peak, c.n)
		} else {
			t.ephemerals.Delete(e)
			c.n--
		}
		t.ephCounts.ReplaceOrInsert(c)
	case ModeContainer:
		if add {
			t.containers.ReplaceOrInsert(path)
		} else {
			t.containers.Delete(path)
		}
	case ModeTTL:
		if add {
			t.ttls.ReplaceOrInsert(path)
		} else {
			t.ttls.Delete(path)
		}
	}
}

// aclTable returns t's intern table, creating it in a clone.
func (t *Tree) aclTable() *aclTable {
	if t.acls == nil {
		t.acls = newACLTable()
	}
	return t.acls
}
