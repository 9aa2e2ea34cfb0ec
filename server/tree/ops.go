package tree

import (
	"strings"

	"github.com/zkgo/zkgo/proto"
)

// MaxTTL is the largest TTL in milliseconds a TTL node may have
// (EphemeralType.TTL.maxValue, about 34 years).
const MaxTTL = 0xFFFFFFFFFF

// CreateOp is a create request as it reaches the tree. The caller has already
// made the checks Apache ZooKeeper makes before it looks at the tree, in its
// order: create mode, TTL, extended types enabled, path shape, and the ACL
// fix-up (de-duplication, "auth" expansion, scheme validation); the tree
// repeats the cheap ones, which then fail the same way.
type CreateOp struct {
	Path  string
	Data  []byte      // nil stores null data
	ACL   []proto.ACL // fixed up; copied, not retained
	Mode  proto.CreateMode
	Owner int64 // session owning an ephemeral node (0 makes it persistent, as in Apache)
	TTL   int64 // time to live in ms for the TTL modes, else ignored
}

// Op is one operation of a multi. Type is OpCreate, OpCreate2,
// OpCreateContainer or OpCreateTTL (described by Create; its Mode decides the
// node's kind), or OpDelete, OpSetData or OpCheck (Path, Data, Version).
type Op struct {
	Type proto.OpCode
	// Err, when not OK, makes the op fail with this code when the multi
	// reaches it: the caller records here a failure of its own pre-tree
	// checks so that an earlier op failing in the tree is still reported
	// first, as in Apache ZooKeeper.
	Err     proto.Code
	Create  CreateOp
	Path    string
	Data    []byte
	Version int32
}

// Result is the outcome of one op of a multi. After a successful multi, Type
// is the op's type, Path the path (for creates the created path, sequence
// suffix included) and Stat the node's Stat after a create or setData. After
// a failed multi every result has Type proto.OpError and Err is OK for the
// ops before the failing one, its code for that op, and
// ErrRuntimeInconsistency for the ops after it.
type Result struct {
	Type proto.OpCode
	Path string
	Stat proto.Stat
	Err  proto.Code
}

// Create adds a node and returns its path (with the sequence suffix of a
// sequential mode) and Stat. The checks run in Apache's order: mode valid and
// TTL in range, path shape (BadArguments), ACL present (InvalidACL), parent exists (NoNode), CREATE on
// the parent (auth), full path validation after the suffix is added
// (BadArguments), node absent (NodeExists), parent not ephemeral
// (NoChildrenForEphemerals). The parent's child count goes up, and so do its
// cversion and pzxid (unless the cversion would wrap, where Apache leaves
// both alone). The sequence suffix is the parent's count of child creates,
// printed %010d.
func (t *Tree) Create(op CreateOp, zxid, now int64, auth Authorize) (string, proto.Stat, error) {
	x := txn{t: t, zxid: zxid, now: now, auth: auth}
	n, err := x.create(&op)
	if err != nil {
		return "", proto.Stat{}, err
	}
	return createdPath(&op, n), n.Stat(), nil
}

// Delete removes a childless node. Checks, in Apache's order: path shape and
// not one of "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"
// (BadArguments), parent exists (NoNode), DELETE on the parent (auth), node
// exists (NoNode), version is -1 or matches (BadVersion), no children
// (NotEmpty). The parent's pzxid becomes zxid.
func (t *Tree) Delete(path string, version int32, zxid int64, auth Authorize) error {
	x := txn{t: t, zxid: zxid, auth: auth}
	return x.delete(path, version)
}

// SetData replaces a node's data and returns its new Stat. Checks: valid path
// (BadArguments), node exists (NoNode), WRITE (auth), version (BadVersion).
// version+1 wraps like Java's int.
func (t *Tree) SetData(path string, data []byte, version int32, zxid, now int64, auth Authorize) (proto.Stat, error) {
	x := txn{t: t, zxid: zxid, now: now, auth: auth}
	n, err := x.setData(path, data, version)
	if err != nil {
		return proto.Stat{}, err
	}
	return n.Stat(), nil
}

// SetACL replaces a node's ACL (already fixed up by the caller) and returns
// its new Stat. Checks: valid path (BadArguments), ACL present (InvalidACL),
// node exists (NoNode), ADMIN (auth), version against aversion (BadVersion).
// zxid is accepted for symmetry; Apache changes no zxid on setACL.
func (t *Tree) SetACL(path string, acl []proto.ACL, version int32, zxid int64, auth Authorize) (proto.Stat, error) {
	x := txn{t: t, zxid: zxid, auth: auth}
	n, err := x.setACL(path, acl, version)
	if err != nil {
		return proto.Stat{}, err
	}
	return n.Stat(), nil
}

// Check is the check-version op: valid path (BadArguments), node exists
// (NoNode), READ (auth), version is -1 or matches (BadVersion).
func (t *Tree) Check(path string, version int32, auth Authorize) error {
	x := txn{t: t, auth: auth}
	_, err := x.check(path, version)
	return err
}

// DeleteContainer is the container reaper's delete (OpDeleteContainer): it
// removes path only if it is still a childless container or TTL node.
// Checks, in Apache's order: path shape and not special (BadArguments), node
// exists (NoNode), no children (NotEmpty), container or TTL node
// (BadVersion), parent exists (NoNode). No ACL is checked and the TTL is not
// re-checked. Unlike Apache, which only refuses ephemerals here, a persistent
// node (one that replaced the container since the reaper looked) is refused.
func (t *Tree) DeleteContainer(path string, zxid int64) error {
	x := txn{t: t, zxid: zxid}
	return x.deleteContainer(path)
}

// Multi applies ops atomically with one zxid and time: each op sees the
// effects of the ops before it; if one fails, nothing changes (nodes,
// indexes, counters) and the error is that op's code. See [Result] for the
// results in both cases.
func (t *Tree) Multi(ops []Op, zxid, now int64, auth Authorize) ([]Result, error) {
	results := make([]Result, len(ops))
	x := txn{t: t, zxid: zxid, now: now, auth: auth, multi: true}
	for i := range ops {
		r, err := x.apply(&ops[i])
		if err != nil {
			code := proto.AsCode(err)
			if code == proto.OK {
				code = proto.ErrSystemError
			}
			for j := range results {
				results[j] = Result{Type: proto.OpError}
				switch {
				case j == i:
					results[j].Err = code
				case j > i:
					results[j].Err = proto.ErrRuntimeInconsistency
				}
			}
			return results, code
		}
		results[i] = r
	}
	x.commit()
	return results, nil
}

// txn runs one operation, or the ops of one multi. In a multi, changes go to
// an overlay that later ops read through and that is written to the tree
// only when every op has succeeded.
type txn struct {
	t     *Tree
	zxid  int64
	now   int64
	auth  Authorize
	multi bool
	// changes lists, in first-touch order, every path the multi changed.
	changes []change
	// byPath indexes changes once there are many.
	byPath map[string]int
	// qs is the multi's quota set when quotasSet (see txn.quotas).
	qs        *quotaSet
	quotasSet bool
	// drift is the multi's change to Tree.quotaDrift.
	drift int64
}

// change is the net effect of a multi on one path.
type change struct {
	path string
	old  *Node // the node in the tree before the multi, or nil
	cur  *Node // the node after the ops so far, or nil
}

const overlayMapAt = 16

func (x *txn) find(path string) (int, bool) {
	if x.byPath != nil {
		i, ok := x.byPath[path]
		return i, ok
	}
	for i := range x.changes {
		if x.changes[i].path == path {
			return i, true
		}
	}
	return 0, false
}

// get returns the node at path as the ops so far left it.
func (x *txn) get(path string) (*Node, bool) {
	if x.multi {
		if i, ok := x.find(path); ok {
			cur := x.changes[i].cur
			return cur, cur != nil
		}
	}
	return x.t.find(path)
}

// set replaces prev (the node get returned, or nil) with cur (nil deletes);
// at least one is not nil and both have the same path.
func (x *txn) set(prev, cur *Node) {
	if !x.multi {
		x.t.store(prev, cur)
		return
	}
	n := cur
	if n == nil {
		n = prev
	}
	path := n.path()
	if i, ok := x.find(path); ok {
		x.changes[i].cur = cur
		return
	}
	x.changes = append(x.changes, change{path: path, old: prev, cur: cur})
	switch {
	case x.byPath != nil:
		x.byPath[path] = len(x.changes) - 1
	case len(x.changes) >= overlayMapAt:
		x.byPath = make(map[string]int, 2*len(x.changes))
		for i, c := range x.changes {
			x.byPath[c.path] = i
		}
	}
}

// commit writes a multi's overlay to the tree. Parents are touched before
// the children created under them, so they are stored first.
func (x *txn) commit() {
	for _, c := range x.changes {
		if c.old != c.cur {
			x.t.store(c.old, c.cur)
		}
	}
	if x.quotasSet {
		x.t.quotas = x.qs
	}
	x.t.quotaDrift += x.drift
}

func (x *txn) authorize(acl *aclList, perm int32) error {
	if x.auth == nil {
		return nil
	}
	return x.auth(acl.acls, perm)
}

func (x *txn) apply(op *Op) (Result, error) {
	if op.Err != proto.OK {
		return Result{}, op.Err
	}
	switch op.Type {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		n, err := x.create(&op.Create)
		if err != nil {
			return Result{}, err
		}
		return Result{Type: op.Type, Path: createdPath(&op.Create, n), Stat: n.Stat()}, nil
	case proto.OpDelete:
		return Result{Type: op.Type, Path: op.Path}, x.delete(op.Path, op.Version)
	case proto.OpSetData:
		n, err := x.setData(op.Path, op.Data, op.Version)
		if err != nil {
			return Result{}, err
		}
		return Result{Type: op.Type, Path: op.Path, Stat: n.Stat()}, nil
	case proto.OpCheck:
		_, err := x.check(op.Path, op.Version)
		return Result{Type: op.Type, Path: op.Path}, err
	}
	return Result{}, proto.ErrBadArguments
}

// createdPath returns the path n was created at without sharing n's buffer,
// which also holds its data: the caller may keep the string for long.
func createdPath(op *CreateOp, n *Node) string {
	if op.Mode.IsSequential() {
		return strings.Clone(n.path())
	}
	return op.Path
}

// create follows PrepRequestProcessor.pRequest2TxnCreate and
// DataTree.createNode.
func (x *txn) create(op *CreateOp) (*Node, error) {
	mode := op.Mode
	if !mode.Valid() {
		return nil, proto.ErrBadArguments
	}
	if mode.IsTTL() && (op.TTL <= 0 || op.TTL > MaxTTL) {
		return nil, proto.ErrBadArguments
	}
	parentPath, slash, ok := splitParent(op.Path)
	if !ok {
		return nil, proto.ErrBadArguments
	}
	if len(op.ACL) == 0 {
		return nil, proto.ErrInvalidACL
	}
	parent, ok := x.get(parentPath)
	if !ok {
		return nil, proto.ErrNoNode
	}
	if err := x.authorize(parent.acl, proto.PermCreate); err != nil {
		return nil, err
	}
	path := op.Path
	if mode.IsSequential() {
		var b [128]byte
		path = string(appendSeq(append(b[:0], path...), parent.cversion))
	}
	if pathProblem(path) != "" {
		return nil, proto.ErrBadArguments
	}
	if _, exists := x.get(path); exists {
		return nil, proto.ErrNodeExists
	}
	if parent.mode == ModeEphemeral {
		return nil, proto.ErrNoChildrenForEphemerals
	}
	n := newNode(path, slash, op.Data)
	n.acl = x.t.aclTable().intern(op.ACL, parent.acl)
	n.czxid, n.mzxid, n.pzxid = x.zxid, x.zxid, x.zxid
	n.ctime, n.mtime = x.now, x.now
	switch {
	case mode.IsContainer():
		n.mode = ModeContainer
	case mode.IsTTL():
		n.mode, n.owner = ModeTTL, op.TTL
	case mode.IsEphemeral() && op.Owner != 0:
		n.mode, n.owner = ModeEphemeral, op.Owner
	}
	np := *parent
	np.numChildren++
	// Apache updates cversion and pzxid only if the new cversion is larger,
	// which it is not when the int wraps.
	if cv := parent.cversion + 1; cv > parent.cversion {
		np.cversion, np.pzxid = cv, x.zxid
	}
	x.set(parent, &np)
	x.set(nil, n)
	x.created(parentPath, path, n.DataLength())
	return n, nil
}

// delete follows PrepRequestProcessor (OpCode.delete) and DataTree.deleteNode.
func (x *txn) delete(path string, version int32) error {
	parentPath, _, ok := splitParent(path)
	if !ok || specialPath(path) {
		return proto.ErrBadArguments
	}
	parent, ok := x.get(parentPath)
	if !ok {
		return proto.ErrNoNode
	}
	if err := x.authorize(parent.acl, proto.PermDelete); err != nil {
		return err
	}
	n, ok := x.get(path)
	if !ok {
		return proto.ErrNoNode
	}
	if version != -1 && version != n.version {
		return proto.ErrBadVersion
	}
	if n.numChildren > 0 {
		return proto.ErrNotEmpty
	}
	x.remove(parent, n)
	return nil
}

// deleteContainer follows PrepRequestProcessor (OpCode.deleteContainer).
func (x *txn) deleteContainer(path string) error {
	parentPath, _, ok := splitParent(path)
	if !ok || specialPath(path) {
		return proto.ErrBadArguments
	}
	n, ok := x.get(path)
	if !ok {
		return proto.ErrNoNode
	}
	if n.numChildren > 0 {
		return proto.ErrNotEmpty
	}
	if n.mode != ModeContainer && n.mode != ModeTTL {
		return proto.ErrBadVersion
	}
	parent, ok := x.get(parentPath)
	if !ok {
		return proto.ErrNoNode
	}
	x.remove(parent, n)
	return nil
}

// remove deletes n, a child of parent. The parent's cversion is unchanged
// (it counts creates); its pzxid moves forward only.
func (x *txn) remove(parent, n *Node) {
	np := *parent
	np.numChildren--
	if x.zxid > np.pzxid {
		np.pzxid = x.zxid
	}
	x.set(parent, &np)
	x.set(n, nil)
	x.removed(parent.path(), n.path(), n.DataLength())
}

func (x *txn) setData(path string, data []byte, version int32) (*Node, error) {
	if pathProblem(path) != "" {
		return nil, proto.ErrBadArguments
	}
	old, ok := x.get(path)
	if !ok {
		return nil, proto.ErrNoNode
	}
	if err := x.authorize(old.acl, proto.PermWrite); err != nil {
		return nil, err
	}
	if version != -1 && version != old.version {
		return nil, proto.ErrBadVersion
	}
	n := old.withData(data)
	n.version++
	n.mtime, n.mzxid = x.now, x.zxid
	x.set(old, n)
	x.dataChanged(n.path(), old.DataLength(), n.DataLength())
	return n, nil
}

func (x *txn) setACL(path string, acl []proto.ACL, version int32) (*Node, error) {
	if pathProblem(path) != "" {
		return nil, proto.ErrBadArguments
	}
	if len(acl) == 0 {
		return nil, proto.ErrInvalidACL
	}
	old, ok := x.get(path)
	if !ok {
		return nil, proto.ErrNoNode
	}
	if err := x.authorize(old.acl, proto.PermAdmin); err != nil {
		return nil, err
	}
	if version != -1 && version != old.aversion {
		return nil, proto.ErrBadVersion
	}
	n := *old
	n.acl = x.t.aclTable().intern(acl, old.acl)
	n.aversion++
	x.set(old, &n)
	return &n, nil
}

func (x *txn) check(path string, version int32) (*Node, error) {
	if pathProblem(path) != "" {
		return nil, proto.ErrBadArguments
	}
	n, ok := x.get(path)
	if !ok {
		return nil, proto.ErrNoNode
	}
	if err := x.authorize(n.acl, proto.PermRead); err != nil {
		return nil, err
	}
	if version != -1 && version != n.version {
		return nil, proto.ErrBadVersion
	}
	return n, nil
}

// SetConfigNode stores an ensemble's membership in "/zookeeper/config" the
// way Apache ZooKeeper's ZKDatabase.initConfigInZKDatabase does on every
// server when it starts and after it loads a snapshot: locally, not as a
// txn, with version -1, mzxid the configuration's version and mtime now.
// No watch fires.
func (t *Tree) SetConfigNode(data []byte, configVersion, now int64) {
	x := txn{t: t, zxid: configVersion, now: now}
	old, ok := x.get(configPath)
	if !ok {
		return // New always creates it
	}
	n := old.withData(data)
	n.version = -1
	n.mtime, n.mzxid = now, configVersion
	x.set(old, n)
	x.dataChanged(configPath, old.DataLength(), n.DataLength())
}

// configPath is the node holding the ensemble's membership.
const configPath = "/zookeeper/config"
