package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/zktest"
)

var line = regexp.MustCompile(`^(\S+) (leader|released) ([0-9]+)$`)

// interval is one participant's printed leadership.
type interval struct {
	id         string
	start, end int64
}

// parseIntervals reads the output of one or more runs.
func parseIntervals(t *testing.T, out string) []interval {
	t.Helper()
	open := make(map[string]int64)
	var ivs []interval
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("bad output line %q", l)
		}
		ns, _ := strconv.ParseInt(m[3], 10, 64)
		if m[2] == "leader" {
			open[m[1]] = ns
			continue
		}
		start, ok := open[m[1]]
		if !ok {
			t.Fatalf("%s released without leading", m[1])
		}
		ivs = append(ivs, interval{m[1], start, ns})
		delete(open, m[1])
	}
	return ivs
}

// checkDisjoint fails if two leaderships overlap.
func checkDisjoint(t *testing.T, ivs []interval) {
	t.Helper()
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].start < ivs[j].start })
	for i := 1; i < len(ivs); i++ {
		if ivs[i].start < ivs[i-1].end {
			t.Fatalf("%s led from %d while %s led until %d", ivs[i].id, ivs[i].start, ivs[i-1].id, ivs[i-1].end)
		}
	}
}

// TestLeaderTakesTurns runs three participants at once: each leads once,
// and no two leaderships overlap.
func TestLeaderTakesTurns(t *testing.T) {
	srv := zktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all bytes.Buffer
	)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			err := run(ctx, []string{"-server", srv.Addr(), "-path", "/election", "-id", fmt.Sprintf("go-%d", i), "-hold", "100ms"}, &out)
			if err != nil {
				t.Errorf("participant %d: %v", i, err)
			}
			mu.Lock()
			all.Write(out.Bytes())
			mu.Unlock()
		}()
	}
	wg.Wait()
	ivs := parseIntervals(t, all.String())
	if len(ivs) != 3 {
		t.Fatalf("%d leaderships, want 3:\n%s", len(ivs), all.String())
	}
	checkDisjoint(t, ivs)
}
