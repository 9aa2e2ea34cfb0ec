package ensemble

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/testproc"
)

// ErrNotRunning is wrapped by the errors of Ensemble methods that act on a
// server process that is not running.
var ErrNotRunning = errors.New("server not running")

// ErrNotServing is wrapped by Start's error when a server exited or did not
// answer in time.
var ErrNotServing = errors.New("server did not start")

// Options configure an ensemble. Zero values take the defaults noted.
type Options struct {
	// Name names the servers in messages, e.g. "Apache ZooKeeper".
	Name string
	// Command returns the command that runs a server on the zoo.cfg at
	// cfgPath. Required.
	Command func(cfgPath string) *exec.Cmd
	// SkipLine, if set, drops lines from log tails (e.g. Java stack frames).
	SkipLine func(line string) bool
	// Voters is the number of participants (default 3).
	Voters int
	// Observers is the number of observers, which follow the leader but
	// never vote; they come after the voters (default 0).
	Observers int
	// TickTime is zoo.cfg's tickTime (default 500ms: failures are noticed
	// within SyncLimit ticks).
	TickTime time.Duration
	// InitLimit and SyncLimit are zoo.cfg's, in ticks (defaults 20 and 5).
	InitLimit, SyncLimit int
	// Config holds extra zoo.cfg lines, "key=value", for every server.
	Config []string
	// StartTimeout bounds the start of each process and the first wait
	// for the ensemble to serve (default 90s).
	StartTimeout time.Duration
	// Route, if set, is called while the zoo.cfg files are written, once
	// for each peer address (quorum and election) of each server as seen
	// by each other server: server link.From reaches link.Addr through the
	// address Route returns, e.g. a netproxy.Proxy's. Each server binds
	// its own peer addresses as they are.
	Route func(link PeerLink) (string, error)
}

// PeerLink is a server's route to one peer address of another server.
type PeerLink struct {
	From, To int    // server indexes: From dials To
	Election bool   // Addr is To's election port (port2), not its quorum port
	Addr     string // the address To binds, 127.0.0.1:port
}

// Ensemble is a replicated ensemble of server processes on 127.0.0.1. Servers are named by index i in [0, Size()),
// whose myid is i+1; voters come first, then observers. Its methods are
// safe for concurrent use.
type Ensemble struct {
	opts    Options
	members []*member

	mu     sync.Mutex // guards closed and every member's proc, paused and starting
	closed bool       // Close was called
}

// member is one server of the ensemble.
type member struct {
	id               int               // myid
	observer         bool              // an observer rather than a voter
	addr             string            // client address
	quorum, election string            // its own peer addresses: quorum (port1) and election (port2)
	dir              string            // zoo.cfg, data/, server.log
	proc             *testproc.Process // nil until started
	paused           bool              // stopped by SIGSTOP
	starting         bool              // Start is launching it
}

// Start writes an ensemble's configuration in a temporary directory of
// tb, starts every server and returns once each serves as leader, follower
// or observer. tb's cleanup stops the servers and, if tb failed, logs their
// log tails.
func Start(tb testing.TB, opts Options) *Ensemble {
	tb.Helper()
	e, err := New(tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		e.Close()
		if tb.Failed() {
			for i := range e.members {
				tb.Logf("%s server %d (%s) log tail:\n%s", e.opts.Name, i+1, e.Addr(i), e.LogTail(i, 40))
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.StartTimeout)
	defer cancel()
	for i := range e.members {
		if err := e.Start(ctx, i); err != nil {
			tb.Fatal(err)
		}
	}
	if err := e.WaitServing(ctx); err != nil {
		tb.Fatal(err)
	}
	return e
}

// New writes the configuration of an ensemble in dir (one subdirectory per
// server with its zoo.cfg and data/myid) on free ports, and starts nothing.
// Close stops whatever was started.
func New(dir string, opts Options) (*Ensemble, error) {
	if opts.Command == nil {
		return nil, errors.New("ensemble: Options.Command is required")
	}
	if opts.Name == "" {
		opts.Name = "ZooKeeper"
	}
	if opts.Voters == 0 {
		opts.Voters = 3
	}
	if opts.TickTime == 0 {
		opts.TickTime = 500 * time.Millisecond
	}
	if opts.InitLimit == 0 {
		opts.InitLimit = 20
	}
	if opts.SyncLimit == 0 {
		opts.SyncLimit = 5
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 90 * time.Second
	}
	n := opts.Voters + opts.Observers
	// Hold every listener at once so that the 3n ports are distinct; the
	// proxies Route may start are bound while they are held, so they
	// cannot take one of them either.
	lns := make([]net.Listener, 0, 3*n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range 3 * n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding free ports: %w", err)
		}
		lns = append(lns, ln)
	}
	e := &Ensemble{opts: opts}
	for i := range n {
		e.members = append(e.members, &member{
			id:       i + 1,
			observer: i >= opts.Voters,
			addr:     lns[3*i].Addr().String(),
			quorum:   lns[3*i+1].Addr().String(),
			election: lns[3*i+2].Addr().String(),
			dir:      filepath.Join(dir, "server"+strconv.Itoa(i+1)),
		})
	}
	for i, m := range e.members {
		if err := e.writeConfig(i, m); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// writeConfig writes zoo.cfg and data/myid for member i.
func (e *Ensemble) writeConfig(i int, m *member) error {
	data := filepath.Join(m.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(data, "myid"), []byte(strconv.Itoa(m.id)+"\n"), 0o644); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(m.addr)
	cfg := []string{
		"tickTime=" + strconv.FormatInt(e.opts.TickTime.Milliseconds(), 10),
		"initLimit=" + strconv.Itoa(e.opts.InitLimit),
		"syncLimit=" + strconv.Itoa(e.opts.SyncLimit),
		"dataDir=" + data,
		"clientPort=" + port,
		"clientPortAddress=127.0.0.1",
		"maxClientCnxns=0",
		// Readiness and Mode need srvr; the admin server would take
		// port 8080, which parallel tests share.
		"4lw.commands.whitelist=*",
		"admin.enableServer=false",
	}
	if m.observer {
		cfg = append(cfg, "peerType=observer")
	}
	for j, peer := range e.members {
		quorum, election := peer.quorum, peer.election
		if j != i && e.opts.Route != nil {
			var err error
			if quorum, err = e.opts.Route(PeerLink{From: i, To: j, Addr: peer.quorum}); err != nil {
				return fmt.Errorf("routing server %d to %d's quorum port: %w", m.id, peer.id, err)
			}
			if election, err = e.opts.Route(PeerLink{From: i, To: j, Election: true, Addr: peer.election}); err != nil {
				return fmt.Errorf("routing server %d to %d's election port: %w", m.id, peer.id, err)
			}
		}
		_, qp, _ := net.SplitHostPort(quorum)
		_, lp, _ := net.SplitHostPort(election)
		line := fmt.Sprintf("server.%d=127.0.0.1:%s:%s", peer.id, qp, lp)
		if peer.observer {
			line += ":observer"
		}
		cfg = append(cfg, line)
	}
	cfg = append(cfg, e.opts.Config...)
	return os.WriteFile(filepath.Join(m.dir, "zoo.cfg"), []byte(strings.Join(cfg, "\n")+"\n"), 0o644)
}

// Size returns the number of servers, voters and observers.
func (e *Ensemble) Size() int { return len(e.members) }

// Addr returns server i's client address, 127.0.0.1:port.
func (e *Ensemble) Addr(i int) string { return e.members[i].addr }

// PeerAddrs returns the quorum (port1) and election (port2) addresses that
// server i binds.
func (e *Ensemble) PeerAddrs(i int) (quorum, election string) {
	return e.members[i].quorum, e.members[i].election
}

// Dir returns server i's directory, which holds zoo.cfg, data/ and
// server.log.
func (e *Ensemble) Dir(i int) string { return e.members[i].dir }

// ConnectString lists every server's client address, in index order.
func (e *Ensemble) ConnectString() string {
	addrs := make([]string, len(e.members))
	for i, m := range e.members {
		addrs[i] = m.addr
	}
	return strings.Join(addrs, ",")
}

// Start launches server i, which must not be running, on its directory
// (its data and log survive restarts) and returns once it answers on its
// client port. It does not wait for the server to join a quorum: with too
// few peers it never will.
func (e *Ensemble) Start(ctx context.Context, i int) error {
	m := e.members[i]
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return fmt.Errorf("server %d: ensemble closed: %w", m.id, ErrNotRunning)
	}
	if _, err := e.runningLocked(i); err == nil || m.starting {
		e.mu.Unlock()
		return fmt.Errorf("server %d is already running or starting", m.id)
	}
	// The launch takes seconds: other methods may run meanwhile.
	m.starting = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		m.starting = false
		e.mu.Unlock()
	}()

	p, err := testproc.Launch(ctx, testproc.Spec{
		Cmd:       e.opts.Command(filepath.Join(m.dir, "zoo.cfg")),
		Addr:      m.addr,
		Dir:       m.dir,
		Log:       filepath.Join(m.dir, "server.log"),
		AppendLog: true, // one log across restarts
		SkipLine:  e.opts.SkipLine,
		Ready:     answers,
	}, e.opts.StartTimeout)
	if p == nil {
		return fmt.Errorf("server %d: %w", m.id, err)
	}
	e.mu.Lock()
	m.proc, m.paused = p, false
	closed := e.closed
	e.mu.Unlock()
	if closed {
		// Close ran during the launch and could not see this process.
		p.Stop()
		return fmt.Errorf("server %d: ensemble closed while it started: %w", m.id, ErrNotRunning)
	}
	if err != nil {
		return fmt.Errorf("%w: %s server %d on %s: %w", ErrNotServing, e.opts.Name, m.id, m.addr, err)
	}
	return nil
}

// answers is the readiness check of an ensemble member: it answers srvr,
// even if only to say that it is not serving yet.
func answers(addr string) error {
	if testproc.FourLetter(addr, "srvr") == "" {
		return errors.New("no answer to srvr")
	}
	return nil
}

// runningLocked returns server i's process, or an error wrapping ErrNotRunning.
// e.mu must be held.
func (e *Ensemble) runningLocked(i int) (*testproc.Process, error) {
	m := e.members[i]
	if m.proc == nil {
		return nil, fmt.Errorf("server %d: %w", m.id, ErrNotRunning)
	}
	select {
	case <-m.proc.Done():
		return nil, fmt.Errorf("server %d (pid %d) exited: %w", m.id, m.proc.Pid(), ErrNotRunning)
	default:
		return m.proc, nil
	}
}

// Running reports whether server i's process is running (paused or not).
func (e *Ensemble) Running(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.runningLocked(i)
	return err == nil
}

// Pid returns server i's process id, or 0 if it is not running.
func (e *Ensemble) Pid(i int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.runningLocked(i)
	if err != nil {
		return 0
	}
	return p.Pid()
}

// Kill sends SIGKILL to server i (a crash: nothing is flushed) and waits
// for it to exit.
func (e *Ensemble) Kill(i int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.runningLocked(i)
	if err != nil {
		return err
	}
	p.Kill()
	e.members[i].paused = false
	return nil
}

// Stop ends server i (SIGTERM, then SIGKILL) and waits for it; a paused
// server is resumed first so that it can shut down. Stopping a server that
// is not running does nothing.
func (e *Ensemble) Stop(i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopLocked(i)
}

func (e *Ensemble) stopLocked(i int) {
	m := e.members[i]
	p, err := e.runningLocked(i)
	if err != nil {
		return
	}
	if m.paused {
		syscall.Kill(p.Pid(), syscall.SIGCONT)
		m.paused = false
	}
	p.Stop()
}

// Restart stops server i if it runs and starts it again on its data.
func (e *Ensemble) Restart(ctx context.Context, i int) error {
	e.Stop(i)
	return e.Start(ctx, i)
}

// Pause stops server i with SIGSTOP: it keeps its sockets but answers
// nothing, like a long garbage-collection pause, until Resume.
func (e *Ensemble) Pause(i int) error {
	return e.signal(i, syscall.SIGSTOP, true)
}

// Resume continues server i after Pause with SIGCONT.
func (e *Ensemble) Resume(i int) error {
	return e.signal(i, syscall.SIGCONT, false)
}

func (e *Ensemble) signal(i int, sig syscall.Signal, paused bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.runningLocked(i)
	if err != nil {
		return err
	}
	if err := syscall.Kill(p.Pid(), sig); err != nil {
		return fmt.Errorf("server %d: %v: %w", e.members[i].id, sig, err)
	}
	e.members[i].paused = paused
	return nil
}

// Paused reports whether server i is paused.
func (e *Ensemble) Paused(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.members[i].paused
}

// Mode returns the Mode line of server i's srvr answer: "leader",
// "follower", "observer", or "" when it does not serve (not running,
// paused, or without a quorum).
func (e *Ensemble) Mode(i int) string {
	if !e.Running(i) || e.Paused(i) {
		return ""
	}
	return Mode(e.members[i].addr)
}

// Mode returns the Mode line of the srvr answer at addr, or "" if there is
// none (the server is down or not serving).
func Mode(addr string) string {
	sc := bufio.NewScanner(strings.NewReader(testproc.FourLetter(addr, "srvr")))
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(m)
		}
	}
	return ""
}

// Leader returns the index of a server that reports Mode: leader, or -1.
func (e *Ensemble) Leader() int {
	for i := range e.members {
		if e.Mode(i) == "leader" {
			return i
		}
	}
	return -1
}

// WaitServing waits until every running, unpaused server serves (as
// leader, follower or observer) and exactly one of them leads. Its error
// names the servers that do not serve.
func (e *Ensemble) WaitServing(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting []string
		leaders := 0
		for i, m := range e.members {
			if !e.Running(i) || e.Paused(i) {
				continue
			}
			switch mode := Mode(m.addr); mode {
			case "leader":
				leaders++
			case "follower", "observer":
			default:
				waiting = append(waiting, fmt.Sprintf("server %d (%s)", m.id, m.addr))
			}
		}
		if len(waiting) == 0 && leaders == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			if len(waiting) == 0 {
				return fmt.Errorf("waiting for the ensemble to serve: %d leaders: %w", leaders, ctx.Err())
			}
			return fmt.Errorf("waiting for the ensemble to serve: %s not serving: %w", strings.Join(waiting, ", "), ctx.Err())
		case <-tick.C:
		}
	}
}

// LogTail returns the last n lines of server i's log, across restarts.
func (e *Ensemble) LogTail(i int, n int) string {
	e.mu.Lock()
	p := e.members[i].proc
	e.mu.Unlock()
	if p == nil {
		return "(never started)"
	}
	return p.LogTail(n)
}

// Close stops every server; it may be called more than once.
func (e *Ensemble) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for i := range e.members {
		e.stopLocked(i)
	}
}
