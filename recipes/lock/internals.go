package lock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/zkgo/zkgo/client"
)

// errNodeGone says a contender's own lock node vanished while it waited,
// which happens when its session expired: Curator then queues again.
var errNodeGone = errors.New("lock: own lock node gone (session lost?)")

// maxRequeues bounds how often a contender whose node vanished queues again
// within one Lock (Curator lets its retry policy decide).
const maxRequeues = 5

// requeue reports whether a contender should queue again with a new node
// after err: its node vanished, or its session expired under it (Curator's
// retry loop retries SESSIONEXPIRED; the Conn opens a new session).
func requeue(ctx context.Context, err error, requeues int) bool {
	return (errors.Is(err, errNodeGone) || errors.Is(err, client.ErrSessionExpired)) &&
		requeues < maxRequeues && ctx.Err() == nil
}

// predicate decides from the sorted children of the lock's path whether the
// node named ours holds the lock; if not, it names the node to wait for.
type predicate func(children []string, ours string) (holds bool, watch string, err error)

// queue is Curator's LockInternals: contenders create ephemeral sequential
// nodes named base/_c_<uuid>-<name>NNNNNNNNNN and a predicate over the
// children sorted by sequence number grants the lock.
type queue struct {
	c     *client.Conn
	base  string   // the lock's path
	name  string   // node name before the sequence number: "lock-", "__READ__", ...
	names []string // names stripped before sorting (Curator's fixForSorting)
	pred  predicate
	data  []byte
}

// sortKey is Curator's fixForSorting: the part of name after the last
// occurrence of each lock name, in turn (the sequence number).
func sortKey(name string, names []string) string {
	for _, n := range names {
		if i := strings.LastIndex(name, n); i >= 0 {
			name = name[i+len(n):]
		}
	}
	return name
}

// sorted returns the children of base ordered as Curator orders them.
func (q *queue) sorted(ctx context.Context) ([]string, error) {
	children, err := q.c.Children(ctx, q.base)
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	q.sort(children)
	return children, nil
}

// participants returns the full paths of the lock nodes, in queue order.
// A side of a read-write lock lists only its own nodes, as Curator's
// InternalInterProcessMutex does.
func (q *queue) participants(ctx context.Context) ([]string, error) {
	children, err := q.sorted(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(children))
	for _, ch := range children {
		if len(q.names) > 1 && !strings.Contains(ch, q.name) {
			continue
		}
		out = append(out, q.base+"/"+ch)
	}
	return out, nil
}

// standard is Curator's StandardLockInternalsDriver.getsTheLock: ours holds
// if fewer than max nodes are ahead of it; otherwise it waits for the node
// max places ahead.
func standard(max int) predicate {
	return func(children []string, ours string) (bool, string, error) {
		i := slices.Index(children, ours)
		if i < 0 {
			return false, "", errNodeGone
		}
		if i < max {
			return true, "", nil
		}
		return false, children[i-max], nil
	}
}

// acquire creates a node and waits until the predicate grants it the lock.
// With try it does not wait: it fails with ErrLocked if the lock is not free
// at once. On failure the node is deleted, whatever ended the wait.
//
// The listing that decides is pipelined behind the create
// (Conn.CreateAndChildren), so a free lock costs one round trip, not two as
// in Curator (create, then getChildren): the znodes and their order are the
// same.
func (q *queue) acquire(ctx context.Context, try bool) (*hold, error) {
	for requeues := 0; ; requeues++ {
		p, st, children, err := q.c.CreateAndChildren(ctx, q.base+"/"+q.name, q.data,
			client.WithMode(client.EphemeralSequential), client.WithProtection(), client.WithParentsAsContainers())
		if requeue(ctx, err, requeues) {
			continue
		}
		if err != nil {
			// A protected create that failed uncertainly has its node
			// removed by the client in the background.
			return nil, fmt.Errorf("lock %s: %w", q.base, err)
		}
		err = q.wait(ctx, p, try, children)
		if err == nil {
			return startHold(q.c, p, st.Czxid), nil
		}
		deleteNode(ctx, q.c, p)
		if requeue(ctx, err, requeues) {
			continue
		}
		return nil, fmt.Errorf("lock %s: %w", q.base, err)
	}
}

// sort orders children as Curator does (getSortedChildren).
func (q *queue) sort(children []string) {
	slices.SortStableFunc(children, func(a, b string) int {
		return strings.Compare(sortKey(a, q.names), sortKey(b, q.names))
	})
}

// wait is Curator's internalLockLoop for the node at path p. children, if
// not nil, is a listing taken after p was created, used for the first look.
func (q *queue) wait(ctx context.Context, p string, try bool, children []string) error {
	ours := p[strings.LastIndexByte(p, '/')+1:]
	for {
		if children != nil {
			q.sort(children)
		} else {
			var err error
			if children, err = q.sorted(ctx); err != nil {
				return err
			}
		}
		holds, watch, err := q.pred(children, ours)
		children = nil
		if err != nil {
			return err
		}
		if holds {
			return nil
		}
		if try {
			return ErrLocked
		}
		// Wait for the node ahead to go. GetW rather than ExistsW, as
		// Curator does, so that no watch is left behind on a node that is
		// already gone.
		_, _, changed, err := q.c.GetW(ctx, q.base+"/"+watch)
		if errors.Is(err, client.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deleteNode removes a lock node this process created. It gets its own
// short deadline when ctx has ended (Lock was cancelled), and leaves the
// node to the Conn's guaranteed deleter if that fails too.
func deleteNode(ctx context.Context, c *client.Conn, p string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.SessionTimeout())
	defer cancel()
	return c.DeleteGuaranteed(dctx, p, -1)
}

// hold is one granted lock node. A session loss ends it at once (through a
// Conn listener); the deletion of its node is noticed only once someone
// asks (done, checkLost), by a goroutine that watches the node until the
// hold ends: a holder that never asks saves a request and a watch per
// acquisition, which Curator does not spend either.
type hold struct {
	c      *client.Conn
	path   string
	token  int64
	done   chan struct{} // closed when lost or released
	remove func()        // removes the Conn listener
	wg     sync.WaitGroup

	mu       sync.Mutex
	ended    bool               // guarded by mu: done is closed
	lost     bool               // guarded by mu: because the hold was lost
	watching bool               // guarded by mu: watch runs or ran
	kick     chan struct{}      // guarded by mu: wakes watch after a state change
	cancel   context.CancelFunc // guarded by mu: stops watch
}

func startHold(c *client.Conn, p string, token int64) *hold {
	h := &hold{c: c, path: p, token: token, done: make(chan struct{})}
	h.remove = c.AddListener(h.stateChanged)
	return h
}

// stateChanged is the Conn listener: Lost ends the hold, and any change
// makes a watch waiting out a connection problem look again.
func (h *hold) stateChanged(s client.State) {
	if s == client.Lost {
		h.markLost()
	}
	h.mu.Lock()
	kick := h.kick
	h.mu.Unlock()
	if kick != nil {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// doneChan returns done, watching the node from now on.
func (h *hold) doneChan() <-chan struct{} {
	h.startWatch()
	return h.done
}

// startWatch starts watch unless it runs, ran or the hold ended; it
// reports whether it started it.
func (h *hold) startWatch() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watching || h.ended {
		return false
	}
	h.watching = true
	h.kick = make(chan struct{}, 1)
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go h.watch(ctx, h.kick)
	return true
}

// checkLost reports whether the hold was lost. Unless the node is watched
// already, it looks at the node first (one request) and watches it from
// then on.
func (h *hold) checkLost(ctx context.Context) bool {
	if h.startWatch() {
		st, err := h.c.Exists(ctx, h.path)
		if err == nil && st == nil {
			h.markLost()
		}
	}
	return h.isLost()
}

// watch closes done once the node is deleted or the session is lost, and
// re-arms its watch after any other event (a data change, a removed watch).
func (h *hold) watch(ctx context.Context, kick <-chan struct{}) {
	defer h.wg.Done()
	for {
		st, changed, err := h.c.ExistsW(ctx, h.path)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil && st == nil:
			h.markLost()
			return
		case errors.Is(err, client.ErrClosed), errors.Is(err, client.ErrSessionExpired), errors.Is(err, client.ErrAuthFailed):
			h.markLost()
			return
		case err != nil:
			// The connection is still down after the retry policy gave
			// up; the session may yet be resumed: look again after the
			// next state change.
			select {
			case <-kick:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case e := <-changed:
			if e.Err != nil || e.Type == client.EventNodeDeleted {
				h.markLost()
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func (h *hold) markLost() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ended {
		h.ended, h.lost = true, true
		close(h.done)
	}
}

// isLost reports whether the hold was lost.
func (h *hold) isLost() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost
}

// release stops the watch and deletes the node. It reports ErrLockLost if
// the hold had been lost before.
func (h *hold) release(ctx context.Context) error {
	h.mu.Lock()
	lost := h.lost
	if !h.ended {
		h.ended = true
		close(h.done)
	}
	cancel := h.cancel
	h.mu.Unlock()
	h.remove()
	if cancel != nil {
		cancel()
		h.wg.Wait()
	}
	err := deleteNode(ctx, h.c, h.path)
	if lost || errors.Is(err, client.ErrNoNode) {
		// A node gone before the delete was lost too.
		return fmt.Errorf("%w: %s", ErrLockLost, h.path)
	}
	return err
}
