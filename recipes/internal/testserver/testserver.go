// Package testserver runs the recipes' test suites against one ZooKeeper
// server, as the client's suite does: ZKGO_TEST_TARGET selects "zkgo"
// (default, in-process) or "apache" (Apache ZooKeeper 3.8 from the Debian
// jars). Main starts it for a TestMain; Addr hands its address to tests;
// Proxy sits between a client and the server so that a test can cut the
// connection (Suspended) or keep it cut until the session expires (Lost).
// It is imported only by _test files.
package testserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	zkconfig "github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/internal/netproxy"
	"github.com/zkgo/zkgo/zktest"
)

// TickTime is the servers' tick: sessions may last 2 to 20 ticks, so tests
// can use session timeouts down to 400ms.
const TickTime = 200 * time.Millisecond

// SuperDigest makes digest user super:test the superuser, who can clean up
// whatever a test left behind.
const SuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

// Suite is the server a test binary runs against, set up by Main.
type Suite struct {
	addr string // "" when skipped
	skip string // why tests needing a server are skipped
}

// Main starts the target server, runs the tests and stops it; TestMain
// passes its result to os.Exit. If the server cannot be started the tests
// that need it are skipped and examples left out, unless
// ZKGO_INTEROP_REQUIRED=1 (CI), which makes that a failure.
func Main(m *testing.M, s *Suite) int {
	flag.Parse()
	name := os.Getenv("ZKGO_TEST_TARGET")
	if name == "" {
		name = "zkgo"
	}
	var start func() (string, func(), error)
	switch name {
	case "zkgo":
		start = startZkgo
	case "apache":
		start = startApache
	default:
		fmt.Fprintf(os.Stderr, "unknown ZKGO_TEST_TARGET %q (want zkgo or apache)\n", name)
		return 2
	}
	addr, stop, err := start()
	if err != nil {
		if apachezk.Required() {
			fmt.Fprintf(os.Stderr, "target %s: %v\n", name, err)
			return 1
		}
		s.skip = fmt.Sprintf("target %s unavailable: %v", name, err)
		fmt.Fprintln(os.Stderr, s.skip+"; skipping server tests and examples")
		// Examples cannot skip: leave them out unless -run chose tests.
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			flag.Set("test.run", "^(Test|Fuzz)")
		}
		return m.Run()
	}
	s.addr = addr
	defer stop()
	return m.Run()
}

// Addr returns the server's address, skipping tb if there is none.
func (s *Suite) Addr(tb testing.TB) string {
	tb.Helper()
	if s.addr == "" {
		tb.Skip(s.skip)
	}
	return s.addr
}

// ExampleAddr returns the server's address for examples, which run only
// when there is one.
func (s *Suite) ExampleAddr() string { return s.addr }

// Connect opens a session to addr (10s session timeout unless opts say
// otherwise) and closes it when the test ends.
func Connect(tb testing.TB, addr string, opts ...client.Option) *client.Conn {
	tb.Helper()
	opts = append([]client.Option{client.WithSessionTimeout(10 * time.Second),
		client.WithConnectTimeout(10 * time.Second)}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, addr, opts...)
	if err != nil {
		tb.Fatalf("connect %s: %v", addr, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Base returns a path named after the test, empty and removed (as
// superuser) when the test ends; tests work below it.
func (s *Suite) Base(tb testing.TB) string {
	tb.Helper()
	p := "/" + strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name())
	s.remove(tb, p)
	tb.Cleanup(func() { s.remove(tb, p) })
	return p
}

func (s *Suite) remove(tb testing.TB, p string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, s.Addr(tb), client.WithAuth("digest", []byte("super:test")))
	if err != nil {
		tb.Fatalf("connect for cleanup: %v", err)
	}
	defer c.Close()
	if err := c.DeleteRecursive(ctx, p); err != nil && !errors.Is(err, client.ErrNoNode) {
		tb.Errorf("cleanup %s: %v", p, err)
	}
}

// startApache runs Apache ZooKeeper standalone on a free 127.0.0.1 port.
func startApache() (string, func(), error) {
	return apachezk.StartMain(apachezk.Options{
		TickTime:    TickTime,
		Config:      []string{"maxSessionTimeout=60000", "maxClientCnxns=0"},
		SuperDigest: SuperDigest,
		Properties: []string{
			"zookeeper.extendedTypesEnabled=true",
			"znode.container.checkIntervalMs=1000",
		},
	})
}

// startZkgo runs a zkgo server in this process with the settings Apache gets.
func startZkgo() (string, func(), error) {
	return zktest.StartMain(zktest.WithConfig(func(cfg *zkconfig.Config) {
		cfg.TickTime = TickTime
		cfg.MaxSessionTimeout = 60 * time.Second
		cfg.MaxClientCnxns = 0
		cfg.ContainerCheckInterval = time.Second
		cfg.SuperDigest = SuperDigest
	}))
}

// Proxy is a TCP proxy in front of the server that a test can cut
// (internal/netproxy); it is closed at the test's cleanup.
type Proxy struct {
	*netproxy.Proxy
}

// NewProxy starts a proxy to target on a free 127.0.0.1 port.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p, err := netproxy.Listen(target)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return &Proxy{p}
}

// Cut breaks every current link; with refuse set, new connections are also
// refused until Resume, so that the session expires on the server.
func (p *Proxy) Cut(refuse bool) {
	p.Proxy.Cut()
	if !refuse {
		p.Proxy.Heal()
	}
}

// Resume accepts new connections again.
func (p *Proxy) Resume() { p.Proxy.Heal() }
