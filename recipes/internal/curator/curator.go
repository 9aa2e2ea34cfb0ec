// Package curator holds what several recipes need to write znodes exactly
// as Apache Curator 5 does: its UUIDs and its default node data.
package curator

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"sync"
)

// NewUUID returns a random (version 4) UUID in its text form, as
// java.util.UUID.randomUUID prints it (protected node prefixes, barrier
// members, service instance ids).
func NewUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// LocalAddress is the text form of the local host's address, what
// Curator's CuratorFrameworkFactory.getLocalAddress gives and so the data
// Curator writes by default in lock and barrier nodes
// (InetAddress.getLocalHost().getHostAddress(), IPv4 preferred), or "" if
// the host name does not resolve. It is looked up once: a name lookup per
// lock would be wasted work.
var LocalAddress = sync.OnceValue(func() string {
	host, err := os.Hostname()
	if err != nil {
		return ""
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			return a
		}
	}
	return addrs[0]
})
