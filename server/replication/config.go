package replication

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	wal "github.com/hashicorp/raft-wal"
)

// Server is one member of the replication group.
type Server struct {
	ID      string // server id, as in zoo.cfg server.<id> and myid
	Address string // raft transport host:port (zoo.cfg port1)
	Voter   bool   // false for an observer (raft non-voter)
	// RPCAddress is the server's cluster RPC host:port (zoo.cfg port2),
	// where followers forward commands to it when it leads.
	RPCAddress string
}

// Config configures a Node. The zero value of every field except ID and
// DataDir selects a default.
type Config struct {
	// ID is this server's id (myid). Required.
	ID string
	// DataDir holds snapshots (<DataDir>/snapshots). Required.
	DataDir string
	// LogDir holds the write-ahead log (<LogDir>/wal); default DataDir.
	LogDir string
	// BindAddr is the host:port the raft transport listens on. When both it
	// and Listener are empty the Node uses an in-memory transport: fine for
	// a standalone server, which then needs no port.
	BindAddr string
	// Listener, if set, is used instead of BindAddr; the Node takes
	// ownership and closes it. Tests pass a 127.0.0.1:0 listener.
	Listener net.Listener
	// RPCBindAddr is the host:port this server's cluster RPC listens on
	// (zoo.cfg port2); RPCListener, if set, is used instead. Without either
	// the Node answers no cluster RPC, and followers cannot forward to it.
	RPCBindAddr string
	RPCListener net.Listener
	// Hooks, if set, is called by the leader for what followers send.
	Hooks LeaderHooks

	// Servers is the initial membership, used only when the directories hold
	// no state yet (first start); afterwards raft's persisted membership
	// wins. Empty means standalone: this server as the only voter. With a
	// network transport, this server's Address is what others dial; it
	// defaults to the listener's address.
	Servers []Server
	// Join starts a server that is not part of the group yet: it does not
	// bootstrap and waits for the leader to add it (AddNonvoter, AddVoter).
	// Servers then only needs this server's own entry.
	Join bool

	// SnapshotThreshold is how many log entries trigger a snapshot (zoo.cfg
	// snapCount); default 100000.
	SnapshotThreshold uint64
	// SnapshotInterval is how often the threshold is checked; default 5s.
	SnapshotInterval time.Duration
	// SnapshotRetain is how many snapshots are kept (zoo.cfg
	// autopurge.snapRetainCount); default and minimum 3.
	SnapshotRetain int
	// TrailingLogs is how many entries stay in the log behind a snapshot, so
	// that a lagging follower catches up without a full snapshot; default
	// 10240 standalone, twice SnapshotThreshold in an ensemble.
	TrailingLogs uint64
	// SegmentSize is the size of one log segment file; default 64 MiB.
	SegmentSize int

	// Logger receives raft's logs; default slog.Default().
	Logger *slog.Logger

	// Raft timings. Defaults: with a single voter in Servers (standalone),
	// 10ms heartbeat/election/lease timeouts so that a restarted server
	// leads within tens of milliseconds (set them explicitly if voters will
	// be added at run time); otherwise 1s heartbeat and election timeouts
	// and a lease of half the heartbeat timeout. CommitTimeout
	// (how soon an idle leader tells followers the commit index) is 5ms
	// standalone and 10ms otherwise.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
}

const (
	defaultSnapshotThreshold = 100000
	defaultSnapshotInterval  = 5 * time.Second
	minSnapshotRetain        = 3
	defaultTrailingLogs      = 10240
)

// network reports whether the Node uses TCP.
func (c *Config) network() bool { return c.Listener != nil || c.BindAddr != "" }

// self returns this server's entry in Servers.
func (c *Config) self() Server {
	for _, s := range c.Servers {
		if s.ID == c.ID {
			return s
		}
	}
	return Server{}
}

// setDefaults fills in defaults and validates.
func (c *Config) setDefaults() error {
	if c.ID == "" {
		return errors.New("replication: Config.ID is required")
	}
	if c.DataDir == "" {
		return errors.New("replication: Config.DataDir is required")
	}
	c.DataDir = filepath.Clean(c.DataDir)
	if c.LogDir == "" {
		c.LogDir = c.DataDir
	}
	c.LogDir = filepath.Clean(c.LogDir)
	if len(c.Servers) == 0 {
		c.Servers = []Server{{ID: c.ID, Voter: true}}
	}
	seen := map[string]bool{}
	voters := 0
	for _, s := range c.Servers {
		switch {
		case s.ID == "":
			return errors.New("replication: a server in Config.Servers has no ID")
		case seen[s.ID]:
			return fmt.Errorf("replication: server %s is listed twice", s.ID)
		case s.ID != c.ID && s.Address == "":
			return fmt.Errorf("replication: server %s has no address", s.ID)
		}
		seen[s.ID] = true
		if s.Voter {
			voters++
		}
	}
	if !seen[c.ID] {
		return fmt.Errorf("replication: this server (%s) is not in Config.Servers", c.ID)
	}
	if voters == 0 && !c.Join {
		return errors.New("replication: Config.Servers has no voter")
	}
	if (len(c.Servers) > 1 || c.Join) && !c.network() {
		return errors.New("replication: several servers need a network transport: set Config.BindAddr")
	}

	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = defaultSnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = defaultSnapshotInterval
	}
	c.SnapshotRetain = max(c.SnapshotRetain, minSnapshotRetain)
	if c.SegmentSize == 0 {
		c.SegmentSize = wal.DefaultSegmentSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}

	standalone := voters == 1 && c.self().Voter
	if c.TrailingLogs == 0 {
		c.TrailingLogs = defaultTrailingLogs
		if !standalone {
			// A follower that missed up to about a snapshot's worth of
			// writes catches up from the log rather than from a full
			// snapshot, as an Apache follower gets a DIFF from the
			// leader's txn logs rather than a SNAP.
			c.TrailingLogs = max(c.TrailingLogs, 2*c.SnapshotThreshold)
		}
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = time.Second
		if standalone {
			c.HeartbeatTimeout = 10 * time.Millisecond
		}
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = c.HeartbeatTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = c.HeartbeatTimeout / 2
		if standalone {
			c.LeaderLeaseTimeout = c.HeartbeatTimeout
		}
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = 10 * time.Millisecond
		if standalone {
			c.CommitTimeout = 5 * time.Millisecond
		}
	}
	return nil
}
