package apachezk

import (
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
