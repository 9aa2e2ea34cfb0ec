package client

import (
	"context"
	"testing"
	"time"
)

// TestServerReportsExpired resumes with a password the server rejects: it
// answers as for an expired session, and the client must report Lost, then
// start a new session.
func TestServerReportsExpired(t *testing.T) {
	addr := needServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Connect(ctx, addr, WithSessionTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	next := func() State {
		select {
		case s := <-c.States():
			return s
		case <-ctx.Done():
			t.Fatal("no state transition")
		}
		return 0
	}
	if s := next(); s != Connected {
		t.Fatalf("state %v", s)
	}
	_, w, err := c.ExistsW(ctx, "/nonexistent-node")
	if err != nil {
		t.Fatal(err)
	}
	old := c.SessionID()
	c.mu.Lock()
	c.passwd = make([]byte, 16) // not the session's password
	c.passwd[0] = 1
	wire := c.w
	c.mu.Unlock()
	wire.shutdown(errTestCut)
	for _, want := range []State{Suspended, Lost, Reconnected} {
		if s := next(); s != want {
			t.Fatalf("state %v, want %v", s, want)
		}
	}
	if e := <-w; e.State != KeeperExpired {
		t.Errorf("watch final event %+v", e)
	}
	if sid := c.SessionID(); sid == 0 || sid == old {
		t.Errorf("session 0x%x after expiry (old 0x%x)", sid, old)
	}
	if _, err := c.Exists(ctx, "/"); err != nil {
		t.Errorf("Exists on the new session: %v", err)
	}
}

var errTestCut = &OpError{Op: "test", Err: ErrConnectionLoss}
