package lockorder

import "sync"

// Mutex is a sync.Mutex with a rank. The zero value is an unchecked mutex;
// Init gives it its rank and checker.
type Mutex struct {
	mu   sync.Mutex
	c    *Checker
	rank *Rank
}

// Init sets the rank and the checker (nil: no checks). Call it before the
// mutex is first used.
func (m *Mutex) Init(c *Checker, r *Rank) { m.c, m.rank = c, r }

// Lock locks m, after checking the order in race builds.
func (m *Mutex) Lock() {
	m.c.acquire(m.rank)
	m.mu.Lock()
}

// Unlock unlocks m.
func (m *Mutex) Unlock() {
	m.mu.Unlock()
	m.c.release(m.rank)
}

// RWMutex is a sync.RWMutex with a rank; read and write locks have the
// same rank.
type RWMutex struct {
	mu   sync.RWMutex
	c    *Checker
	rank *Rank
}

// Init sets the rank and the checker (nil: no checks).
func (m *RWMutex) Init(c *Checker, r *Rank) { m.c, m.rank = c, r }

// Lock write-locks m.
func (m *RWMutex) Lock() {
	m.c.acquire(m.rank)
	m.mu.Lock()
}

// Unlock write-unlocks m.
func (m *RWMutex) Unlock() {
	m.mu.Unlock()
	m.c.release(m.rank)
}

// RLock read-locks m.
func (m *RWMutex) RLock() {
	m.c.acquire(m.rank)
	m.mu.RLock()
}

// RUnlock read-unlocks m.
func (m *RWMutex) RUnlock() {
	m.mu.RUnlock()
	m.c.release(m.rank)
}
