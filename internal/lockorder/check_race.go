//go:build race

package lockorder

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"sync"
)

// Enabled reports whether lock order is checked in this build.
const Enabled = true

// Checker tracks the ranked locks each goroutine holds. Its methods are
// safe for concurrent use; a nil Checker checks nothing.
type Checker struct {
	mu   sync.Mutex
	held map[uint64][]*Rank // goroutine id → ranks held, in lock order
}

// NewChecker returns a Checker.
func NewChecker() *Checker { return &Checker{held: make(map[uint64][]*Rank)} }

func (c *Checker) acquire(r *Rank) {
	if c == nil || r == nil {
		return
	}
	g := goid()
	c.mu.Lock()
	held := c.held[g]
	for _, h := range held {
		if h.Level >= r.Level {
			c.mu.Unlock()
			panic(fmt.Sprintf("lockorder: taking %s (level %d) while holding %s (level %d)", r.Name, r.Level, h.Name, h.Level))
		}
	}
	c.held[g] = append(held, r)
	c.mu.Unlock()
}

func (c *Checker) release(r *Rank) {
	if c == nil || r == nil {
		return
	}
	g := goid()
	c.mu.Lock()
	defer c.mu.Unlock()
	held := c.held[g]
	for i := len(held) - 1; i >= 0; i-- {
		if held[i] == r {
			held = append(held[:i], held[i+1:]...)
			break
		}
	}
	if len(held) == 0 {
		delete(c.held, g)
	} else {
		c.held[g] = held
	}
}

// goid returns the current goroutine's id, read from its stack header
// ("goroutine 123 [running]:"). Slow, hence race builds only.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic("lockorder: cannot read goroutine id from " + strconv.Quote(string(buf[:])))
	}
	return id
}
