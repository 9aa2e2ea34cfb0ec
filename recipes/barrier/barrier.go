package barrier

import (
	"context"
	"errors"
	"fmt"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/curator"
)

// Errors of this package; wrapped errors are matched with errors.Is.
var (
	// ErrMemberLost is returned by DoubleBarrier.Leave when the member's
	// node vanished before the member deleted it (its session expired, or
	// someone else deleted it): the other members may have left already.
	ErrMemberLost = errors.New("barrier: member node lost")
	// ErrNotEntered is returned by DoubleBarrier.Leave on a member that
	// has not entered (or has left already).
	ErrNotEntered = errors.New("barrier: not entered")
)

// Option configures a Barrier or DoubleBarrier.
type Option func(*options)

type options struct {
	data    []byte
	hasData bool
}

// WithData sets the data of the nodes the barrier creates. Without it they
// hold the local host's address, as Curator's default data does.
func WithData(b []byte) Option {
	return func(o *options) {
		o.data = append([]byte{}, b...)
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

// Barrier is a barrier at a path, Curator's DistributedBarrier: it is up
// while the node at the path exists. Set raises it, Remove lowers it, and
// Wait blocks while it is up.
type Barrier struct {
	c    *client.Conn
	path string
	data []byte
}

// NewBarrier returns the barrier at path (Curator's
// DistributedBarrier(client, barrierPath)). Nothing is sent until a method
// is called.
func NewBarrier(c *client.Conn, path string, opts ...Option) *Barrier {
	return &Barrier{c: c, path: path, data: buildOptions(opts).data}
}

// Set raises the barrier: it creates the node (and missing parents as
// containers). A barrier that is up already is left as it is.
func (b *Barrier) Set(ctx context.Context) error {
	_, err := b.c.Create(ctx, b.path, b.data, client.WithParentsAsContainers())
	if err != nil && !errors.Is(err, client.ErrNodeExists) {
		return fmt.Errorf("barrier %s: set: %w", b.path, err)
	}
	return nil
}

// Remove lowers the barrier, releasing every waiter. A barrier that is not
// up is left as it is.
func (b *Barrier) Remove(ctx context.Context) error {
	err := b.c.Delete(ctx, b.path, -1)
	if err != nil && !errors.Is(err, client.ErrNoNode) {
		return fmt.Errorf("barrier %s: remove: %w", b.path, err)
	}
	return nil
}

// IsSet reports whether the barrier is up.
func (b *Barrier) IsSet(ctx context.Context) (bool, error) {
	st, err := b.c.Exists(ctx, b.path)
	if err != nil {
		return false, fmt.Errorf("barrier %s: %w", b.path, err)
	}
	return st != nil, nil
}

// Wait blocks until the barrier is not up (its node does not exist) or ctx
// ends. It returns at once if the barrier is not up.
func (b *Barrier) Wait(ctx context.Context) error {
	for expiries := 0; ; {
		st, changed, err := b.c.ExistsW(ctx, b.path)
		if sessionRetry(ctx, err, &expiries) {
			continue
		}
		if err != nil {
			return fmt.Errorf("barrier %s: wait: %w", b.path, err)
		}
		if st == nil {
			return nil
		}
		if err := waitEvent(ctx, changed); err != nil {
			return fmt.Errorf("barrier %s: wait: %w", b.path, err)
		}
	}
}

// maxExpiries bounds how often one wait starts over on a new session
// after its session expired under a request.
const maxExpiries = 5

// sessionRetry reports whether a wait should start over after err: the
// session expired under the request, and the Conn opens a new one (as
// Curator's retry loop retries SESSIONEXPIRED).
func sessionRetry(ctx context.Context, err error, expiries *int) bool {
	if !errors.Is(err, client.ErrSessionExpired) || ctx.Err() != nil || *expiries >= maxExpiries {
		return false
	}
	*expiries++
	return true
}

// waitEvent waits for the one event of a watch. It returns nil for a node
// event and for the end of a session (the caller looks again, on the new
// session), and an error if the Conn was closed or ctx ended.
func waitEvent(ctx context.Context, ch <-chan client.Event) error {
	select {
	case e := <-ch:
		if errors.Is(e.Err, client.ErrClosed) {
			return e.Err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
