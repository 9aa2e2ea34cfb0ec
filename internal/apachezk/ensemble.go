package apachezk

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/ensemble"
)

// ErrNotRunning is wrapped by the errors of Ensemble methods that act on a
// server process that is not running.
var ErrNotRunning = ensemble.ErrNotRunning

// PeerLink is a server's route to one peer address of another server (see
// EnsembleOptions.Route).
type PeerLink = ensemble.PeerLink

// EnsembleOptions configure an Apache ZooKeeper ensemble. Zero values take
// the defaults noted.
type EnsembleOptions struct {
	// Voters is the number of participants (default 3).
	Voters int
	// Observers is the number of observers, after the voters (default 0).
	Observers int
	// TickTime is zoo.cfg's tickTime (default 500ms).
	TickTime time.Duration
	// InitLimit and SyncLimit are zoo.cfg's, in ticks (defaults 20 and 5).
	InitLimit, SyncLimit int
	// Config holds extra zoo.cfg lines, "key=value", for every server.
	Config []string
	// Properties holds extra JVM system properties, "key=value".
	Properties []string
	// Heap is each JVM's -Xmx value (default "128m").
	Heap string
	// StartTimeout bounds the start of each process and the first wait
	// for the ensemble to serve (default 90s).
	StartTimeout time.Duration
	// Route, if set, routes the peer links (see ensemble.Options.Route).
	Route func(link PeerLink) (string, error)
}

// Ensemble is a replicated Apache ZooKeeper ensemble (QuorumPeerMain
// processes) on 127.0.0.1; its methods are ensemble.Ensemble's.
type Ensemble struct {
	*ensemble.Ensemble
}

// StartEnsemble calls Require, writes an ensemble's configuration in a
// temporary directory of tb, starts every server and returns once each
// serves as leader, follower or observer. tb's cleanup stops the servers
// and, if tb failed, logs their log tails.
func StartEnsemble(tb testing.TB, opts EnsembleOptions) *Ensemble {
	tb.Helper()
	Require(tb)
	return &Ensemble{ensemble.Start(tb, opts.generic())}
}

// NewEnsemble writes the configuration of an ensemble in dir and starts
// nothing (see ensemble.New).
func NewEnsemble(dir string, opts EnsembleOptions) (*Ensemble, error) {
	e, err := ensemble.New(dir, opts.generic())
	if err != nil {
		return nil, err
	}
	return &Ensemble{e}, nil
}

// generic returns the options of package ensemble: QuorumPeerMain in a
// small JVM.
func (o EnsembleOptions) generic() ensemble.Options {
	heap := o.Heap
	if heap == "" {
		heap = "128m"
	}
	props := append([]string{
		// No fsync and small log preallocation: durability across machine
		// crashes is not under test (kill -9 keeps the page cache), and the
		// machine is shared.
		"zookeeper.forceSync=no", "zookeeper.preAllocSize=1024",
	}, o.Properties...)
	return ensemble.Options{
		Name: "Apache ZooKeeper",
		Command: func(cfgPath string) *exec.Cmd {
			args := []string{"-cp", strings.Join(Jars, ":"), "-Xmx" + heap,
				// A small, quickly started JVM: several run on one machine.
				"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"}
			for _, p := range props {
				args = append(args, "-D"+p)
			}
			return exec.Command("java", append(args, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath)...)
		},
		SkipLine:     skipJavaNoise,
		Voters:       o.Voters,
		Observers:    o.Observers,
		TickTime:     o.TickTime,
		InitLimit:    o.InitLimit,
		SyncLimit:    o.SyncLimit,
		Config:       o.Config,
		StartTimeout: o.StartTimeout,
		Route:        o.Route,
	}
}
