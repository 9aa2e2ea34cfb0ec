package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// opKind is a benchmark operation.
type opKind int

const (
	opGet opKind = iota
	opSet
	opExists
	opCreate
	opMulti
	numOpKinds
	// opKindBits is how many low bits of a pending tag hold the opKind.
	opKindBits = 4
)

func (k opKind) String() string {
	switch k {
	case opGet:
		return "get"
	case opSet:
		return "set"
	case opExists:
		return "exists"
	case opCreate:
		return "create"
	case opMulti:
		return "multi"
	}
	return "op(" + strconv.Itoa(int(k)) + ")"
}

// multiOps is how many setData ops one request of the multi workload holds.
const multiOps = 4

// benchPlan is what every session of a benchmark shares; it is read-only
// once the sessions start.
type benchPlan struct {
	workload  string
	keys      []string
	value     []byte
	t0, t1    time.Time // the measured window: replies in [t0, t1) count
	createDir string    // parent of the znodes the create workload makes
}

// benchSession is one session's benchmark workload. next and reply run on
// different goroutines and share no fields except through the FIFO of
// pending requests (the tag).
type benchSession struct {
	plan *benchPlan
	idx  int
	rng  *rand.Rand // writer only
	seq  int64      // writer only: creates sent
	// Request records reused by the writer to avoid an allocation per op.
	get    proto.GetDataRequest
	set    proto.SetDataRequest
	exists proto.ExistsRequest
	create proto.CreateRequest
	multi  proto.MultiRequest
	// Reader only.
	hist    [numOpKinds]histogram
	errs    [numOpKinds]map[proto.Code]int64
	created []int64 // sequence numbers of the znodes this session created
}

func newBenchSession(plan *benchPlan, idx int, seed uint64) *benchSession {
	b := &benchSession{plan: plan, idx: idx, rng: rand.New(rand.NewPCG(seed, uint64(idx)))}
	b.set.Data, b.set.Version = plan.value, -1
	b.create.Data, b.create.ACL = plan.value, proto.OpenACLUnsafe
	for range multiOps {
		b.multi.Ops = append(b.multi.Ops, proto.MultiOp{Type: proto.OpSetData,
			Req: &proto.SetDataRequest{Data: plan.value, Version: -1}})
	}
	for k := range b.errs {
		b.errs[k] = make(map[proto.Code]int64)
	}
	return b
}

func (b *benchSession) pick() opKind {
	switch b.plan.workload {
	case workloadCreate:
		return opCreate
	case workloadSet:
		return opSet
	case workloadExists:
		return opExists
	case workloadMulti:
		return opMulti
	case workloadMixed:
		if b.rng.IntN(10) == 0 {
			return opSet
		}
	}
	return opGet
}

func (b *benchSession) key() string { return b.plan.keys[b.rng.IntN(len(b.plan.keys))] }

func (b *benchSession) createPath(n int64) string {
	return b.plan.createDir + "/s" + strconv.Itoa(b.idx) + "-" + strconv.FormatInt(n, 10)
}

func (b *benchSession) next(dst []byte, xid int32) ([]byte, proto.OpCode, int64, bool) {
	if !time.Now().Before(b.plan.t1) {
		return dst, 0, 0, false
	}
	kind := b.pick()
	tag := int64(kind)
	hdr := proto.RequestHeader{Xid: xid}
	var req proto.Record
	switch kind {
	case opGet:
		b.get.Path = b.key()
		hdr.Type, req = proto.OpGetData, &b.get
	case opSet:
		b.set.Path = b.key()
		hdr.Type, req = proto.OpSetData, &b.set
	case opExists:
		b.exists.Path = b.key()
		hdr.Type, req = proto.OpExists, &b.exists
	case opCreate:
		b.create.Path = b.createPath(b.seq)
		tag |= b.seq << opKindBits
		b.seq++
		hdr.Type, req = proto.OpCreate, &b.create
	case opMulti:
		for _, op := range b.multi.Ops {
			op.Req.(*proto.SetDataRequest).Path = b.key()
		}
		hdr.Type, req = proto.OpMulti, &b.multi
	}
	return proto.AppendRequest(dst, hdr, req), hdr.Type, tag, true
}

func (b *benchSession) reply(p *pending, code proto.Code, body []byte, now time.Time) error {
	kind := opKind(p.tag & (1<<opKindBits - 1))
	if kind == opMulti && code == proto.OK {
		code = multiCode(body)
	}
	if kind == opCreate && code == proto.OK {
		b.created = append(b.created, p.tag>>opKindBits)
	}
	if now.Before(b.plan.t0) || !now.Before(b.plan.t1) {
		return nil
	}
	if code == proto.OK {
		b.hist[kind].record(now.Sub(p.start).Microseconds())
	} else {
		b.errs[kind][code]++
	}
	return nil
}

// multiCode returns the outcome of a multi whose reply header said OK: a
// failed multi is answered with OK in the header and the errors in the
// results (Apache ZooKeeper 3.8).
func multiCode(body []byte) proto.Code {
	var r proto.MultiResponse
	if err := proto.Decode(body, &r); err != nil {
		return proto.ErrMarshallingError
	}
	code := proto.OK
	for _, res := range r.Results {
		if res.Type != proto.OpError || res.Err == proto.OK {
			continue
		}
		// The other ops of a failed multi report RuntimeInconsistency; the
		// one that failed says why.
		if code == proto.OK || res.Err != proto.ErrRuntimeInconsistency {
			code = res.Err
		}
	}
	return code
}

// connectAll opens cfg.sessions sessions, spread over the servers.
func connectAll(ctx context.Context, cfg *config) ([]*session, error) {
	ss := make([]*session, 0, cfg.sessions)
	for i := range cfg.sessions {
		s, err := dial(ctx, cfg.servers[i%len(cfg.servers)], 10*time.Second)
		if err != nil {
			closeAll(ss)
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, nil
}

func closeAll(ss []*session) {
	for _, s := range ss {
		s.close()
	}
}

// healthy returns the sessions whose connection still works.
func healthy(ss []*session) []*session {
	var ok []*session
	for _, s := range ss {
		if !s.broken {
			ok = append(ok, s)
		}
	}
	return ok
}

// ancestors returns "/a", "/a/b", "/a/b/c" for "/a/b/c".
func ancestors(p string) []string {
	var out []string
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return append(out, p)
}

// runBench creates what the workload needs, runs it for cfg.warmup plus
// cfg.duration, and deletes what it created when cfg.cleanup is set.
func runBench(ctx context.Context, cfg *config) (*benchResult, error) {
	ss, err := connectAll(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer closeAll(ss)
	window := cfg.outstanding
	res := &benchResult{
		Mode: "bench", Workload: cfg.workload, Servers: cfg.servers, Sessions: cfg.sessions,
		Outstanding: cfg.outstanding, ValueSize: cfg.valueSize, Root: cfg.root,
		WarmupSec: cfg.warmup.Seconds(), DurationSec: cfg.duration.Seconds(),
	}
	plan := &benchPlan{workload: cfg.workload, value: bytes.Repeat([]byte{'x'}, cfg.valueSize)}

	// Setup: the root (and missing ancestors), then the keys or the
	// create workload's directory, remembering what we created.
	setup := time.Now()
	dirs := ancestors(cfg.root)
	var keyCreated []atomic.Bool
	var sessions []*benchSession
	if cfg.workload == workloadCreate {
		plan.createDir = cfg.root + "/create-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		dirs = append(dirs, plan.createDir)
	} else {
		res.Keys = cfg.keys
	}
	dirCreated, err := createEach(ctx, ss[0], dirs)
	if err == nil && plan.createDir == "" {
		plan.keys = make([]string, cfg.keys)
		for i := range plan.keys {
			plan.keys[i] = fmt.Sprintf("%s/k%07d", cfg.root, i)
		}
		keyCreated, err = createKeys(ctx, ss, window, plan)
	}
	res.SetupSec = time.Since(setup).Seconds()

	if err == nil {
		start := time.Now()
		plan.t0 = start.Add(cfg.warmup)
		plan.t1 = plan.t0.Add(cfg.duration)
		seed := uint64(start.UnixNano())
		sessions = make([]*benchSession, len(ss))
		for i := range ss {
			sessions[i] = newBenchSession(plan, i, seed)
		}
		err = runPhase(ctx, ss, window, func(i int) workload { return sessions[i] })
		if err == nil {
			res.fill(sessions, cfg.duration)
		}
	}

	if cfg.cleanup && ctx.Err() == nil {
		start := time.Now()
		cerrs, cerr := cleanup(ctx, healthy(ss), window, plan, keyCreated, sessions, dirs, dirCreated)
		res.CleanupSec = time.Since(start).Seconds()
		res.CleanupErrors = codeNames(cerrs)
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (leftovers can be removed with -purge -root %s)", err, cfg.root)
	}
	return res, nil
}

// createKeys creates plan.keys, pipelined, and reports which ones it created
// (false: the znode existed already).
func createKeys(ctx context.Context, ss []*session, window int, plan *benchPlan) ([]atomic.Bool, error) {
	created := make([]atomic.Bool, len(plan.keys))
	var errs codeCounts
	err := runSeq(ctx, ss, window, len(plan.keys),
		func(dst []byte, hdr proto.RequestHeader, i int64) ([]byte, proto.OpCode, bool) {
			hdr.Type = proto.OpCreate
			req := proto.CreateRequest{Path: plan.keys[i], Data: plan.value, ACL: proto.OpenACLUnsafe}
			return proto.AppendRequest(dst, hdr, &req), proto.OpCreate, true
		},
		func(i int64, code proto.Code, _ []byte) error {
			switch code {
			case proto.OK:
				created[i].Store(true)
			case proto.ErrNodeExists:
			default:
				errs.add(code, 1)
			}
			return nil
		})
	if err == nil && len(errs.snapshot()) > 0 {
		err = fmt.Errorf("zkbench: creating keys failed: %s", formatCodes(codeNames(errs.snapshot())))
	}
	return created, err
}

// cleanup deletes, pipelined, the keys and znodes the benchmark created,
// then the directories it created, deepest first. It returns the error codes
// met (NoNode aside), e.g. NotEmpty when someone else wrote under the root.
func cleanup(ctx context.Context, ss []*session, window int, plan *benchPlan, keyCreated []atomic.Bool,
	sessions []*benchSession, dirs []string, dirCreated []bool) (map[proto.Code]int64, error) {
	if len(ss) == 0 {
		return nil, errors.New("zkbench: cleanup: no working session left")
	}
	var errs codeCounts
	var paths []string
	for i := range keyCreated {
		if keyCreated[i].Load() {
			paths = append(paths, plan.keys[i])
		}
	}
	for _, b := range sessions {
		for _, n := range b.created {
			paths = append(paths, b.createPath(n))
		}
	}
	if _, err := deleteAll(ctx, ss, window, paths, nil, &errs); err != nil {
		return errs.snapshot(), fmt.Errorf("zkbench: cleanup: %w", err)
	}
	for i := len(dirCreated) - 1; i >= 0; i-- {
		if !dirCreated[i] {
			continue
		}
		if _, err := deleteAll(ctx, ss[:1], 1, dirs[i:i+1], nil, &errs); err != nil {
			return errs.snapshot(), fmt.Errorf("zkbench: cleanup: %w", err)
		}
	}
	return errs.snapshot(), nil
}

// codeNames turns counts by code into counts by the code's name.
func codeNames(m map[proto.Code]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for c, n := range m {
		out[c.Name()] += n
	}
	return out
}

// formatCodes renders counts by name as "NoNode=3 NotEmpty=1", sorted.
func formatCodes(m map[string]int64) string {
	var parts []string
	for name, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", name, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
