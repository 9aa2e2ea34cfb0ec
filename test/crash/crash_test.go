// Package crash kills a zkgo server with SIGKILL in the middle of a stream of
// writes and checks, after a restart, that every acknowledged write survived
// and that no refused write took effect.
package crash

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkgo/zkgo/internal/testproc"
	"github.com/zkgo/zkgo/internal/zkgoproc"
)

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func TestMain(m *testing.M) {
	code := m.Run()
	zkgoproc.RemoveBuild()
	os.Exit(code)
}

func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	// Every incarnation serves the same data directory on the same address.
	dir := t.TempDir()
	addr, err := testproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	opts := zkgoproc.Options{
		TickTime: 500 * time.Millisecond,
		Dir:      dir,
		Addr:     addr,
		Config:   []string{"4lw.commands.whitelist=*", "snapCount=300"},
	}

	for round := 0; round < 3; round++ {
		srv := zkgoproc.Start(t, opts)
		c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(nopLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		root := fmt.Sprintf("/round%d", round)
		if _, err := c.Create(root, []byte("orig"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		var (
			mu     sync.Mutex
			acked  = map[string]bool{}
			early  error       // the first failure before the kill, guarded by mu
			killed atomic.Bool // set before the kill: later errors are expected
			wg     sync.WaitGroup
			stop   = make(chan struct{})
		)
		// fail records a writer's failure unless the kill explains it.
		fail := func(err error) {
			if killed.Load() {
				return
			}
			mu.Lock()
			if early == nil {
				early = err
			}
			mu.Unlock()
		}
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					p := fmt.Sprintf("%s/w%d-%d", root, w, i)
					if _, err := c.Create(p, []byte(p), 0, zk.WorldACL(zk.PermAll)); err != nil {
						fail(fmt.Errorf("create %s: %w", p, err))
						return
					}
					mu.Lock()
					acked[p] = true
					mu.Unlock()
					// A refused write: the root exists, this must never apply.
					if _, err := c.Create(root, []byte("refused"), 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNodeExists) {
						fail(fmt.Errorf("create of the existing %s: %v, want ErrNodeExists", root, err))
						return
					}
				}
			}(w)
		}
		// Let writes flow, then kill mid-stream: as soon as enough writes
		// are acknowledged, or at the deadline if the machine is slow. A
		// round must kill the server with acknowledged writes (else it
		// proves nothing) and writers still writing.
		target := 500 + round*200
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			n, err := len(acked), early
			mu.Unlock()
			if err != nil || n >= target || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		killed.Store(true)
		srv.Kill()
		close(stop)
		wg.Wait()
		c.Close()
		if early != nil {
			t.Fatalf("round %d: before the kill: %v", round, early)
		}
		if len(acked) == 0 {
			t.Fatalf("round %d: no write was acknowledged within 60s: nothing to check after the kill", round)
		}

		srv2 := zkgoproc.Start(t, opts)
		c2, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(nopLogger{}))
		if err != nil {
			t.Fatal(err)
		}
		kids, _, err := c2.Children(root)
		if err != nil {
			t.Fatalf("round %d: children after restart: %v", round, err)
		}
		present := map[string]bool{}
		for _, k := range kids {
			present[root+"/"+k] = true
		}
		var lost []string
		for p := range acked {
			if !present[p] {
				lost = append(lost, p)
			}
		}
		if len(lost) > 0 {
			t.Fatalf("round %d: %d of %d acknowledged creates lost, e.g. %v", round, len(lost), len(acked), lost[:min(5, len(lost))])
		}
		data, _, err := c2.Get(root)
		if err != nil || string(data) != "orig" {
			t.Fatalf("round %d: refused write took effect: %q %v", round, data, err)
		}
		for _, k := range kids {
			if !strings.HasPrefix(k, "w") {
				t.Fatalf("unexpected child %q", k)
			}
		}
		t.Logf("round %d: %d acknowledged creates survived kill -9 (%d present)", round, len(acked), len(kids))
		c2.Close()
		// The next round kills this incarnation's successor mid-stream; stop
		// this one (by its PID) so the port is free.
		srv2.Stop()
	}
}
