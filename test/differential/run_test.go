package differential

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// historyLen is how many earlier ops a mismatch report shows.
const historyLen = 20

// runner drives one op sequence through two sides and compares them.
type runner struct {
	t         *testing.T
	seed      int64
	a, b      *side
	gen       *generator
	tracked   map[string]reapKind
	history   []string
	coverage  map[string]map[string]int // op name -> outcome -> count
	settles   int
	settleMax time.Duration // longest wait for removals
	dumpN     int           // compare full tree dumps every dumpN ops
	verbose   bool
	failing   bool // a failure is being reported
}

// both runs f on both sides concurrently; f must only touch its side.
func both[T any](a, b *side, f func(*side) T) (T, T) {
	var rb T
	done := make(chan struct{})
	go func() {
		defer close(done)
		rb = f(b)
	}()
	ra := f(a)
	<-done
	return ra, rb
}

// opName is the coverage key of an op.
func opName(o op) string {
	switch o.kind {
	case kindAuth:
		return "addauth"
	case kindPing:
		return "ping"
	case kindReopen:
		return "closeSession+reopen"
	case kindReconnect:
		return "reconnect"
	case kindOversize:
		return "oversized " + o.code.String()
	}
	name := o.code.String()
	if cr, ok := o.req.(*proto.CreateRequest); ok {
		name += fmt.Sprintf("(flags %d)", cr.Flags)
	}
	if cr, ok := o.req.(*proto.CreateTTLRequest); ok {
		name += fmt.Sprintf("(flags %d)", cr.Flags)
	}
	return name
}

func (rn *runner) record(o op, r *result) {
	name := opName(o)
	m := rn.coverage[name]
	if m == nil {
		m = make(map[string]int)
		rn.coverage[name] = m
	}
	var outcome string
	switch {
	case r.lost:
		outcome = "connection closed"
	case !r.hasHdr:
		outcome = "done"
	case o.kind == kindRequest && o.code == proto.OpMulti && r.hdr.Err == proto.OK && r.resp != nil:
		outcome = "failed"
		if multiSucceeded(r.resp) {
			outcome = "ok"
		}
		outcome += fmt.Sprintf("(%d ops)", len(r.resp.(*proto.MultiResponse).Results))
	default:
		outcome = r.hdr.Err.Name()
	}
	m[outcome]++
	for _, evs := range [][]event{r.events, r.after} {
		for _, e := range evs {
			rn.coverage["(events)"][e.ev.Type.String()]++
		}
	}
}

// fail reports a mismatch with context and stops the test.
func (rn *runner) fail(o op, what string, la, lb []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at op %d (seed %d, rerun with -diff.seed=%d -diff.ops=%d)\nop: %v\n", what, o.index, rn.seed, rn.seed, o.index+1, o)
	fmt.Fprintf(&b, "--- A (%s):\n", rn.a.name)
	for _, l := range la {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	fmt.Fprintf(&b, "--- B (%s):\n", rn.b.name)
	for _, l := range lb {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			fmt.Fprintf(&b, "first difference, line %d:\n  A: %s\n  B: %s\n", i+1, x, y)
			break
		}
	}
	fmt.Fprintf(&b, "previous %d ops (outcome on A):\n", len(rn.history))
	for _, h := range rn.history {
		fmt.Fprintf(&b, "    %s\n", h)
	}
	if !rn.failing {
		rn.failing = true
		b.WriteString(rn.treeDiff())
	}
	rn.t.Fatal(b.String())
}

// treeDiff returns the nodes whose dump lines differ between the servers,
// as far as both can still be read.
func (rn *runner) treeDiff() string {
	type out struct {
		lines []string
		err   error
	}
	ra, rb := both(rn.a, rn.b, func(s *side) out {
		l, err := s.dump()
		return out{l, err}
	})
	if ra.err != nil || rb.err != nil {
		return fmt.Sprintf("tree dump failed: A: %v; B: %v\n", ra.err, rb.err)
	}
	var b strings.Builder
	b.WriteString("tree now, lines that differ:\n")
	for _, l := range ra.lines {
		if !slices.Contains(rb.lines, l) {
			fmt.Fprintf(&b, "  only A: %s\n", l)
		}
	}
	for _, l := range rb.lines {
		if !slices.Contains(ra.lines, l) {
			fmt.Fprintf(&b, "  only B: %s\n", l)
		}
	}
	return b.String()
}

func (rn *runner) checkViolations(o op) {
	for _, s := range []*side{rn.a, rn.b} {
		if len(s.lab.violations) > 0 {
			rn.fail(o, fmt.Sprintf("%s broke an invariant: %s", s.name, strings.Join(s.lab.violations, "; ")), nil, nil)
		}
	}
}

// step runs one op on both sides and compares the outcomes.
func (rn *runner) step(o op) {
	ra, rb := both(rn.a, rn.b, func(s *side) *result { return s.exec(o) })
	la, lb := rn.a.normalize(o, ra), rn.b.normalize(o, rb)
	if rn.verbose {
		rn.t.Logf("%v\n  A: %s\n  B: %s", o, strings.Join(la, "\n     "), strings.Join(lb, "\n     "))
	}
	switch {
	case ra.err != nil || rb.err != nil:
		rn.fail(o, "harness error", la, lb)
	case !slices.Equal(la, lb):
		rn.fail(o, "mismatch", la, lb)
	}
	rn.checkViolations(o)
	rn.record(o, ra)
	rn.history = append(rn.history, fmt.Sprintf("%v -> %s", o, ra.summary()))
	if len(rn.history) > historyLen {
		rn.history = rn.history[1:]
	}
	rn.gen.observe(o, ra)
	if rn.track(o, ra) {
		rn.settle(o)
	}
	if rn.dumpN > 0 && (o.index+1)%rn.dumpN == 0 {
		rn.compareDumps(o)
	}
}

// reapKindOf says whether a successful create leaves a node the server may
// remove by itself, following Apache ZooKeeper 3.8: a single request's kind
// comes from its op code, but inside a multi the kind comes from the flags
// alone (MultiOperationRecord rebuilds each create with Op.create).
func reapKindOf(code proto.OpCode, req proto.Record, inMulti bool) (reapKind, bool) {
	var flags proto.CreateMode
	ttl := int64(-1)
	switch q := req.(type) {
	case *proto.CreateRequest:
		flags = q.Flags
	case *proto.CreateTTLRequest:
		flags, ttl = q.Flags, q.TTL
	}
	switch {
	case inMulti && flags == proto.ModeContainer:
		return reapContainer, true
	case !inMulti && code == proto.OpCreateContainer:
		return reapContainer, true
	case code == proto.OpCreateTTL && flags.IsTTL() && ttl <= shortTTL:
		return reapTTL, true
	}
	return 0, false
}

// track updates the set of nodes the servers may remove on their own (from
// A's result, equal to B's) and reports whether the op may have made one of
// them due for removal.
func (rn *runner) track(o op, r *result) bool {
	ok := r.hasHdr && r.hdr.Err == proto.OK
	created := func(code proto.OpCode, req proto.Record, resp proto.Record, inMulti bool) {
		var path string
		switch p := resp.(type) {
		case *proto.CreateResponse:
			path = p.Path
		case *proto.Create2Response:
			path = p.Path
		default:
			return
		}
		if k, ok := reapKindOf(code, req, inMulti); ok {
			rn.tracked[path] = k
		}
	}
	switch {
	case o.kind == kindReopen:
		return len(rn.tracked) > 0
	case o.kind != kindRequest || !ok:
		return false
	}
	switch o.code {
	case proto.OpCreateContainer, proto.OpCreateTTL:
		created(o.code, o.req, r.resp, false)
	case proto.OpDelete:
		delete(rn.tracked, o.req.(*proto.DeleteRequest).Path)
	case proto.OpMulti:
		if !multiSucceeded(r.resp) {
			return false
		}
		res := r.resp.(*proto.MultiResponse)
		ops := o.req.(*proto.MultiRequest).Ops
		for i := 0; i < len(ops) && i < len(res.Results); i++ {
			switch ops[i].Type {
			case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
				created(ops[i].Type, ops[i].Req, res.Results[i].Resp, true)
			case proto.OpDelete:
				delete(rn.tracked, ops[i].Req.(*proto.DeleteRequest).Path)
			}
		}
	default:
		return false
	}
	return len(rn.tracked) > 0
}

// settle waits on both servers until every container or TTL node the last
// op made due for removal is gone, so that later ops see the same tree.
func (rn *runner) settle(o op) {
	rn.settles++
	type out struct {
		present, pending []string
		err              error
	}
	// Long enough for many reaper rounds even on a loaded machine; only a
	// server that does not remove a node pays it.
	limit := 10 * time.Second
	start := time.Now()
	ra, rb := both(rn.a, rn.b, func(s *side) out {
		p, q, err := s.settle(rn.tracked, limit)
		return out{p, q, err}
	})
	rn.settleMax = max(rn.settleMax, time.Since(start))
	if ra.err != nil || rb.err != nil {
		rn.fail(o, fmt.Sprintf("waiting for container/TTL removal: A: %v; B: %v", ra.err, rb.err), nil, nil)
	}
	slices.Sort(ra.present)
	slices.Sort(rb.present)
	if !slices.Equal(ra.present, rb.present) {
		rn.fail(o, "after waiting for container/TTL removal, the tracked nodes left differ", ra.present, rb.present)
	}
	for p := range rn.tracked {
		if !slices.Contains(ra.present, p) {
			rn.coverage["(removed by the server)"][fmt.Sprint(rn.tracked[p])]++
		}
		// Nodes neither server removes in time are not reapable after all
		// (the tracking rules guessed wrong); stop waiting for them.
		if !slices.Contains(ra.present, p) || (slices.Contains(ra.pending, p) && slices.Contains(rb.pending, p)) {
			delete(rn.tracked, p)
		}
	}
	if len(ra.pending) > 0 || len(rb.pending) > 0 {
		rn.t.Logf("op %d: not removed within %v: A %v, B %v", o.index, limit, ra.pending, rb.pending)
		rn.coverage["(unreaped)"][fmt.Sprintf("%v", ra.pending)]++
	}
}

// compareDumps compares every node of both trees.
func (rn *runner) compareDumps(o op) {
	type out struct {
		lines []string
		err   error
	}
	ra, rb := both(rn.a, rn.b, func(s *side) out {
		l, err := s.dump()
		return out{l, err}
	})
	if ra.err != nil || rb.err != nil {
		rn.fail(o, fmt.Sprintf("tree dump: A: %v; B: %v", ra.err, rb.err), nil, nil)
	}
	if !slices.Equal(ra.lines, rb.lines) {
		rn.fail(o, "tree dumps differ", ra.lines, rb.lines)
	}
	rn.checkViolations(o)
}

// coverageReport summarises which ops ran and with which outcomes on A.
func (rn *runner) coverageReport() string {
	keys := make([]string, 0, len(rn.coverage))
	for k := range rn.coverage {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		outs := make([]string, 0, len(rn.coverage[k]))
		for o, n := range rn.coverage[k] {
			outs = append(outs, fmt.Sprintf("%s=%d", o, n))
		}
		sort.Strings(outs)
		fmt.Fprintf(&b, "  %-34s %s\n", k, strings.Join(outs, " "))
	}
	return b.String()
}
