package leader

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
)

// Errors of this package.
var (
	// ErrClosed is returned by Await after Close, and by Start and Close
	// on a latch or selector already closed.
	ErrClosed = errors.New("leader: closed")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("leader: already started")
)

// latchName is Curator's LeaderLatch LOCK_NAME.
const latchName = "latch-"

// retryPause is how long the latch waits before trying again after an
// operation failed for a reason other than the connection (which it waits
// out through the connection state instead).
const retryPause = time.Second

// LatchOption configures a Latch.
type LatchOption func(*Latch)

// WithListener registers fn to be called with true when the latch gains
// leadership and false when it loses it (Curator's LeaderLatchListener
// isLeader/notLeader), in order, on the latch's goroutine: fn must not block
// for long, nor call Close.
func WithListener(fn func(leader bool)) LatchOption {
	return func(l *Latch) { l.listeners = append(l.listeners, fn) }
}

// WithNotifyOnClose makes Close call the listeners with false if the latch
// was leader (Curator's CloseMode.NOTIFY_LEADER). By default Close is
// silent (CloseMode.SILENT); the channel returned by Await is closed either
// way.
func WithNotifyOnClose() LatchOption {
	return func(l *Latch) { l.notifyOnClose = true }
}

// Latch is a participant in a leader election at a path, Curator's
// LeaderLatch. Start it, then Await leadership; Close leaves the election.
type Latch struct {
	c             *client.Conn
	path, id      string
	listeners     []func(bool)
	notifyOnClose bool

	ctx    context.Context
	cancel context.CancelFunc // ends run
	wg     sync.WaitGroup

	mu      sync.Mutex
	started bool          // guarded by mu
	closed  bool          // guarded by mu
	leader  bool          // guarded by mu
	term    chan struct{} // guarded by mu: closed when the current leadership ends
	changed chan struct{} // guarded by mu: closed and replaced at every change
	ourPath string        // guarded by mu: our node, "" if none
}

// NewLatch returns a latch at path for the participant id (Curator's
// LeaderLatch(client, latchPath, id)). It takes part once started.
func NewLatch(c *client.Conn, path, id string, opts ...LatchOption) *Latch {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Latch{c: c, path: path, id: id, ctx: ctx, cancel: cancel, changed: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Start joins the election: the latch creates its node and follows the
// election on its own goroutine until Close.
func (l *Latch) Start() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return ErrClosed
	case l.started:
		return ErrStarted
	}
	l.started = true
	l.wg.Add(1)
	go l.run()
	return nil
}

// ID returns the participant id.
func (l *Latch) ID() string { return l.id }

// HasLeadership reports whether the latch leads now.
func (l *Latch) HasLeadership() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader
}

// Node returns the path of the latch's node, or "" while it has none.
func (l *Latch) Node() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ourPath
}

// Await waits until the latch leads and returns a channel closed when that
// leadership ends (connection Suspended or Lost, node deleted, Close). It
// fails with ctx's error, or with ErrClosed once the latch is closed.
func (l *Latch) Await(ctx context.Context) (<-chan struct{}, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, ErrClosed
		}
		if l.leader {
			term := l.term
			l.mu.Unlock()
			return term, nil
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close leaves the election: it stops the latch's goroutine, ends any
// leadership (telling the listeners only with WithNotifyOnClose) and
// deletes the latch's node with a guaranteed delete.
func (l *Latch) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	l.setLeader(false, l.notifyOnClose)
	l.mu.Lock()
	p := l.ourPath
	l.ourPath = ""
	l.broadcastLocked()
	l.mu.Unlock()
	if p == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.c.SessionTimeout())
	defer cancel()
	if err := l.c.DeleteGuaranteed(ctx, p, -1); err != nil && !errors.Is(err, client.ErrNoNode) {
		return fmt.Errorf("leader latch %s: %w", l.path, err)
	}
	return nil
}

// broadcastLocked wakes Await callers. l.mu must be held.
func (l *Latch) broadcastLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// setLeader records a change of leadership and, if notify, tells the
// listeners.
func (l *Latch) setLeader(leader, notify bool) {
	l.mu.Lock()
	if l.leader == leader {
		l.mu.Unlock()
		return
	}
	l.leader = leader
	if leader {
		l.term = make(chan struct{})
	} else {
		close(l.term)
		l.term = nil
	}
	l.broadcastLocked()
	l.mu.Unlock()
	if notify {
		for _, fn := range l.listeners {
			fn(leader)
		}
	}
}

// run follows the election until Close (Curator's reset, getChildren and
// checkLeadership, as one loop).
func (l *Latch) run() {
	defer l.wg.Done()
	states := make(chan client.State, 64)
	remove := l.c.AddListener(func(s client.State) {
		select {
		case states <- s:
		case <-l.ctx.Done():
		}
	})
	defer remove()

	for l.ctx.Err() == nil {
		// A state change pending comes first: leadership must not be
		// taken on a connection already reported Suspended.
		select {
		case s := <-states:
			l.handleState(s, states)
			continue
		default:
		}
		wake, err := l.step()
		if l.ctx.Err() != nil {
			return
		}
		var retry <-chan time.Time
		if err != nil {
			if !client.IsRetryable(err) {
				retry = time.After(retryPause)
			}
			// A connection problem is waited out through the states.
		}
		select {
		case <-wake:
		case <-retry:
		case s := <-states:
			l.handleState(s, states)
		case <-l.ctx.Done():
			return
		}
	}
}

// handleState applies Curator's default policy: leadership ends on
// Suspended and Lost; the loop then checks again once connected.
func (l *Latch) handleState(s client.State, states <-chan client.State) {
	switch s {
	case client.Suspended, client.Lost:
		l.setLeader(false, true)
		// Wait to be connected again before touching the server.
		for {
			select {
			case s = <-states:
				if s.IsConnected() {
					return
				}
				l.setLeader(false, true)
			case <-l.ctx.Done():
				return
			}
		}
	}
}

// step makes sure the latch has a node and checks its place: leader if
// first, else it watches the node ahead. It returns a channel that tells of
// the next change to look at.
func (l *Latch) step() (<-chan client.Event, error) {
	l.mu.Lock()
	ours := l.ourPath
	l.mu.Unlock()
	var children []string
	if ours == "" {
		// The listing rides behind the create (one round trip; Curator
		// sends getChildren once the create's reply is in).
		p, _, kids, err := l.c.CreateAndChildren(l.ctx, l.path+"/"+latchName, []byte(l.id),
			client.WithMode(client.EphemeralSequential), client.WithProtection(), client.WithParentsAsContainers())
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		closed := l.closed
		if !closed {
			l.ourPath = p
		}
		l.mu.Unlock()
		if closed {
			l.c.DeleteGuaranteed(context.WithoutCancel(l.ctx), p, -1)
			return nil, ErrClosed
		}
		ours, children = p, kids
	}
	if children == nil {
		var err error
		children, err = l.c.Children(l.ctx, l.path)
		if err != nil && !errors.Is(err, client.ErrNoNode) {
			return nil, err
		}
	}
	sortLatch(children)
	name := ours[strings.LastIndexByte(ours, '/')+1:]
	i := slices.Index(children, name)
	switch {
	case i < 0:
		// Our node is gone (session lost): join again with a new one.
		l.setLeader(false, true)
		l.mu.Lock()
		l.ourPath = ""
		l.mu.Unlock()
		return closedEvents, nil
	case i == 0:
		// The listing just showed our node first: lead, then watch our
		// node so that its deletion ends the leadership (Curator watches
		// nothing here; leading first keeps the watch's round trip out
		// of the handover).
		l.setLeader(true, true)
		st, w, err := l.c.ExistsW(l.ctx, ours)
		if err != nil {
			// Unwatched, the leadership could outlive the node; when
			// closing, Close ends it as it was asked to.
			if l.ctx.Err() == nil {
				l.setLeader(false, true)
			}
			return nil, err
		}
		if st == nil {
			l.setLeader(false, true)
			return closedEvents, nil
		}
		return w, nil
	default:
		l.setLeader(false, true)
		_, _, w, err := l.c.GetW(l.ctx, l.path+"/"+children[i-1])
		if errors.Is(err, client.ErrNoNode) {
			return closedEvents, nil
		}
		return w, err
	}
}

// closedEvents makes the loop look again at once; it is never written.
var closedEvents = func() chan client.Event { c := make(chan client.Event); close(c); return c }()

// sortLatch orders latch nodes by sequence number, as Curator's
// LockInternals.getSortedChildren with the latch- name.
func sortLatch(children []string) {
	slices.SortStableFunc(children, func(a, b string) int {
		return strings.Compare(sortKey(a, latchName), sortKey(b, latchName))
	})
}

func sortKey(s, name string) string {
	if i := strings.LastIndex(s, name); i >= 0 {
		return s[i+len(name):]
	}
	return s
}

// Participant is one member of an election (Curator's Participant).
type Participant struct {
	ID     string // the participant's id: its node's data
	Leader bool   // first in line
}

// Participants returns the members of the election in line order, the
// leader first (Curator's getParticipants).
func (l *Latch) Participants(ctx context.Context) ([]Participant, error) {
	return participants(ctx, l.c, l.path, latchName)
}

// Leader returns the current leader, or the zero Participant if there is
// none (Curator's getLeader).
func (l *Latch) Leader(ctx context.Context) (Participant, error) {
	return first(participants(ctx, l.c, l.path, latchName))
}

func first(p []Participant, err error) (Participant, error) {
	if err != nil || len(p) == 0 {
		return Participant{}, err
	}
	return p[0], nil
}

// participants reads the ids of the nodes at path named with name, in
// order; nodes that vanish meanwhile are left out.
func participants(ctx context.Context, c *client.Conn, path, name string) ([]Participant, error) {
	children, err := c.Children(ctx, path)
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(children, func(a, b string) int {
		return strings.Compare(sortKey(a, name), sortKey(b, name))
	})
	var out []Participant
	for _, ch := range children {
		data, _, err := c.Get(ctx, path+"/"+ch)
		if errors.Is(err, client.ErrNoNode) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Participant{ID: string(data), Leader: len(out) == 0})
	}
	return out, nil
}
