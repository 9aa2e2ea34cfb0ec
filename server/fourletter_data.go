package server

import (
	"path/filepath"
	"sort"
	"time"
)

// This file gathers, under the owners' locks, the state the four-letter
// words report. Each gatherer takes one lock at a time (never two nested), so
// it cannot upset the server's lock order.

// connSnapshot is what the four-letter words show of one connection.
type connSnapshot struct {
	c         *conn
	remote    string // "/ip:port", as Java prints a socket address
	est       time.Time
	sessionID int64 // 0 until the handshake bound a session
	timeout   int32 // negotiated session timeout, ms
	interest  int   // Java NIO interest ops: 0 for a four-letter word, 1 read, 4 write
	queued    int   // requests received and not yet answered
	recv      int64
	sent      int64
	lastOp    string
	lastCxid  int32
	lastZxid  int64
	lastLat   int64
	minLat    int64
	avgLat    int64
	maxLat    int64
}

// connSnapshots returns every open connection, including the ones answering
// a four-letter word (Apache lists those too), oldest first.
func (s *Server) connSnapshots() []connSnapshot {
	s.mu.Lock()
	out := make([]connSnapshot, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, connSnapshot{c: c, remote: javaSocketAddr(c.remote), est: c.est})
	}
	// A conn's session fields are written before bind publishes it in
	// bySession under s.mu, so reading them through the map is race-free.
	bound := make(map[*conn]int64, len(s.bySession))
	for id, c := range s.bySession {
		bound[c] = id
	}
	s.mu.Unlock()
	for i := range out {
		cs := &out[i]
		c := cs.c
		if id, ok := bound[c]; ok {
			cs.sessionID, cs.timeout = id, c.timeout
		}
		word := s.stats.isWordConn(c)
		c.mu.Lock()
		cs.queued = len(c.calls)
		cs.recv, cs.sent = c.recv, c.sent
		cs.lastOp = c.lastOp
		cs.lastCxid, cs.lastZxid = c.lastCxid, c.lastZxid
		cs.lastLat, cs.minLat, cs.maxLat = c.lastLat, c.latMin, c.latMax
		if c.latCount > 0 {
			cs.avgLat = c.latSum / c.latCount
		}
		pending := len(c.out) > 0
		c.mu.Unlock()
		switch {
		case word:
			cs.interest = 0
		case pending:
			cs.interest = 1 | 4
		default:
			cs.interest = 1
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].est.Equal(out[j].est) {
			return out[i].est.Before(out[j].est)
		}
		return out[i].remote < out[j].remote
	})
	return out
}

// resetConnStats is crst for one connection: Apache's ServerCnxn.resetStats.
func (c *conn) resetStats() {
	c.mu.Lock()
	c.recv, c.sent = 0, 0
	c.latMin, c.latMax, c.latSum, c.latCount = 0, 0, 0, 0
	c.lastOp, c.lastCxid, c.lastZxid, c.lastLat = "NA", -1, -1, 0
	c.mu.Unlock()
}

// watchView is the server's watches as Apache's DataTree holds them: a data
// watch manager (getData/exists watches, plus persistent and recursive ones)
// and a child watch manager (getChildren watches, plus persistent and
// recursive ones). wchs, wchc and wchp show the data manager only.
type watchView struct {
	data  map[int64][]string // session → sorted paths
	child map[int64][]string
}

// watches gathers the watches of the given connections.
func (s *Server) watchView(conns []connSnapshot) watchView {
	v := watchView{data: map[int64][]string{}, child: map[int64][]string{}}
	for _, cs := range conns {
		if cs.sessionID == 0 {
			continue
		}
		data, child := map[string]bool{}, map[string]bool{}
		for _, k := range s.watches.watchesOf(cs.c) {
			switch k.kind {
			case watchData:
				data[k.path] = true
			case watchChild:
				child[k.path] = true
			default: // persistent and recursive watches are in both managers
				data[k.path] = true
				child[k.path] = true
			}
		}
		if len(data) > 0 {
			v.data[cs.sessionID] = sortedKeys(data)
		}
		if len(child) > 0 {
			v.child[cs.sessionID] = sortedKeys(child)
		}
	}
	return v
}

// count returns the number of watches (mntr zk_watch_count).
func (v watchView) count() int {
	n := 0
	for _, p := range v.data {
		n += len(p)
	}
	for _, p := range v.child {
		n += len(p)
	}
	return n
}

// byPath inverts the data manager: path → sorted sessions.
func (v watchView) byPath() map[string][]int64 {
	out := map[string][]int64{}
	for id, paths := range v.data {
		for _, p := range paths {
			out[p] = append(out[p], id)
		}
	}
	for _, ids := range out {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedIDs[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// sessionDeadlines returns when each tracked session expires if not touched.
func (s *Server) sessionDeadlines() map[int64]time.Time {
	t := s.tracker
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int64]time.Time, len(t.sessions))
	for id, ts := range t.sessions {
		out[id] = ts.deadline
	}
	return out
}

// treeFacts are the database figures srvr and mntr report.
type treeFacts struct {
	zxid       int64
	nodes      int
	dataSize   int64
	ephemerals int
	sessions   int
	// ephemeralsBySession holds each session's ephemeral paths, sorted.
	ephemeralsBySession map[int64][]string
}

func (s *Server) treeFacts(withEphemerals bool) treeFacts {
	s.db.mu.RLock()
	defer s.db.mu.RUnlock()
	f := treeFacts{
		zxid:       s.db.zxid,
		nodes:      s.db.tree.NodeCount(),
		dataSize:   s.db.tree.ApproximateDataSize(),
		ephemerals: s.db.tree.EphemeralCount(),
		sessions:   len(s.db.sessions),
	}
	if withEphemerals {
		f.ephemeralsBySession = map[int64][]string{}
		for id, p := range s.db.tree.AllEphemerals() {
			f.ephemeralsBySession[id] = append(f.ephemeralsBySession[id], p)
		}
	}
	return f
}

// storageDirs returns the directories conf and dirs report: where zkgo keeps
// its snapshots and its log (see replicationConfig), in place of Apache's
// <dataDir>/version-2 and <dataLogDir>/version-2.
func (s *Server) storageDirs() (snapDir, logDir string) {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	return filepath.Join(abs(s.cfg.DataDir), "zkgo"), filepath.Join(abs(s.cfg.TxnLogDir()), "zkgo")
}
