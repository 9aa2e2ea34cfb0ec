package lock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/curator"
)

// Semaphore is a distributed counting semaphore, Curator's
// InterProcessSemaphoreV2: a lease is an ephemeral sequential node
// PATH/leases/_c_<uuid>-lease-NNNNNNNNNN, created while holding the Mutex at
// PATH/locks, and granted once at most the limit of lease nodes exist (the
// new one counted). The limit is fixed (NewSemaphore) or read from a shared
// count (NewSharedSemaphore). Leases are granted in the order their nodes
// were created, since a contender waiting for a lease keeps PATH/locks.
type Semaphore struct {
	c         *client.Conn
	path      string
	max       int    // fixed limit, when countPath is ""
	countPath string // shared limit: a Curator SharedCount node
	data      []byte
}

// NewSemaphore returns a semaphore at path with maxLeases leases (Curator's
// InterProcessSemaphoreV2(client, path, maxLeases)). Every process using
// the path must agree on maxLeases: nothing checks it. WithData sets the data
// of the lease nodes (Curator's setNodeData).
func NewSemaphore(c *client.Conn, path string, maxLeases int, opts ...Option) *Semaphore {
	o := buildOptions(opts)
	return &Semaphore{c: c, path: path, max: maxLeases, data: o.data}
}

// NewSharedSemaphore returns a semaphore at path whose number of leases is
// the value of the shared count at countPath (Curator's
// InterProcessSemaphoreV2(client, path, SharedCountReader)): a node holding a
// 4-byte big-endian integer, as Curator's SharedCount writes it. The node
// must exist (Curator's SharedCount.start creates it with its seed value).
// A change of the count takes effect for waiting contenders at once;
// leases already granted are kept when it goes down.
func NewSharedSemaphore(c *client.Conn, path, countPath string, opts ...Option) *Semaphore {
	o := buildOptions(opts)
	return &Semaphore{c: c, path: path, countPath: countPath, data: o.data}
}

func (s *Semaphore) leasesPath() string { return s.path + "/leases" }

// Acquire waits for a lease until ctx ends; if ctx ends first, the node
// it created is deleted.
func (s *Semaphore) Acquire(ctx context.Context) (*Lease, error) {
	return s.acquire(ctx, false)
}

// TryAcquire takes a lease if one is free at once, and fails with ErrLocked
// otherwise (also while another contender is waiting for a lease).
func (s *Semaphore) TryAcquire(ctx context.Context) (*Lease, error) {
	return s.acquire(ctx, true)
}

// AcquireN waits for n leases, taken one after the other; if it fails, the
// leases it got are released.
func (s *Semaphore) AcquireN(ctx context.Context, n int) ([]*Lease, error) {
	if n <= 0 {
		return nil, fmt.Errorf("semaphore %s: AcquireN(%d): %w", s.path, n, client.ErrBadArguments)
	}
	leases := make([]*Lease, 0, n)
	for range n {
		l, err := s.Acquire(ctx)
		if err != nil {
			for _, l := range leases {
				l.Release(context.WithoutCancel(ctx))
			}
			return nil, err
		}
		leases = append(leases, l)
	}
	return leases, nil
}

func (s *Semaphore) acquire(ctx context.Context, try bool) (*Lease, error) {
	if s.countPath == "" && s.max < 1 {
		return nil, fmt.Errorf("semaphore %s: %d leases: %w", s.path, s.max, client.ErrBadArguments)
	}
	for requeues := 0; ; requeues++ {
		l, err := s.acquireOnce(ctx, try)
		if requeue(ctx, err, requeues) {
			continue // the session was lost: start over, as Curator does
		}
		if err != nil {
			err = fmt.Errorf("semaphore %s: %w", s.path, err)
		}
		return l, err
	}
}

// acquireOnce is Curator's internalAcquire1Lease: under the Mutex at
// PATH/locks, create a lease node and wait until it is within the limit.
func (s *Semaphore) acquireOnce(ctx context.Context, try bool) (*Lease, error) {
	// A fresh Mutex per attempt: a shared one would be reentrant across
	// goroutines of this process.
	m := newMutex(&queue{c: s.c, base: s.path + "/locks", name: "lock-", names: []string{"lock-"},
		pred: standard(1), data: []byte(curator.LocalAddress())})
	var err error
	if try {
		err = m.TryLock(ctx)
	} else {
		err = m.Lock(ctx)
	}
	if err != nil {
		return nil, err
	}
	defer m.Unlock(context.WithoutCancel(ctx))
	p, st, err := s.c.CreateStat(ctx, s.leasesPath()+"/lease-", s.data,
		client.WithMode(client.EphemeralSequential), client.WithProtection(), client.WithParentsAsContainers())
	if err != nil {
		return nil, err
	}
	if err := s.wait(ctx, p, try); err != nil {
		deleteNode(ctx, s.c, p)
		return nil, err
	}
	return &Lease{h: startHold(s.c, p, st.Czxid)}, nil
}

// wait waits until the lease node p is among at most limit lease nodes.
func (s *Semaphore) wait(ctx context.Context, p string, try bool) error {
	ours := p[strings.LastIndexByte(p, '/')+1:]
	for {
		children, _, changed, err := s.c.ChildrenW(ctx, s.leasesPath())
		if errors.Is(err, client.ErrNoNode) {
			return errNodeGone
		}
		if err != nil {
			return err
		}
		if !slices.Contains(children, ours) {
			return errNodeGone
		}
		limit, countChanged, err := s.limit(ctx)
		if err != nil {
			return err
		}
		if len(children) <= limit {
			return nil
		}
		if try {
			return ErrLocked
		}
		select {
		case <-changed:
		case <-countChanged:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// limit returns the number of leases and, for a shared count, a channel
// told of its next change (nil for a fixed limit).
func (s *Semaphore) limit(ctx context.Context) (int, <-chan client.Event, error) {
	if s.countPath == "" {
		return s.max, nil, nil
	}
	data, _, changed, err := s.c.GetW(ctx, s.countPath)
	if err != nil {
		return 0, nil, fmt.Errorf("shared count: %w", err)
	}
	n, err := decodeCount(data)
	if err != nil {
		return 0, nil, fmt.Errorf("shared count %s: %w", s.countPath, err)
	}
	return n, changed, nil
}

// errBadCount says a shared count node does not hold 4 bytes.
var errBadCount = errors.New("not a SharedCount value (4-byte big-endian integer)")

func decodeCount(b []byte) (int, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%d bytes: %w", len(b), errBadCount)
	}
	return int(int32(binary.BigEndian.Uint32(b))), nil
}

// Participants returns the names of the lease nodes (granted and waiting),
// in sequence order.
func (s *Semaphore) Participants(ctx context.Context) ([]string, error) {
	children, err := s.c.Children(ctx, s.leasesPath())
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := []string{"lease-"}
	slices.SortStableFunc(children, func(a, b string) int {
		return strings.Compare(sortKey(a, names), sortKey(b, names))
	})
	return children, nil
}

// Lease is one granted lease of a Semaphore (Curator's Lease). Once Done
// is called, a goroutine watches its node until Release.
type Lease struct {
	h    *hold
	once sync.Once
}

// Release gives the lease back, deleting its node with a guaranteed delete.
// A second Release fails with ErrNotLocked; an error wrapping ErrLockLost
// says the lease had been lost before.
func (l *Lease) Release(ctx context.Context) error {
	err := fmt.Errorf("lease %s: %w", l.h.path, ErrNotLocked)
	l.once.Do(func() { err = l.h.release(ctx) })
	return err
}

// Token returns the lease's fencing token, its node's czxid (see the
// package doc).
func (l *Lease) Token() int64 { return l.h.token }

// Node returns the path of the lease's node.
func (l *Lease) Node() string { return l.h.path }

// Done returns a channel closed when the lease is lost (session lost, Conn
// closed, node deleted by someone else) or released. The first call starts
// watching the lease node (one request and a watch).
func (l *Lease) Done() <-chan struct{} { return l.h.doneChan() }
