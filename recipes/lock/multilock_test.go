package lock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/lock"
)

// Every lock type is a Locker.
var (
	_ lock.Locker = (*lock.Mutex)(nil)
	_ lock.Locker = (*lock.SemaphoreMutex)(nil)
	_ lock.Locker = (*lock.MultiLock)(nil)
)

func TestMultiLockAllOrNone(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	ml := lock.NewMultiMutex(c, []string{base + "/a", base + "/b"})
	if err := ml.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a", "/b"} {
		if err := lock.NewMutex(connect(t), base+p).TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
			t.Fatalf("%s while the MultiLock holds: %v, want ErrLocked", p, err)
		}
	}
	if err := ml.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// b held elsewhere: the MultiLock must end up holding neither.
	other := lock.NewMutex(connect(t), base+"/b")
	if err := other.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ml.TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("TryLock with b taken: %v, want ErrLocked", err)
	}
	a := lock.NewMutex(connect(t), base+"/a")
	if err := a.TryLock(ctx); err != nil {
		t.Fatalf("a after the failed MultiLock: %v (not released)", err)
	}
	a.Unlock(ctx)
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := ml.Lock(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with b taken: %v, want DeadlineExceeded", err)
	}
	if err := a.TryLock(ctx); err != nil {
		t.Fatalf("a after the timed-out MultiLock: %v (not released)", err)
	}
	a.Unlock(ctx)
	other.Unlock(ctx)
	if err := ml.Unlock(ctx); !errors.Is(err, lock.ErrNotLocked) {
		t.Fatalf("Unlock of a MultiLock holding nothing: %v", err)
	}
}

// TestMultiLockMixed: a MultiLock over different lock kinds.
func TestMultiLockMixed(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	rw := lock.NewRWMutex(c, base+"/rw")
	ml := lock.NewMultiLock(lock.NewSemaphoreMutex(c, base+"/sm"), rw.ReadLock())
	if err := ml.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lock.NewRWMutex(connect(t), base+"/rw").WriteLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("writer while the MultiLock reads: %v", err)
	}
	if len(ml.Locks()) != 2 {
		t.Fatal("Locks()")
	}
	if err := ml.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
