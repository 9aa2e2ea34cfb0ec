package main

import (
	"context"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

func TestRecipeWorkloads(t *testing.T) {
	for _, target := range benchTargets() {
		t.Run(target.name, func(t *testing.T) {
			addr := target.start(t)
			check := inspect(t, addr)
			// A parent that exists before the runs must survive their cleanup.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := createEach(ctx, check, []string{"/zkbench-recipes"}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name, workload, variant string
				flags                   []string
			}{
				{"lock", "lock", "contended", nil},
				{"lock-uncontended", "lock", "uncontended", []string{"-uncontended"}},
				{"leader-latch", "leader", "latch", nil},
				{"leader-selector", "leader", "selector", []string{"-leader-recipe", "selector"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					root := "/zkbench-recipes/" + tc.name
					var r recipeResult
					runJSON(t, &r, append([]string{"-server", addr, "-workload", tc.workload, "-sessions", "3",
						"-duration", "1s", "-warmup", "200ms", "-root", root}, tc.flags...)...)
					if r.Workload != tc.workload || r.Variant != tc.variant || r.Sessions != 3 || r.DurationSec != 1 {
						t.Errorf("result describes %s/%s with %d sessions over %vs", r.Workload, r.Variant, r.Sessions, r.DurationSec)
					}
					if r.Ops == 0 || r.OpsPerSec <= 0 || r.Errors != 0 || r.Overlaps != 0 {
						t.Errorf("%d ops (%v/s), %d errors %v (last %q), %d overlaps", r.Ops, r.OpsPerSec,
							r.Errors, r.ErrorsByKind, r.LastError, r.Overlaps)
					}
					lats := []latency{r.LatencyUS}
					if tc.workload == "lock" {
						if r.ReleaseUS == nil {
							t.Fatal("no release latency for the lock workload")
						}
						lats = append(lats, *r.ReleaseUS)
					} else if r.ReleaseUS != nil {
						t.Errorf("release latency %+v for the leader workload", r.ReleaseUS)
					}
					for _, l := range lats {
						if !(l.Min <= l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) || l.Max <= 0 {
							t.Errorf("latencies out of order: %+v", l)
						}
					}
					// Cleanup removed the root it created, not the existing parent.
					if kids, code := children(t, check, root); code != proto.ErrNoNode {
						t.Errorf("%s left with children %v after cleanup (code %v)", root, kids, code)
					}
					if kids, code := children(t, check, "/zkbench-recipes"); code != proto.OK || len(kids) != 0 {
						t.Errorf("/zkbench-recipes after cleanup: %v, children %v", code, kids)
					}
				})
			}
		})
	}
}

// TestRecipePlanOverlaps checks the check that the benchmark's own figures
// depend on: two holders at once, or a fencing token below one already
// seen, count as overlaps.
func TestRecipePlanOverlaps(t *testing.T) {
	var p recipePlan
	p.hold(10)
	p.unhold()
	p.hold(12)
	p.unhold()
	if n := p.overlaps.Load(); n != 0 {
		t.Fatalf("%d overlaps for holds one after the other", n)
	}
	p.hold(13)
	p.hold(14) // while 13 still holds
	p.unhold()
	p.unhold()
	if n := p.overlaps.Load(); n != 1 {
		t.Fatalf("%d overlaps after two holders at once, want 1", n)
	}
	p.hold(11) // granted after 14
	p.unhold()
	if n := p.overlaps.Load(); n != 2 {
		t.Fatalf("%d overlaps after a token out of order, want 2", n)
	}
	p.hold(0) // leaders have no token: only the holder count applies
	p.unhold()
	if n := p.overlaps.Load(); n != 2 {
		t.Fatalf("%d overlaps after a tokenless hold, want 2", n)
	}
}
