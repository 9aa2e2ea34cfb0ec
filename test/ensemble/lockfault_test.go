package ensemble

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/internal/ensemble"
	"github.com/zkgo/zkgo/internal/netproxy"
	"github.com/zkgo/zkgo/internal/zkgoproc"
	"github.com/zkgo/zkgo/recipes/lock"
)

// fence is an external resource that a lock protects, guarded by fencing
// tokens as recipes/lock's documentation asks: it admits a holder only with
// a token at least the highest it has admitted, and refuses every later use
// of a token once a higher one was admitted. It records each section it
// admitted while an earlier one was still open: ZooKeeper allows that only
// when the earlier holder's session had expired, so that holder must have
// been told it lost the lock.
type fence struct {
	mu       sync.Mutex
	max      int64
	open     map[int64]string // token → holder, sections not yet closed
	admitted int
	refused  int
	overlaps [][2]int64 // {earlier token still open, token admitted}
}

func (f *fence) enter(who string, tok int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok <= f.max {
		f.refused++
		return false
	}
	for old := range f.open {
		f.overlaps = append(f.overlaps, [2]int64{old, tok})
	}
	f.max = tok
	f.open[tok] = who
	f.admitted++
	return true
}

// use reports whether tok may still act on the resource.
func (f *fence) use(tok int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tok < f.max {
		f.refused++
		return false
	}
	return true
}

func (f *fence) exit(tok int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.open, tok)
}

// contender is one process's share of the lock test: its own session and
// Mutex on the shared lock path.
type contender struct {
	name string
	conn *client.Conn
	mu   *lock.Mutex
	// told holds the tokens of holds this contender was told it lost
	// (Done closed, or Unlock failed with ErrLockLost).
	told map[int64]bool
}

// run takes the lock until ctx ends, using the fence while it holds it.
func (c *contender) run(ctx context.Context, f *fence, holds chan<- struct{}) {
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := c.mu.Lock(lctx)
		cancel()
		if err != nil {
			continue // ctx ended, or the session went while waiting
		}
		tok := c.mu.Token()
		lost := false
		if f.enter(c.name, tok) {
			for k := 0; k < 4 && !lost; k++ {
				if !f.use(tok) {
					lost = true
					break
				}
				select {
				case <-c.mu.Done():
					lost = true
				case <-time.After(10 * time.Millisecond): // the work of the section
				}
			}
			f.exit(tok)
		}
		select {
		case <-c.mu.Done():
			lost = true
		default:
		}
		uctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := c.mu.Unlock(uctx); errors.Is(err, lock.ErrLockLost) {
			lost = true
		}
		cancel()
		if lost {
			c.told[tok] = true
		} else {
			select {
			case holds <- struct{}{}:
			default:
			}
		}
	}
}

// TestLockUnderFaults runs contenders for one recipes/lock Mutex on a
// 3-server zkgo ensemble (zkserver processes) while a nemesis kills -9 the
// leader, then the server the current holder is connected to, restarting
// each; one contender reaches the ensemble through proxies that are cut
// until its session expires while it holds the lock. The fencing tokens
// must only grow, every section admitted while an earlier one was open must
// follow a loss the earlier holder was told of, the cut holder must be told
// and refused, and the lock must keep being taken between faults.
func TestLockUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server ensemble and kills its servers")
	}
	e := zkgoproc.StartEnsemble(t, zkgoproc.EnsembleOptions{Voters: 3, TickTime: tick})
	var direct []string
	for i := range e.Size() {
		direct = append(direct, e.Addr(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The cut contender connects through one proxy per server.
	var proxies []*netproxy.Proxy
	var viaProxy []string
	for _, a := range direct {
		p, err := netproxy.Listen(a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		proxies = append(proxies, p)
		viaProxy = append(viaProxy, p.Addr())
	}
	const path = "/locks/fenced"
	connect := func(name string, servers []string) *contender {
		c, err := client.Connect(ctx, strings.Join(servers, ","), client.WithSessionTimeout(2*time.Second))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		return &contender{name: name, conn: c, mu: lock.NewMutex(c, path), told: make(map[int64]bool)}
	}
	cut := connect("cut", viaProxy)
	var cs []*contender
	for i := range 3 {
		cs = append(cs, connect(fmt.Sprintf("c%d", i), direct))
	}

	// Phase 1: the cut contender holds the lock; its proxies are cut and
	// refuse connections until its session expires; another contender
	// gets the lock, and the cut one is told and refused by the fence.
	f := &fence{open: make(map[int64]string)}
	if err := cut.mu.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	cutTok := cut.mu.Token()
	if !f.enter(cut.name, cutTok) {
		t.Fatal("fence refused the first holder")
	}
	for _, p := range proxies {
		p.Cut()
	}
	if err := cs[0].mu.Lock(ctx); err != nil {
		t.Fatalf("lock after the holder's session was cut off: %v", err)
	}
	next := cs[0].mu.Token()
	if next <= cutTok || !f.enter(cs[0].name, next) {
		t.Fatalf("token %d after %d: the fence must admit the new holder", next, cutTok)
	}
	if f.use(cutTok) {
		t.Fatalf("fence still admits the expired holder's token %d", cutTok)
	}
	for _, p := range proxies {
		p.Heal()
	}
	select {
	case <-cut.mu.Done():
	case <-ctx.Done():
		t.Fatal("the holder whose session expired was never told (Done)")
	}
	if err := cut.mu.Unlock(ctx); !errors.Is(err, lock.ErrLockLost) {
		t.Fatalf("Unlock after the session expired: %v, want ErrLockLost", err)
	}
	f.exit(cutTok)
	f.exit(next)
	if err := cs[0].mu.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.overlaps) != 1 || f.overlaps[0] != [2]int64{cutTok, next} {
		t.Fatalf("overlaps %v, want only the cut holder's", f.overlaps)
	}
	f.overlaps = nil

	// Phase 2: contenders loop while the nemesis kills servers.
	runCtx, stop := context.WithCancel(ctx)
	holds := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for _, c := range append(cs, cut) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(runCtx, f, holds)
		}()
	}
	awaitHold := func(what string) {
		t.Helper()
		select {
		case <-holds:
		case <-time.After(60 * time.Second):
			stop()
			wg.Wait()
			t.Fatalf("no lock hold completed %s", what)
		}
	}
	awaitHold("before the faults")
	for round := range 4 {
		victim, what := e.Leader(), "the leader"
		if round%2 == 1 {
			// Someone holds the lock most of the time; wait for a moment
			// when one does.
			victim, what = -1, "the holder's server"
			for deadline := time.Now().Add(10 * time.Second); victim < 0 && time.Now().Before(deadline); {
				if victim = holderServer(e, cs); victim < 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}
		if victim < 0 {
			victim, what = round%e.Size(), "a server"
		}
		if err := e.Kill(victim); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed -9 server %d (%s)", round, victim+1, what)
		// Drain a hold completed before the kill, then require one after.
		select {
		case <-holds:
		default:
		}
		awaitHold(fmt.Sprintf("with server %d down", victim+1))
		start(t, e, victim)
		waitServing(t, e)
		awaitHold(fmt.Sprintf("after server %d came back", victim+1))
	}
	stop()
	wg.Wait()

	f.mu.Lock()
	defer f.mu.Unlock()
	told := make(map[int64]bool)
	for _, c := range append(cs, cut) {
		for tok := range c.told {
			told[tok] = true
		}
	}
	for _, o := range f.overlaps {
		if !told[o[0]] {
			t.Errorf("token %d admitted while token %d's holder held the lock and was never told it lost it", o[1], o[0])
		}
	}
	t.Logf("%d sections admitted, %d uses refused by the fence, %d overlaps (each after a loss the holder was told of)",
		f.admitted, f.refused, len(f.overlaps))
	if f.admitted < 8 {
		t.Fatalf("only %d sections admitted: the test proved little", f.admitted)
	}
}

// holderServer returns the index of the server the current lock holder is
// connected to, or -1.
func holderServer(e *ensemble.Ensemble, cs []*contender) int {
	for _, c := range cs {
		if !c.mu.Held() {
			continue
		}
		addr := c.conn.Server()
		for i := range e.Size() {
			if e.Addr(i) == addr {
				return i
			}
		}
	}
	return -1
}
