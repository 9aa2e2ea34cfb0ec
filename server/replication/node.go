package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Node is this server's member of the replication group.
//
// Goroutines: the completion goroutine (complete) waits for raft's futures
// in submission order and runs their callbacks; the leadership watcher
// (watchLeadership) turns raft's leader signal into Leadership; each
// Snapshot call runs one short-lived goroutine. Shutdown waits for them.
type Node struct {
	// Lock order: submitMu, then mu. leadMu is never held with either.

	cfg     Config
	raft    *raft.Raft
	fsm     *fsmAdapter
	trans   noHeartbeatFastPath
	stores  *stores
	address string // this server's raft address

	// submitMu serializes submissions, so that the queue is in the order
	// raft received the requests.
	submitMu sync.Mutex
	mu       sync.Mutex
	queue    []pending // guarded by mu
	closing  bool      // written with submitMu and mu held; read under either
	wake     chan struct{}
	drained  chan struct{} // closed when complete returns

	leadMu      sync.Mutex
	leadGen     uint64        // guarded by leadMu; bumped on every leader signal
	leadReady   bool          // guarded by leadMu
	leaderID    string        // guarded by leadMu; the leader this node follows or is
	unreachable string        // guarded by leadMu; a leader whose cluster port this follower cannot reach
	leadChanged chan struct{} // guarded by leadMu; closed when leadReady or leaderID changes

	// Cluster RPC (network nodes only).
	rpc          *rpcServer        // nil without Config.RPCListener/RPCBindAddr
	rpcAddrs     map[string]string // server id → cluster RPC address
	rpcMu        sync.Mutex
	leaderConn   *leaderConn // guarded by rpcMu; to the current leader
	peersMu      sync.Mutex
	peers        map[string]time.Time // guarded by peersMu: followers heard from since this node last became leader
	failoverMu   sync.Mutex
	fastFailover bool // guarded by failoverMu: heartbeat timeout shortened (failover.go)
	goMu         sync.Mutex
	goStopped    bool // guarded by goMu: goFunc starts nothing more

	stop     chan struct{} // closed by Shutdown after raft stopped
	wg       sync.WaitGroup
	shutOnce sync.Once
	shutErr  error
}

// Open opens (or creates) the log and snapshots in cfg's directories,
// restores the newest snapshot into fsm, bootstraps cfg.Servers if the
// directories are new (unless cfg.Join), and starts raft. A damaged file
// makes Open fail with an error that wraps ErrCorrupt and names it. ctx is
// checked between these steps; restoring a large snapshot is not
// interrupted. Open does not wait for an election; see Leadership. On
// failure cfg.Listener is closed.
func Open(ctx context.Context, cfg Config, fsm FSM) (_ *Node, err error) {
	n := &Node{
		fsm:         &fsmAdapter{fsm: fsm},
		wake:        make(chan struct{}, 1),
		drained:     make(chan struct{}),
		leadChanged: make(chan struct{}),
		stop:        make(chan struct{}),
		peers:       make(map[string]time.Time),
	}
	defer func() {
		if err == nil {
			return
		}
		if n.trans.raftTransport != nil {
			_ = n.trans.Close()
		} else if cfg.Listener != nil {
			_ = cfg.Listener.Close()
		}
		if n.stores != nil {
			_ = n.stores.close()
		}
	}()
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	n.cfg = cfg
	log := newHclogAdapter(cfg.Logger)
	if n.stores, err = openStores(&n.cfg, log, n.fsm); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("replication: open: %w", err)
	}
	if n.trans, n.address, err = newTransport(&n.cfg, log); err != nil {
		return nil, err
	}
	rc := n.raftConfig(log)
	if err := n.bootstrap(rc); err != nil {
		return nil, err
	}
	// The last logCacheSize entries are kept in memory: the leader reads
	// back every entry it sends to a follower, and raft-wal reads each one
	// from its segment file (a pread per entry), which cost a tenth of a
	// loaded ensemble's CPU (BenchmarkEnsembleCreate).
	logs, err := raft.NewLogCache(logCacheSize, n.stores.wal)
	if err != nil {
		return nil, fmt.Errorf("replication: log cache: %w", err)
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, logs, n.stores.wal, n.stores.snaps, n.trans); err != nil {
		return nil, fmt.Errorf("replication: start raft: %w", err)
	}
	if !n.cfg.Join {
		if err := n.checkMembership(); err != nil {
			_ = n.raft.Shutdown().Error() // closes the transport
			n.trans.raftTransport = nil
			return nil, err
		}
	}
	n.rpcAddrs = make(map[string]string)
	for _, srv := range n.cfg.Servers {
		if srv.RPCAddress != "" {
			n.rpcAddrs[srv.ID] = srv.RPCAddress
		}
	}
	if n.cfg.RPCListener != nil || n.cfg.RPCBindAddr != "" {
		ln := n.cfg.RPCListener
		if ln == nil {
			if ln, err = net.Listen("tcp", n.cfg.RPCBindAddr); err != nil {
				_ = n.raft.Shutdown().Error()
				n.trans.raftTransport = nil
				return nil, fmt.Errorf("replication: listen on cluster port %s: %w", n.cfg.RPCBindAddr, err)
			}
		}
		n.rpc = &rpcServer{n: n, ln: ln, conns: make(map[net.Conn]struct{})}
		n.rpc.wg.Add(1)
		go n.rpc.serve()
	}
	go n.complete()
	n.wg.Add(1)
	go n.watchLeadership()
	if n.rpc != nil {
		n.campaignNow()
	}
	return n, nil
}

// goFunc runs fn on a goroutine that Shutdown waits for; it reports false,
// and runs nothing, once the Node is shutting down.
func (n *Node) goFunc(fn func()) bool {
	n.goMu.Lock()
	defer n.goMu.Unlock()
	if n.goStopped {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn()
	}()
	return true
}

// isLeader reports whether raft is in the leader state.
func (n *Node) isLeader() bool { return n.raft.State() == raft.Leader }

// logCacheSize is how many of the newest log entries stay in memory (two
// full batches); like Apache's committedLog (500 proposals) it holds whole
// requests, up to jute.maxbuffer each.
const logCacheSize = 2 * maxBatch

// maxBatch is the most log entries written with one fsync and sent in one
// AppendEntries RPC.
const maxBatch = 512

func (n *Node) raftConfig(log *hclogAdapter) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.ID)
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = n.cfg.CommitTimeout
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.Logger = log.Named("raft")
	// openStores already restored the newest snapshot, and failed on a bad
	// one; raft would instead fall back to an older one.
	rc.NoSnapshotRestoreOnStart = true
	// A removed server stays up (as a server without a vote) until the
	// server shuts the Node down; raft must not stop under its feet.
	rc.ShutdownOnRemove = false
	rc.NoLegacyTelemetry = true
	// Group commit: buffer proposals while the log fsyncs, and write up to
	// maxBatch of them per fsync (raft's default is 64, unbuffered), so
	// throughput under load is bounded by CPU, not by fsyncs.
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = maxBatch
	return rc
}

// bootstrap writes the initial membership on first start only.
func (n *Node) bootstrap(rc *raft.Config) error {
	s := n.stores
	has, err := raft.HasExistingState(s.wal, s.wal, s.snaps)
	if err != nil {
		return fmt.Errorf("replication: %w", err)
	}
	if has || n.cfg.Join {
		return nil
	}
	var conf raft.Configuration
	for _, srv := range n.cfg.Servers {
		addr := srv.Address
		if srv.ID == n.cfg.ID {
			addr = n.address
		}
		suffrage := raft.Nonvoter
		if srv.Voter {
			suffrage = raft.Voter
		}
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: suffrage, ID: raft.ServerID(srv.ID), Address: raft.ServerAddress(addr)})
	}
	if err := raft.BootstrapCluster(rc, s.wal, s.wal, s.snaps, n.trans, conf); err != nil {
		return fmt.Errorf("replication: bootstrap: %w", err)
	}
	return nil
}

// checkMembership compares the membership stored in the log with
// cfg.Servers: a data directory made for other servers (a standalone
// server's, another ensemble's, or before zoo.cfg changed) must be refused,
// never silently joined to the configured servers.
func (n *Node) checkMembership() error {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("replication: reading membership: %w", err)
	}
	stored := f.Configuration().Servers
	want := n.cfg.Servers
	same := len(stored) == len(want)
	for _, w := range want {
		if !same {
			break
		}
		i := slices.IndexFunc(stored, func(s raft.Server) bool { return string(s.ID) == w.ID })
		switch {
		case i < 0, (stored[i].Suffrage == raft.Voter) != w.Voter:
			same = false
		case n.cfg.network() && w.ID != n.cfg.ID && string(stored[i].Address) != w.Address:
			same = false
		}
	}
	if same {
		return nil
	}
	return fmt.Errorf("%w: %s holds the state of servers %s, but the configuration lists %s",
		ErrMembership, n.cfg.LogDir, describeRaftServers(stored), describeServers(want))
}

func describeRaftServers(ss []raft.Server) string {
	out := make([]Server, len(ss))
	for i, s := range ss {
		out[i] = Server{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == raft.Voter}
	}
	return describeServers(out)
}

// describeServers lists servers as "[1 (voter, host:port), 2 (observer)]".
func describeServers(ss []Server) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		role := "voter"
		if !s.Voter {
			role = "observer"
		}
		if s.Address != "" && !strings.HasPrefix(s.Address, "inmem:") {
			role += ", " + s.Address
		}
		parts[i] = s.ID + " (" + role + ")"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Shutdown stops the Node: new requests fail with ErrShutdown, requests
// already submitted are completed (raft keeps running until they are, or
// until ctx ends), then raft stops and the stores close. If ctx ends first,
// callbacks of commands raft had committed but not yet applied may never
// run (those commands are durable and are applied at the next Open), and
// Shutdown returns ctx's error without waiting for the completion goroutine.
// Calling Shutdown again returns the first call's result.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutOnce.Do(func() { n.shutErr = n.shutdown(ctx) })
	return n.shutErr
}

func (n *Node) shutdown(ctx context.Context) error {
	n.submitMu.Lock()
	n.mu.Lock()
	n.closing = true
	n.mu.Unlock()
	n.submitMu.Unlock()
	n.signal()
	if n.rpc != nil {
		n.rpc.close()
	}
	n.closeLeaderConn(ErrShutdown)

	var errs []error
	select {
	case <-n.drained:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("replication: shutdown: %w", ctx.Err()))
	}
	// Raft closes the transport once its goroutines have stopped; those
	// dialing a down peer stop first.
	n.trans.stopDialing()
	if err := n.raft.Shutdown().Error(); err != nil {
		errs = append(errs, fmt.Errorf("replication: shutdown: %w", err))
	}
	if nt, ok := n.trans.raftTransport.(*raft.NetworkTransport); ok {
		nt.CloseStreams() // Close leaves pooled connections open
	}
	close(n.stop)
	n.goMu.Lock()
	n.goStopped = true
	n.goMu.Unlock()
	n.closeLeaderConn(ErrShutdown) // one dialed since is closed too
	n.wg.Wait()
	n.fsm.waiters.close(ErrShutdown)
	n.setLeadership(0, false)
	if err := n.stores.close(); err != nil {
		errs = append(errs, fmt.Errorf("replication: close stores: %w", err))
	}
	return errors.Join(errs...)
}

// watchLeadership follows raft's leader signal. A new leader becomes ready
// only once a barrier has gone through, i.e. every entry of earlier terms is
// applied to the FSM, so the server acts as leader on complete state.
func (n *Node) watchLeadership() {
	defer n.wg.Done()
	// Raft drops observations the channel has no room for; one pending is
	// enough, since each wake-up reads the current leader from raft.
	observed := make(chan raft.Observation, 1)
	obs := raft.NewObserver(observed, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(obs)
	defer n.raft.DeregisterObserver(obs)
	n.setLeaderID()
	for {
		select {
		case <-n.stop:
			return
		case <-observed:
			n.setLeaderID()
		case leader := <-n.raft.LeaderCh():
			n.setLeaderID()
			n.peersMu.Lock()
			n.peers = make(map[string]time.Time)
			n.peersMu.Unlock()
			n.leadMu.Lock()
			n.leadGen++
			gen := n.leadGen
			n.leadMu.Unlock()
			n.setLeadership(gen, false)
			if leader {
				electionIndex := n.raft.LastIndex()
				level := slog.LevelInfo
				if !n.cfg.network() {
					level = slog.LevelDebug // a standalone server elects itself at every start
				}
				n.cfg.Logger.Log(context.Background(), level, "elected leader", "id", n.cfg.ID, "term", n.raft.Stats()["term"], "last_index", electionIndex)
				n.submit(func() raft.Future { return n.raft.Barrier(0) }, func(_ any, _ uint64, err error) {
					if err != nil {
						return
					}
					if n.rpc == nil {
						n.setLeadership(gen, true)
						return
					}
					// Asking peers takes round trips: not on the completion
					// goroutine.
					n.goFunc(func() {
						if !n.handOver(gen, electionIndex) {
							n.setLeadership(gen, true)
						}
					})
				})
			}
		}
	}
}

// setLeadership records ready for leader generation gen (0: any) and wakes
// Leadership watchers if it changed.
func (n *Node) setLeadership(gen uint64, ready bool) {
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	if (gen != 0 && gen != n.leadGen) || n.leadReady == ready {
		return
	}
	n.leadReady = ready
	close(n.leadChanged)
	n.leadChanged = make(chan struct{})
}

// setLeaderID records the leader raft knows now and wakes Leadership
// watchers if it changed.
func (n *Node) setLeaderID() {
	_, id := n.raft.LeaderWithID()
	if id != "" {
		n.leaderKnown()
	}
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	if string(id) == n.leaderID {
		return
	}
	n.leaderID = string(id)
	n.unreachable = ""
	n.changedLocked()
}

// changedLocked wakes LeaderID and Leadership watchers. leadMu is held.
func (n *Node) changedLocked() {
	close(n.leadChanged)
	n.leadChanged = make(chan struct{})
}

// setReachable records whether this follower reaches leader id's cluster
// port. A follower that cannot has lost its leader, as an Apache follower
// whose connection to the leader broke has, whatever raft believes until
// its heartbeat timeout.
func (n *Node) setReachable(id string, ok bool) {
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	switch {
	case !ok && n.unreachable != id && n.leaderID == id:
		n.unreachable = id
		n.changedLocked()
	case ok && n.unreachable == id:
		n.unreachable = ""
		n.changedLocked()
	}
}

// LeaderID returns the id of the leader this node follows (itself when it
// leads), "" when there is none or a follower cannot reach it, and a
// channel closed at the next change of it or of Leadership.
func (n *Node) LeaderID() (id string, changed <-chan struct{}) {
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	if n.leaderID == n.unreachable {
		return "", n.leadChanged
	}
	return n.leaderID, n.leadChanged
}

// Leadership reports whether this node is a ready leader: the leader, with
// every entry committed before its term applied to the FSM. changed is
// closed at the next change. Flaps can coalesce, so treat every wake-up that
// finds ready true as a fresh start of leadership (e.g. give every session
// new time before expiring any):
//
//	for {
//		ready, changed := n.Leadership()
//		// start or stop leader duties according to ready
//		select { case <-changed: case <-ctx.Done(): return }
//	}
func (n *Node) Leadership() (ready bool, changed <-chan struct{}) {
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	return n.leadReady, n.leadChanged
}

// IsLeader reports whether raft is in the leader state (possibly still
// catching up on earlier terms; see Leadership).
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the current leader's id and raft address, empty if unknown.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// State returns "leader", "follower", "observer" (a follower without a
// vote), "candidate" or "shutdown".
func (n *Node) State() string {
	switch n.raft.State() {
	case raft.Leader:
		return "leader"
	case raft.Candidate:
		return "candidate"
	case raft.Shutdown:
		return "shutdown"
	}
	for _, s := range n.Servers() {
		if s.ID == n.cfg.ID && !s.Voter {
			return "observer"
		}
	}
	return "follower"
}

// Servers returns the latest membership (possibly not yet committed).
func (n *Node) Servers() []Server {
	f := n.raft.GetConfiguration() // answered without the main loop
	if f.Error() != nil {
		return nil
	}
	var out []Server
	for _, s := range f.Configuration().Servers {
		out = append(out, Server{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out
}

// Address returns the raft address of this server.
func (n *Node) Address() string { return n.address }

// AppliedIndex returns the index of the last log entry applied to the FSM
// (after a snapshot restore: of the last command it contains).
func (n *Node) AppliedIndex() uint64 { return n.fsm.applied.Load() }

// FirstIndex returns the index of the oldest entry in this node's log:
// snapshots trim the log up to TrailingLogs entries behind them.
func (n *Node) FirstIndex() (uint64, error) { return n.stores.wal.FirstIndex() }

// CommitIndex returns the latest index this node knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// Stats returns raft's statistics plus fsm_applied_index and mode.
func (n *Node) Stats() map[string]string {
	s := n.raft.Stats()
	s["fsm_applied_index"] = strconv.FormatUint(n.AppliedIndex(), 10)
	s["mode"] = n.State()
	return s
}
