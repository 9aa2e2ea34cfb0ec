package replication

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/raft"
)

// raftTransport is what Open needs from a raft transport: both
// raft.NetworkTransport and raft.InmemTransport provide it.
type raftTransport interface {
	raft.Transport
	raft.WithPreVote
	raft.WithClose
}

// noHeartbeatFastPath wraps every transport a Node uses. hashicorp/raft
// issue #695: a heartbeat handled on the transport's fast path runs outside
// raft's main loop and races with it, which can let logs diverge. Dropping
// the handler makes the transport deliver heartbeats to the main loop like
// any other RPC. Do not remove this: TestHeartbeatFastPathDisabled guards it.
type noHeartbeatFastPath struct {
	raftTransport
	stream *tcpStream // nil for the in-memory transport
}

// stopDialing makes dials in progress and later ones give up at once, so
// that raft's goroutines waiting on a down peer let Shutdown finish.
func (t noHeartbeatFastPath) stopDialing() {
	if t.stream != nil {
		t.stream.quitOnce.Do(func() { close(t.stream.quit) })
	}
}

// SetHeartbeatHandler deliberately does nothing; see the type's comment.
func (noHeartbeatFastPath) SetHeartbeatHandler(func(raft.RPC)) {}

// newTransport returns the transport for cfg: TCP when cfg has a listener or
// a bind address, otherwise in-memory (standalone). addr is the address
// other servers reach this one at.
func newTransport(cfg *Config, log *hclogAdapter) (t noHeartbeatFastPath, addr string, err error) {
	if cfg.Listener == nil && cfg.BindAddr == "" {
		addr = cfg.self().Address
		if addr == "" {
			addr = "inmem:" + cfg.ID
		}
		_, tr := raft.NewInmemTransport(raft.ServerAddress(addr))
		return noHeartbeatFastPath{raftTransport: tr}, addr, nil
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.BindAddr); err != nil {
			return t, "", fmt.Errorf("replication: listen %s: %w", cfg.BindAddr, err)
		}
	}
	stream := &tcpStream{Listener: ln, advertise: ln.Addr(), quit: make(chan struct{})}
	if a := cfg.self().Address; a != "" {
		if stream.advertise, err = net.ResolveTCPAddr("tcp", a); err != nil {
			_ = ln.Close()
			return t, "", fmt.Errorf("replication: server %s address %q: %w", cfg.ID, a, err)
		}
	}
	if ta, ok := stream.advertise.(*net.TCPAddr); !ok || ta.IP == nil || ta.IP.IsUnspecified() {
		_ = ln.Close()
		return t, "", fmt.Errorf("replication: %s is not an address other servers can dial; list this server in Config.Servers", stream.advertise)
	}
	tr := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: 3,
		// No pipelined replication: with it, a follower's refusal (a
		// stale term, a log mismatch) can leave the leader's replication
		// goroutine and the pipeline's decoder waiting on each other for
		// ever, so that the follower gets no more entries and raft's
		// Shutdown never returns (seen in zktest's failover test; the
		// same deadlock is described in grafana/pyroscope#5518). Batching
		// (maxBatch entries per request) carries the throughput instead.
		// TestNoPipelinedReplication guards it.
		MaxRPCsInFlight: 1,
		Timeout:         10 * time.Second,
		Logger:          log.Named("transport"),
	})
	return noHeartbeatFastPath{raftTransport: tr, stream: stream}, stream.advertise.String(), nil
}

// tcpStream is raft's StreamLayer over a listener the Node owns, so tests
// and the server can hand in a listener bound to port 0.
type tcpStream struct {
	net.Listener
	advertise net.Addr
	quit      chan struct{} // closed by stopDialing
	quitOnce  sync.Once
}

// dialRetry is how often Dial tries again a peer that refuses connections.
const dialRetry = 20 * time.Millisecond

// Dial connects to a peer. A peer that refuses the connection (it is down)
// is tried again every dialRetry until timeout, rather than failing at
// once: raft backs off exponentially after each failed RPC to a follower
// (up to seconds), so a follower that restarts would otherwise wait for
// the end of the leader's backoff before it gets a single entry; a dial
// that waits instead connects as soon as the follower listens again.
func (s *tcpStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", string(addr), time.Until(deadline))
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Until(deadline) < dialRetry {
			return c, err
		}
		select {
		case <-s.quit:
			return nil, err
		case <-time.After(dialRetry):
		}
	}
}

func (s *tcpStream) Addr() net.Addr { return s.advertise }
