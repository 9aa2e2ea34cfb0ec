package server

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Idle memory release: Go keeps the heap it grew during a burst of writes
// (with GOGC, up to twice the live data) long after the burst. A server
// whose working set is a large, long-lived tree is better off giving that
// back once writes stop, as a JVM's periodic uncommit does.
const (
	idleCheckInterval = 5 * time.Second
	// minReleasable is the heap, free but still held, worth a forced
	// collection to give back.
	minReleasable = 32 << 20
)

// releaseMemoryWhenIdle returns free heap to the OS after a check interval
// with no applied txns. It runs until the server stops.
func (s *Server) releaseMemoryWhenIdle() {
	defer s.wg.Done()
	ticker := time.NewTicker(idleCheckInterval)
	defer ticker.Stop()
	// Held heap (objects dead or alive, free and unused spans) against the
	// live heap of the last collection: the difference is what a forced
	// collection and release could give back.
	held := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	last := s.stats.txns.Load()
	for {
		select {
		case <-s.done:
			return
		case <-ticker.C:
		}
		now := s.stats.txns.Load()
		idle := now == last
		last = now
		if !idle {
			continue
		}
		metrics.Read(held)
		metrics.Read(live)
		var total uint64
		for _, m := range held {
			if m.Value.Kind() == metrics.KindUint64 {
				total += m.Value.Uint64()
			}
		}
		if live[0].Value.Kind() != metrics.KindUint64 {
			continue
		}
		if spare := int64(total) - int64(live[0].Value.Uint64()); spare >= minReleasable {
			debug.FreeOSMemory()
			s.logger.Debug("released idle heap to the OS", "spare_bytes", spare)
		}
	}
}
