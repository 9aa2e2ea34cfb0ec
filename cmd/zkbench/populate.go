package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// bucketSize is the number of znodes per bucket in a -populate tree: small
// enough that a listing is a small reply, large enough that buckets add 0.1%.
const bucketSize = 1000

// populatePlan is shared by the sessions of -populate: buckets are handed out
// whole, so a session creates a bucket and then its children, in order.
type populatePlan struct {
	root    string
	n       int64
	buckets int64
	value   []byte
	next    atomic.Int64 // next bucket to hand out
}

func (p *populatePlan) bucketPath(b int64) string {
	return p.root + "/b" + pad(b, 6)
}

// pad formats v in decimal with at least width digits.
func pad(v int64, width int) string {
	s := strconv.FormatInt(v, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// populateSession is one session's share of -populate.
type populateSession struct {
	plan   *populatePlan
	bucket int64 // writer only: current bucket, -1 for none
	dir    string
	j, end int64 // writer only: next child (-1: the bucket itself) and count
	req    proto.CreateRequest
	// Reader only.
	created int64
	errs    map[proto.Code]int64
}

func (s *populateSession) next(dst []byte, xid int32) ([]byte, proto.OpCode, int64, bool) {
	if s.bucket < 0 {
		b := s.plan.next.Add(1) - 1
		if b >= s.plan.buckets {
			return dst, 0, 0, false
		}
		s.bucket, s.dir, s.j = b, s.plan.bucketPath(b), -1
		s.end = min(bucketSize, s.plan.n-b*bucketSize)
	}
	tag := s.j
	if s.j < 0 {
		s.req.Path, s.req.Data = s.dir, nil
	} else {
		s.req.Path, s.req.Data = s.dir+"/n"+pad(s.j, 3), s.plan.value
	}
	if s.j++; s.j == s.end {
		s.bucket = -1
	}
	hdr := proto.RequestHeader{Xid: xid, Type: proto.OpCreate}
	return proto.AppendRequest(dst, hdr, &s.req), proto.OpCreate, tag, true
}

func (s *populateSession) reply(p *pending, code proto.Code, _ []byte, _ time.Time) error {
	switch {
	case code == proto.OK && p.tag >= 0:
		s.created++
	case code == proto.OK || code == proto.ErrNodeExists && p.tag < 0:
		// A bucket, possibly left by an earlier run.
	default:
		s.errs[code]++
	}
	return nil
}

// runPopulate creates cfg.populate znodes under cfg.root, in buckets of
// bucketSize, and leaves them there.
func runPopulate(ctx context.Context, cfg *config) (*populateResult, error) {
	ss, err := connectAll(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer closeAll(ss)
	if _, err := createEach(ctx, ss[0], ancestors(cfg.root)); err != nil {
		return nil, err
	}
	plan := &populatePlan{
		root:    cfg.root,
		n:       int64(cfg.populate),
		buckets: (int64(cfg.populate) + bucketSize - 1) / bucketSize,
		value:   bytes.Repeat([]byte{'x'}, cfg.valueSize),
	}
	sessions := make([]*populateSession, len(ss))
	for i := range sessions {
		sessions[i] = &populateSession{plan: plan, bucket: -1, errs: map[proto.Code]int64{}}
		sessions[i].req.ACL = proto.OpenACLUnsafe
	}
	start := time.Now()
	err = runPhase(ctx, ss, cfg.outstanding, func(i int) workload { return sessions[i] })
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	res := &populateResult{Mode: "populate", Root: cfg.root, Requested: cfg.populate,
		ValueSize: cfg.valueSize, ElapsedSec: elapsed.Seconds()}
	errs := map[proto.Code]int64{}
	for _, s := range sessions {
		res.Created += s.created
		for c, n := range s.errs {
			errs[c] += n
		}
	}
	res.ErrorsByCode = codeNames(errs)
	res.CreatesPerS = float64(res.Created) / elapsed.Seconds()
	return res, nil
}

// runPurge deletes cfg.root and everything below it.
func runPurge(ctx context.Context, cfg *config) (*purgeResult, error) {
	ss, err := connectAll(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer closeAll(ss)
	var errs codeCounts
	start := time.Now()
	n, err := purgeBelow(ctx, ss, cfg.outstanding, []string{cfg.root}, &errs)
	if err == nil {
		var m int64
		m, err = deleteAll(ctx, ss, cfg.outstanding, []string{cfg.root}, nil, &errs)
		n += m
	}
	if err != nil {
		return nil, err
	}
	return &purgeResult{Mode: "purge", Root: cfg.root, Deleted: n,
		ElapsedSec: time.Since(start).Seconds(), ErrorsByCode: codeNames(errs.snapshot())}, nil
}

// probeInterval is how often -connect-probe retries.
const probeInterval = 10 * time.Millisecond

// errProbeTimeout is returned when no server accepted a session in time.
var errProbeTimeout = errors.New("zkbench: no session accepted")

// runProbe dials the servers in turn every probeInterval until one accepts
// a session, and reports how long that took.
func runProbe(ctx context.Context, cfg *config) (*probeResult, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	var last error
	for attempt := 1; ; attempt++ {
		addr := cfg.servers[(attempt-1)%len(cfg.servers)]
		// A server that accepts TCP but not yet sessions may hold the
		// handshake; give it a while before trying again.
		s, err := dial(ctx, addr, 2*time.Second)
		if err == nil {
			elapsed := time.Since(start)
			s.close()
			return &probeResult{Mode: "connect-probe", Server: addr,
				ElapsedMS: float64(elapsed.Microseconds()) / 1000, Attempts: attempt}, nil
		}
		last = err
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w within %v (%d attempts): %w", errProbeTimeout, cfg.timeout, attempt, last)
		}
	}
}
