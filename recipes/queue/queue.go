package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zkgo/zkgo/client"
)

// ErrEmpty is returned by Peek and Poll when the queue has no item
// (Curator's NoSuchElementException, or the null of peek and poll).
var ErrEmpty = errors.New("queue: empty")

// prefix is the name of item nodes before their sequence number (Curator's
// PREFIX).
const prefix = "qn-"

// Simple is a FIFO queue of byte strings at a path, Curator's
// SimpleDistributedQueue. Curator's element and remove are Peek and Poll
// here, and its poll with a timeout is Take with a deadline.
type Simple struct {
	c    *client.Conn
	path string
}

// NewSimple returns the queue at path (Curator's
// SimpleDistributedQueue(client, path)). Nothing is sent until a method
// is called.
func NewSimple(c *client.Conn, path string) *Simple {
	return &Simple{c: c, path: path}
}

// Offer adds an item at the tail of the queue. A nil item is stored as
// an empty one, as Curator stores no null items.
func (q *Simple) Offer(ctx context.Context, item []byte) error {
	if item == nil {
		item = []byte{}
	}
	_, err := q.c.Create(ctx, q.path+"/"+prefix, item,
		client.WithMode(client.PersistentSequential), client.WithParentsAsContainers())
	if err != nil {
		return fmt.Errorf("queue %s: offer: %w", q.path, err)
	}
	return nil
}

// Peek returns the item at the head of the queue without removing it, or
// ErrEmpty.
func (q *Simple) Peek(ctx context.Context) ([]byte, error) {
	item, err := q.head(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("queue %s: peek: %w", q.path, err)
	}
	return item, nil
}

// Poll removes and returns the item at the head of the queue, or returns
// ErrEmpty.
func (q *Simple) Poll(ctx context.Context) ([]byte, error) {
	item, err := q.head(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("queue %s: poll: %w", q.path, err)
	}
	return item, nil
}

// Take removes and returns the item at the head of the queue, waiting
// for one until ctx ends.
func (q *Simple) Take(ctx context.Context) ([]byte, error) {
	for expiries := 0; ; {
		item, changed, err := q.takeOrWatch(ctx)
		switch {
		case err == nil && changed == nil:
			return item, nil
		case errors.Is(err, client.ErrSessionExpired) && ctx.Err() == nil && expiries < maxExpiries:
			// The Conn opens a new session: start over on it.
			expiries++
			continue
		case err != nil:
			return nil, fmt.Errorf("queue %s: take: %w", q.path, err)
		}
		select {
		case e := <-changed:
			if errors.Is(e.Err, client.ErrClosed) {
				return nil, fmt.Errorf("queue %s: take: %w", q.path, e.Err)
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("queue %s: take: %w", q.path, ctx.Err())
		}
	}
}

// maxExpiries bounds how often Take starts over on a new session after its
// session expired under a request.
const maxExpiries = 5

// takeOrWatch takes the head item, or, if the queue is empty, returns a
// watch on its children to wait on.
func (q *Simple) takeOrWatch(ctx context.Context) ([]byte, <-chan client.Event, error) {
	for {
		item, err := q.head(ctx, true)
		if !errors.Is(err, ErrEmpty) {
			return item, nil, err
		}
		// Empty: watch the children, and look again unless the queue is
		// still empty now that the watch is set.
		children, changed, err := q.watch(ctx)
		if err != nil {
			return nil, nil, err
		}
		if len(items(children)) == 0 {
			return nil, changed, nil
		}
	}
}

// watch lists the queue's children with a watch, first creating the queue
// node (as a container) if it is missing: a missing node cannot carry a
// child watch.
func (q *Simple) watch(ctx context.Context) ([]string, <-chan client.Event, error) {
	for tries := 0; ; tries++ {
		children, _, changed, err := q.c.ChildrenW(ctx, q.path)
		if !errors.Is(err, client.ErrNoNode) || tries == 3 {
			return children, changed, err
		}
		// Deleted as an empty container, or never created: create it,
		// as Curator's EnsureContainers does.
		_, err = q.c.Create(ctx, q.path, []byte{}, client.WithMode(client.Container), client.WithParentsAsContainers())
		if err != nil && !errors.Is(err, client.ErrNodeExists) {
			return nil, nil, err
		}
	}
}

// items returns the item nodes among children, in queue order.
func items(children []string) []string {
	out := slices.DeleteFunc(slices.Clone(children), func(s string) bool { return !strings.HasPrefix(s, prefix) })
	// The sequence numbers have the same width: name order is queue order.
	slices.Sort(out)
	return out
}

// head returns the first item, deleting its node if remove is set. Nodes
// taken by others between the listing and the read or delete are skipped.
func (q *Simple) head(ctx context.Context, remove bool) ([]byte, error) {
	children, err := q.c.Children(ctx, q.path)
	if errors.Is(err, client.ErrNoNode) {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	for _, name := range items(children) {
		p := q.path + "/" + name
		data, _, err := q.c.Get(ctx, p)
		if errors.Is(err, client.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if data == nil {
			data = []byte{} // stored as null by a foreign writer
		}
		if !remove {
			return data, nil
		}
		err = q.c.Delete(ctx, p, -1)
		if errors.Is(err, client.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return data, nil
	}
	return nil, ErrEmpty
}
