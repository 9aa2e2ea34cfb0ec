package server

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Version is the version zkgo reports. The "3.8.0-" prefix keeps tools that
// parse Apache ZooKeeper's version line (zktop, zkServer.sh) working.
const Version = "3.8.0-zkgo-0.1.0"

var fourLetterWords = map[string]bool{
	"ruok": true, "srvr": true, "stat": true, "mntr": true, "conf": true, "cons": true,
	"crst": true, "envi": true, "srst": true, "wchs": true, "wchc": true, "wchp": true,
	"dump": true, "dirs": true, "isro": true, "gtmk": true, "stmk": true, "hash": true,
}

// isFourLetterWord reports whether the first four bytes of a connection are
// a four-letter word rather than the length of a connect request.
func (s *Server) isFourLetterWord(b [4]byte) bool { return fourLetterWords[string(b[:])] }

// serveFourLetter answers a four-letter word and returns; the caller closes.
func (s *Server) serveFourLetter(c *conn, word string, r *bufio.Reader) {
	if word == "stmk" {
		var mask [8]byte
		io.ReadFull(r, mask[:])
	}
	var b strings.Builder
	if !s.opts.fourLetter.Contains(word) {
		fmt.Fprintf(&b, "%s is not executed because it is not in the whitelist.\n", word)
	} else {
		s.fourLetter(&b, word, c)
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c.nc, b.String())
}

func (s *Server) mode() string {
	if len(s.cfg.Servers) <= 1 {
		return "standalone"
	}
	switch s.node.State() {
	case "leader":
		return "leader"
	case "observer", "nonvoter":
		return "observer"
	}
	return "follower"
}

func (s *Server) fourLetter(b *strings.Builder, word string, self *conn) {
	switch word {
	case "ruok":
		b.WriteString("imok")
	case "isro":
		b.WriteString("rw")
	case "srvr":
		s.writeStat(b, false)
	case "stat":
		s.writeStat(b, true)
	case "srst":
		s.stats.reset()
		b.WriteString("Server stats reset.\n")
	case "crst":
		for _, c := range s.connList() {
			c.resetStats()
		}
		b.WriteString("Connection stats reset.\n")
	case "cons":
		for _, c := range s.connList() {
			b.WriteString(c.describe(true))
			b.WriteString("\n")
		}
		b.WriteString("\n")
	case "conf":
		s.writeConf(b)
	case "envi":
		s.writeEnv(b)
	case "mntr":
		s.writeMonitor(b)
	case "wchs":
		paths, watches := s.watches.counts()
		conns := 0
		for _, c := range s.connList() {
			if len(s.watches.watchesOf(c)) > 0 {
				conns++
			}
		}
		fmt.Fprintf(b, "%d connections watching %d paths\nTotal watches:%d\n", conns, paths, watches)
	case "wchc":
		for _, c := range s.connList() {
			keys := s.watches.watchesOf(c)
			if len(keys) == 0 {
				continue
			}
			fmt.Fprintf(b, "%s\n", sessionHex(c.sessionID))
			seen := map[string]bool{}
			var paths []string
			for _, k := range keys {
				if !seen[k.path] {
					seen[k.path] = true
					paths = append(paths, k.path)
				}
			}
			sort.Strings(paths)
			for _, p := range paths {
				fmt.Fprintf(b, "\t%s\n", p)
			}
		}
	case "wchp":
		byPath := s.watches.byPath()
		paths := make([]string, 0, len(byPath))
		for p := range byPath {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			fmt.Fprintf(b, "%s\n", p)
			for _, w := range byPath[p] {
				if c, ok := w.(*conn); ok {
					fmt.Fprintf(b, "\t%s\n", sessionHex(c.sessionID))
				}
			}
		}
	case "dump":
		s.writeDump(b)
	case "dirs":
		fmt.Fprintf(b, "datadir_size: %d\nlogdir_size: %d\n", dirSize(s.cfg.DataDir), dirSize(s.logDir()))
	case "gtmk", "stmk":
		b.WriteString("0\n")
	case "hash":
		b.WriteString("")
	}
}

func (s *Server) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if c.sessionID != 0 {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].remote < out[j].remote })
	return out
}

func (s *Server) writeStat(b *strings.Builder, withClients bool) {
	fmt.Fprintf(b, "Zookeeper version: %s, built on %s\n", Version, buildDate)
	if withClients {
		b.WriteString("Clients:\n")
		for _, c := range s.connList() {
			b.WriteString(c.describe(false))
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	lmin, lavg, lmax := s.stats.latency()
	fmt.Fprintf(b, "Latency min/avg/max: %g/%.4f/%d\n", lmin, lavg, lmax)
	fmt.Fprintf(b, "Received: %d\n", s.stats.received.Load())
	fmt.Fprintf(b, "Sent: %d\n", s.stats.sent.Load())
	fmt.Fprintf(b, "Connections: %d\n", len(s.connList()))
	fmt.Fprintf(b, "Outstanding: %d\n", 0)
	s.db.mu.RLock()
	zxid := s.db.zxid
	nodes := s.db.tree.NodeCount()
	s.db.mu.RUnlock()
	fmt.Fprintf(b, "Zxid: 0x%x\n", zxid)
	fmt.Fprintf(b, "Mode: %s\n", s.mode())
	fmt.Fprintf(b, "Node count: %d\n", nodes)
}

func (s *Server) writeConf(b *strings.Builder) {
	fmt.Fprintf(b, "clientPort=%d\n", s.cfg.ClientPort)
	fmt.Fprintf(b, "dataDir=%s\n", s.cfg.DataDir)
	fmt.Fprintf(b, "dataDirSize=%d\n", dirSize(s.cfg.DataDir))
	fmt.Fprintf(b, "dataLogDir=%s\n", s.logDir())
	fmt.Fprintf(b, "dataLogSize=%d\n", dirSize(s.logDir()))
	fmt.Fprintf(b, "tickTime=%d\n", s.opts.tickTime.Milliseconds())
	fmt.Fprintf(b, "maxClientCnxns=%d\n", s.opts.maxClientCnxns)
	fmt.Fprintf(b, "minSessionTimeout=%d\n", s.opts.minSessionTimeout)
	fmt.Fprintf(b, "maxSessionTimeout=%d\n", s.opts.maxSessionTimeout)
	fmt.Fprintf(b, "clientPortListenBacklog=%d\n", -1)
	fmt.Fprintf(b, "serverId=%d\n", s.opts.serverID)
}

func (s *Server) writeEnv(b *strings.Builder) {
	b.WriteString("Environment:\n")
	fmt.Fprintf(b, "zookeeper.version=%s, built on %s\n", Version, buildDate)
	fmt.Fprintf(b, "go.version=%s\n", runtime.Version())
	fmt.Fprintf(b, "os.name=%s\n", runtime.GOOS)
	fmt.Fprintf(b, "os.arch=%s\n", runtime.GOARCH)
	fmt.Fprintf(b, "os.cpus=%d\n", runtime.NumCPU())
}

func (s *Server) writeMonitor(b *strings.Builder) {
	lmin, lavg, lmax := s.stats.latency()
	s.db.mu.RLock()
	nodes := s.db.tree.NodeCount()
	size := s.db.tree.ApproximateDataSize()
	ephemerals := s.db.tree.EphemeralCount()
	s.db.mu.RUnlock()
	_, watches := s.watches.counts()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	kv := func(k string, v any) { fmt.Fprintf(b, "zk_%s\t%v\n", k, v) }
	kv("version", Version+", built on "+buildDate)
	kv("server_state", s.mode())
	kv("avg_latency", fmt.Sprintf("%.4f", lavg))
	kv("max_latency", lmax)
	kv("min_latency", lmin)
	kv("packets_received", s.stats.received.Load())
	kv("packets_sent", s.stats.sent.Load())
	kv("num_alive_connections", len(s.connList()))
	kv("outstanding_requests", 0)
	kv("uptime", time.Since(s.started).Milliseconds())
	kv("znode_count", nodes)
	kv("watch_count", watches)
	kv("ephemerals_count", ephemerals)
	kv("approximate_data_size", size)
	kv("global_sessions", s.tracker.count())
	kv("local_sessions", 0)
	kv("open_file_descriptor_count", openFDs())
	kv("max_file_descriptor_count", maxFDs())
	kv("auth_failed_count", s.stats.authFail.Load())
	kv("peer_state", peerState(s.mode()))
	kv("txn_count", s.stats.txns.Load())
	kv("expired_sessions", s.stats.expired.Load())
	kv("heap_inuse_bytes", ms.HeapInuse)
}

func peerState(mode string) string {
	switch mode {
	case "leader":
		return "leading - broadcast"
	case "follower":
		return "following - broadcast"
	case "observer":
		return "observing - broadcast"
	}
	return "standalone"
}

func (s *Server) writeDump(b *strings.Builder) {
	b.WriteString("SessionTracker dump:\n")
	s.db.mu.RLock()
	ids := make([]int64, 0, len(s.db.sessions))
	for id := range s.db.sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	fmt.Fprintf(b, "Global Sessions(%d):\n", len(ids))
	for _, id := range ids {
		fmt.Fprintf(b, "%s\t%dms\n", sessionHex(id), s.db.sessions[id].timeout)
	}
	b.WriteString("ephemeral nodes dump:\n")
	fmt.Fprintf(b, "Sessions with Ephemerals (%d):\n", 0)
	for _, id := range ids {
		eph := s.db.tree.Ephemerals(id)
		if len(eph) == 0 {
			continue
		}
		sort.Strings(eph)
		fmt.Fprintf(b, "%s:\n", sessionHex(id))
		for _, p := range eph {
			fmt.Fprintf(b, "\t%s\n", p)
		}
	}
	s.db.mu.RUnlock()
	b.WriteString("Connections dump:\n")
	conns := s.connList()
	fmt.Fprintf(b, "Connections Sets (%d)/(%d):\n", len(conns), len(conns))
	for _, c := range conns {
		fmt.Fprintf(b, "%s\n", sessionHex(c.sessionID))
	}
}

// describe formats a connection as Apache's stat (brief) or cons (full).
func (c *conn) describe(full bool) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	queued := len(c.calls)
	s := fmt.Sprintf(" /%s[1](queued=%d,recved=%d,sent=%d", c.remote, queued, c.recv, c.sent)
	if !full {
		return s + ")"
	}
	avg := int64(0)
	if c.latCount > 0 {
		avg = c.latSum / c.latCount
	}
	s += fmt.Sprintf(",sid=%s,lop=%s,est=%d,to=%d,lcxid=0x%x,lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d)",
		sessionHex(c.sessionID), c.lastOp, c.est.UnixMilli(), c.timeout, uint32(c.lastCxid), uint64(c.lastZxid),
		time.Now().UnixMilli(), c.lastLat, c.latMin, avg, c.latMax)
	return s
}

func (c *conn) resetStats() {
	c.mu.Lock()
	c.recv, c.sent = 0, 0
	c.latMin, c.latMax, c.latSum, c.latCount = 0, 0, 0, 0
	c.mu.Unlock()
}

func (s *Server) logDir() string { return s.cfg.TxnLogDir() }
