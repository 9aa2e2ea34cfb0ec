package lock_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/recipes/internal/testserver"
	"github.com/zkgo/zkgo/recipes/lock"
)

var (
	curatorReadNode  = regexp.MustCompile(`^_c_[0-9a-f-]{36}-__READ__[0-9]{10}$`)
	curatorWriteNode = regexp.MustCompile(`^_c_[0-9a-f-]{36}-__WRIT__[0-9]{10}$`)
)

func TestRWMutexLayout(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/rw"
	c := connect(t)
	rw := lock.NewRWMutex(c, path, lock.WithData([]byte("x")))
	if err := rw.WriteLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rw.ReadLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w, r := rw.WriteLock().Node(), rw.ReadLock().Node()
	if !curatorWriteNode.MatchString(w[len(path)+1:]) || !curatorReadNode.MatchString(r[len(path)+1:]) {
		t.Fatalf("nodes %s and %s do not follow Curator's __WRIT__/__READ__ layout", w, r)
	}
	// Each side lists its own nodes, as Curator's do.
	if p, err := rw.WriteLock().Participants(ctx); err != nil || len(p) != 1 || p[0] != w {
		t.Fatalf("write participants %q (%v), want [%s]", p, err, w)
	}
	if p, err := rw.ReadLock().Participants(ctx); err != nil || len(p) != 1 || p[0] != r {
		t.Fatalf("read participants %q (%v), want [%s]", p, err, r)
	}
	rw.ReadLock().Unlock(ctx)
	rw.WriteLock().Unlock(ctx)
}

func TestRWMutexReadersShare(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/rw"
	a, b := lock.NewRWMutex(connect(t), path), lock.NewRWMutex(connect(t), path)
	if err := a.ReadLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.ReadLock().TryLock(ctx); err != nil {
		t.Fatalf("second reader: %v", err)
	}
	w := lock.NewRWMutex(connect(t), path)
	if err := w.WriteLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("writer while readers hold: %v, want ErrLocked", err)
	}
	a.ReadLock().Unlock(ctx)
	b.ReadLock().Unlock(ctx)
	if err := w.WriteLock().TryLock(ctx); err != nil {
		t.Fatalf("writer after readers left: %v", err)
	}
	if err := a.ReadLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("reader while a writer holds: %v, want ErrLocked", err)
	}
	w.WriteLock().Unlock(ctx)
}

// TestRWMutexWaitingWriterBlocksReaders: a writer queued behind a reader
// keeps later readers out, so writers are not starved.
func TestRWMutexWaitingWriterBlocksReaders(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/rw"
	r1, w, r2 := lock.NewRWMutex(connect(t), path), lock.NewRWMutex(connect(t), path), lock.NewRWMutex(connect(t), path)
	if err := r1.ReadLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- w.WriteLock().Lock(ctx) }()
	testserver.WaitFor(t, "writer queued", func() bool {
		p, _ := r1.WriteLock().Participants(ctx)
		return len(p) == 1
	})
	if err := r2.ReadLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("reader behind a waiting writer: %v, want ErrLocked", err)
	}
	r1.ReadLock().Unlock(ctx)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	w.WriteLock().Unlock(ctx)
	if err := r2.ReadLock().TryLock(ctx); err != nil {
		t.Fatal(err)
	}
	r2.ReadLock().Unlock(ctx)
}

// TestRWMutexDowngrade: the write holder takes the read side at once and
// keeps it after releasing the write side; other readers may then join,
// writers may not.
func TestRWMutexDowngrade(t *testing.T) {
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/rw"
	rw := lock.NewRWMutex(connect(t), path)
	other := lock.NewRWMutex(connect(t), path)
	if err := rw.WriteLock().Lock(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := rw.ReadLock().Lock(rctx); err != nil {
		t.Fatalf("read lock by the write holder: %v", err)
	}
	if err := rw.WriteLock().Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.WriteLock().TryLock(ctx); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("writer while the downgraded reader holds: %v, want ErrLocked", err)
	}
	if err := other.ReadLock().TryLock(ctx); err != nil {
		t.Fatalf("reader beside the downgraded reader: %v", err)
	}
	other.ReadLock().Unlock(ctx)
	rw.ReadLock().Unlock(ctx)
}

// TestRWMutexExclusion: mixed readers and writers on separate sessions; the
// in-test counts prove no writer ever overlaps anyone.
func TestRWMutexExclusion(t *testing.T) {
	const workers, rounds = 4, 10
	ctx := testserver.Context(t)
	path := suite.Base(t) + "/rw"
	var (
		readers, writers atomic.Int32
		wg               sync.WaitGroup
		errs             = make(chan error, 2*workers*rounds)
	)
	for i := range workers {
		rw := lock.NewRWMutex(connect(t), path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range rounds {
				write := (i+j)%3 == 0
				m := rw.ReadLock()
				if write {
					m = rw.WriteLock()
				}
				if err := m.Lock(ctx); err != nil {
					errs <- err
					return
				}
				if write {
					if w := writers.Add(1); w != 1 || readers.Load() != 0 {
						errs <- fmt.Errorf("writer with %d writers and %d readers", w, readers.Load())
					}
					writers.Add(-1)
				} else {
					readers.Add(1)
					if writers.Load() != 0 {
						errs <- errors.New("reader while a writer holds")
					}
					readers.Add(-1)
				}
				if err := m.Unlock(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
