package main

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/zktest"
)

// TestBarrierMembers runs three members of one barrier: none enters before
// the third has arrived (shown on the server: while two run, the barrier
// has no ready node and neither has printed), and all leave.
func TestBarrierMembers(t *testing.T) {
	srv := zktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := client.Connect(ctx, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const path = "/barriers/batch"
	type result struct {
		out bytes.Buffer
		err error
	}
	results := make([]*result, 3)
	var wg sync.WaitGroup
	start := func(i int) {
		results[i] = &result{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := results[i]
			r.err = run(ctx, []string{"-server", srv.Addr(), "-path", path, "-members", "3",
				"-id", "m" + string(rune('0'+i)), "-work", "10ms"}, &r.out)
		}()
	}
	start(0)
	start(1)
	// Wait until both have joined (two member nodes), then prove that
	// neither passed: no ready node.
	for {
		kids, err := c.Children(ctx, path)
		if err == nil && len(kids) == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the first two members never joined")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st, err := c.Exists(ctx, path+"/ready"); err != nil || st != nil {
		t.Fatalf("ready node with two of three members: %v %v", st, err)
	}
	start(2)
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("member %d: %v", i, r.err)
		}
		id := "m" + string(rune('0'+i))
		if got, want := r.out.String(), id+" entered\n"+id+" left\n"; got != want {
			t.Errorf("member %d printed %q, want %q", i, got, want)
		}
	}
	if kids, err := c.Children(ctx, path); err != nil && !errors.Is(err, client.ErrNoNode) || len(kids) != 0 {
		t.Errorf("after all left: children %v, %v", kids, err)
	}
}
