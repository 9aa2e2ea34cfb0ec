package zkgoproc

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/testproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBuild()
	os.Exit(code)
}

func TestStartKillRestartStop(t *testing.T) {
	s := Start(t, Options{TickTime: 200 * time.Millisecond, Config: []string{"4lw.commands.whitelist=*"}})
	if got := testproc.FourLetter(s.Addr(), "conf"); !strings.Contains(got, "tickTime=200") {
		t.Fatalf("conf = %q, want tickTime=200", got)
	}
	s.Kill()
	s.Kill() // idempotent
	s.Stop() // no-op after Kill
	if testproc.FourLetter(s.Addr(), "ruok") != "" {
		t.Fatal("server still answers after Kill")
	}

	// Restart on the same directory and address.
	s2 := Start(t, Options{TickTime: 200 * time.Millisecond, Dir: s.Dir(), Addr: s.Addr(), Config: []string{"4lw.commands.whitelist=*"}})
	if s2.Addr() != s.Addr() || s2.Pid() == s.Pid() {
		t.Fatalf("restart: addr %s pid %d, first addr %s pid %d", s2.Addr(), s2.Pid(), s.Addr(), s.Pid())
	}
	if got := testproc.FourLetter(s2.Addr(), "ruok"); got != "imok" {
		t.Fatalf("ruok after restart = %q", got)
	}
	s2.Stop()
	s2.Stop() // idempotent
	select {
	case <-s2.Done():
	default:
		t.Fatal("process still running after Stop")
	}
	if s2.LogTail(1000) == "" {
		t.Error("empty log")
	}
}
