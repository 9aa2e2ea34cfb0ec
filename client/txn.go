package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/zkgo/zkgo/proto"
)

// Txn builds a multi: operations applied all together or not at all. Build
// it with Conn.Txn, add operations, then Commit. A Txn is not safe for
// concurrent use.
type Txn struct {
	c     *Conn
	ops   []proto.MultiOp
	paths []string // client paths, per op
	err   error    // first error while building
}

// Txn starts a transaction.
func (c *Conn) Txn() *Txn { return &Txn{c: c} }

func (t *Txn) add(op proto.OpCode, path string, req proto.Record, err error) *Txn {
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("op %d (%v %s): %w", len(t.ops), op, path, err)
	}
	t.ops = append(t.ops, proto.MultiOp{Type: op, Req: req})
	t.paths = append(t.paths, path)
	return t
}

// Create adds a create. WithMode, WithTTL and WithACL apply; WithParents and
// WithProtection are not allowed in a transaction.
func (t *Txn) Create(path string, data []byte, opts ...CreateOption) *Txn {
	o, err := buildCreateOptions(opts)
	if err == nil && (o.parents || o.protected) {
		err = fmt.Errorf("%w: WithParents and WithProtection cannot be used in a transaction", ErrBadArguments)
	}
	if err == nil {
		err = validatePath(path, o.mode.IsSequential())
	}
	// Plain creates use op create, as the Java client does; Apache ZooKeeper
	// 3.8 returns no Stat for them in a multi even for create2.
	op, req, _ := createRequest(joinPrefix(t.c.prefix, path), data, o, false)
	return t.add(op, path, req, err)
}

// Delete adds a delete of path at version (-1 for any).
func (t *Txn) Delete(path string, version int32) *Txn {
	err := validatePath(path, false)
	return t.add(proto.OpDelete, path, &proto.DeleteRequest{Path: joinPrefix(t.c.prefix, path), Version: version}, err)
}

// Set adds a setData of path at version (-1 for any).
func (t *Txn) Set(path string, data []byte, version int32) *Txn {
	err := validatePath(path, false)
	return t.add(proto.OpSetData, path,
		&proto.SetDataRequest{Path: joinPrefix(t.c.prefix, path), Data: data, Version: version}, err)
}

// Check adds a condition: path must exist with version (-1: just exist).
func (t *Txn) Check(path string, version int32) *Txn {
	err := validatePath(path, false)
	return t.add(proto.OpCheck, path,
		&proto.CheckVersionRequest{Path: joinPrefix(t.c.prefix, path), Version: version}, err)
}

// OpResult is the outcome of one operation of a transaction.
type OpResult struct {
	Op   proto.OpCode // the op as sent (OpCreate2, OpCreateTTL, OpDelete, ...)
	Path string       // the path given, or the created path for creates
	// Stat is set for sets and, when the server reports it, creates (Apache
	// ZooKeeper 3.8 does for container and TTL creates only).
	Stat *Stat
	// Err is nil for ops that succeeded, or, when the transaction failed, the
	// code the server gave: nil (OK) for ops before the failing one, the
	// failing op's code, ErrRuntimeInconsistency for the ops after it.
	Err error
}

// TxnError reports a failed transaction: nothing was applied, and Index is
// the operation that failed.
type TxnError struct {
	Index int
	Op    proto.OpCode
	Path  string
	Err   error // the failing op's code
}

// Error implements error.
func (e *TxnError) Error() string {
	return fmt.Sprintf("zk: multi: op %d (%v %s): %v", e.Index, e.Op, e.Path, e.Err)
}

// Unwrap returns the failing op's error.
func (e *TxnError) Unwrap() error { return e.Err }

// Commit sends the transaction. On success it returns one result per
// operation. If the server rejected it, nothing was applied: it returns
// every op's result and a *TxnError (wrapping the failing op's code, so
// errors.Is(err, ErrBadVersion) works). Other errors (connection, context)
// come with nil results; under the retry policy a Commit whose reply was lost
// is sent again, so add Check ops where a double apply would matter.
func (t *Txn) Commit(ctx context.Context) ([]OpResult, error) {
	if t.err != nil {
		return nil, opError("multi", "", t.err)
	}
	c := t.c
	replies, code, err := c.multi(ctx, "multi", proto.OpMulti, t.ops)
	if err != nil {
		return nil, err
	}
	results := make([]OpResult, len(t.ops))
	failed := -1
	for i, res := range replies {
		out := OpResult{Op: t.ops[i].Type, Path: t.paths[i]}
		switch r := res.Resp.(type) {
		case *proto.Create2Response:
			st := r.Stat
			out.Path, out.Stat = c.clientPath(r.Path), &st
		case *proto.CreateResponse:
			out.Path = c.clientPath(r.Path)
		case *proto.SetDataResponse:
			st := r.Stat
			out.Stat = &st
		}
		if res.Type == proto.OpError && res.Err != proto.OK {
			out.Err = res.Err
			if failed < 0 && res.Err != proto.ErrRuntimeInconsistency {
				failed = i
			}
		}
		results[i] = out
	}
	if failed < 0 && code != proto.OK {
		// No op names the failure: blame the first non-OK one.
		for i, r := range results {
			if r.Err != nil {
				failed = i
				break
			}
		}
	}
	if failed >= 0 {
		return results, &TxnError{Index: failed, Op: t.ops[failed].Type, Path: t.paths[failed], Err: results[failed].Err}
	}
	return results, nil
}

// multi sends a multi or multiRead request of ops under the retry policy, as
// op (see do), and returns the per-op results, one per op, and the reply's
// code: OK, or the error code of a failed transaction.
func (c *Conn) multi(ctx context.Context, op string, code proto.OpCode, ops []proto.MultiOp) ([]proto.MultiResult,
	proto.Code, error) {
	var resp proto.MultiResponse
	var rc proto.Code
	err := c.do(ctx, op, "", func(int) error {
		resp = proto.MultiResponse{}
		r := newRequest(code, &proto.MultiRequest{Ops: ops}, &resp)
		r.bodyOnError = true
		_, err := c.call(ctx, r)
		rc = proto.AsCode(err)
		var pc proto.Code
		if err != nil && errors.As(err, &pc) && len(resp.Results) > 0 {
			return nil // per-op results follow
		}
		return err
	})
	if err != nil {
		return nil, rc, err
	}
	if len(resp.Results) != len(ops) {
		return nil, rc, opError(op, "", fmt.Errorf("%w: %d results for %d ops", ErrMarshallingError,
			len(resp.Results), len(ops)))
	}
	return resp.Results, rc, nil
}

// ReadOp is one read of MultiRead: built with ReadData or ReadChildren.
type ReadOp struct {
	op   proto.OpCode
	path string
}

// ReadData reads a node's data and Stat in MultiRead.
func ReadData(path string) ReadOp { return ReadOp{op: proto.OpGetData, path: path} }

// ReadChildren reads a node's children in MultiRead.
func ReadChildren(path string) ReadOp { return ReadOp{op: proto.OpGetChildren, path: path} }

// ReadResult is the outcome of one ReadOp: Data and Stat for ReadData,
// Children for ReadChildren, or Err.
type ReadResult struct {
	Data     []byte
	Stat     *Stat
	Children []string
	Err      error
}

// MultiRead performs several reads in one round trip (Apache ZooKeeper
// 3.6+). Unlike Commit it is not atomic: each read succeeds or fails on its
// own, reported in its ReadResult.
func (c *Conn) MultiRead(ctx context.Context, ops ...ReadOp) ([]ReadResult, error) {
	reads := make([]proto.MultiOp, len(ops))
	for i, op := range ops {
		if err := validatePath(op.path, false); err != nil {
			return nil, opError("multiRead", op.path, err)
		}
		sp := joinPrefix(c.prefix, op.path)
		var body proto.Record = &proto.GetDataRequest{Path: sp}
		if op.op == proto.OpGetChildren {
			body = &proto.GetChildrenRequest{Path: sp}
		}
		reads[i] = proto.MultiOp{Type: op.op, Req: body}
	}
	results, _, err := c.multi(ctx, "multiRead", proto.OpMultiRead, reads)
	if err != nil {
		return nil, err
	}
	out := make([]ReadResult, len(ops))
	for i, res := range results {
		switch r := res.Resp.(type) {
		case *proto.GetDataResponse:
			st := r.Stat
			out[i].Data, out[i].Stat = r.Data, &st
		case *proto.GetChildrenResponse:
			out[i].Children = r.Children
		}
		if res.Type == proto.OpError && res.Err != proto.OK {
			out[i].Err = opError(ops[i].op.String(), ops[i].path, res.Err)
		}
	}
	return out, nil
}
