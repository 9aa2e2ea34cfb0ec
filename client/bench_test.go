package client_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

// BenchmarkGetPipelined measures reads from many goroutines sharing one
// connection.
func BenchmarkGetPipelined(b *testing.B) {
	c := connect(b)
	p := base(b, c)
	ctx := context.Background()
	if _, err := c.Create(ctx, p+"/x", make([]byte, 100)); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.Get(ctx, p+"/x"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetSerial is the one-request-at-a-time baseline for
// BenchmarkGetPipelined.
func BenchmarkGetSerial(b *testing.B) {
	c := connect(b)
	p := base(b, c)
	ctx := context.Background()
	if _, err := c.Create(ctx, p+"/x", make([]byte, 100)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := c.Get(ctx, p+"/x"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreatePipelined measures writes from many goroutines sharing one
// connection.
func BenchmarkCreatePipelined(b *testing.B) {
	c := connect(b)
	p := base(b, c)
	ctx := context.Background()
	// Buckets of at most 4096 children keep the cleanup's child listings
	// far below the 1 MB packet limit however large b.N grows.
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			parent := fmt.Sprintf("%s/b%d/n-", p, n.Add(1)/4096)
			if _, err := c.Create(ctx, parent, make([]byte, 100), client.WithMode(client.PersistentSequential), client.WithParents()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestCloseStopsGoroutines checks that Close leaves none of the Conn's
// goroutines behind, whatever watches and background work it had. A
// persistent watch active at Close keeps its pump until its stream is read
// to the end or discarded by Remove; one removed before Close is discarded
// by Close.
func TestCloseStopsGoroutines(t *testing.T) {
	addr := client.ServerForTest(t)
	px := newProxy(t, addr)
	setup := connect(t)
	b := base(t, setup)
	setup.Close()
	ctx := ctxFor(t)
	for i := range 3 {
		c := connectTo(t, px.addr(), client.WithRetryPolicy(client.NoRetry()), client.WithConnectTimeout(200*time.Millisecond))
		w, err := c.AddWatch(ctx, b, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := c.GetW(ctx, b); err != nil {
			t.Fatal(err)
		}
		c.AddListener(func(client.State) {})
		px.cut(true)
		waitFor(t, "Suspended", func() bool { return c.State() == client.Suspended })
		c.DeleteGuaranteed(ctx, b+"/none", -1) // leaves background work
		px.resume()
		if clientGoroutines() == "" {
			t.Fatal("no client goroutine seen while a Conn is open: the check below would prove nothing")
		}
		if i == 2 {
			if err := w.Remove(ctx); err != nil { // leaves its removal event unread
				t.Fatal(err)
			}
		}
		c.Close()
		switch i {
		case 0:
			for range w.C() {
			}
		case 1:
			w.Remove(ctx)
		}
	}
	waitFor(t, "client goroutines to end", func() bool { return clientGoroutines() == "" })
}

// clientGoroutines returns the stacks of goroutines running code of package
// client (not its tests).
func clientGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "zkgo/client.(*") && !strings.Contains(g, "client_test.") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return fmt.Sprint(strings.Join(out, "\n\n"))
}
