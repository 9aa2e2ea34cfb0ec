package main

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// runPhase runs a workload on every session at once, mk(i) giving session
// i's, and returns when all have finished. The first failure stops the others.
func runPhase(ctx context.Context, ss []*session, window int, mk func(i int) workload) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.run(ctx, mk(i), window); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// seqWork hands out n indexed requests to whichever session asks first, so
// that a fast session takes more of them. It is shared by all sessions.
type seqWork struct {
	n   int64
	ctr atomic.Int64
	// build appends the request for item i; ok false skips the item.
	build func(dst []byte, hdr proto.RequestHeader, i int64) (frame []byte, op proto.OpCode, ok bool)
	// done handles item i's reply; body is only valid during the call.
	done func(i int64, code proto.Code, body []byte) error
}

func (w *seqWork) next(dst []byte, xid int32) ([]byte, proto.OpCode, int64, bool) {
	for {
		i := w.ctr.Add(1) - 1
		if i >= w.n {
			return dst, 0, 0, false
		}
		if frame, op, ok := w.build(dst, proto.RequestHeader{Xid: xid}, i); ok {
			return frame, op, i, true
		}
	}
}

func (w *seqWork) reply(p *pending, code proto.Code, body []byte, _ time.Time) error {
	return w.done(p.tag, code, body)
}

// runSeq runs n indexed requests across the sessions.
func runSeq(ctx context.Context, ss []*session, window int, n int,
	build func(dst []byte, hdr proto.RequestHeader, i int64) ([]byte, proto.OpCode, bool),
	done func(i int64, code proto.Code, body []byte) error) error {
	if n == 0 {
		return nil
	}
	w := &seqWork{n: int64(n), build: build, done: done}
	return runPhase(ctx, ss, window, func(int) workload { return w })
}

// codeCounts counts error replies by code; safe for concurrent use.
type codeCounts struct {
	mu sync.Mutex
	m  map[proto.Code]int64 // guarded by mu
}

func (c *codeCounts) add(code proto.Code, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[proto.Code]int64)
	}
	c.m[code] += n
}

func (c *codeCounts) snapshot() map[proto.Code]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

// call sends one request on s and waits for its reply; the body returned is
// a copy.
func call(ctx context.Context, s *session, op proto.OpCode, req proto.Record) (proto.Code, []byte, error) {
	var code proto.Code
	var body []byte
	err := runSeq(ctx, []*session{s}, 1, 1,
		func(dst []byte, hdr proto.RequestHeader, _ int64) ([]byte, proto.OpCode, bool) {
			hdr.Type = op
			return proto.AppendRequest(dst, hdr, req), op, true
		},
		func(_ int64, c proto.Code, b []byte) error {
			code, body = c, append([]byte(nil), b...)
			return nil
		})
	return code, body, err
}

// createEach creates the given paths (parents before children, one session
// at a time, in order) with empty data and returns whether each was created
// by us, false meaning it existed already.
func createEach(ctx context.Context, s *session, paths []string) ([]bool, error) {
	created := make([]bool, len(paths))
	for i, p := range paths {
		code, _, err := call(ctx, s, proto.OpCreate, &proto.CreateRequest{Path: p, ACL: proto.OpenACLUnsafe})
		if err != nil {
			return created, err
		}
		switch code {
		case proto.OK:
			created[i] = true
		case proto.ErrNodeExists:
		default:
			return created, fmt.Errorf("zkbench: create %s: %w", p, code)
		}
	}
	return created, nil
}

// deleteAll deletes paths, pipelined across the sessions. Missing znodes
// are skipped; it reports how many it deleted, which ones were not empty
// (when notEmpty is non-nil it gets one flag per path), and every other
// error code in errs.
func deleteAll(ctx context.Context, ss []*session, window int, paths []string, notEmpty []atomic.Bool, errs *codeCounts) (int64, error) {
	var deleted atomic.Int64
	err := runSeq(ctx, ss, window, len(paths),
		func(dst []byte, hdr proto.RequestHeader, i int64) ([]byte, proto.OpCode, bool) {
			hdr.Type = proto.OpDelete
			return proto.AppendRequest(dst, hdr, &proto.DeleteRequest{Path: paths[i], Version: -1}), proto.OpDelete, true
		},
		func(i int64, code proto.Code, _ []byte) error {
			switch {
			case code == proto.OK:
				deleted.Add(1)
			case code == proto.ErrNoNode:
			case code == proto.ErrNotEmpty && notEmpty != nil:
				notEmpty[i].Store(true)
			default:
				errs.add(code, 1)
			}
			return nil
		})
	return deleted.Load(), err
}

// listChildren returns the full paths of the children of parents, listed
// pipelined across the sessions; missing parents have none.
func listChildren(ctx context.Context, ss []*session, window int, parents []string, errs *codeCounts) ([]string, error) {
	kids := make([][]string, len(parents))
	err := runSeq(ctx, ss, window, len(parents),
		func(dst []byte, hdr proto.RequestHeader, i int64) ([]byte, proto.OpCode, bool) {
			hdr.Type = proto.OpGetChildren
			return proto.AppendRequest(dst, hdr, &proto.GetChildrenRequest{Path: parents[i]}), proto.OpGetChildren, true
		},
		func(i int64, code proto.Code, body []byte) error {
			switch code {
			case proto.OK:
				var resp proto.GetChildrenResponse
				d := proto.NewDecoder(body)
				d.MaxBuffer = maxFrame
				if err := resp.Decode(d); err != nil {
					return fmt.Errorf("zkbench: getChildren %s: %w", parents[i], err)
				}
				paths := make([]string, len(resp.Children))
				for j, c := range resp.Children {
					paths[j] = parents[i] + "/" + c
				}
				kids[i] = paths
			case proto.ErrNoNode:
			default:
				errs.add(code, 1)
			}
			return nil
		})
	var all []string
	for _, k := range kids {
		all = append(all, k...)
	}
	return all, err
}

// purgeBelow deletes every descendant of parents. It tries to delete each
// child first and lists only those that turn out not to be empty, so that a
// tree of leaves costs one delete per znode and no listing of the leaves.
func purgeBelow(ctx context.Context, ss []*session, window int, parents []string, errs *codeCounts) (int64, error) {
	kids, err := listChildren(ctx, ss, window, parents, errs)
	if err != nil || len(kids) == 0 {
		return 0, err
	}
	notEmpty := make([]atomic.Bool, len(kids))
	deleted, err := deleteAll(ctx, ss, window, kids, notEmpty, errs)
	if err != nil {
		return deleted, err
	}
	var inner []string
	for i := range kids {
		if notEmpty[i].Load() {
			inner = append(inner, kids[i])
		}
	}
	if len(inner) == 0 {
		return deleted, nil
	}
	n, err := purgeBelow(ctx, ss, window, inner, errs)
	deleted += n
	if err != nil {
		return deleted, err
	}
	n, err = deleteAll(ctx, ss, window, inner, nil, errs)
	return deleted + n, err
}
