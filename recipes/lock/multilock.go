package lock

import (
	"context"
	"errors"

	"github.com/zkgo/zkgo/client"
)

// MultiLock holds several locks as one, Curator's InterProcessMultiLock:
// Lock takes them in the order given and, if one cannot be had, releases
// those it took, in reverse order; so it holds all of them or none. Give
// every process the locks in the same order, or two MultiLocks can each
// wait for a lock the other holds (until their contexts end).
type MultiLock struct {
	locks []Locker
}

// NewMultiLock returns a MultiLock over locks.
func NewMultiLock(locks ...Locker) *MultiLock {
	return &MultiLock{locks: append([]Locker(nil), locks...)}
}

// NewMultiMutex returns a MultiLock over one Mutex per path (Curator's
// InterProcessMultiLock(client, paths)).
func NewMultiMutex(c *client.Conn, paths []string, opts ...Option) *MultiLock {
	locks := make([]Locker, len(paths))
	for i, p := range paths {
		locks[i] = NewMutex(c, p, opts...)
	}
	return &MultiLock{locks: locks}
}

// Lock takes every lock, waiting for each until ctx ends; on failure it
// releases those it took and returns the error.
func (m *MultiLock) Lock(ctx context.Context) error {
	return m.lock(ctx, func(l Locker) error { return l.Lock(ctx) })
}

// TryLock takes every lock without waiting; if one is taken it releases
// those it took and fails with ErrLocked.
func (m *MultiLock) TryLock(ctx context.Context) error {
	return m.lock(ctx, func(l Locker) error { return l.TryLock(ctx) })
}

func (m *MultiLock) lock(ctx context.Context, take func(Locker) error) error {
	for i, l := range m.locks {
		if err := take(l); err != nil {
			// Release on a context of its own: ctx may be what ended.
			rctx := context.WithoutCancel(ctx)
			for j := i - 1; j >= 0; j-- {
				m.locks[j].Unlock(rctx)
			}
			return err
		}
	}
	return nil
}

// Unlock releases every lock, in reverse order, and returns their errors
// joined (errors.Is sees each, e.g. ErrLockLost).
func (m *MultiLock) Unlock(ctx context.Context) error {
	var errs []error
	for i := len(m.locks) - 1; i >= 0; i-- {
		if err := m.locks[i].Unlock(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Locks returns the locks, in the order they are taken.
func (m *MultiLock) Locks() []Locker { return append([]Locker(nil), m.locks...) }
