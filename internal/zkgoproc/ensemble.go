package zkgoproc

import (
	"os/exec"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/ensemble"
)

// EnsembleOptions configure a zkgo ensemble of zkserver processes. Zero
// values take the defaults noted.
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
	// StartTimeout bounds the start of each process and the first wait
	// for the ensemble to serve (default 90s).
	StartTimeout time.Duration
	// Route, if set, routes the peer links (see ensemble.Options.Route).
	Route func(link ensemble.PeerLink) (string, error)
}

// StartEnsemble builds zkserver (see Build), writes an ensemble's
// configuration in a temporary directory of tb, starts every server with
// `zkserver start-foreground` and returns once each serves as leader,
// follower or observer. tb's cleanup stops the servers and, if tb failed,
// logs their log tails.
func StartEnsemble(tb testing.TB, opts EnsembleOptions) *ensemble.Ensemble {
	tb.Helper()
	return ensemble.Start(tb, opts.generic(Build(tb)))
}

// NewEnsemble builds zkserver and writes the configuration of an ensemble
// in dir, starting nothing (see ensemble.New).
func NewEnsemble(tb testing.TB, dir string, opts EnsembleOptions) (*ensemble.Ensemble, error) {
	return ensemble.New(dir, opts.generic(Build(tb)))
}

func (o EnsembleOptions) generic(bin string) ensemble.Options {
	return ensemble.Options{
		Name: "zkgo",
		Command: func(cfgPath string) *exec.Cmd {
			return exec.Command(bin, "start-foreground", "--config", cfgPath)
		},
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
