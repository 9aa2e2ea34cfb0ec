package server_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/zktest"
)

// The benchmarks go through the whole server path: TCP, decoding, the
// replicated log (fsync included for writes), the tree and the reply, with
// many goroutines sharing one pipelined client connection.

func benchConn(b *testing.B) *client.Conn {
	b.Helper()
	srv := zktest.Start(b)
	ctx := context.Background()
	c, err := client.Connect(ctx, srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func BenchmarkCreate(b *testing.B) {
	c := benchConn(b)
	ctx := context.Background()
	data := make([]byte, 100)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Create(ctx, fmt.Sprintf("/n%d", n.Add(1)), data); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	c := benchConn(b)
	ctx := context.Background()
	if _, err := c.Create(ctx, "/g", make([]byte, 100)); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.Get(ctx, "/g"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
