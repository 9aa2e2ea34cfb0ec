package differential

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/internal/zkgoproc"
)

// reapIntervalMs is znode.container.checkIntervalMs for both servers. It is
// shorter than the 1000 ms other harnesses use because the test waits for
// every container and TTL reap it provokes before sending the next op.
const reapIntervalMs = 200

// superDigest makes "digest super:test" a superuser on both servers.
const superDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

func TestMain(m *testing.M) {
	code := m.Run()
	zkgoproc.RemoveBuild()
	os.Exit(code)
}

// server is a ZooKeeper server process, or an ensemble's processes, started
// by the test.
type server struct {
	name  string
	addrs []string // client addresses, one per server
}

// requireJava skips (or, in CI, fails) the test when Java or the ZooKeeper
// jars are missing.
func requireJava(t *testing.T) {
	t.Helper()
	apachezk.Require(t)
}

// sharedConfig is the zoo.cfg both implementations share, after tickTime,
// dataDir, clientPort and clientPortAddress.
func sharedConfig() []string {
	return []string{
		"maxClientCnxns=0",
		"4lw.commands.whitelist=*",
		"extendedTypesEnabled=true",
		fmt.Sprintf("znode.container.checkIntervalMs=%d", reapIntervalMs),
		"DigestAuthenticationProvider.superDigest=" + superDigest,
	}
}

// startApache starts Apache ZooKeeper standalone on a free port, with the
// sharedConfig settings zkgo gets (plus forceSync=no).
func startApache(ctx context.Context, t *testing.T, name string) *server {
	t.Helper()
	a := apachezk.Start(t, apachezk.Options{
		// forceSync=no: the test is about semantics, and fsync per write
		// would dominate its runtime.
		Config:      append(sharedConfig(), "forceSync=no"),
		SuperDigest: superDigest,
		Heap:        "512m",
		Properties: []string{
			"zookeeper.extendedTypesEnabled=true",
			fmt.Sprintf("znode.container.checkIntervalMs=%d", reapIntervalMs),
			"org.slf4j.simpleLogger.defaultLogLevel=warn",
		},
	})
	return &server{name: name, addrs: []string{a.Addr()}}
}

// startZkgo builds cmd/zkserver and starts it standalone on a free port,
// with the settings startApache gives Apache ZooKeeper (tickTime 2s).
// If the build fails, ZKGO_DIFF_B=apache tests the harness alone.
func startZkgo(ctx context.Context, t *testing.T, name string) *server {
	t.Helper()
	z := zkgoproc.Start(t, zkgoproc.Options{TickTime: 2 * time.Second, Config: sharedConfig()})
	return &server{name: name, addrs: []string{z.Addr()}}
}

// ensembleTick is the ensembles' tickTime: the standalone servers' 2s, so
// that sessions negotiate the same timeouts.
const ensembleTick = 2 * time.Second

// startApacheEnsemble starts an Apache ZooKeeper ensemble of n voters with
// the settings startApache gives the standalone server.
func startApacheEnsemble(ctx context.Context, t *testing.T, name string, n int) *server {
	t.Helper()
	e := apachezk.StartEnsemble(t, apachezk.EnsembleOptions{
		Voters:   n,
		TickTime: ensembleTick,
		Config:   sharedConfig(),
		Heap:     "256m",
		Properties: []string{
			"zookeeper.extendedTypesEnabled=true",
			fmt.Sprintf("znode.container.checkIntervalMs=%d", reapIntervalMs),
			"org.slf4j.simpleLogger.defaultLogLevel=warn",
		},
	})
	return ensembleServer(name, e.Size(), e.Addr)
}

// startZkgoEnsemble starts a zkgo ensemble of n voters (zkserver processes)
// with the settings startZkgo gives the standalone server.
func startZkgoEnsemble(ctx context.Context, t *testing.T, name string, n int) *server {
	t.Helper()
	e := zkgoproc.StartEnsemble(t, zkgoproc.EnsembleOptions{Voters: n, TickTime: ensembleTick, Config: sharedConfig()})
	return ensembleServer(name, e.Size(), e.Addr)
}

func ensembleServer(name string, n int, addr func(int) string) *server {
	s := &server{name: name}
	for i := 0; i < n; i++ {
		s.addrs = append(s.addrs, addr(i))
	}
	return s
}
