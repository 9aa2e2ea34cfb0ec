package server

import (
	"time"

	"github.com/zkgo/zkgo/internal/lockorder"
	"github.com/zkgo/zkgo/proto"
)

// sessionTracker expires sessions whose clients went silent. Only the
// leader expires: it proposes closeSession, which every replica applies.
// A server that becomes leader (or restarts) first gives every session a
// fresh timeout, so no session expires for time it could not be touched.
type sessionTracker struct {
	srv *Server

	mu lockorder.Mutex
	// guarded by mu
	sessions map[int64]*tracked
	// touched are the sessions used since the last report to the leader,
	// when this server does not lead. Guarded by mu.
	touched map[int64]struct{}
}

type tracked struct {
	timeout  time.Duration
	deadline time.Time
	closing  bool // closeSession proposed
}

func newSessionTracker(s *Server) *sessionTracker {
	return &sessionTracker{srv: s, sessions: make(map[int64]*tracked), touched: make(map[int64]struct{})}
}

// add starts tracking a session created by an applied txn.
func (t *sessionTracker) add(id int64, timeoutMs int32) {
	d := time.Duration(timeoutMs) * time.Millisecond
	t.mu.Lock()
	t.sessions[id] = &tracked{timeout: d, deadline: time.Now().Add(d)}
	t.mu.Unlock()
}

// remove stops tracking a closed session.
func (t *sessionTracker) remove(id int64) {
	t.mu.Lock()
	delete(t.sessions, id)
	t.mu.Unlock()
}

// touch extends a session's life by its timeout. It reports false for a
// session that is unknown or already being closed.
func (t *sessionTracker) touch(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id != 0 {
		// Reported to the leader even if this server does not know the
		// session yet: the leader's tracker is the one that counts.
		t.touched[id] = struct{}{}
	}
	s := t.sessions[id]
	if s == nil || s.closing {
		return false
	}
	s.deadline = time.Now().Add(s.timeout)
	return true
}

// takeTouched returns and forgets the sessions touched since the last call.
func (t *sessionTracker) takeTouched() []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.touched) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(t.touched))
	for id := range t.touched {
		ids = append(ids, id)
	}
	clear(t.touched)
	return ids
}

// resetFromDB re-reads every session from the database with a fresh
// deadline (after a restore, a restart or a change of leader).
//
// The database stays read-locked until the new table is in place: applies
// add and remove sessions under its write lock, and one that ran between
// the read and the swap would be lost (a session the tracker never knows
// is never expired, nor touched).
func (t *sessionTracker) resetFromDB() {
	t.srv.db.mu.RLock()
	defer t.srv.db.mu.RUnlock()
	fresh := make(map[int64]*tracked, len(t.srv.db.sessions))
	now := time.Now()
	for id, si := range t.srv.db.sessions {
		d := time.Duration(si.timeout) * time.Millisecond
		fresh[id] = &tracked{timeout: d, deadline: now.Add(d)}
	}
	t.mu.Lock()
	t.sessions = fresh
	t.mu.Unlock()
}

// closing reports whether the session is being expired here (leader).
func (t *sessionTracker) closing(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	return s != nil && s.closing
}

// run expires sessions every half tick while this server is the ready
// leader, and otherwise reports the sessions its clients used to the
// leader every half tick, until the server stops. It follows the leadership signal, not
// raft's state: every time leadership (re)starts, whether or not a flap in
// between was seen, every session first gets a fresh timeout, since no
// server could touch it while there was no leader.
func (t *sessionTracker) run() {
	defer t.srv.wg.Done()
	interval := t.srv.opts.tickTime / 2
	if interval > 250*time.Millisecond {
		interval = 250 * time.Millisecond
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	ready, changed := t.srv.node.Leadership()
	if ready {
		t.resetFromDB()
	}
	for {
		select {
		case <-t.srv.done:
			return
		case <-changed:
			if ready, changed = t.srv.node.Leadership(); ready {
				t.resetFromDB()
				// Claims went to the previous leader: owners are learned
				// anew from the servers' first writes and claims.
				t.srv.owners.reset()
			}
		case <-ticker.C:
			touched := t.takeTouched()
			if ready {
				t.expire(time.Now())
			} else {
				// Only the leader expires sessions: it learns of the
				// clients of other servers from these reports.
				t.srv.node.Touch(touched)
			}
		}
	}
}

// expire proposes closeSession for every session past its deadline. A
// session whose closeSession fails to commit (leadership lost, shutdown) is
// unmarked, so that it can be resumed, and expired again later by whichever
// server leads then.
func (t *sessionTracker) expire(now time.Time) {
	for _, id := range t.expired(now) {
		t.srv.logger.Info("expiring session", "session", sessionHex(id))
		t.srv.stats.expired.Add(1)
		t.srv.proposeFunc(&txn{op: proto.OpCloseSession, sessionID: id}, func(err error) {
			if err != nil {
				t.srv.logger.Warn("expiring session failed", "session", sessionHex(id), "err", err)
				t.unmarkClosing(id)
			}
		})
	}
}

// unmarkClosing makes a session whose closeSession did not commit live
// again, with its deadline as it was (past), so a leader retries.
func (t *sessionTracker) unmarkClosing(id int64) {
	t.mu.Lock()
	if s := t.sessions[id]; s != nil {
		s.closing = false
	}
	t.mu.Unlock()
}

// expired marks and returns the sessions past their deadline.
func (t *sessionTracker) expired(now time.Time) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int64
	for id, s := range t.sessions {
		if !s.closing && now.After(s.deadline) {
			s.closing = true
			out = append(out, id)
		}
	}
	return out
}
