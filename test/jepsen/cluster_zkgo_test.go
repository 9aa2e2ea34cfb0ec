package jepsen

import (
	"testing"

	"github.com/zkgo/zkgo/internal/ensemble"
	"github.com/zkgo/zkgo/internal/zkgoproc"
)

// zkgoCluster is the zkgo backend: zkserver processes whose peer links
// (raft transport and cluster RPC) run through peerLinks. zkgo dials only
// the addresses of its zoo.cfg, so routing them is enough.
type zkgoCluster struct {
	*ensemble.Ensemble
	*peerLinks
}

// startZkgo starts n zkgo voters.
func startZkgo(t *testing.T, n int) Cluster {
	t.Helper()
	links := newPeerLinks()
	// Registered first, so that it runs after the ensemble's cleanup.
	t.Cleanup(links.close)
	e := zkgoproc.StartEnsemble(t, zkgoproc.EnsembleOptions{
		Voters:   n,
		TickTime: tickTime,
		// A follower or leader cut off notices within 5 ticks.
		InitLimit: 20,
		SyncLimit: 5,
		Config: []string{
			"minSessionTimeout=" + ms(minSessionTimeout),
			"maxSessionTimeout=" + ms(maxSessionTimeout),
		},
		Route: func(pl ensemble.PeerLink) (string, error) {
			return links.route(pl.From, pl.To, pl.Addr, nil)
		},
	})
	return zkgoCluster{e, links}
}
