package client

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	zkconfig "github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/zktest"
)

// The suite runs against one ZooKeeper server started by TestMain. A target
// starts a server and returns its client address and a stop function;
// ZKGO_TEST_TARGET selects one: "zkgo" (default, in-process) or "apache";
// `make test` runs the suite against both.
var targets = map[string]func() (addr string, stop func(), err error){
	"apache": startApacheZooKeeper,
	"zkgo":   startZkgo,
}

// Set by TestMain: the server address, or why tests needing it are skipped.
var (
	testServer string
	testSkip   string
)

// TestMain starts the target server. If it cannot be started the tests that
// need it are skipped (examples are not run), unless ZKGO_INTEROP_REQUIRED=1
// (CI), which makes that a failure.
func TestMain(m *testing.M) {
	flag.Parse()
	name := os.Getenv("ZKGO_TEST_TARGET")
	if name == "" {
		name = "zkgo"
	}
	start, ok := targets[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown ZKGO_TEST_TARGET %q\n", name)
		os.Exit(2)
	}
	addr, stop, err := start()
	if err != nil {
		if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
			fmt.Fprintf(os.Stderr, "target %s: %v\n", name, err)
			os.Exit(1)
		}
		testSkip = fmt.Sprintf("target %s unavailable: %v", name, err)
		fmt.Fprintln(os.Stderr, "client tests: "+testSkip+"; skipping server tests and examples")
		// Examples have no Skip: leave them out, unless -run chose tests.
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			flag.Set("test.run", "^(Test|Fuzz)")
		}
		os.Exit(m.Run())
	}
	testServer = addr
	code := m.Run()
	stop()
	os.Exit(code)
}

// needServer skips t when no server is available and returns its address.
func needServer(t testing.TB) string {
	t.Helper()
	if testServer == "" {
		t.Skip(testSkip)
	}
	return testServer
}

// startApacheZooKeeper runs Apache ZooKeeper 3.8 standalone on a free
// 127.0.0.1 port with a temporary data directory. tickTime 200ms lets tests
// use sessions down to 400ms; digest user super:test is the superuser.
func startApacheZooKeeper() (string, func(), error) {
	return apachezk.StartMain(apachezk.Options{
		TickTime:    200 * time.Millisecond,
		Config:      []string{"maxSessionTimeout=60000", "maxClientCnxns=0"},
		SuperDigest: "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		Properties: []string{
			"zookeeper.extendedTypesEnabled=true",
			"znode.container.checkIntervalMs=1000",
		},
	})
}

// startZkgo runs a zkgo server in this process with the settings
// startApacheZooKeeper gives Apache ZooKeeper.
func startZkgo() (string, func(), error) {
	return zktest.StartMain(zktest.WithConfig(func(cfg *zkconfig.Config) {
		cfg.TickTime = 200 * time.Millisecond
		cfg.MaxSessionTimeout = 60 * time.Second
		cfg.MaxClientCnxns = 0
		cfg.ContainerCheckInterval = time.Second
		cfg.SuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
	}))
}
