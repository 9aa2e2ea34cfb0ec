package server

import (
	"time"

	"github.com/zkgo/zkgo/proto"
)

// reapContainers deletes, on the leader, containers whose last child went
// and TTL nodes whose time ran out (Apache's ContainerManager), at most
// containerMaxPerMin per minute. Each deletion is a deleteContainer txn that
// re-checks the condition when applied.
func (s *Server) reapContainers() {
	defer s.wg.Done()
	ticker := time.NewTicker(s.opts.containerInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-ticker.C:
		}
		if !s.leading() {
			continue
		}
		now := time.Now().UnixMilli()
		s.db.mu.RLock()
		t := s.db.tree
		czxid := func(p string) int64 {
			if n, ok := t.Get(p); ok {
				return n.Stat().Czxid
			}
			return 0
		}
		// In Apache's order, which the deletions' watch events follow.
		paths := reapOrder(t.EmptyContainers(), t.ExpiredTTLs(now), t.ContainerCount(), t.TTLCount(), czxid)
		czxids := make([]int64, len(paths))
		for i, p := range paths {
			czxids[i] = czxid(p)
		}
		s.db.mu.RUnlock()
		// Spread the deletions over the minute as Apache does.
		gap := time.Minute / time.Duration(s.opts.containerMaxPerMin)
		for i, p := range paths {
			if i > 0 && gap > 0 {
				select {
				case <-s.done:
					return
				case <-time.After(gap):
				}
			}
			t := &txn{op: proto.OpDeleteContainer, path: p, flags: txnReapCheck, czxid: czxids[i]}
			s.proposeFunc(t, func(err error) {
				if err != nil {
					s.logger.Warn("deleting container or expired TTL node failed", "path", p, "err", err)
				}
			})
		}
	}
}
