package server

import (
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
	if mode.IsTTL() && !a.db.srv.opts.extendedTypes {
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

func (a applyCtx) create(op proto.OpCode, path string, data []byte, acl []proto.ACL, mode proto.CreateMode, ttl int64) (proto.Record, proto.Code) {
	if op == proto.OpCreateContainer {
		mode = proto.ModeContainer
	}
	if op != proto.OpCreateTTL {
		ttl = -1
	}
	fixed, code := a.validateCreate(op, path, acl, mode, ttl)
	if code != proto.OK {
		return nil, code
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
		case *proto.CreateRequest:
			mode := r.Flags
			if op.Type == proto.OpCreateContainer {
				mode = proto.ModeContainer
			}
			fixed, code := a.validateCreate(op.Type, r.Path, r.ACL, mode, -1)
			var owner int64
			if mode.IsEphemeral() {
				owner = a.t.sessionID
			}
			top = tree.Op{Type: op.Type, Err: code, Create: tree.CreateOp{Path: r.Path, Data: r.Data, ACL: fixed, Mode: mode, Owner: owner, TTL: -1}}
		case *proto.CreateTTLRequest:
			fixed, code := a.validateCreate(op.Type, r.Path, r.ACL, r.Flags, r.TTL)
			top = tree.Op{Type: op.Type, Err: code, Create: tree.CreateOp{Path: r.Path, Data: r.Data, ACL: fixed, Mode: r.Flags, TTL: r.TTL}}
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
	// ACLs of nodes that a delete removes are needed for the watch filter,
	// and the nodes are gone afterwards.
	deleted := make(map[int][]proto.ACL)
	for i, op := range ops {
		if op.Type == proto.OpDelete {
			if n, ok := a.db.tree.Get(op.Path); ok {
				deleted[i] = n.ACL()
			}
		}
	}
	results, err := a.db.tree.Multi(ops, a.db.zxid, a.t.time, a.authorize)
	resp := &proto.MultiResponse{Results: make([]proto.MultiResult, len(results))}
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
		case proto.OpCreate:
			resp.Results[i] = proto.MultiResult{Type: op.Type, Resp: &proto.CreateResponse{Path: r.Path}}
			a.fireCreateInMulti(r.Path)
		case proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
			resp.Results[i] = proto.MultiResult{Type: op.Type, Resp: &proto.Create2Response{Path: r.Path, Stat: r.Stat}}
			a.fireCreateInMulti(r.Path)
		case proto.OpDelete:
			resp.Results[i] = proto.MultiResult{Type: op.Type}
			a.db.fireDeleteLocked(op.Path, deleted[i], a.res)
		case proto.OpSetData:
			resp.Results[i] = proto.MultiResult{Type: op.Type, Resp: &proto.SetDataResponse{Stat: r.Stat}}
			node, _ := a.db.tree.Get(op.Path)
			var acl []proto.ACL
			if node != nil {
				acl = node.ACL()
			}
			a.res.fire(proto.EventNodeDataChanged, op.Path, acl)
		case proto.OpCheck:
			resp.Results[i] = proto.MultiResult{Type: op.Type}
		}
	}
	return resp, proto.OK
}

func (a applyCtx) fireCreateInMulti(path string) {
	var acl []proto.ACL
	if n, ok := a.db.tree.Get(path); ok {
		acl = n.ACL()
	}
	a.fireCreate(path, acl)
}
