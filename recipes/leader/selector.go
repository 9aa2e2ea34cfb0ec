package leader

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/lock"
)

// SelectorOption configures a Selector.
type SelectorOption func(*Selector)

// WithAutoRequeue makes the selector queue again each time the
// take-leadership function returns (Curator's autoRequeue).
func WithAutoRequeue() SelectorOption {
	return func(s *Selector) { s.autoRequeue = true }
}

// Selector runs a function while it leads an election at a path, Curator's
// LeaderSelector with LeaderSelectorListenerAdapter: participants queue on a
// lock.Mutex whose nodes hold their ids, and the holder runs lead. Leadership
// ends when lead returns; lead's context is cancelled on Suspended, Lost, the
// loss of the lock node, Interrupt and Close.
type Selector struct {
	c           *client.Conn
	path, id    string
	lead        func(ctx context.Context) error
	autoRequeue bool

	ctx    context.Context
	cancel context.CancelFunc // ends run
	wg     sync.WaitGroup
	queue  chan struct{} // a requeue request, buffered 1

	mu        sync.Mutex
	started   bool               // guarded by mu
	closed    bool               // guarded by mu
	queued    bool               // guarded by mu: waiting or leading
	leader    bool               // guarded by mu
	interrupt context.CancelFunc // guarded by mu: cancels the running lead
	err       error              // guarded by mu: lead's last error
}

// NewSelector returns a selector at path for participant id that runs lead
// each time it gets leadership (Curator's LeaderSelector with setId(id)).
// An empty id stores the local address, as Curator does.
func NewSelector(c *client.Conn, path, id string, lead func(ctx context.Context) error, opts ...SelectorOption) *Selector {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Selector{c: c, path: path, id: id, lead: lead, ctx: ctx, cancel: cancel, queue: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start queues the selector for leadership; its goroutine runs until Close.
func (s *Selector) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrStarted
	}
	s.started = true
	s.queued = true
	s.queue <- struct{}{}
	s.wg.Add(1)
	go s.run()
	return nil
}

// Requeue queues the selector again after lead returned; it reports false
// if it is already queued or leading (Curator's requeue).
func (s *Selector) Requeue() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.started {
		return false, ErrClosed
	}
	if s.queued {
		return false, nil
	}
	s.queued = true
	select {
	case s.queue <- struct{}{}:
	default: // a request is pending already
	}
	return true, nil
}

// HasLeadership reports whether lead is running.
func (s *Selector) HasLeadership() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader
}

// Err returns the error the last run of lead returned.
func (s *Selector) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Interrupt cancels the context of the running lead, if any (Curator's
// interruptLeadership).
func (s *Selector) Interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.interrupt != nil {
		s.interrupt()
	}
}

// Participants returns the members in line order, the leader first.
func (s *Selector) Participants(ctx context.Context) ([]Participant, error) {
	return participants(ctx, s.c, s.path, "lock-")
}

// Leader returns the current leader, or the zero Participant if there is
// none (Curator's getLeader).
func (s *Selector) Leader(ctx context.Context) (Participant, error) {
	return first(s.Participants(ctx))
}

// Close leaves the election: it cancels lead's context, waits for it to
// return and for the lock to be released.
func (s *Selector) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Selector) run() {
	defer s.wg.Done()
	var opts []lock.Option
	if s.id != "" {
		opts = append(opts, lock.WithData([]byte(s.id)))
	}
	for {
		select {
		case <-s.queue:
		case <-s.ctx.Done():
			return
		}
		for {
			err := s.once(lock.NewMutex(s.c, s.path, opts...))
			if s.ctx.Err() != nil {
				return
			}
			if !s.autoRequeue {
				if err != nil {
					// As Curator: without autoRequeue a failure to get
					// the lock ends the queueing; Requeue starts again.
					s.mu.Lock()
					s.queued = false
					s.mu.Unlock()
				}
				break
			}
			if err != nil {
				select { // do not spin on a persistent error
				case <-time.After(retryPause):
				case <-s.ctx.Done():
					return
				}
			}
		}
	}
}

// once waits for the lock, runs lead while holding it and releases it.
func (s *Selector) once(m *lock.Mutex) error {
	if err := m.Lock(s.ctx); err != nil {
		s.setErr(err)
		return err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	remove := s.c.AddListener(func(st client.State) {
		if st == client.Suspended || st == client.Lost {
			cancel() // LeaderSelectorListenerAdapter's CancelLeadershipException
		}
	})
	var watching sync.WaitGroup
	watching.Add(1)
	go func() { // ends with ctx, cancelled below at the latest
		defer watching.Done()
		select {
		case <-m.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	s.mu.Lock()
	s.leader, s.interrupt = true, cancel
	s.mu.Unlock()

	err := s.lead(ctx)

	s.mu.Lock()
	s.leader, s.interrupt = false, nil
	s.err = err
	if !s.autoRequeue {
		s.queued = false // Requeue may queue again from now on, as in Curator
	}
	s.mu.Unlock()
	remove()
	cancel()
	watching.Wait()
	if uerr := m.Unlock(context.WithoutCancel(s.ctx)); uerr != nil && !errors.Is(uerr, lock.ErrLockLost) {
		return uerr
	}
	return nil
}

func (s *Selector) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}
