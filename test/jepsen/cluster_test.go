package jepsen

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/zkgo/zkgo/internal/netproxy"
)

// Cluster is a replicated ensemble under test, started by a backend on
// 127.0.0.1. Servers are named by index in [0, Size()); the process
// methods act on the test's own processes, by PID. Its methods are safe for
// concurrent use; the backend's constructor registers the cleanup that
// stops everything.
type Cluster interface {
	// Size returns the number of servers (all voters).
	Size() int
	// Addr returns server i's client address.
	Addr(i int) string
	// ConnectString lists every server's client address.
	ConnectString() string
	// Kill sends SIGKILL to server i and waits for it to exit.
	Kill(i int) error
	// Start starts server i, killed before, on its data and returns once
	// it answers on its client port (not once it serves).
	Start(ctx context.Context, i int) error
	// Pause stops server i with SIGSTOP; Resume continues it.
	Pause(i int) error
	Resume(i int) error
	// Cut drops the peer links between servers i and j, both ways, and
	// refuses new ones until Heal.
	Cut(i, j int)
	Heal(i, j int)
	// Mode returns server i's srvr Mode ("leader", "follower",
	// "observer") or "" when it does not serve.
	Mode(i int) string
	// WaitServing waits until every running, unpaused server serves and
	// one of them leads.
	WaitServing(ctx context.Context) error
}

// backend starts a cluster of n voters for t, or skips t with the reason
// its server is unavailable.
type backend func(t *testing.T, n int) Cluster

// backends are the clusters the fault test can run against.
var backends = map[string]backend{
	"apache": startApache,
	"zkgo":   startZkgo,
}

// backendEnv selects the backends when -jepsen.backend is not given.
const backendEnv = "ZKGO_JEPSEN_BACKEND"

// defaultBackends run when neither -jepsen.backend nor ZKGO_JEPSEN_BACKEND
// names any: both servers pass the same test.
const defaultBackends = "zkgo,apache"

// eachBackend runs fn as a subtest for every backend chosen by
// -jepsen.backend, or ZKGO_JEPSEN_BACKEND, or defaultBackends (a
// comma-separated list), with a function that starts a cluster of n voters.
func eachBackend(t *testing.T, fn func(t *testing.T, start func(n int) Cluster)) {
	t.Helper()
	spec := *flagBackend
	if spec == "" {
		spec = os.Getenv(backendEnv)
	}
	if spec == "" {
		spec = defaultBackends
	}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		b, ok := backends[name]
		if !ok {
			names := make([]string, 0, len(backends))
			for k := range backends {
				names = append(names, k)
			}
			sort.Strings(names)
			t.Fatalf("unknown backend %q (-jepsen.backend or %s): have %v", name, backendEnv, names)
		}
		t.Run(name, func(t *testing.T) {
			fn(t, func(n int) Cluster {
				t.Helper()
				t.Logf("backend %s, %d servers", name, n)
				return b(t, n)
			})
		})
	}
}

// peerLinks puts a cuttable proxy on every peer link of an ensemble: the
// zoo.cfg of server i names, for each other server j, the addresses of
// proxies that forward to j's peer ports (route), so that cutting i→j and
// j→i isolates the pair whichever side dials. A backend whose servers
// also dial addresses they learn from each other must route those through
// the proxies too (see announceVia). Its methods are safe for concurrent
// use.
type peerLinks struct {
	mu      sync.Mutex
	proxies map[[2]int][]*netproxy.Proxy // by {from, to}; guarded by mu
}

func newPeerLinks() *peerLinks {
	return &peerLinks{proxies: make(map[[2]int][]*netproxy.Proxy)}
}

// route starts a proxy through which server from reaches addr of server
// to, and returns its address; rw, if set, rewrites the start of every
// stream toward addr.
func (l *peerLinks) route(from, to int, addr string, rw netproxy.Rewriter) (string, error) {
	p, err := netproxy.ListenRewrite(addr, rw)
	if err != nil {
		return "", fmt.Errorf("proxy for server %d to %s: %w", from, addr, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]int{from, to}
	l.proxies[k] = append(l.proxies[k], p)
	return p.Addr(), nil
}

// via returns the address of the proxy through which server from reaches
// target, a peer address of server to, or "" if there is none.
func (l *peerLinks) via(from, to int, target string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.proxies[[2]int{from, to}] {
		if p.Target() == target {
			return p.Addr()
		}
	}
	return ""
}

// Cut cuts the links between i and j, both ways.
func (l *peerLinks) Cut(i, j int) { l.each(i, j, (*netproxy.Proxy).Cut) }

// Heal restores the links between i and j, both ways.
func (l *peerLinks) Heal(i, j int) { l.each(i, j, (*netproxy.Proxy).Heal) }

func (l *peerLinks) each(i, j int, f func(*netproxy.Proxy)) {
	l.mu.Lock()
	ps := slices.Concat(l.proxies[[2]int{i, j}], l.proxies[[2]int{j, i}])
	l.mu.Unlock()
	for _, p := range ps {
		f(p)
	}
}

// close stops every proxy.
func (l *peerLinks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ps := range l.proxies {
		for _, p := range ps {
			p.Close()
		}
	}
}
