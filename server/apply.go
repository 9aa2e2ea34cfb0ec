package server

import (
	"errors"
	"strings"

	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/tree"
)

// maxTTL is the largest TTL an ephemeralOwner can encode (EphemeralType.TTL).
const maxTTL = 0xFFFFFFFFFF

// applyCtx applies the ops of one txn. It runs on the apply goroutine with
// database.mu held.
type applyCtx struct {
	db  *database
	t   *txn
	res *txnResult
}

func (a applyCtx) authorize(acl []proto.ACL, perm int32) error {
	return checkACL(acl, perm, a.t.auth)
}

// validateCreate performs the checks Apache ZooKeeper makes before it looks
// at the tree (PrepRequestProcessor.validateCreateRequest and
// validatePathForCreate), in the same order, and returns the fixed-up ACL.
func (a applyCtx) validateCreate(op proto.OpCode, path string, acl []proto.ACL, mode proto.CreateMode, ttl int64) ([]proto.ACL, proto.Code) {
	if !mode.Valid() {
		return nil, proto.ErrBadArguments
	}
	if mode.IsTTL() && a.t.flags&txnExtendedTypes == 0 {
		return nil, proto.ErrUnimplemented
	}
	if mode.IsTTL() {
		if ttl <= 0 || ttl > maxTTL {
			return nil, proto.ErrBadArguments
		}
	} else if op == proto.OpCreateTTL && ttl >= 0 {
		return nil, proto.ErrBadArguments
	}
	if strings.LastIndexByte(path, '/') < 0 || strings.IndexByte(path, 0) >= 0 {
		return nil, proto.ErrBadArguments
	}
	fixed, err := fixupACL(acl, a.t.auth)
	if err != nil {
		return nil, proto.AsCode(err)
	}
	return fixed, proto.OK
}

// create applies a single create request. As in Apache ZooKeeper 3.8, the
// op code decides the kind of node for the container and TTL kinds, and the
// flags are only validated: create and create2 with the container flag make
// a plain persistent node (their CreateTxn carries only the ephemeral bit),
// and createContainer makes a container whatever valid flags it carries.
func (a applyCtx) create(op proto.OpCode, path string, data []byte, acl []proto.ACL, flags proto.CreateMode, ttl int64) (proto.Record, proto.Code) {
	if op != proto.OpCreateTTL {
		ttl = -1
	}
	fixed, code := a.validateCreate(op, path, acl, flags, ttl)
	if code != proto.OK {
		return nil, code
	}
	mode := flags
	switch {
	case op == proto.OpCreateContainer:
		mode = proto.ModeContainer
	case flags.IsContainer():
		mode = proto.ModePersistent
	}
	var owner int64
	if mode.IsEphemeral() {
		owner = a.t.sessionID
	}
	created, stat, err := a.db.tree.Create(tree.CreateOp{
		Path: path, Data: data, ACL: fixed, Mode: mode, Owner: owner, TTL: ttl,
	}, a.db.zxid, a.t.time, a.authorize)
	if err != nil {
		return nil, proto.AsCode(err)
	}
	a.fireCreate(created, fixed)
	if op == proto.OpCreate {
		return &proto.CreateResponse{Path: created}, proto.OK
	}
	return &proto.Create2Response{Path: created, Stat: stat}, proto.OK
}

// multiCreate turns a create of a multi into the tree op Apache ZooKeeper
// 3.8 applies. MultiOperationRecord rebuilds every create with Op.create,
// which takes the kind from the flags and ignores the op code: the container
// flag makes a container (answered with a Stat, as create2), the TTL modes
// of a createTTL a TTL node (likewise), and every other mode a plain create
// answered without a Stat, whether the code was create, create2,
// createContainer or createTTL (whose TTL is then dropped). Flags that are
// no create mode fail with BadArguments. A create, create2 or
// createContainer with a TTL mode is rebuilt as a TTL op without a TTL
// record, which Apache fails on with an unchecked exception: the whole multi
// is answered with MarshallingError (marked here with Err; see multi).
func (a applyCtx) multiCreate(code proto.OpCode, req proto.Record) tree.Op {
	var (
		c     tree.CreateOp
		isTTL bool
	)
	switch r := req.(type) {
	case *proto.CreateRequest:
		c = tree.CreateOp{Path: r.Path, Data: r.Data, ACL: r.ACL, Mode: r.Flags, TTL: -1}
	case *proto.CreateTTLRequest:
		c = tree.CreateOp{Path: r.Path, Data: r.Data, ACL: r.ACL, Mode: r.Flags, TTL: -1}
		isTTL = true
		if r.Flags.Valid() && r.Flags.IsTTL() {
			c.TTL = r.TTL
		}
	}
	typ := proto.OpCreate
	switch {
	case !c.Mode.Valid():
	case c.Mode.IsTTL() && !isTTL:
		return tree.Op{Type: code, Err: proto.ErrMarshallingError}
	case c.Mode.IsTTL():
		typ = proto.OpCreateTTL
	case c.Mode.IsContainer():
		typ = proto.OpCreateContainer
	}
	fixed, err := a.validateCreate(typ, c.Path, c.ACL, c.Mode, c.TTL)
	c.ACL = fixed
	if c.Mode.IsEphemeral() {
		c.Owner = a.t.sessionID
	}
	return tree.Op{Type: typ, Err: err, Create: c}
}

func (a applyCtx) fireCreate(path string, acl []proto.ACL) {
	a.res.fire(proto.EventNodeCreated, path, acl)
	parent := parentPath(path)
	if pn, ok := a.db.tree.Get(parent); ok {
		a.res.fire(proto.EventNodeChildrenChanged, parent, pn.ACL())
	}
}

func (a applyCtx) delete(path string, version int32) proto.Code {
	node, _ := a.db.tree.Get(path)
	if err := a.db.tree.Delete(path, version, a.db.zxid, a.authorize); err != nil {
		return proto.AsCode(err)
	}
	a.db.fireDeleteLocked(path, node.ACL(), a.res)
	return proto.OK
}

func (a applyCtx) setData(path string, data []byte, version int32) (proto.Record, proto.Code) {
	stat, err := a.db.tree.SetData(path, data, version, a.db.zxid, a.t.time, a.authorize)
	if err != nil {
		return nil, proto.AsCode(err)
	}
	node, _ := a.db.tree.Get(path)
	a.res.fire(proto.EventNodeDataChanged, path, node.ACL())
	return &proto.SetDataResponse{Stat: stat}, proto.OK
}

func (a applyCtx) setACL(path string, acl []proto.ACL, version int32) (proto.Record, proto.Code) {
	if err := tree.ValidatePath(path); err != nil {
		return nil, proto.ErrBadArguments
	}
	fixed, err := fixupACL(acl, a.t.auth)
	if err != nil {
		return nil, proto.AsCode(err)
	}
	stat, err := a.db.tree.SetACL(path, fixed, version, a.db.zxid, a.authorize)
	if err != nil {
		return nil, proto.AsCode(err)
	}
	return &proto.SetACLResponse{Stat: stat}, proto.OK
}

func (a applyCtx) check(path string, version int32) (proto.Record, proto.Code) {
	if err := a.db.tree.Check(path, version, a.authorize); err != nil {
		return nil, proto.AsCode(err)
	}
	node, _ := a.db.tree.Get(path)
	return &proto.SetDataResponse{Stat: node.Stat()}, proto.OK
}

// multi applies the ops atomically. Per-op validation that Apache does
// outside the tree (create modes, TTLs, ACL fix-up) happens first, in op
// order; the tree then applies all or nothing.
func (a applyCtx) multi(m *proto.MultiRequest) (proto.Record, proto.Code) {
	ops := make([]tree.Op, 0, len(m.Ops))
	failed := false
	// A check that fails here is recorded on the op (tree.Op.Err) instead of
	// returned at once: an earlier op may fail first in the tree, and Apache
	// ZooKeeper reports whichever comes first in op order.
	for _, op := range m.Ops {
		if failed {
			ops = append(ops, tree.Op{Type: op.Type, Err: proto.ErrRuntimeInconsistency})
			continue
		}
		var top tree.Op
		switch r := op.Req.(type) {
		case *proto.CreateRequest, *proto.CreateTTLRequest:
			top = a.multiCreate(op.Type, r)
		case *proto.DeleteRequest:
			top = tree.Op{Type: op.Type, Path: r.Path, Version: r.Version}
		case *proto.SetDataRequest:
			top = tree.Op{Type: op.Type, Path: r.Path, Data: r.Data, Version: r.Version}
		case *proto.CheckVersionRequest:
			top = tree.Op{Type: op.Type, Path: r.Path, Version: r.Version}
		default:
			top = tree.Op{Type: op.Type, Err: proto.ErrBadArguments}
		}
		failed = top.Err != proto.OK
		ops = append(ops, top)
	}
	// Each event is filtered by the ACL its node had when its op ran, as
	// Apache ZooKeeper applies a multi's ops one at a time. A node the multi
	// creates and deletes, or deletes along with its parent, is in neither
	// the tree before the multi nor the tree after it, so acl tracks them:
	// first the ACLs before the multi of the paths the ops name, then each
	// op's effect as the events are fired.
	acl := make(map[string][]proto.ACL)
	note := func(p string) {
		if _, ok := acl[p]; !ok {
			if n, ok := a.db.tree.Get(p); ok {
				acl[p] = n.ACL()
			}
		}
	}
	for _, op := range ops {
		switch op.Type {
		case proto.OpCreate, proto.OpCreateContainer, proto.OpCreateTTL:
			note(parentPath(op.Create.Path))
		case proto.OpDelete:
			note(op.Path)
			note(parentPath(op.Path))
		case proto.OpSetData:
			note(op.Path)
		}
	}
	results, err := a.db.tree.Multi(ops, a.db.zxid, a.t.time, a.authorize)
	resp := &proto.MultiResponse{Results: make([]proto.MultiResult, len(results))}
	if errors.Is(err, proto.ErrMarshallingError) {
		return nil, proto.ErrMarshallingError
	}
	if err != nil {
		for i, r := range results {
			resp.Results[i] = proto.MultiResult{Type: proto.OpError, Err: r.Err}
		}
		// Apache ZooKeeper 3.8 answers a failed multi with err 0 in the
		// reply header; the failure is in the per-op results.
		return resp, proto.OK
	}
	for i, r := range results {
		op := ops[i]
		switch op.Type {
		case proto.OpCreate, proto.OpCreateContainer, proto.OpCreateTTL:
			if op.Type == proto.OpCreate {
				resp.Results[i] = proto.MultiResult{Type: proto.OpCreate, Resp: &proto.CreateResponse{Path: r.Path}}
			} else {
				// OpResult.CreateResult with a Stat has type create2.
				resp.Results[i] = proto.MultiResult{Type: proto.OpCreate2, Resp: &proto.Create2Response{Path: r.Path, Stat: r.Stat}}
			}
			acl[r.Path] = op.Create.ACL
			a.res.fire(proto.EventNodeCreated, r.Path, acl[r.Path])
			parent := parentPath(r.Path)
			a.res.fire(proto.EventNodeChildrenChanged, parent, acl[parent])
		case proto.OpDelete:
			resp.Results[i] = proto.MultiResult{Type: op.Type}
			a.res.fire(proto.EventNodeDeleted, op.Path, acl[op.Path])
			delete(acl, op.Path)
			parent := parentPath(op.Path)
			a.res.fire(proto.EventNodeChildrenChanged, parent, acl[parent])
		case proto.OpSetData:
			resp.Results[i] = proto.MultiResult{Type: op.Type, Resp: &proto.SetDataResponse{Stat: r.Stat}}
			a.res.fire(proto.EventNodeDataChanged, op.Path, acl[op.Path])
		case proto.OpCheck:
			resp.Results[i] = proto.MultiResult{Type: op.Type}
		}
	}
	return resp, proto.OK
}
