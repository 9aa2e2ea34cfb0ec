package testserver

import (
	"context"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

// Context returns a context bounded for one test.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// WaitFor polls cond until it holds or 30s pass.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Closed reports whether ch is closed, without waiting.
func Closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// WaitClosed waits up to 30s for ch to close.
func WaitClosed(tb testing.TB, what string, ch <-chan struct{}) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		tb.Fatalf("%s: not closed within 30s", what)
	}
}

// WaitState reads c's state channel until state s arrives.
func WaitState(tb testing.TB, c *client.Conn, s client.State) {
	tb.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case got, ok := <-c.States():
			if !ok {
				tb.Fatalf("states closed, want %v", s)
			}
			if got == s {
				return
			}
		case <-timeout:
			tb.Fatalf("no state %v within 30s", s)
		}
	}
}
