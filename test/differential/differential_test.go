package differential

import (
	"context"
	"flag"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

var (
	flagSeed        = flag.Int64("diff.seed", 20261121, "seed of the differential op sequence")
	flagOps         = flag.Int("diff.ops", 10000, "number of ops in the differential sequence")
	flagSessions    = flag.Int("diff.sessions", 4, "logical sessions per side (at least 6 in the ensemble test)")
	flagEnsembleOps = flag.Int("diff.ensemble.ops", 3000, "number of ops in the ensemble differential sequence")
	flagVerbose     = flag.Bool("diff.verbose", false, "log every op with both normalised outcomes")
	flagKeep        = flag.Duration("diff.keepalive", 2*time.Second, "ping sessions quiet for this long (outside the compared sequence)")
)

// TestDifferential sends one seeded random op sequence to Apache ZooKeeper
// (A) and to zkgo (B; a second Apache ZooKeeper with ZKGO_DIFF_B=apache) and
// requires every normalised outcome to match.
func TestDifferential(t *testing.T) {
	runDifferential(t, 1, *flagOps, *flagSessions)
}

// TestDifferentialEnsemble is TestDifferential between two 3-server
// ensembles, the sessions spread over the servers: session i starts on
// server i%3, moves to the next server on each reconnect, and syncs before
// each op (see side.catchUp), so that the outcomes do not depend on
// replication timing; writes go through the leader from every server.
func TestDifferentialEnsemble(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two 3-server ensembles")
	}
	runDifferential(t, 3, *flagEnsembleOps, max(*flagSessions, 6))
}

func runDifferential(t *testing.T, nodes, ops, sessions int) {
	requireJava(t)
	budget := 3*time.Minute + time.Duration(ops)*20*time.Millisecond*time.Duration(nodes)
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	if dl, ok := t.Deadline(); ok {
		var c2 context.CancelFunc
		ctx, c2 = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		defer c2()
	}

	start := time.Now()
	startA, startB := startApache, startZkgo
	if nodes > 1 {
		startA = func(ctx context.Context, t *testing.T, name string) *server {
			return startApacheEnsemble(ctx, t, name, nodes)
		}
		startB = func(ctx context.Context, t *testing.T, name string) *server {
			return startZkgoEnsemble(ctx, t, name, nodes)
		}
	}
	srvA := startA(ctx, t, "A=apache")
	var srvB *server
	switch b := os.Getenv("ZKGO_DIFF_B"); b {
	case "apache":
		srvB = startA(ctx, t, "B=apache")
	case "", "zkgo":
		srvB = startB(ctx, t, "B=zkgo")
	default:
		t.Fatalf("ZKGO_DIFF_B=%q: want zkgo (default) or apache", b)
	}
	t.Logf("servers up in %v: %s on %v, %s on %v", time.Since(start).Round(time.Millisecond), srvA.name, srvA.addrs, srvB.name, srvB.addrs)

	sa, err := newSide(ctx, srvA.name, srvA.addrs, sessions, *flagKeep)
	if err != nil {
		t.Fatal(err)
	}
	defer sa.close()
	sb, err := newSide(ctx, srvB.name, srvB.addrs, sessions, *flagKeep)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.close()

	rn := &runner{
		t: t, seed: *flagSeed, a: sa, b: sb,
		gen:      newGenerator(*flagSeed, sessions),
		tracked:  make(map[string]reapKind),
		coverage: map[string]map[string]int{"(events)": {}, "(unreaped)": {}, "(removed by the server)": {}},
		dumpN:    1000,
		verbose:  *flagVerbose,
	}
	if !slices.Equal(sa.hello, sb.hello) {
		rn.fail(op{index: -1}, "handshakes differ", sa.hello, sb.hello)
	}
	rn.compareDumps(op{index: -1})
	runStart := time.Now()
	for i := 0; i < ops; i++ {
		if ctx.Err() != nil {
			t.Fatalf("time budget exhausted after %d ops: %v", i, ctx.Err())
		}
		rn.step(rn.gen.next())
	}
	// A final sweep collects the events still owed to each session.
	for s := 0; s < sessions; s++ {
		rn.step(op{index: rn.gen.count, sess: s, kind: kindPing})
		rn.gen.count++
	}
	rn.compareDumps(op{index: rn.gen.count})
	elapsed := time.Since(runStart)
	t.Logf("%d ops (seed %d, %d sessions, %d servers a side) agreed between %s and %s in %v (%.0f ops/s), %d removal waits (longest %v), stalled replies nudged: A %d, B %d\ncoverage (outcomes on A):\n%s",
		rn.gen.count, *flagSeed, sessions, nodes, sa.name, sb.name, elapsed.Round(time.Millisecond),
		float64(rn.gen.count)/elapsed.Seconds(), rn.settles, rn.settleMax.Round(time.Millisecond), sa.nudges, sb.nudges, rn.coverageReport())
}

// TestNormalisationDetectsDifferences checks, without servers, that the
// normalisation keeps the differences the differential test must catch and
// hides only server-specific values.
func TestNormalisationDetectsDifferences(t *testing.T) {
	mk := func(base int64, sid int64) *side {
		s := &side{name: "x", lab: newLabeler()}
		s.lab.owners[sid] = "s0.1"
		s.lab.anchor(base+1, 5)
		s.lab.anchor(base+3, 6) // a failed write spent base+2 on this server
		return s
	}
	a, b := mk(0x100, 0xA1), mk(0x7000, 0xB1)
	now := time.Now().UnixMilli()
	stat := func(base int64, cz, mz int64, owner int64, cv int32) *proto.Stat {
		return &proto.Stat{Czxid: base + cz, Mzxid: base + mz, Pzxid: base + cz, Ctime: now, Mtime: now + mz - cz,
			Cversion: cv, EphemeralOwner: owner}
	}
	reply := func(base int64, err proto.Code, st *proto.Stat, evType proto.EventType) *result {
		return &result{hasHdr: true, hdr: proto.ReplyHeader{Xid: 1, Zxid: base + 4, Err: err},
			resp:   &proto.ExistsResponse{Stat: *st},
			events: []event{{zxid: -1, ev: proto.WatcherEvent{Type: evType, State: proto.StateSyncConnected, Path: "/a"}}}}
	}
	o := op{index: 7, kind: kindRequest, code: proto.OpExists, req: &proto.ExistsRequest{Path: "/a"}}
	equal := func(ra, rb *result) bool {
		return slices.Equal(a.normalize(o, ra), b.normalize(o, rb))
	}
	same := equal(reply(0x100, proto.OK, stat(0x100, 1, 3, 0xA1, 2), proto.EventNodeCreated),
		reply(0x7000, proto.OK, stat(0x7000, 1, 3, 0xB1, 2), proto.EventNodeCreated))
	if !same {
		t.Errorf("equivalent replies with different zxids and session ids were reported as different")
	}
	cases := []struct {
		name string
		rb   *result
	}{
		{"error code", reply(0x7000, proto.ErrNoNode, stat(0x7000, 1, 3, 0xB1, 2), proto.EventNodeCreated)},
		{"czxid of another write", reply(0x7000, proto.OK, stat(0x7000, 3, 3, 0xB1, 2), proto.EventNodeCreated)},
		{"mzxid not produced by a write", reply(0x7000, proto.OK, stat(0x7000, 1, 2, 0xB1, 2), proto.EventNodeCreated)},
		{"ephemeral owner", reply(0x7000, proto.OK, stat(0x7000, 1, 3, 0, 2), proto.EventNodeCreated)},
		{"cversion", reply(0x7000, proto.OK, stat(0x7000, 1, 3, 0xB1, 3), proto.EventNodeCreated)},
		{"event type", reply(0x7000, proto.OK, stat(0x7000, 1, 3, 0xB1, 2), proto.EventNodeDataChanged)},
	}
	for _, c := range cases {
		if equal(reply(0x100, proto.OK, stat(0x100, 1, 3, 0xA1, 2), proto.EventNodeCreated), c.rb) {
			t.Errorf("%s: difference not detected", c.name)
		}
	}
	bad := &proto.Stat{Czxid: 0x101, Mzxid: 0x104, Ctime: now + 5, Mtime: now}
	a.lab.stat(bad)
	if len(a.lab.violations) == 0 {
		t.Errorf("ctime > mtime was not reported")
	}
}
