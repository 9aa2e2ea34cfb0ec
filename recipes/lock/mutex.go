package lock

import (
	"context"
	"fmt"
	"sync"

	"github.com/zkgo/zkgo/client"
)

// Mutex is a reentrant distributed mutex at a path, Curator's
// InterProcessMutex: contenders queue as PATH/_c_<uuid>-lock-NNNNNNNNNN
// nodes. The Mutex value is the owner (see the package doc): Lock while it
// holds the lock only counts, and the lock is released by as many Unlocks.
type Mutex struct {
	q *queue
	// sem serializes acquisitions (Lock, TryLock) of this value without
	// blocking a cancelled caller: send to take it, receive to give it back.
	sem chan struct{}

	mu    sync.Mutex // taken after sem; a leaf
	h     *hold      // guarded by mu: the current hold, nil if none
	count int        // guarded by mu: reentrant holds
}

// NewMutex returns a Mutex for the lock at path (Curator's
// InterProcessMutex(client, path)). Nothing is sent until Lock.
func NewMutex(c *client.Conn, path string, opts ...Option) *Mutex {
	o := buildOptions(opts)
	return newMutex(&queue{c: c, base: path, name: "lock-", names: []string{"lock-"}, pred: standard(1), data: o.data})
}

func newMutex(q *queue) *Mutex {
	return &Mutex{q: q, sem: make(chan struct{}, 1)}
}

func (m *Mutex) take(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Mutex) give() { <-m.sem }

// Lock waits until this Mutex holds the lock or ctx ends. If ctx ends while
// waiting, the node it created is deleted and ctx's error returned (wrapped).
// If the Mutex already holds the lock, Lock adds one to its hold count; if
// that hold was lost (see Done), it fails with ErrLockLost instead, until
// Unlock has released it.
func (m *Mutex) Lock(ctx context.Context) error { return m.lock(ctx, false) }

// TryLock takes the lock if no other contender holds it or waits ahead of
// the node it creates, and fails with ErrLocked otherwise, without waiting.
func (m *Mutex) TryLock(ctx context.Context) error { return m.lock(ctx, true) }

func (m *Mutex) lock(ctx context.Context, try bool) error {
	if err := m.take(ctx); err != nil {
		return fmt.Errorf("lock %s: %w", m.q.base, err)
	}
	defer m.give()
	m.mu.Lock()
	if h := m.h; h != nil {
		defer m.mu.Unlock()
		if h.checkLost(ctx) {
			// Counting on a lost hold would hide the loss.
			return fmt.Errorf("lock %s: %w (Unlock first)", m.q.base, ErrLockLost)
		}
		m.count++
		return nil
	}
	m.mu.Unlock()
	h, err := m.q.acquire(ctx, try)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.h, m.count = h, 1
	m.mu.Unlock()
	return nil
}

// Unlock releases one hold; the last one deletes the lock node (with a
// guaranteed delete). It fails with ErrNotLocked if the Mutex holds nothing,
// and with an error wrapping ErrLockLost if the hold had been lost: the
// lock is released either way. It does not wait for a Lock in progress on
// the same value.
func (m *Mutex) Unlock(ctx context.Context) error {
	m.mu.Lock()
	h := m.h
	if h == nil {
		m.mu.Unlock()
		return fmt.Errorf("lock %s: %w", m.q.base, ErrNotLocked)
	}
	m.count--
	if m.count > 0 {
		m.mu.Unlock()
		return nil
	}
	m.h = nil
	m.mu.Unlock()
	// A Lock that starts now queues a new node behind this one, which is
	// being deleted: no overlap.
	return h.release(ctx)
}

func (m *Mutex) current() *hold {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.h
}

// Held reports whether this Mutex holds the lock (it may have been lost
// since: see Done).
func (m *Mutex) Held() bool { return m.current() != nil }

// Token returns the fencing token of the current hold, the czxid of its
// lock node (see the package doc), or 0 if the Mutex holds nothing.
func (m *Mutex) Token() int64 {
	if h := m.current(); h != nil {
		return h.token
	}
	return 0
}

// Node returns the path of the current hold's lock node, or "".
func (m *Mutex) Node() string {
	if h := m.current(); h != nil {
		return h.path
	}
	return ""
}

// Done returns a channel closed when the current hold ends: lost (session
// lost, Conn closed, node deleted by someone else) or released by Unlock.
// If the Mutex holds nothing the channel is already closed. The first call
// for a hold starts watching its lock node (one request and a watch); Lock
// alone does not, as Curator's acquire does not.
func (m *Mutex) Done() <-chan struct{} {
	if h := m.current(); h != nil {
		return h.doneChan()
	}
	return closedChan
}

// closedChan is the Done of no hold; it is never written again.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Participants returns the paths of the lock's nodes in queue order: the
// holder first, then the waiters (Curator's getParticipantNodes). For a
// side of an RWMutex, only that side's nodes.
func (m *Mutex) Participants(ctx context.Context) ([]string, error) {
	return m.q.participants(ctx)
}
