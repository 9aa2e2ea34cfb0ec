package jepsen

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/internal/netproxy"
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
		// A server that found no peers backs off resending its votes up
		// to 60s by default; after a repair it would sit out that long.
		Properties: []string{"zookeeper.fastleader.maxNotificationInterval=" + ms(2*time.Second)},
		Config: []string{
			"minSessionTimeout=" + ms(minSessionTimeout),
			"maxSessionTimeout=" + ms(maxSessionTimeout),
		},
		Route: func(pl apachezk.PeerLink) (string, error) {
			var rw netproxy.Rewriter
			if pl.Election {
				rw = announceVia(links, pl.From, pl.To)
			}
			return links.route(pl.From, pl.To, pl.Addr, rw)
		},
	})
	return apacheCluster{e, links}
}

// maxAnnounced bounds the address list of an election handshake.
const maxAnnounced = 4096

// announceVia returns the Rewriter of the proxy on server from's link to
// server to's election port. Apache's election handshake opens with the
// dialer's protocol version, id and election address(es); a server with a
// higher id drops a connection from a lower one and dials back the
// announced address, which would bypass the proxies and survive a cut.
// The Rewriter announces instead the proxy through which to reaches that
// address.
func announceVia(links *peerLinks, from, to int) netproxy.Rewriter {
	return func(dst io.Writer, src io.Reader) error {
		var hdr [20]byte // version (int64), id (int64), address length (int32)
		if _, err := io.ReadFull(src, hdr[:8]); err != nil {
			return err
		}
		if int64(binary.BigEndian.Uint64(hdr[:8])) >= 0 {
			// A pre-3.5 handshake: only the id, no address.
			_, err := dst.Write(hdr[:8])
			return err
		}
		if _, err := io.ReadFull(src, hdr[8:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(hdr[16:])
		if n > maxAnnounced {
			return fmt.Errorf("election handshake from server %d announces %d bytes of addresses", from+1, n)
		}
		addrs := make([]byte, n)
		if _, err := io.ReadFull(src, addrs); err != nil {
			return err
		}
		list := strings.Split(string(addrs), "|")
		for i, a := range list {
			if p := links.via(to, from, a); p != "" {
				list[i] = p
			}
		}
		out := strings.Join(list, "|")
		binary.BigEndian.PutUint32(hdr[16:], uint32(len(out)))
		if _, err := dst.Write(hdr[:]); err != nil {
			return err
		}
		_, err := io.WriteString(dst, out)
		return err
	}
}

// ms renders d as zoo.cfg's milliseconds.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
