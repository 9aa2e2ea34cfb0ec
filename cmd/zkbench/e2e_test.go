package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/zktest"
)

// benchTarget is a server to benchmark: start runs one for the test and
// returns its client address.
type benchTarget struct {
	name  string
	start func(t *testing.T) string
}

// benchTargets lists the servers the end-to-end tests run against.
func benchTargets() []benchTarget {
	return []benchTarget{
		{"apache", startApache},
		{"zkgo", func(t *testing.T) string { return zktest.Start(t).Addr() }},
	}
}

// startApache runs Apache ZooKeeper 3.8 standalone on a free 127.0.0.1 port
// with a temporary data directory, and stops it when the test ends. Without
// Java or the Debian zookeeper jars the test is skipped, unless
// ZKGO_INTEROP_REQUIRED=1.
func startApache(t *testing.T) string {
	t.Helper()
	addr := apachezk.Start(t, apachezk.Options{Config: []string{"maxClientCnxns=0"}}).Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfgProbe := config{servers: []string{addr}, timeout: 30 * time.Second}
	if _, err := runProbe(ctx, &cfgProbe); err != nil {
		t.Fatalf("Apache ZooKeeper did not start: %v", err)
	}
	return addr
}

// inspect opens a session to addr for checks.
func inspect(t *testing.T, addr string) *session {
	t.Helper()
	s, err := dial(context.Background(), addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	return s
}

// children returns the sorted children of path, or nil and NoNode.
func children(t *testing.T, s *session, path string) ([]string, proto.Code) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, body, err := call(ctx, s, proto.OpGetChildren, &proto.GetChildrenRequest{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if code != proto.OK {
		return nil, code
	}
	var resp proto.GetChildrenResponse
	if err := proto.Decode(body, &resp); err != nil {
		t.Fatal(err)
	}
	slices.Sort(resp.Children)
	return resp.Children, code
}

func runJSON(t *testing.T, into any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, append(args, "-json"), &out, &errOut); code != 0 {
		t.Fatalf("zkbench %q: exit %d: %s", args, code, errOut.String())
	}
	if err := json.Unmarshal(out.Bytes(), into); err != nil {
		t.Fatalf("decode %q: %v", out.String(), err)
	}
}

func TestEndToEnd(t *testing.T) {
	for _, target := range benchTargets() {
		t.Run(target.name, func(t *testing.T) {
			addr := target.start(t)
			check := inspect(t, addr)
			// A parent that exists before the runs must survive their cleanup.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := createEach(ctx, check, []string{"/zkbench-e2e"}); err != nil {
				t.Fatal(err)
			}

			for _, w := range []string{"create", "set", "get", "exists", "mixed", "multi"} {
				t.Run(w, func(t *testing.T) {
					root := "/zkbench-e2e/" + w
					r := runBenchJSON(t, "-server", addr, "-workload", w, "-duration", "1s", "-warmup", "100ms",
						"-sessions", "4", "-outstanding", "4", "-keys", "50", "-value-size", "64", "-root", root)
					if r.Total.Ops == 0 || r.Total.Errors != 0 || len(r.CleanupErrors) > 0 {
						t.Errorf("%d ops, %d errors %v, cleanup errors %v", r.Total.Ops, r.Total.Errors,
							r.Total.ErrorsByCode, r.CleanupErrors)
					}
					l := r.Total.LatencyUS
					if !(l.Min <= l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) || l.Max <= 0 {
						t.Errorf("latencies out of order: %+v", l)
					}
					if r.Total.OpsPerSec <= 0 || r.DurationSec != 1 {
						t.Errorf("ops/s %v over %vs", r.Total.OpsPerSec, r.DurationSec)
					}
					wantOps := map[string][]string{"create": {"create"}, "set": {"set"}, "get": {"get"},
						"exists": {"exists"}, "mixed": {"get", "set"}, "multi": {"multi"}}[w]
					for _, op := range wantOps {
						if r.ByOp[op].Ops == 0 {
							t.Errorf("no %s ops in %v", op, r.ByOp)
						}
					}
					if len(r.ByOp) != len(wantOps) {
						t.Errorf("ops %v, want %v", r.ByOp, wantOps)
					}
					// Cleanup removed the root it created, not the existing parent.
					if kids, code := children(t, check, root); code != proto.ErrNoNode {
						t.Errorf("%s left with %d children after cleanup (code %v)", root, len(kids), code)
					}
					if kids, code := children(t, check, "/zkbench-e2e"); code != proto.OK || len(kids) != 0 {
						t.Errorf("/zkbench-e2e after cleanup: %v, children %v", code, kids)
					}
				})
			}

			t.Run("cleanup-keeps-foreign-znodes", func(t *testing.T) {
				root := "/zkbench-keep"
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := createEach(ctx, check, []string{root, root + "/mine", root + "/k0000001"}); err != nil {
					t.Fatal(err)
				}
				r := runBenchJSON(t, "-server", addr, "-workload", "set", "-duration", "200ms", "-warmup", "0s",
					"-sessions", "2", "-outstanding", "2", "-keys", "3", "-root", root)
				if r.Total.Ops == 0 || r.Total.Errors != 0 {
					t.Errorf("%d ops, %d errors %v", r.Total.Ops, r.Total.Errors, r.Total.ErrorsByCode)
				}
				kids, code := children(t, check, root)
				if want := []string{"k0000001", "mine"}; code != proto.OK || !slices.Equal(kids, want) {
					t.Errorf("after cleanup %s has %v (%v), want %v", root, kids, code, want)
				}
			})

			t.Run("cleanup-removes-created-ancestors", func(t *testing.T) {
				r := runBenchJSON(t, "-server", addr, "-workload", "get", "-duration", "200ms", "-warmup", "0s",
					"-sessions", "2", "-outstanding", "2", "-keys", "3", "-root", "/zkbench-new/a/b")
				if r.Total.Ops == 0 || r.Total.Errors != 0 {
					t.Errorf("%d ops, %d errors %v", r.Total.Ops, r.Total.Errors, r.Total.ErrorsByCode)
				}
				if _, code := children(t, check, "/zkbench-new"); code != proto.ErrNoNode {
					t.Errorf("/zkbench-new after cleanup: %v, want NoNode", code)
				}
			})

			t.Run("populate-purge", func(t *testing.T) {
				root := "/zkbench-pop"
				var p populateResult
				runJSON(t, &p, "-server", addr, "-populate", "2345", "-value-size", "10", "-root", root)
				if p.Created != 2345 || len(p.ErrorsByCode) > 0 || p.ElapsedSec <= 0 {
					t.Errorf("populate: %+v", p)
				}
				buckets, code := children(t, check, root)
				if want := []string{"b000000", "b000001", "b000002"}; code != proto.OK || !slices.Equal(buckets, want) {
					t.Errorf("buckets %v (%v), want %v", buckets, code, want)
				}
				if kids, code := children(t, check, root+"/b000002"); code != proto.OK || len(kids) != 345 {
					t.Errorf("last bucket has %d children (%v), want 345", len(kids), code)
				}
				var d purgeResult
				runJSON(t, &d, "-server", addr, "-purge", "-root", root)
				if d.Deleted != 2345+3+1 || len(d.ErrorsByCode) > 0 {
					t.Errorf("purge: %+v, want 2349 deleted", d)
				}
				if _, code := children(t, check, root); code != proto.ErrNoNode {
					t.Errorf("%s still there after purge: %v", root, code)
				}
			})

			t.Run("connect-probe", func(t *testing.T) {
				var p probeResult
				runJSON(t, &p, "-server", "127.0.0.1:1,"+addr, "-connect-probe", "-timeout", "10s")
				if p.Server != addr || p.Attempts != 2 || p.ElapsedMS <= 0 {
					t.Errorf("probe: %+v, want accepted by %s on attempt 2", p, addr)
				}
			})
		})
	}
}
