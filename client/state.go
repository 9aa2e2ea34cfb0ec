package client

import (
	"fmt"
	"slices"
	"sync"
)

// State is a connection state as Apache Curator reports it
// (ConnectionState). Transitions are delivered in order through
// Conn.States and listeners added with Conn.AddListener.
type State int

// Connection states.
const (
	// Connected: the first read-write connection was established (a
	// client that started on a read-only server reports ReadOnly first).
	Connected State = iota + 1
	// Suspended: the connection was lost; the session may still be alive
	// and is resumed if a server is reached within the session timeout.
	// Operations wait (up to the connect timeout) and watches are kept.
	Suspended
	// Reconnected: a connection was re-established after Suspended or Lost.
	// After Lost this is a new session (see Conn.SessionID): its ephemeral
	// nodes and watches are gone.
	Reconnected
	// Lost: the session is gone, because the server reported it expired,
	// because the session timeout passed without reaching any server, or
	// because authentication failed. Ephemeral nodes of the session are (or
	// will shortly be) deleted and every watch has received a final event.
	// Unless the Conn is terminally failed, it keeps trying to establish a
	// new session and reports Reconnected when it does.
	Lost
	// ReadOnly: connected to a read-only server (see WithReadOnly). The
	// client looks for a read-write server meanwhile and moves to it by
	// itself (Suspended, then Connected or Reconnected).
	ReadOnly
)

// String returns Curator's name of the state.
func (s State) String() string {
	switch s {
	case Connected:
		return "CONNECTED"
	case Suspended:
		return "SUSPENDED"
	case Reconnected:
		return "RECONNECTED"
	case Lost:
		return "LOST"
	case ReadOnly:
		return "READ_ONLY"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// IsConnected reports whether operations can be served in state s.
func (s State) IsConnected() bool { return s == Connected || s == Reconnected || s == ReadOnly }

// pump is an unbounded FIFO drained by one goroutine (run), so that
// producers such as the receive goroutine never block on a slow consumer.
// Lock order: Conn.mu and watchManager.mu may be held while calling push or
// finish; pump.mu is a leaf.
type pump[T any] struct {
	mu       sync.Mutex
	items    []T  // guarded by mu
	finished bool // guarded by mu: no push after finish
	wake     chan struct{}
}

func newPump[T any]() *pump[T] { return &pump[T]{wake: make(chan struct{}, 1)} }

// push queues v; it reports false if the pump is finished.
func (p *pump[T]) push(v T) bool {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return false
	}
	p.items = append(p.items, v)
	p.mu.Unlock()
	p.signal()
	return true
}

// finish queues last (if withLast) and ends the pump after the queue drains.
func (p *pump[T]) finish(last T, withLast bool) {
	p.mu.Lock()
	if !p.finished {
		if withLast {
			p.items = append(p.items, last)
		}
		p.finished = true
	}
	p.mu.Unlock()
	p.signal()
}

func (p *pump[T]) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run delivers queued items in order with deliver until the pump is
// finished and drained, or abort is closed, or deliver returns false.
func (p *pump[T]) run(abort <-chan struct{}, deliver func(T) bool) {
	for {
		p.mu.Lock()
		if len(p.items) > 0 {
			v := p.items[0]
			p.mu.Unlock()
			if !deliver(v) {
				return
			}
			p.mu.Lock()
			var zero T
			p.items[0] = zero
			p.items = p.items[1:]
			p.mu.Unlock()
			continue
		}
		done := p.finished
		p.mu.Unlock()
		if done {
			return
		}
		select {
		case <-p.wake:
		case <-abort:
			return
		}
	}
}

// runChan delivers into ch, closing it when the pump ends.
func (p *pump[T]) runChan(abort <-chan struct{}, ch chan<- T) {
	defer close(ch)
	p.run(abort, func(v T) bool {
		select {
		case ch <- v:
			return true
		case <-abort:
			return false
		}
	})
}

// listeners holds state callbacks, called in order on the listener pump.
type listeners struct {
	mu    sync.Mutex
	next  int
	fns   map[int]func(State) // guarded by mu
	order []int               // guarded by mu: registration order
}

func (l *listeners) add(fn func(State)) (remove func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fns == nil {
		l.fns = make(map[int]func(State))
	}
	id := l.next
	l.next++
	l.fns[id] = fn
	l.order = append(l.order, id)
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.fns, id)
		if i := slices.Index(l.order, id); i >= 0 {
			l.order = slices.Delete(l.order, i, i+1)
		}
	}
}

// ids returns the registered listeners, in order.
func (l *listeners) ids() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.order)
}

// call calls the listeners among ids that are still registered.
func (l *listeners) call(ids []int, s State) {
	for _, id := range ids {
		l.mu.Lock()
		fn := l.fns[id]
		l.mu.Unlock()
		if fn != nil {
			fn(s)
		}
	}
}

// stateCall is a transition and the listeners registered when it happened.
type stateCall struct {
	state State
	ids   []int
}
