package cache

import (
	"sync"

	"github.com/zkgo/zkgo/client"
)

// kind is what a notification asks the cache to read again.
type kind uint8

const (
	kindData     kind = iota // the node's data (GetW/ExistsW watch, persistent watch)
	kindChildren             // the node's children (ChildrenW watch)
)

// key names one thing to read again.
type key struct {
	path string
	kind kind
}

// item is a pending notification.
type item struct {
	key
	id    uint64 // the one-shot watch that fired; 0 for a persistent watch
	ended bool   // the watch ended without a change (its session ended)
}

// maxStates bounds the connection states kept pending. Transitions follow
// real connection losses, so the bound is only reached if the cache's
// goroutine is stuck; then the latest state replaces the last one kept.
const maxStates = 16

// inbox collects what the cache's goroutine has to handle: connection
// states, in order, and notifications, coalesced per key in order of first
// arrival. One-shot watches fire at most once each, so their notifications
// are bounded by the watches the cache holds; persistent-watch
// notifications are bounded by limit, past which they are dropped and a
// full re-read is asked for instead. Producers never block.
type inbox struct {
	limit int
	wake  chan struct{} // capacity 1: something arrived

	mu         sync.Mutex
	order      []key        // guarded by mu: keys in order of first arrival, from head
	head       int          // guarded by mu
	items      map[key]item // guarded by mu
	persist    int          // guarded by mu: persistent notifications in items
	states     []client.State
	overflow   bool // guarded by mu: persistent notifications were dropped
	watchEnded bool // guarded by mu: a persistent watch's stream ended
}

func newInbox(limit int) *inbox {
	return &inbox{limit: limit, wake: make(chan struct{}, 1), items: make(map[key]item)}
}

func (b *inbox) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// push adds a notification.
func (b *inbox) push(it item) {
	b.mu.Lock()
	if _, ok := b.items[it.key]; !ok {
		if it.id == 0 {
			if b.overflow {
				b.mu.Unlock()
				return // the coming full read covers it
			}
			if b.persist >= b.limit {
				b.dropPersistLocked()
				b.mu.Unlock()
				b.signal()
				return
			}
			b.persist++
		}
		b.order = append(b.order, it.key)
	}
	b.items[it.key] = it
	b.mu.Unlock()
	b.signal()
}

// dropPersistLocked forgets the persistent notifications and asks for a
// full read. One-shot ones stay: each stands for a watch that is no longer
// armed and must be set again.
func (b *inbox) dropPersistLocked() {
	b.overflow = true
	kept := b.order[:0]
	for _, k := range b.order[b.head:] {
		if b.items[k].id == 0 {
			delete(b.items, k)
		} else {
			kept = append(kept, k)
		}
	}
	clear(b.order[len(kept):])
	b.order, b.head, b.persist = kept, 0, 0
}

// pop returns the oldest notification.
func (b *inbox) pop() (item, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.head == len(b.order) {
		return item{}, false
	}
	k := b.order[b.head]
	b.order[b.head] = key{}
	b.head++
	if b.head == len(b.order) {
		b.order, b.head = b.order[:0], 0
	}
	it := b.items[k]
	delete(b.items, k)
	if it.id == 0 {
		b.persist--
	}
	return it, true
}

// pushState adds a connection state; it is a client.Conn listener, so it
// must not block.
func (b *inbox) pushState(s client.State) {
	b.mu.Lock()
	if len(b.states) < maxStates {
		b.states = append(b.states, s)
	} else {
		b.states[len(b.states)-1] = s
	}
	b.mu.Unlock()
	b.signal()
}

// popState returns the oldest pending connection state.
func (b *inbox) popState() (client.State, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.states) == 0 {
		return 0, false
	}
	s := b.states[0]
	b.states = b.states[1:]
	return s, true
}

// endWatch records that a persistent watch's stream ended.
func (b *inbox) endWatch() {
	b.mu.Lock()
	b.watchEnded = true
	b.mu.Unlock()
	b.signal()
}

// takeFlags returns and clears the overflow and watch-ended flags.
func (b *inbox) takeFlags() (overflow, watchEnded bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	overflow, watchEnded = b.overflow, b.watchEnded
	b.overflow, b.watchEnded = false, false
	return overflow, watchEnded
}
