package apachezk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/testproc"
)

func TestStartStop(t *testing.T) {
	s := Start(t, Options{TickTime: 200 * time.Millisecond, Config: []string{"maxClientCnxns=0"}})
	if got := testproc.FourLetter(s.Addr(), "conf"); !strings.Contains(got, "tickTime=200") {
		t.Fatalf("conf = %q, want tickTime=200", got)
	}
	s.Stop()
	s.Stop() // idempotent
	select {
	case <-s.Done():
	default:
		t.Fatal("process still running after Stop")
	}
	if testproc.FourLetter(s.Addr(), "ruok") != "" {
		t.Fatal("server still answers after Stop")
	}
}

// TestEnsemble runs the tutorial's experiment on 3 voters and an observer:
// roles, kill -9 of the leader (a new one is elected, the old one rejoins
// as a follower), a paused follower that stops answering and resumes.
func TestEnsemble(t *testing.T) {
	e := StartEnsemble(t, EnsembleOptions{Voters: 3, Observers: 1, TickTime: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if got := strings.Count(e.ConnectString(), ","); got != 3 {
		t.Fatalf("ConnectString() = %q, want 4 addresses", e.ConnectString())
	}
	modes := map[string]int{}
	for i := range e.Size() {
		modes[e.Mode(i)]++
	}
	if modes["leader"] != 1 || modes["follower"] != 2 || modes["observer"] != 1 || e.Mode(3) != "observer" {
		t.Fatalf("modes = %v (server 4: %q), want 1 leader, 2 followers, server 4 observer", modes, e.Mode(3))
	}
	cfg, err := os.ReadFile(filepath.Join(e.Dir(3), "zoo.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "peerType=observer") || !strings.Contains(string(cfg), ":observer\n") {
		t.Fatalf("observer's zoo.cfg lacks peerType=observer or :observer:\n%s", cfg)
	}

	old := e.Leader()
	pid := e.Pid(old)
	if err := e.Kill(old); err != nil {
		t.Fatal(err)
	}
	if e.Running(old) || e.Pid(old) != 0 {
		t.Fatalf("server %d still running after Kill (pid was %d)", old+1, pid)
	}
	if err := e.Kill(old); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second Kill = %v, want ErrNotRunning", err)
	}
	if err := e.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	if l := e.Leader(); l == old || l < 0 || l == 3 {
		t.Fatalf("leader after killing server %d is %d", old+1, l+1)
	}
	if err := e.Start(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	if m := e.Mode(old); m != "follower" {
		t.Fatalf("restarted old leader: Mode %q, want follower", m)
	}

	f := (e.Leader() + 1) % 3
	if err := e.Pause(f); err != nil {
		t.Fatal(err)
	}
	// A paused JVM does not answer, though its socket accepts.
	if got := testproc.FourLetter(e.Addr(f), "srvr"); got != "" {
		t.Fatalf("paused server %d answered srvr: %q", f+1, got)
	}
	if err := e.Resume(f); err != nil {
		t.Fatal(err)
	}
	if err := e.WaitServing(ctx); err != nil {
		t.Fatal(err)
	}
	e.Pause(f)
	e.Stop(f) // resumes it so that SIGTERM is handled
	if e.Running(f) {
		t.Fatalf("server %d runs after Stop", f+1)
	}
}
