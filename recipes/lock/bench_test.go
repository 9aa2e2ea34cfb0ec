package lock_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/lock"
)

// BenchmarkMutexLockUnlock measures uncontended acquisitions: one Lock and
// one Unlock per op.
func BenchmarkMutexLockUnlock(b *testing.B) {
	ctx := testserver.Context(b)
	m := lock.NewMutex(connect(b), suite.Base(b)+"/lock")
	for b.Loop() {
		if err := m.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMutexContended measures handovers of one lock among four
// sessions: one Lock and one Unlock, by whichever session gets the lock,
// per op.
func BenchmarkMutexContended(b *testing.B) {
	const sessions = 4
	ctx := testserver.Context(b)
	path := suite.Base(b) + "/lock"
	ms := make([]*lock.Mutex, sessions)
	for i := range ms {
		ms[i] = lock.NewMutex(connect(b), path)
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := m.Lock(ctx); err != nil {
					b.Error(err)
					return
				}
				if err := m.Unlock(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
