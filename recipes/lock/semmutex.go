package lock

import (
	"context"
	"fmt"
	"sync"

	"github.com/zkgo/zkgo/client"
)

// SemaphoreMutex is a non-reentrant distributed mutex, Curator's
// InterProcessSemaphoreMutex: a Semaphore with one lease at path. Like
// sync.Mutex, a second Lock on the same value waits for Unlock (without
// asking the server), and any goroutine may Unlock.
type SemaphoreMutex struct {
	s *Semaphore
	// sem is taken by Lock and given back by Unlock: the local half of the
	// non-reentrant lock, so that goroutines sharing the value queue here.
	sem chan struct{}

	mu    sync.Mutex
	lease *Lease // guarded by mu: the current hold, nil if none
}

// NewSemaphoreMutex returns a SemaphoreMutex at path (Curator's
// InterProcessSemaphoreMutex(client, path)).
func NewSemaphoreMutex(c *client.Conn, path string, opts ...Option) *SemaphoreMutex {
	return &SemaphoreMutex{s: NewSemaphore(c, path, 1, opts...), sem: make(chan struct{}, 1)}
}

// Lock waits until the lock is held or ctx ends; if ctx ends while waiting,
// the nodes it created are deleted.
func (m *SemaphoreMutex) Lock(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("lock %s: %w", m.s.path, ctx.Err())
	}
	return m.acquire(m.s.Acquire(ctx))
}

// TryLock takes the lock if it is free at once, and fails with ErrLocked
// otherwise, also when this value holds it.
func (m *SemaphoreMutex) TryLock(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
	default:
		return fmt.Errorf("lock %s: %w", m.s.path, ErrLocked)
	}
	return m.acquire(m.s.TryAcquire(ctx))
}

func (m *SemaphoreMutex) acquire(l *Lease, err error) error {
	if err != nil {
		<-m.sem
		return err
	}
	m.mu.Lock()
	m.lease = l
	m.mu.Unlock()
	return nil
}

// Unlock releases the lock. It fails with ErrNotLocked if it is not held,
// and with an error wrapping ErrLockLost if the hold had been lost: the lock
// is released either way.
func (m *SemaphoreMutex) Unlock(ctx context.Context) error {
	m.mu.Lock()
	l := m.lease
	m.lease = nil
	m.mu.Unlock()
	if l == nil {
		return fmt.Errorf("lock %s: %w", m.s.path, ErrNotLocked)
	}
	err := l.Release(ctx)
	<-m.sem
	return err
}

func (m *SemaphoreMutex) current() *Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lease
}

// Held reports whether this value holds the lock (it may have been lost
// since: see Done).
func (m *SemaphoreMutex) Held() bool { return m.current() != nil }

// Token returns the fencing token of the current hold (its lease node's
// czxid), or 0.
func (m *SemaphoreMutex) Token() int64 {
	if l := m.current(); l != nil {
		return l.Token()
	}
	return 0
}

// Node returns the path of the current hold's lease node, or "".
func (m *SemaphoreMutex) Node() string {
	if l := m.current(); l != nil {
		return l.Node()
	}
	return ""
}

// Done returns a channel closed when the current hold is lost or released;
// already closed if nothing is held.
func (m *SemaphoreMutex) Done() <-chan struct{} {
	if l := m.current(); l != nil {
		return l.Done()
	}
	return closedChan
}
