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

// BenchmarkEnsembleCreate measures one client's creates, one at a time
// (latency) and pipelined (throughput), through the leader and through a
// follower of an in-process 3-server ensemble.
func BenchmarkEnsembleCreate(b *testing.B) {
	e := zktest.StartEnsemble(b, 3)
	leader := e.Leader()
	for _, role := range []struct {
		name string
		i    int
	}{{"leader", leader}, {"follower", (leader + 1) % 3}} {
		ctx := context.Background()
		c, err := client.Connect(ctx, e.Server(role.i).Addr())
		if err != nil {
			b.Fatal(err)
		}
		data := make([]byte, 100)
		var n atomic.Int64
		b.Run(role.name+"/serial", func(b *testing.B) {
			for range b.N {
				if _, err := c.Create(ctx, fmt.Sprintf("/%s-s%d", role.name, n.Add(1)), data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(role.name+"/pipelined", func(b *testing.B) {
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Create(ctx, fmt.Sprintf("/%s-p%d", role.name, n.Add(1)), data); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		c.Close()
	}
}
