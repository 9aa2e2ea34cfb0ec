package server

import (
	"sync"
	"sync/atomic"
)

// stats are the server-wide counters shown by srvr, stat and mntr.
type stats struct {
	received atomic.Int64 // packets received
	sent     atomic.Int64 // packets sent
	txns     atomic.Int64 // txns applied
	expired  atomic.Int64 // sessions expired
	authFail atomic.Int64

	mu sync.Mutex
	// guarded by mu: request latency in ms, as Apache's ServerStats
	latMin, latMax, latTotal, latCount int64
}

func (s *stats) recordLatency(ms int64) {
	s.mu.Lock()
	if s.latCount == 0 || ms < s.latMin {
		s.latMin = ms
	}
	if ms > s.latMax {
		s.latMax = ms
	}
	s.latTotal += ms
	s.latCount++
	s.mu.Unlock()
}

func (s *stats) latency() (min, avg float64, max int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latCount == 0 {
		return 0, 0, 0
	}
	return float64(s.latMin), float64(s.latTotal) / float64(s.latCount), s.latMax
}

func (s *stats) reset() {
	s.received.Store(0)
	s.sent.Store(0)
	s.mu.Lock()
	s.latMin, s.latMax, s.latTotal, s.latCount = 0, 0, 0, 0
	s.mu.Unlock()
}
