package ensemble

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/internal/ensemble"
	"github.com/zkgo/zkgo/internal/zkgoproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	zkgoproc.RemoveBuild()
	os.Exit(code)
}

// tick is the ensembles' tickTime: a dead leader is noticed after
// syncLimit (5) ticks.
const tick = 200 * time.Millisecond

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// acked records every write the ensemble acknowledged: path → data.
type acked map[string]string

// write creates path with data through server i and records it if the
// ensemble acknowledged it.
func (a acked) write(t *testing.T, e *ensemble.Ensemble, i int, path string) {
	t.Helper()
	c := dial(t, e.Addr(i))
	defer c.Close()
	data := fmt.Sprintf("via-%d", i+1)
	if _, err := c.Create(path, []byte(data), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create %s through server %d (%s): %v", path, i+1, e.Mode(i), err)
	}
	a[path] = data
}

// dial connects to one server and waits for a session.
func dial(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, events, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			c.Close()
			t.Fatalf("no session on %s within 30s", addr)
		}
	}
}

// check verifies that every acknowledged write is on server i, read after
// a sync through it.
func (a acked) check(t *testing.T, e *ensemble.Ensemble, i int) {
	t.Helper()
	c := dial(t, e.Addr(i))
	defer c.Close()
	if _, err := c.Sync("/"); err != nil {
		t.Fatalf("sync on server %d: %v", i+1, err)
	}
	for p, want := range a {
		got, _, err := c.Get(p)
		if err != nil || string(got) != want {
			t.Errorf("server %d: %s = %q, %v; acknowledged %q", i+1, p, got, err, want)
		}
	}
}

// waitServing waits until the running servers serve with one leader and
// returns its index.
func waitServing(t *testing.T, e *ensemble.Ensemble) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	l := e.Leader()
	if l < 0 {
		t.Fatal("no leader after WaitServing")
	}
	return l
}

// waitNotServing waits until no running server serves.
func waitNotServing(t *testing.T, e *ensemble.Ensemble) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		serving := []string{}
		for i := range e.Size() {
			if e.Running(i) && e.Mode(i) != "" {
				serving = append(serving, fmt.Sprintf("server %d (%s)", i+1, e.Mode(i)))
			}
		}
		if len(serving) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("without a majority, still serving: %s", strings.Join(serving, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// status runs `zkserver status` on server i's zoo.cfg.
func status(t *testing.T, e *ensemble.Ensemble, i int) string {
	t.Helper()
	out, _ := exec.Command(zkgoproc.Build(t), "status", filepath.Join(e.Dir(i), "zoo.cfg")).Output()
	return string(out)
}

func start(t *testing.T, e *ensemble.Ensemble, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.Start(ctx, i); err != nil {
		t.Fatal(err)
	}
}

// TestTutorial runs the tutorials' cluster experiment on 3 and 5 voters,
// and on 3 voters with an observer.
func TestTutorial(t *testing.T) {
	for _, tc := range []struct{ voters, observers int }{{3, 0}, {5, 0}, {3, 1}} {
		t.Run(fmt.Sprintf("%dvoters%dobservers", tc.voters, tc.observers), func(t *testing.T) {
			tutorial(t, tc.voters, tc.observers)
		})
	}
}

func tutorial(t *testing.T, voters, observers int) {
	e := zkgoproc.StartEnsemble(t, zkgoproc.EnsembleOptions{Voters: voters, Observers: observers, TickTime: tick})
	n := voters + observers
	majority := voters/2 + 1

	// The servers start one after the other: the first majority to be up
	// elects its highest id (start 1, then 2: 2 leads), or a higher one
	// that was up in time; a server that joins later never takes over.
	leader := waitServing(t, e)
	if leader < majority-1 || leader >= voters {
		t.Errorf("leader is server %d, want one of servers %d to %d", leader+1, majority, voters)
	}
	for i := range n {
		want := "follower"
		switch {
		case i == leader:
			want = "leader"
		case i >= voters:
			want = "observer"
		}
		if got := e.Mode(i); got != want {
			t.Errorf("server %d: Mode %q, want %q", i+1, got, want)
		}
		if st := status(t, e, i); !strings.Contains(st, "Mode: "+want) {
			t.Errorf("zkserver status of server %d:\n%s", i+1, st)
		}
	}
	a := acked{}
	for i := range n {
		a.write(t, e, i, fmt.Sprintf("/start-%d", i+1))
	}

	// Stop followers one at a time: service goes on while a majority of
	// the voters runs, and stops everywhere when it does not.
	var stopped []int
	running := voters
	for i := range voters {
		if i == leader {
			continue
		}
		e.Stop(i)
		stopped = append(stopped, i)
		running--
		if running < majority {
			waitNotServing(t, e)
			if st := status(t, e, leader); !strings.Contains(st, "not serving") {
				t.Errorf("zkserver status of the lone leader:\n%s", st)
			}
			break
		}
		l := waitServing(t, e)
		if l != leader {
			t.Fatalf("stopping follower %d moved the leadership to %d", i+1, l+1)
		}
		a.write(t, e, leader, fmt.Sprintf("/without-%d", i+1))
		if observers > 0 {
			a.write(t, e, voters, fmt.Sprintf("/observer-without-%d", i+1))
		}
	}
	// Bring them back: service resumes. The lone leader lost its quorum,
	// so this is a new election: as with Apache, the highest id among the
	// servers with the most complete log wins, which need not be the
	// former leader.
	for _, i := range stopped {
		start(t, e, i)
	}
	leader = waitServing(t, e)
	if leader >= voters {
		t.Fatalf("an observer leads: server %d", leader+1)
	}
	a.write(t, e, 0, "/back")

	// Stop the leader: the highest remaining voter leads; the old leader
	// comes back as a follower and does not take over.
	e.Stop(leader)
	next := waitServing(t, e)
	highest := voters - 1
	if highest == leader {
		highest--
	}
	if next != highest {
		t.Errorf("after the leader stopped, server %d leads, want %d (the highest remaining voter)", next+1, highest+1)
	}
	a.write(t, e, 0, "/new-leader")
	start(t, e, leader)
	if l := waitServing(t, e); l != next {
		t.Errorf("the old leader came back and server %d leads, want %d", l+1, next+1)
	}
	if got := e.Mode(leader); got != "follower" {
		t.Errorf("the old leader came back as %q, want follower", got)
	}
	for i := range n {
		a.check(t, e, i)
	}
}

// TestKill9WholeEnsemble kills every server with SIGKILL in the middle of a
// stream of writes through all of them; after a restart every acknowledged
// write is on every server.
func TestKill9WholeEnsemble(t *testing.T) {
	e := zkgoproc.StartEnsemble(t, zkgoproc.EnsembleOptions{Voters: 3, TickTime: tick})
	waitServing(t, e)
	type result struct {
		paths []string
		err   error
	}
	stop := make(chan struct{})
	results := make(chan result, e.Size())
	for i := range e.Size() {
		c := dial(t, e.Addr(i))
		defer c.Close()
		go func() {
			var r result
			defer func() { results <- r }()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/w-%d-%06d", i+1, k)
				if _, err := c.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
					if !errors.Is(err, zk.ErrConnectionClosed) && !errors.Is(err, zk.ErrNoServer) && !strings.Contains(err.Error(), "connection") {
						r.err = fmt.Errorf("create %s: %w", p, err)
					}
					return
				}
				r.paths = append(r.paths, p)
			}
		}()
	}
	// Kill once enough writes were acknowledged (counted by the servers).
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c := dial(t, e.Addr(0))
		kids, _, err := c.Children("/")
		c.Close()
		if err == nil && len(kids) > 300 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range e.Size() {
		if err := e.Kill(i); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	a := acked{}
	for range e.Size() {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		for _, p := range r.paths {
			a[p] = ""
		}
	}
	if len(a) == 0 {
		t.Fatal("no write was acknowledged before the kill: the test proved nothing")
	}
	t.Logf("%d writes acknowledged before kill -9 of every server", len(a))
	for i := range e.Size() {
		start(t, e, i)
	}
	waitServing(t, e)
	for i := range e.Size() {
		a.check(t, e, i)
	}
}
