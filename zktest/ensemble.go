package zktest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/internal/netproxy"
)

// Ensemble is an in-process zkgo ensemble on 127.0.0.1: n servers with
// their own data directories, client ports, raft and cluster ports, as
// zoo.cfg server.N lines would configure them. Servers are named by index
// i in [0, Size()), whose myid is i+1. Its methods must be called from the
// test's goroutine.
type Ensemble struct {
	tb      testing.TB
	servers []*Server
	// links are the proxies through which server from reaches server to's
	// raft and cluster ports, by {from, to}: Partition cuts them.
	links map[[2]int][]*netproxy.Proxy
}

// StartEnsemble starts n voting servers and waits until they serve: one
// leader, the others followers. opts apply to every server (WithTickTime,
// WithConfig, WithLogger); the default tick is 200 ms, so a silent leader
// is replaced within about two seconds and a loaded machine does not make
// followers give up on a live one. Every server reaches the others through
// proxies that Partition can cut. Everything stops when the test ends.
func StartEnsemble(tb testing.TB, n int, opts ...Option) *Ensemble {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("zktest: ensemble of %d servers", n)
	}
	ports := make([]int, 3*n)
	lns := make([]net.Listener, 0, 3*n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("zktest: %v", err)
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	e := &Ensemble{tb: tb, links: make(map[[2]int][]*netproxy.Proxy)}
	// Registered before the servers' cleanups, so it runs after them.
	tb.Cleanup(e.closeLinks)
	via := func(from, to, target int) int {
		p, err := netproxy.Listen(fmt.Sprintf("127.0.0.1:%d", target))
		if err != nil {
			tb.Fatalf("zktest: %v", err)
		}
		e.links[[2]int{from, to}] = append(e.links[[2]int{from, to}], p)
		_, port, _ := net.SplitHostPort(p.Addr())
		v, _ := strconv.Atoi(port)
		return v
	}
	for i := range n {
		var lines []config.Server
		for j := range n {
			quorum, election := ports[3*j+1], ports[3*j+2]
			if j != i {
				quorum, election = via(i, j, quorum), via(i, j, election)
			}
			lines = append(lines, config.Server{ID: int64(j + 1), Host: "127.0.0.1", QuorumPort: quorum, ElectionPort: election})
		}
		cfg := newConfig(tb.TempDir())
		cfg.TickTime = 200 * time.Millisecond
		cfg.InitLimit, cfg.SyncLimit = 10, 5
		cfg.MyID = int64(i + 1)
		cfg.Servers = lines
		o := options{cfg: cfg, logger: testLogger(tb)}
		for _, opt := range opts {
			opt(&o)
		}
		if o.logger != nil {
			o.logger = o.logger.With("myid", i+1)
		}
		e.servers = append(e.servers, &Server{tb: tb, cfg: cfg, log: o.logger, addr: fmt.Sprintf("127.0.0.1:%d", ports[3*i])})
	}
	// The ports stay held until every proxy is bound, so that no proxy
	// takes one of them.
	for _, ln := range lns {
		ln.Close()
	}
	for i, s := range e.servers {
		if err := s.start(s.addr); err != nil {
			tb.Fatalf("zktest: server %d: %v", i+1, err)
		}
		tb.Cleanup(s.Stop)
	}
	e.WaitServing()
	return e
}

// Partition cuts server i off from the other servers (its clients still
// reach it), until Heal.
func (e *Ensemble) Partition(i int) { e.eachLink(i, (*netproxy.Proxy).Cut) }

// Heal undoes Partition(i).
func (e *Ensemble) Heal(i int) { e.eachLink(i, (*netproxy.Proxy).Heal) }

func (e *Ensemble) eachLink(i int, f func(*netproxy.Proxy)) {
	for k, ps := range e.links {
		if k[0] == i || k[1] == i {
			for _, p := range ps {
				f(p)
			}
		}
	}
}

func (e *Ensemble) closeLinks() {
	for _, ps := range e.links {
		for _, p := range ps {
			p.Close()
		}
	}
}

// Size returns the number of servers.
func (e *Ensemble) Size() int { return len(e.servers) }

// Server returns server i.
func (e *Ensemble) Server(i int) *Server { return e.servers[i] }

// ConnectString lists every server's client address, "host:port,...".
func (e *Ensemble) ConnectString() string {
	addrs := make([]string, len(e.servers))
	for i, s := range e.servers {
		addrs[i] = s.Addr()
	}
	return strings.Join(addrs, ",")
}

// Stop stops server i; its data stays for Start.
func (e *Ensemble) Stop(i int) { e.servers[i].Stop() }

// Start starts server i again, stopped before, on its address and data.
func (e *Ensemble) Start(i int) {
	e.tb.Helper()
	s := e.servers[i]
	var err error
	for range 50 {
		if err = s.start(s.Addr()); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // the ports may linger briefly
	}
	e.tb.Fatalf("zktest: starting server %d: %v", i+1, err)
}

// Leader returns the index of the server that leads, or -1.
func (e *Ensemble) Leader() int {
	for i, s := range e.servers {
		if srv := s.Server(); srv != nil && srv.Serving() && srv.Mode() == "leader" {
			return i
		}
	}
	return -1
}

// WaitServing waits (up to a minute) until every running server serves and
// exactly one leads, and fails the test otherwise.
func (e *Ensemble) WaitServing() {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		leaders, waiting := 0, []string{}
		for i, s := range e.servers {
			srv := s.Server()
			if srv == nil {
				continue
			}
			switch {
			case !srv.Serving():
				waiting = append(waiting, fmt.Sprint(i+1))
			case srv.Mode() == "leader":
				leaders++
			}
		}
		if leaders == 1 && len(waiting) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			e.tb.Fatalf("zktest: ensemble not serving after a minute: %d leaders, servers %v waiting", leaders, waiting)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
