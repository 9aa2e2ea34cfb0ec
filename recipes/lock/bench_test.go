package lock_test

import (
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
