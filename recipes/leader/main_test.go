package leader_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// suite is the server the tests run against: zkgo in process, or Apache
// ZooKeeper with ZKGO_TEST_TARGET=apache.
var suite testserver.Suite

func TestMain(m *testing.M) { os.Exit(testserver.Main(m, &suite)) }

func exampleServer() string { return suite.ExampleAddr() }

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connect(t testing.TB, opts ...client.Option) *client.Conn {
	t.Helper()
	return testserver.Connect(t, suite.Addr(t), opts...)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitClosed(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not closed within 30s", what)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func waitState(t testing.TB, c *client.Conn, s client.State) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case got, ok := <-c.States():
			if !ok {
				t.Fatalf("states closed, want %v", s)
			}
			if got == s {
				return
			}
		case <-timeout:
			t.Fatalf("no state %v within 30s", s)
		}
	}
}
