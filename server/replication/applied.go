package replication

import (
	"container/heap"
	"context"
	"sync"
)

// appliedWaiters runs callbacks once the FSM has applied a log index. The
// apply goroutine calls advance after each batch; callbacks run there, so
// they must not block.
type appliedWaiters struct {
	mu      sync.Mutex
	applied uint64     // guarded by mu; the index last passed to advance
	heap    waiterHeap // guarded by mu
	closed  error      // guarded by mu; set by close
}

type appliedWaiter struct {
	index uint64
	fn    func(error)
}

type waiterHeap []appliedWaiter

func (h waiterHeap) Len() int           { return len(h) }
func (h waiterHeap) Less(i, j int) bool { return h[i].index < h[j].index }
func (h waiterHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waiterHeap) Push(x any)        { *h = append(*h, x.(appliedWaiter)) }
func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

// when calls fn(nil) once index is applied (at once if it already is), or
// fn(err) when the waiters are closed first.
func (w *appliedWaiters) when(index uint64, fn func(error)) {
	w.mu.Lock()
	if err := w.closed; err != nil {
		w.mu.Unlock()
		fn(err)
		return
	}
	if index <= w.applied {
		w.mu.Unlock()
		fn(nil)
		return
	}
	heap.Push(&w.heap, appliedWaiter{index, fn})
	w.mu.Unlock()
}

// advance records that index is applied and runs the callbacks due.
func (w *appliedWaiters) advance(index uint64) {
	w.mu.Lock()
	if index > w.applied {
		w.applied = index
	}
	var due []func(error)
	for len(w.heap) > 0 && w.heap[0].index <= w.applied {
		due = append(due, heap.Pop(&w.heap).(appliedWaiter).fn)
	}
	w.mu.Unlock()
	for _, fn := range due {
		fn(nil)
	}
}

// close fails every waiting callback and every later one with err.
func (w *appliedWaiters) close(err error) {
	w.mu.Lock()
	w.closed = err
	h := w.heap
	w.heap = nil
	w.mu.Unlock()
	for _, aw := range h {
		aw.fn(err)
	}
}

// WaitApplied waits until this node's FSM has applied the log entry at
// index (for example a leader's read index, see ReadIndex).
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	ch := make(chan error, 1)
	n.fsm.waiters.when(index, func(err error) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
