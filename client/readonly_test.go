package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/zktest"
)

// readOnlyEnsemble starts a zkgo ensemble of three with
// readonlymode.enabled, whatever ZKGO_TEST_TARGET says, and creates /ro on
// every member.
func readOnlyEnsemble(t *testing.T) *zktest.Ensemble {
	t.Helper()
	e := zktest.StartEnsemble(t, 3, zktest.WithConfig(func(c *config.Config) { c.ReadOnlyModeEnabled = true }))
	c := connectTo(t, e.ConnectString())
	ctx := ctxFor(t)
	if _, err := c.Create(ctx, "/ro", []byte("0")); err != nil {
		t.Fatal(err)
	}
	// Every member has /ro before any is cut off: ask each one.
	for i := range e.Size() {
		m := connectTo(t, e.Server(i).Addr())
		if err := m.Sync(ctx, "/ro"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Exists(ctx, "/ro"); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	c.Close()
	return e
}

// waitMode waits until server i of e reports mode.
func waitMode(t *testing.T, e *zktest.Ensemble, i int, mode string) {
	t.Helper()
	waitFor(t, "server mode "+mode, func() bool {
		srv := e.Server(i).Server()
		return srv != nil && srv.Mode() == mode
	})
}

// TestReadOnlyMovesToReadWrite: a client connected to a read-only server
// (cut off from its quorum) looks for a read-write server of its connect
// string in the background, as the Java client does, and moves there by
// itself while the read-only one is still read-only: ReadOnly, Suspended,
// then Connected (the first read-write connection), with a new session
// (the read-only one was local to its server) that keeps the watches, and
// no Lost.
func TestReadOnlyMovesToReadWrite(t *testing.T) {
	e := readOnlyEnsemble(t)
	e.Partition(0)
	waitMode(t, e, 0, "read-only")
	// The client reaches server 0 only, until released.
	st := &steering{target: e.Server(0).Addr()}
	ctx := ctxFor(t)
	c := connectTo(t, e.ConnectString(), client.WithReadOnly(true), st.option(), client.WithRetryPolicy(client.NoRetry()))
	expectStates(t, c, client.ReadOnly)
	roSession := c.SessionID()
	if _, err := c.Set(ctx, "/ro", []byte("1"), -1); !errors.Is(err, client.ErrNotReadOnly) {
		t.Fatalf("write on the read-only server: %v, want ErrNotReadOnly", err)
	}
	_, _, data, err := c.GetW(ctx, "/ro")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := c.AddWatch(ctx, "/ro", false)
	if err != nil {
		t.Fatal(err)
	}

	st.release()
	expectStates(t, c, client.Suspended, client.Connected)
	if s := e.Server(0).Server().Mode(); s != "read-only" {
		t.Fatalf("server 0 is %s: the client was not the one to move", s)
	}
	if c.Server() == e.Server(0).Addr() {
		t.Fatalf("still on the read-only server %s", c.Server())
	}
	if c.SessionID() == roSession || c.SessionID() == 0 {
		t.Errorf("session 0x%x after the move, want a new one (read-only session 0x%x)", c.SessionID(), roSession)
	}
	// The watches were carried over to the new session.
	if _, err := c.Set(ctx, "/ro", []byte("1"), -1); err != nil {
		t.Fatalf("write after the move: %v", err)
	}
	expectEvent(t, data, client.EventNodeDataChanged, "/ro")
	expectEvent(t, pw.C(), client.EventNodeDataChanged, "/ro")
}

// TestReadOnlyHealed: when the partition of the client's read-only server
// heals, the client ends up on a read-write connection to it, with a new
// session and without Lost.
func TestReadOnlyHealed(t *testing.T) {
	e := readOnlyEnsemble(t)
	e.Partition(0)
	waitMode(t, e, 0, "read-only")
	ctx := ctxFor(t)
	c := connectTo(t, e.Server(0).Addr(), client.WithReadOnly(true))
	expectStates(t, c, client.ReadOnly)
	roSession := c.SessionID()
	_, _, data, err := c.GetW(ctx, "/ro")
	if err != nil {
		t.Fatal(err)
	}

	e.Heal(0)
	expectStates(t, c, client.Suspended, client.Connected)
	if c.SessionID() == roSession {
		t.Errorf("read-only session 0x%x kept on a read-write server", roSession)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Set(wctx, "/ro", []byte("2"), -1); err != nil {
		t.Fatalf("write after healing: %v", err)
	}
	expectEvent(t, data, client.EventNodeDataChanged, "/ro")
}

// TestReadOnlyApacheEnsemble: the same move against Apache ZooKeeper
// (readonlymode.enabled), whose read-only server grants sessions local to
// it: a client on the last member standing gets to a read-write server
// once the quorum is back, with a new session, its watches and no Lost.
// Apache 3.8's read-only server refuses to create sessions (NotReadOnly)
// unless local sessions are enabled, for the Java client too.
func TestReadOnlyApacheEnsemble(t *testing.T) {
	e := startEnsembleWith(t, []string{"-Dreadonlymode.enabled=true"}, []string{"localSessionsEnabled=true"})
	ctx := ctxFor(t)
	setup := connectTo(t, e.connectString())
	if _, err := setup.Create(ctx, "/ro", []byte("0")); err != nil {
		t.Fatal(err)
	}
	setup.Close()
	e.stop(1)
	e.stop(2)
	waitFor(t, "server 1 in read-only mode", func() bool { return ensembleMode(e.nodes[0].addr) == "read-only" })
	c := connectTo(t, e.connectString(), client.WithReadOnly(true))
	expectStates(t, c, client.ReadOnly)
	roSession := c.SessionID()
	_, _, data, err := c.GetW(ctx, "/ro")
	if err != nil {
		t.Fatal(err)
	}

	e.start(t, 1)
	e.start(t, 2)
	expectStates(t, c, client.Suspended, client.Connected)
	if c.SessionID() == roSession {
		t.Errorf("read-only session 0x%x kept on a read-write server", roSession)
	}
	if _, err := c.Set(ctx, "/ro", []byte("1"), -1); err != nil {
		t.Fatalf("write after the quorum came back: %v", err)
	}
	expectEvent(t, data, client.EventNodeDataChanged, "/ro")
}
