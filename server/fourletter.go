package server

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zkgo/zkgo/config"
)

// Version is the version zkgo reports. The "3.8.0-" prefix keeps tools that
// parse Apache ZooKeeper's version line (zktop, zkServer.sh) working.
const Version = "3.8.0-zkgo-0.1.0"

// notServing is Apache's answer to most words while the server cannot serve
// clients (starting, stopping, or an ensemble member without a leader).
const notServing = "This ZooKeeper instance is not currently serving requests"

// telnetClose is the sequence telnet sends when it closes a connection.
// Apache knows it as the command "telnet close": refused by a whitelist like
// any word, otherwise the connection is just closed.
const telnetClose = "\xff\xf4\xff\xfd"

// sessionlessCnxnTimeout is Apache's zookeeper.nio.sessionlessCnxnTimeout
// default (ms): how long a connection without a session lives, and the
// bucket width of the connection expiry queue that dump shows.
const sessionlessCnxnTimeout = 10000

// fourLetterName returns the command name of the first four bytes of a
// connection, and whether they are a four-letter word at all.
func fourLetterName(word string) (string, bool) {
	if word == telnetClose {
		return "telnet close", true
	}
	for _, w := range config.FourLetterWords() {
		if w == word {
			return w, true
		}
	}
	return "", false
}

// isFourLetterWord reports whether the first four bytes of a connection are
// a four-letter word rather than the length of a connect request.
func (s *Server) isFourLetterWord(b [4]byte) bool {
	_, ok := fourLetterName(string(b[:]))
	return ok
}

// serveFourLetter answers a four-letter word and returns; the caller closes.
// Like Apache, the word counts as a packet received and the connection is
// listed by stat and cons while it is answered.
func (s *Server) serveFourLetter(c *conn, word string, r *bufio.Reader) {
	name, _ := fourLetterName(word)
	s.stats.received.Add(1)
	c.mu.Lock()
	c.recv++
	c.mu.Unlock()
	s.stats.addWordConn(c, true)
	defer s.stats.addWordConn(c, false)
	// Unlist the connection before the caller closes it, as Apache removes
	// it before closing the socket: a client that saw the answer end never
	// finds this connection in the next word's answer.
	defer s.forget(c)

	var b strings.Builder
	switch {
	case !s.opts.fourLetter.Contains(name):
		fmt.Fprintf(&b, "%s is not executed because it is not in the whitelist.\n", name)
	case name == "telnet close":
		return
	case name == "stmk":
		// The new mask is the 8-byte big-endian long after the word; without
		// it Apache fails the read and closes without an answer.
		var mask [8]byte
		c.nc.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return
		}
		m := int64(binary.BigEndian.Uint64(mask[:]))
		s.stats.setTraceMask(m)
		b.WriteString(strconv.FormatInt(m, 10))
	default:
		s.logger.Debug("processing four-letter word", "word", name, "client", c.remote)
		s.fourLetter(&b, name)
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c.nc, b.String())
}

// serving reports whether the server answers clients: not while shutting
// down, nor as an ensemble member that has no ready leader.
func (s *Server) serving() bool {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return false
	}
	switch s.node.State() {
	case "leader":
		return s.leading()
	case "follower", "observer":
		id, _ := s.node.LeaderID()
		return id != ""
	}
	return false
}

// mode is ServerStats.getServerState: standalone, leader, follower,
// observer or read-only.
func (s *Server) mode() string {
	if !s.cfg.Distributed() {
		return "standalone"
	}
	if s.readOnly.Load() && !s.serving() {
		return "read-only"
	}
	switch s.node.State() {
	case "leader":
		return "leader"
	case "observer":
		return "observer"
	}
	if s.cfg.IsObserver() {
		return "observer"
	}
	return "follower"
}

// fourLetter writes the answer to an enabled word.
func (s *Server) fourLetter(b *strings.Builder, word string) {
	switch word {
	case "ruok":
		b.WriteString("imok")
		return
	case "envi":
		b.WriteString("Environment:\n")
		for _, e := range environment() {
			fmt.Fprintf(b, "%s=%s\n", e.key, e.value)
		}
		return
	case "gtmk":
		b.WriteString(strconv.FormatInt(s.stats.getTraceMask(), 10))
		return
	case "isro":
		switch {
		case s.serving():
			b.WriteString("rw")
		case s.readOnly.Load():
			b.WriteString("ro")
		default:
			b.WriteString("null")
		}
		return
	case "hash":
		// Apache lists "<zxid hex>: <tree digest>" for every 128th zxid;
		// zkgo keeps no digest log, so the list is empty (as on an Apache
		// server that has applied fewer than 128 txns).
		if !s.serving() {
			b.WriteString(notServing)
		}
		return
	}
	if !s.serving() && !s.readOnly.Load() {
		b.WriteString(notServing + "\n")
		return
	}
	switch word {
	case "srvr":
		s.writeStat(b, false)
	case "stat":
		s.writeStat(b, true)
	case "srst":
		s.stats.reset()
		b.WriteString("Server stats reset.\n")
	case "crst":
		for _, cs := range s.connSnapshots() {
			cs.c.resetStats()
		}
		b.WriteString("Connection stats reset.\n")
	case "cons":
		for _, cs := range s.connSnapshots() {
			cs.describe(b, false)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	case "conf":
		s.writeConf(b)
	case "dirs":
		snapDir, logDir := s.storageDirs()
		fmt.Fprintf(b, "datadir_size: %d\nlogdir_size: %d\n", dirSize(snapDir), dirSize(logDir))
	case "mntr":
		for _, kv := range s.monitorValues() {
			fmt.Fprintf(b, "zk_%s\t%s\n", kv.key, kv.value)
		}
	case "wchs":
		v := s.watchView(s.connSnapshots())
		paths, total := 0, 0
		for _, ids := range v.byPath() {
			paths++
			total += len(ids)
		}
		fmt.Fprintf(b, "%d connections watching %d paths\nTotal watches:%d\n", len(v.data), paths, total)
	case "wchc":
		v := s.watchView(s.connSnapshots())
		for _, id := range sortedIDs(v.data) {
			fmt.Fprintf(b, "%s\n", sessionHex(id))
			for _, p := range v.data[id] {
				fmt.Fprintf(b, "\t%s\n", p)
			}
		}
		b.WriteString("\n")
	case "wchp":
		byPath := s.watchView(s.connSnapshots()).byPath()
		for _, p := range sortedKeys(byPath) {
			fmt.Fprintf(b, "%s\n", p)
			for _, id := range byPath[p] {
				fmt.Fprintf(b, "\t%s\n", sessionHex(id))
			}
		}
		b.WriteString("\n")
	case "dump":
		s.writeDump(b)
	}
}

// writeStat writes srvr (and, with clients, stat): StatCommand's layout.
func (s *Server) writeStat(b *strings.Builder, withClients bool) {
	fmt.Fprintf(b, "Zookeeper version: %s\n", fullVersion())
	conns := s.connSnapshots()
	if withClients {
		b.WriteString("Clients:\n")
		for _, cs := range conns {
			cs.describe(b, true)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	outstanding := 0
	for _, cs := range conns {
		outstanding += cs.queued
	}
	lmin, lavg, lmax := s.stats.latency()
	facts := s.treeFacts(false)
	mode := s.mode()
	fmt.Fprintf(b, "Latency min/avg/max: %d/%s/%d\n", lmin, javaDouble(lavg), lmax)
	fmt.Fprintf(b, "Received: %d\n", s.stats.received.Load())
	fmt.Fprintf(b, "Sent: %d\n", s.stats.sent.Load())
	fmt.Fprintf(b, "Connections: %d\n", len(conns))
	fmt.Fprintf(b, "Outstanding: %d\n", outstanding)
	fmt.Fprintf(b, "Zxid: 0x%x\n", uint64(facts.zxid))
	fmt.Fprintf(b, "Mode: %s\n", mode)
	fmt.Fprintf(b, "Node count: %d\n", facts.nodes)
	if mode == "leader" {
		// zkgo does not measure proposal sizes: Apache's "none yet" value.
		b.WriteString("Proposal sizes last/min/max: -1/-1/-1\n")
	}
}

// describe writes a connection as ServerCnxn.dumpConnectionInfo: brief for
// stat, full (with the session's figures) for cons.
func (cs *connSnapshot) describe(b *strings.Builder, brief bool) {
	fmt.Fprintf(b, " %s[%x](queued=%d,recved=%d,sent=%d", cs.remote, cs.interest, cs.queued, cs.recv, cs.sent)
	if !brief && cs.sessionID != 0 {
		lop := cs.lastOp
		if lop == "" {
			lop = "null" // Java's unset String: no request answered yet
		}
		fmt.Fprintf(b, ",sid=%s,lop=%s,est=%d,to=%d", sessionHex(cs.sessionID), lop, cs.est.UnixMilli(), cs.timeout)
		if cs.lastCxid >= 0 {
			fmt.Fprintf(b, ",lcxid=0x%x", cs.lastCxid)
		}
		// lresp is 0: zkgo does not record when a connection last answered.
		fmt.Fprintf(b, ",lzxid=0x%x,lresp=0,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			uint64(cs.lastZxid), cs.lastLat, cs.minLat, cs.avgLat, cs.maxLat)
	}
	b.WriteString(")")
}

// writeConf writes conf through config.FormatConf with this server's
// storage directories and bound client port.
func (s *Server) writeConf(b *strings.Builder) {
	snapDir, logDir := s.storageDirs()
	st := config.ConfStatus{
		SnapDir:     snapDir,
		LogDir:      logDir,
		DataDirSize: dirSize(snapDir),
		DataLogSize: dirSize(logDir),
	}
	for _, a := range s.Addrs() {
		if _, port, err := splitPort(a.String()); err == nil {
			st.ClientPort = port
			break
		}
	}
	b.WriteString(s.cfg.FormatConf(st))
}

func splitPort(hostPort string) (string, int, error) {
	i := strings.LastIndexByte(hostPort, ':')
	if i < 0 {
		return "", 0, fmt.Errorf("server: no port in %q", hostPort)
	}
	p, err := strconv.Atoi(hostPort[i+1:])
	return hostPort[:i], p, err
}

// writeDump writes dump: the session expiry queue, the ephemerals by
// session and the connection expiry queue, as Apache lays them out.
func (s *Server) writeDump(b *strings.Builder) {
	tick := s.opts.tickTime.Milliseconds()
	deadlines := s.sessionDeadlines()
	b.WriteString("SessionTracker dump:\n")
	s.writeExpiryQueue(b, "Session", tick, len(deadlines), func(add func(time.Time, string)) {
		for id, d := range deadlines {
			add(d, sessionHex(id))
		}
	})

	b.WriteString("ephemeral nodes dump:\n")
	eph := s.treeFacts(true).ephemeralsBySession
	fmt.Fprintf(b, "Sessions with Ephemerals (%d):\n", len(eph))
	for _, id := range sortedIDs(eph) {
		fmt.Fprintf(b, "%s:\n", sessionHex(id))
		for _, p := range eph[id] {
			fmt.Fprintf(b, "\t%s\n", p)
		}
	}

	b.WriteString("Connections dump:\n")
	conns := s.connSnapshots()
	s.writeExpiryQueue(b, "Connections", sessionlessCnxnTimeout, len(conns), func(add func(time.Time, string)) {
		for _, cs := range conns {
			// A connection expires with its session; one without a session
			// after sessionlessCnxnTimeout.
			d, ok := deadlines[cs.sessionID]
			if cs.sessionID == 0 || !ok {
				d = cs.est.Add(sessionlessCnxnTimeout * time.Millisecond)
			}
			add(d, fmt.Sprintf("ip: %s sessionId: %s", cs.remote, sessionHex(cs.sessionID)))
		}
	})
}

// writeExpiryQueue writes an Apache ExpiryQueue dump: elements grouped by
// expiry time rounded up to the next multiple of interval ms (counted from
// the server's start, as Apache counts from its monotonic clock).
func (s *Server) writeExpiryQueue(b *strings.Builder, name string, interval int64, elems int, fill func(add func(time.Time, string))) {
	buckets := map[int64][]string{}
	fill(func(deadline time.Time, elem string) {
		ms := deadline.Sub(s.started).Milliseconds()
		k := ms / interval
		if ms < 0 && ms%interval != 0 {
			k-- // floor
		}
		at := (k + 1) * interval
		buckets[at] = append(buckets[at], elem)
	})
	fmt.Fprintf(b, "%s Sets (%d)/(%d):\n", name, len(buckets), elems)
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		set := buckets[k]
		sort.Strings(set)
		fmt.Fprintf(b, "%d expire at %s:\n", len(set), javaDate(s.started.Add(time.Duration(k)*time.Millisecond)))
		for _, e := range set {
			fmt.Fprintf(b, "\t%s\n", e)
		}
	}
}

// monitorValue is one mntr line.
type monitorValue struct{ key, value string }

// monitorValues returns mntr's lines: the server's version and state, then
// Apache's gauges, counters and summaries in the order Apache prints them.
func (s *Server) monitorValues() []monitorValue {
	conns := s.connSnapshots()
	outstanding := 0
	for _, cs := range conns {
		outstanding += cs.queued
	}
	facts := s.treeFacts(false)
	watches := s.watchView(conns).count()
	lmin, lavg, lmax := s.stats.latency()
	mode := s.mode()
	itoa := func(v int64) string { return strconv.FormatInt(v, 10) }

	out := []monitorValue{{"version", fullVersion()}, {"server_state", mode}}
	if mode != "standalone" {
		out = append(out, monitorValue{"peer_state", peerState(mode)})
		if mode == "observer" {
			id, _ := s.node.Leader()
			if id == "" {
				id = "null"
			}
			out = append(out, monitorValue{"observer_master_id", id})
		}
	}

	// Gauges, registered in ZooKeeperServer.registerMetrics order.
	gauges := map[string]string{
		"avg_latency":                 javaDouble(lavg),
		"max_latency":                 itoa(lmax),
		"min_latency":                 itoa(lmin),
		"packets_received":            itoa(s.stats.received.Load()),
		"packets_sent":                itoa(s.stats.sent.Load()),
		"num_alive_connections":       itoa(int64(len(conns))),
		"outstanding_requests":        itoa(int64(outstanding)),
		"uptime":                      itoa(time.Since(s.started).Milliseconds()),
		"znode_count":                 itoa(int64(facts.nodes)),
		"watch_count":                 itoa(int64(watches)),
		"ephemerals_count":            itoa(int64(facts.ephemerals)),
		"approximate_data_size":       itoa(facts.dataSize),
		"global_sessions":             itoa(int64(facts.sessions)),
		"local_sessions":              "0",
		"open_file_descriptor_count":  itoa(int64(openFDs())),
		"max_file_descriptor_count":   strconv.FormatUint(maxFDs(), 10),
		"connection_drop_probability": javaDouble(0),
		// Response sizes are not measured: Apache's "none yet" value.
		"last_client_response_size":  "-1",
		"max_client_response_size":   "-1",
		"min_client_response_size":   "-1",
		"outstanding_tls_handshake":  "0",
		"auth_failed_count":          itoa(s.stats.authFail.Load()),
		"non_mtls_remote_conn_count": "0",
		"non_mtls_local_conn_count":  "0",
	}
	order := []string{
		"avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent",
		"num_alive_connections", "outstanding_requests", "uptime", "znode_count", "watch_count",
		"ephemerals_count", "approximate_data_size", "global_sessions", "local_sessions",
		"open_file_descriptor_count", "max_file_descriptor_count", "connection_drop_probability",
		"last_client_response_size", "max_client_response_size", "min_client_response_size",
		"outstanding_tls_handshake", "auth_failed_count", "non_mtls_remote_conn_count",
		"non_mtls_local_conn_count",
	}
	if mode != "standalone" {
		gauges["quorum_size"] = itoa(int64(s.cfg.Voters()))
		order = append(order, "quorum_size")
	}
	switch mode {
	case "leader":
		followers, observers := s.syncedLearners()
		for k, v := range map[string]string{
			"learners":                    itoa(int64(followers + observers)),
			"synced_followers":            itoa(int64(followers)),
			"synced_non_voting_followers": "0",
			"synced_observers":            itoa(int64(observers)),
			"pending_syncs":               "0",
			"leader_uptime":               itoa(time.Since(s.started).Milliseconds()),
			"last_proposal_size":          "-1",
			"max_proposal_size":           "-1",
			"min_proposal_size":           "-1",
		} {
			gauges[k] = v
		}
		order = append(order, "learners", "synced_followers", "synced_non_voting_followers",
			"synced_observers", "pending_syncs", "leader_uptime", "last_proposal_size",
			"max_proposal_size", "min_proposal_size")
	}
	for _, k := range javaHashOrder(order) {
		out = append(out, monitorValue{k, gauges[k]})
	}
	for _, k := range javaHashOrder(apacheCounters) {
		out = append(out, monitorValue{k, "0"})
	}
	zero := javaDouble(0)
	for _, k := range javaHashOrder(apacheBasicSummaries) {
		out = append(out, monitorValue{"avg_" + k, zero}, monitorValue{"min_" + k, "0"},
			monitorValue{"max_" + k, "0"}, monitorValue{"cnt_" + k, "0"}, monitorValue{"sum_" + k, "0"})
	}
	for _, k := range javaHashOrder(apacheSummaries) {
		out = append(out, monitorValue{"avg_" + k, zero}, monitorValue{"min_" + k, "0"},
			monitorValue{"max_" + k, "0"}, monitorValue{"cnt_" + k, "0"}, monitorValue{"sum_" + k, "0"},
			monitorValue{"p50_" + k, "0"}, monitorValue{"p95_" + k, "0"},
			monitorValue{"p99_" + k, "0"}, monitorValue{"p999_" + k, "0"})
	}
	if mode == "leader" {
		// Apache's per-learner summary sets, keyed "<sid>_", for every
		// learner that connected since the election.
		var sids []string
		for id := range s.node.Peers() {
			sids = append(sids, id)
		}
		sids = javaHashOrder(sids)
		for _, sid := range sids {
			k := sid + "_learner_handler_qp_size"
			out = append(out, monitorValue{"avg_" + k, zero}, monitorValue{"min_" + k, "0"},
				monitorValue{"max_" + k, "0"}, monitorValue{"cnt_" + k, "0"}, monitorValue{"sum_" + k, "0"})
		}
		for _, sid := range sids {
			k := sid + "_learner_handler_qp_time_ms"
			out = append(out, monitorValue{"avg_" + k, zero}, monitorValue{"min_" + k, "0"},
				monitorValue{"max_" + k, "0"}, monitorValue{"cnt_" + k, "0"}, monitorValue{"sum_" + k, "0"},
				monitorValue{"p50_" + k, "0"}, monitorValue{"p95_" + k, "0"},
				monitorValue{"p99_" + k, "0"}, monitorValue{"p999_" + k, "0"})
		}
	}
	return out
}

// syncedLearners counts the followers and observers a leader heard from
// within syncLimit ticks, as Apache counts the learners it is synced with.
func (s *Server) syncedLearners() (followers, observers int) {
	voter := make(map[string]bool)
	for _, sv := range s.node.Servers() {
		voter[sv.ID] = sv.Voter
	}
	limit := s.opts.tickTime * time.Duration(max(s.cfg.SyncLimit, 2))
	for id, seen := range s.node.Peers() {
		if time.Since(seen) > limit {
			continue
		}
		if voter[id] {
			followers++
		} else {
			observers++
		}
	}
	return followers, observers
}

// peerState is QuorumPeer.getDetailedPeerState of a server in broadcast.
func peerState(mode string) string {
	switch mode {
	case "leader":
		return "leading - broadcast"
	case "observer":
		return "observing - broadcast"
	}
	return "following - broadcast"
}
