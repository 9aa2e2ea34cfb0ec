package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Workloads accepted by -workload.
const (
	workloadCreate = "create"
	workloadSet    = "set"
	workloadGet    = "get"
	workloadExists = "exists"
	workloadMixed  = "mixed" // 90% get, 10% set
	workloadMulti  = "multi" // multi of multiOps setData on random keys
	// The recipe workloads run the Go client and package recipes, as
	// users do, instead of raw pipelined requests.
	workloadLock   = "lock"   // lock.Mutex acquire+release cycles
	workloadLeader = "leader" // leadership handovers of a leader.Latch or Selector
)

// Recipes accepted by -leader-recipe.
const (
	recipeLatch    = "latch"
	recipeSelector = "selector"
)

// errUsage is wrapped by every flag validation error, so that main can exit
// with status 2 as flag parsing does.
var errUsage = errors.New("usage")

// config is the parsed command line.
type config struct {
	servers      []string
	sessions     int
	outstanding  int
	workload     string
	valueSize    int
	duration     time.Duration
	warmup       time.Duration
	keys         int
	root         string
	cleanup      bool
	json         bool
	populate     int
	purge        bool
	connectProbe bool
	timeout      time.Duration
	uncontended  bool   // lock: one lock path per session
	leaderRecipe string // leader: latch or selector
}

const usageText = `Usage: zkbench [flags]

Load generator for ZooKeeper servers (zkgo or Apache ZooKeeper). Each session
is one TCP connection that keeps -outstanding requests in flight.

The lock and leader workloads run the Go client and its recipes instead (one
session each, -outstanding does not apply): lock counts lock.Mutex
acquire+release cycles of -sessions contenders on one lock (on one lock each
with -uncontended); leader counts leadership handovers among -sessions
participants of one election (leader.Latch: the leader closes its latch and
joins again; leader.Selector with auto-requeue: its lead function returns).

Modes (default: a benchmark of -workload):
  -populate N      create N znodes of -value-size bytes under -root (in buckets
                   of 1000: ROOT/bNNNNNN/nNNN), report the time, and leave them
  -purge           delete -root and everything below it (pipelined), and exit
  -connect-probe   dial every 10ms until a session is accepted, report the time

Apache ZooKeeper accepts at most maxClientCnxns (default 60) connections per
client address: raise it in zoo.cfg for more -sessions.

Example: zkgo against Apache ZooKeeper on the same machine

  zkserver start-foreground zkgo.cfg          # clientPort=2181
  java -cp "$ZKCP" org.apache.zookeeper.server.ZooKeeperServerMain apache.cfg  # clientPort=2182
  for w in create set get exists mixed; do
    zkbench -server 127.0.0.1:2181 -workload $w -duration 10s
    zkbench -server 127.0.0.1:2182 -workload $w -duration 10s
  done

Flags:
`

// parseFlags parses args (without the program name). -h yields flag.ErrHelp
// after printing the usage to out.
func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	var servers string
	fs := flag.NewFlagSet("zkbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&servers, "server", "127.0.0.1:2181", "server `host:port`, or a comma-separated list (sessions are spread round-robin)")
	fs.IntVar(&c.sessions, "sessions", 8, "number of sessions (TCP connections)")
	fs.IntVar(&c.outstanding, "outstanding", 8, "requests kept in flight per session")
	fs.StringVar(&c.workload, "workload", workloadGet, "create, set, get, exists, mixed (90% get, 10% set), multi (4 setData in one multi), lock, or leader")
	fs.IntVar(&c.valueSize, "value-size", 100, "znode data size in `bytes`")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "load before measuring starts")
	fs.IntVar(&c.keys, "keys", 1000, "distinct znodes for get, set, exists, mixed and multi, created under -root first")
	fs.StringVar(&c.root, "root", "/zkbench", "parent znode of everything zkbench creates")
	fs.BoolVar(&c.cleanup, "cleanup", true, "delete the znodes the benchmark created (not with -populate)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object instead of a table")
	fs.IntVar(&c.populate, "populate", 0, "create `N` znodes under -root and exit")
	fs.BoolVar(&c.purge, "purge", false, "delete -root recursively and exit")
	fs.BoolVar(&c.connectProbe, "connect-probe", false, "measure the time until a session is accepted")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up -connect-probe after this long")
	fs.BoolVar(&c.uncontended, "uncontended", false, "lock workload: one lock path per session instead of one shared lock")
	fs.StringVar(&c.leaderRecipe, "leader-recipe", recipeLatch, "leader workload: latch (leader.Latch) or selector (leader.Selector)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.servers = append(c.servers, s)
		}
	}
	return c, c.validate()
}

func (c *config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
	}
	switch {
	case len(c.servers) == 0:
		return bad("-server is empty")
	case c.sessions < 1:
		return bad("-sessions must be at least 1")
	case c.outstanding < 1:
		return bad("-outstanding must be at least 1")
	case c.valueSize < 0 || c.valueSize > maxValueSize:
		return bad("-value-size must be between 0 and %d", maxValueSize)
	case c.duration <= 0:
		return bad("-duration must be positive")
	case c.warmup < 0:
		return bad("-warmup must not be negative")
	case c.keys < 1:
		return bad("-keys must be at least 1")
	case c.populate < 0:
		return bad("-populate must not be negative")
	case c.timeout <= 0:
		return bad("-timeout must be positive")
	}
	switch c.workload {
	case workloadCreate, workloadSet, workloadGet, workloadExists, workloadMixed, workloadMulti, workloadLock, workloadLeader:
	default:
		return bad("unknown -workload %q (create, set, get, exists, mixed, multi, lock, leader)", c.workload)
	}
	switch c.leaderRecipe {
	case recipeLatch, recipeSelector:
	default:
		return bad("unknown -leader-recipe %q (latch, selector)", c.leaderRecipe)
	}
	modes := 0
	for _, on := range []bool{c.populate > 0, c.purge, c.connectProbe} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return bad("-populate, -purge and -connect-probe exclude each other")
	}
	return validateRoot(c.root)
}

// maxValueSize keeps a request under the servers' default 1 MB jute.maxbuffer.
const maxValueSize = 1000 * 1000

// validateRoot accepts an absolute znode path other than / and /zookeeper,
// since -cleanup and -purge delete below it.
func validateRoot(p string) error {
	if !strings.HasPrefix(p, "/") || p == "/" || strings.HasSuffix(p, "/") {
		return fmt.Errorf("%w: -root %q must be an absolute path other than /, without a trailing /", errUsage, p)
	}
	for _, part := range strings.Split(p[1:], "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%w: -root %q has an empty, . or .. component", errUsage, p)
		}
	}
	if p == "/zookeeper" || strings.HasPrefix(p, "/zookeeper/") {
		return fmt.Errorf("%w: -root %q is reserved for the server", errUsage, p)
	}
	return nil
}
