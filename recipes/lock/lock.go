package lock

import (
	"context"
	"errors"
	"github.com/zkgo/zkgo/recipes/internal/curator"
)

// Errors of this package; wrapped errors are matched with errors.Is.
var (
	// ErrLocked is returned by TryLock and TryAcquire when the lock (or
	// every lease) is held by others.
	ErrLocked = errors.New("lock: held by another")
	// ErrNotLocked is returned by Unlock when this value does not hold the
	// lock, and by Release for a lease already released.
	ErrNotLocked = errors.New("lock: not locked")
	// ErrLockLost is wrapped by Unlock's and Release's error when the hold
	// had been lost before (session expired, Conn closed, or lock node
	// deleted by someone else): another holder may have overlapped.
	ErrLockLost = errors.New("lock: lost before release")
)

// Locker is what a lock offers, Curator's InterProcessLock: MultiLock takes
// any Lockers.
type Locker interface {
	// Lock waits until the lock is held or ctx ends.
	Lock(ctx context.Context) error
	// TryLock takes the lock if it is free and fails with ErrLocked if not.
	TryLock(ctx context.Context) error
	// Unlock releases the lock.
	Unlock(ctx context.Context) error
}

// Option configures a lock.
type Option func(*options)

type options struct {
	data    []byte
	hasData bool
}

// WithData sets the data of the lock nodes this lock creates (Curator's
// lockData, or setNodeData for a Semaphore). Without it nodes hold the local
// host's address, as Curator's default data does.
func WithData(b []byte) Option {
	return func(o *options) {
		o.data = append([]byte(nil), b...)
		o.hasData = true
	}
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if !o.hasData {
		o.data = []byte(curator.LocalAddress())
	}
	return o
}
