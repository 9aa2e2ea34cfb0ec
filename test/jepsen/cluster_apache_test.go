package jepsen

import (
	"strconv"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
)

// apacheCluster is the Apache ZooKeeper backend: a QuorumPeerMain ensemble
// whose peer links run through peerLinks.
type apacheCluster struct {
	*apachezk.Ensemble
	*peerLinks
}

// startApache starts n Apache ZooKeeper voters, or skips t naming the
// Debian package when Java or the jars are missing (fails it when
// ZKGO_INTEROP_REQUIRED=1).
func startApache(t *testing.T, n int) Cluster {
	t.Helper()
	links := newPeerLinks()
	// Registered first, so that it runs after the ensemble's cleanup.
	t.Cleanup(links.close)
	e := apachezk.StartEnsemble(t, apachezk.EnsembleOptions{
		Voters:   n,
		TickTime: tickTime,
		// A follower or leader cut off notices within 5 ticks; a new
		// follower syncs within 20.
		InitLimit: 20,
		SyncLimit: 5,
		Config: []string{
			"minSessionTimeout=" + ms(minSessionTimeout),
			"maxSessionTimeout=" + ms(maxSessionTimeout),
		},
		Route: links.route,
	})
	return apacheCluster{e, links}
}

// ms renders d as zoo.cfg's milliseconds.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
