package main

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/zktest"
)

// TestCounterAdds runs the program several times at once: every run
// prints a distinct running total, and the last total is the sum.
func TestCounterAdds(t *testing.T) {
	srv := zktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const runs = 6
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		totals []int64
	)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"-server", srv.Addr(), "-path", "/counters/visits", "-add", "5"}
			if i%2 == 1 {
				args = append(args, "-lock", "/counters/visits-lock")
			}
			var out bytes.Buffer
			if err := run(ctx, args, &out); err != nil {
				t.Errorf("run %d: %v", i, err)
				return
			}
			n, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
			if err != nil {
				t.Errorf("run %d printed %q", i, out.String())
				return
			}
			mu.Lock()
			totals = append(totals, n)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.Sort(totals)
	for i, n := range totals {
		if n != int64(5*(i+1)) {
			t.Fatalf("printed totals %v, want 5, 10, ... %d", totals, 5*runs)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"-server", srv.Addr(), "-path", "/counters/visits", "-add", "-30"}, &out); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != "0" {
		t.Fatalf("after subtracting everything: %s", got)
	}
	if err := run(ctx, []string{"-server", srv.Addr()}, &out); err == nil {
		t.Fatal("no error without -path")
	}
}
