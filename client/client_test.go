package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

func TestConnectStates(t *testing.T) {
	c := connect(t, client.WithSessionTimeout(5*time.Second))
	expectStates(t, c, client.Connected)
	if c.State() != client.Connected || c.SessionID() == 0 || c.Server() == "" {
		t.Errorf("state %v, session 0x%x, server %q", c.State(), c.SessionID(), c.Server())
	}
	if got := c.SessionTimeout(); got != 5*time.Second {
		t.Errorf("negotiated timeout %v, want 5s", got)
	}
	c.Close()
	if _, ok := <-c.States(); ok {
		t.Error("States channel open after Close")
	}
	if _, err := c.Exists(ctxFor(t), "/"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Exists after Close: %v, want ErrClosed", err)
	}
	c.Close() // idempotent
}

func TestReadOnlyAllowed(t *testing.T) {
	// A read-write server accepts clients that would take read-only mode:
	// the state is Connected, not ReadOnly.
	c := connect(t, client.WithReadOnly(true))
	expectStates(t, c, client.Connected)
	if _, err := c.Exists(ctxFor(t), "/"); err != nil {
		t.Error(err)
	}
}

func TestSessionTimeoutClamped(t *testing.T) {
	// tickTime is 200ms: the server raises the timeout to 2 ticks.
	c := connect(t, client.WithSessionTimeout(100*time.Millisecond))
	if got := c.SessionTimeout(); got != 400*time.Millisecond {
		t.Errorf("negotiated %v, want 400ms", got)
	}
}

func TestConnectFailure(t *testing.T) {
	client.ServerForTest(t)
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	_, err = client.Connect(context.Background(), addr, client.WithConnectTimeout(500*time.Millisecond))
	if !errors.Is(err, client.ErrConnectionLoss) {
		t.Errorf("Connect to a closed port: %v, want ErrConnectionLoss", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Connect took %v with a 500ms connect timeout", time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.Connect(ctx, addr); !errors.Is(err, context.Canceled) {
		t.Errorf("Connect with a cancelled context: %v", err)
	}
	if _, err := client.Connect(ctx, "h:1/bad/"); err == nil {
		t.Error("Connect accepted a bad chroot")
	}
}

func TestMultipleHosts(t *testing.T) {
	addr := client.ServerForTest(t)
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	// One dead host among the live one: connecting must still succeed.
	for range 3 {
		c := connectTo(t, dead+","+addr)
		if c.Server() != addr {
			t.Errorf("connected to %q, want %q", c.Server(), addr)
		}
		c.Close()
	}
}

func TestCreateModes(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	seq := regexp.MustCompile(`^` + regexp.QuoteMeta(b) + `/s-\d{10}$`)

	tests := []struct {
		name      string
		path      string
		opts      []client.CreateOption
		ephemeral bool
		match     *regexp.Regexp
	}{
		{name: "persistent", path: b + "/p"},
		{name: "ephemeral", path: b + "/e", opts: []client.CreateOption{client.WithMode(client.Ephemeral)}, ephemeral: true},
		{name: "persistent sequential", path: b + "/s-", opts: []client.CreateOption{client.WithMode(client.PersistentSequential)}, match: seq},
		{name: "ephemeral sequential", path: b + "/s-", opts: []client.CreateOption{client.WithMode(client.EphemeralSequential)}, ephemeral: true, match: seq},
		{name: "container", path: b + "/c", opts: []client.CreateOption{client.WithMode(client.Container)}},
		{name: "ttl", path: b + "/t", opts: []client.CreateOption{client.WithMode(client.PersistentTTL), client.WithTTL(time.Hour)}},
		{name: "sequential ttl", path: b + "/s-", opts: []client.CreateOption{client.WithMode(client.PersistentSequentialTTL), client.WithTTL(time.Hour)}, match: seq},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte("data of " + tt.name)
			p, st, err := c.CreateStat(ctx, tt.path, data, tt.opts...)
			if err != nil {
				t.Fatalf("CreateStat: %v", err)
			}
			if tt.match != nil && !tt.match.MatchString(p) || tt.match == nil && p != tt.path {
				t.Errorf("created %q", p)
			}
			if st == nil || st.DataLength != int32(len(data)) || st.Version != 0 || st.Czxid == 0 {
				t.Errorf("stat %+v", st)
			}
			wantOwner := int64(0)
			if tt.ephemeral {
				wantOwner = c.SessionID()
			}
			if st.EphemeralOwner != wantOwner {
				t.Errorf("ephemeralOwner 0x%x, want 0x%x", st.EphemeralOwner, wantOwner)
			}
			got, st2, err := c.Get(ctx, p)
			if err != nil || !bytes.Equal(got, data) || *st2 != *st {
				t.Errorf("Get = %q, %+v, %v; want %q, %+v", got, st2, err, data, st)
			}
		})
	}

	// Sequence numbers are the parent's cversion, so they increase.
	p1, err := c.Create(ctx, b+"/s-", nil, client.WithMode(client.PersistentSequential))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.Create(ctx, b+"/s-", nil, client.WithMode(client.PersistentSequential))
	if err != nil {
		t.Fatal(err)
	}
	if p1 >= p2 {
		t.Errorf("sequential names %q then %q", p1, p2)
	}
	// A sequential create may name just the parent ("/parent/").
	if p, err := c.Create(ctx, b+"/", nil, client.WithMode(client.PersistentSequential)); err != nil ||
		!regexp.MustCompile(`^`+regexp.QuoteMeta(b)+`/\d{10}$`).MatchString(p) {
		t.Errorf("create %s/ sequential = %q, %v", b, p, err)
	}
}

func TestCreateErrors(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	if _, err := c.Create(ctx, b+"/x", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opts []client.CreateOption
		want error
	}{
		{"exists", b + "/x", nil, client.ErrNodeExists},
		{"no parent", b + "/missing/x", nil, client.ErrNoNode},
		{"relative", "x", nil, client.ErrBadArguments},
		{"trailing slash", b + "/x/", nil, client.ErrInvalidPath},
		{"ttl without ttl mode", b + "/y", []client.CreateOption{client.WithTTL(time.Second)}, client.ErrBadArguments},
		{"ttl mode without ttl", b + "/y", []client.CreateOption{client.WithMode(client.PersistentTTL)}, client.ErrBadArguments},
		{"bad mode", b + "/y", []client.CreateOption{client.WithMode(42)}, client.ErrBadArguments},
		{"empty acl", b + "/y", []client.CreateOption{client.WithACL()}, client.ErrInvalidACL},
	}
	for _, tt := range tests {
		_, err := c.Create(ctx, tt.path, nil, tt.opts...)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Create(%q) = %v, want %v", tt.name, tt.path, err, tt.want)
		}
		var oe *client.OpError
		if !errors.As(err, &oe) || oe.Op != "create" || oe.Path != tt.path {
			t.Errorf("%s: error %v is not an *OpError for create %q", tt.name, err, tt.path)
		}
	}
	if _, err := c.Create(ctx, b+"/eph", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, b+"/eph/child", nil); !errors.Is(err, client.ErrNoChildrenForEphemerals) {
		t.Errorf("child of an ephemeral: %v", err)
	}
}

func TestCreateParents(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	p, err := c.Create(ctx, b+"/a/b/c", []byte("x"), client.WithParents())
	if err != nil || p != b+"/a/b/c" {
		t.Fatalf("Create with parents = %q, %v", p, err)
	}
	// Parents hold empty data, not null, as Curator makes them.
	if d, _, err := c.Get(ctx, b+"/a/b"); err != nil || d == nil || len(d) != 0 {
		t.Fatalf("parent data = %#v, %v; want empty, not null", d, err)
	}
	// Existing parents are fine, and sequential names work below new ones.
	if _, err := c.Create(ctx, b+"/a/d/s-", nil, client.WithParents(), client.WithMode(client.EphemeralSequential)); err != nil {
		t.Fatal(err)
	}

	// Container parents are reaped by the server once empty again.
	leaf, err := c.Create(ctx, b+"/k1/k2/leaf", nil, client.WithParentsAsContainers())
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Exists(ctx, b+"/k1/k2")
	if err != nil || st == nil {
		t.Fatalf("container parent missing: %v", err)
	}
	if err := c.Delete(ctx, leaf, -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "container parents to be reaped", func() bool {
		st, err := c.Exists(ctx, b+"/k1")
		return err == nil && st == nil
	})
}

func TestCreateProtection(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	p, err := c.Create(ctx, b+"/lock-", nil, client.WithProtection(), client.WithMode(client.EphemeralSequential))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(b) + `/_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-\d{10}$`)
	if !re.MatchString(p) {
		t.Errorf("protected name %q does not follow Curator's _c_<uuid>-<name> layout", p)
	}
}

// TestCreateProtectionAfterLostReply loses the reply to a protected create
// that the server executed: the retry must find the node rather than create
// a second one.
func TestCreateProtectionAfterLostReply(t *testing.T) {
	addr := client.ServerForTest(t)
	observer := connect(t)
	b := base(t, observer)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr(), client.WithRetryPolicy(client.Forever(50*time.Millisecond)))
	ctx := ctxFor(t)

	px.dropReplies()
	type result struct {
		path string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		p, err := c.Create(ctx, b+"/n-", []byte("x"), client.WithProtection(), client.WithMode(client.EphemeralSequential))
		done <- result{p, err}
	}()
	waitFor(t, "the create to reach the server", func() bool {
		kids, err := observer.Children(ctx, b)
		return err == nil && len(kids) == 1
	})
	px.cut(false) // the client reconnects and retries
	r := <-done
	if r.err != nil {
		t.Fatalf("protected create: %v", r.err)
	}
	kids, err := observer.Children(ctx, b)
	if err != nil || len(kids) != 1 || b+"/"+kids[0] != r.path {
		t.Errorf("children %v (err %v), create returned %q: want exactly the one node", kids, err, r.path)
	}
}

// TestCreateProtectionCleanup gives up on a protected create whose reply is
// lost: the node the server did create is found and deleted in the
// background once the client is connected again.
func TestCreateProtectionCleanup(t *testing.T) {
	addr := client.ServerForTest(t)
	observer := connect(t)
	b := base(t, observer)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr(), client.WithRetryPolicy(client.NoRetry()))
	ctx := ctxFor(t)

	px.dropReplies()
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err := c.Create(short, b+"/n-", nil, client.WithProtection(), client.WithMode(client.PersistentSequential))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("create without reply: %v", err)
	}
	waitFor(t, "the create to reach the server", func() bool {
		kids, err := observer.Children(ctx, b)
		return err == nil && len(kids) == 1
	})
	px.cut(false)
	waitFor(t, "the orphan to be deleted", func() bool {
		kids, err := observer.Children(ctx, b)
		return err == nil && len(kids) == 0
	})
}

func TestGetSetDelete(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	p := b + "/n"
	if _, err := c.Create(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	data, st, err := c.Get(ctx, p)
	if err != nil || data != nil || st.DataLength != 0 {
		t.Errorf("Get of null data = %v, %+v, %v; want nil", data, st, err)
	}
	st, err = c.Set(ctx, p, []byte("v1"), 0)
	if err != nil || st.Version != 1 || st.DataLength != 2 {
		t.Fatalf("Set = %+v, %v", st, err)
	}
	if _, err := c.Set(ctx, p, []byte("v2"), 0); !errors.Is(err, client.ErrBadVersion) {
		t.Errorf("Set with stale version: %v", err)
	}
	if st, err = c.Set(ctx, p, []byte{}, -1); err != nil || st.Version != 2 {
		t.Fatalf("Set any version = %+v, %v", st, err)
	}
	if data, _, err := c.Get(ctx, p); err != nil || data == nil || len(data) != 0 {
		t.Errorf("empty data read back as %v, %v; want empty non-nil", data, err)
	}
	if _, err := c.Set(ctx, b+"/missing", nil, -1); !errors.Is(err, client.ErrNoNode) {
		t.Errorf("Set on a missing node: %v", err)
	}
	if _, _, err := c.Get(ctx, b+"/missing"); !errors.Is(err, client.ErrNoNode) {
		t.Errorf("Get on a missing node: %v", err)
	}
	if _, err := c.Create(ctx, p+"/child", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, p, -1); !errors.Is(err, client.ErrNotEmpty) {
		t.Errorf("Delete of a node with children: %v", err)
	}
	if err := c.Delete(ctx, p+"/child", 5); !errors.Is(err, client.ErrBadVersion) {
		t.Errorf("Delete with a wrong version: %v", err)
	}
	if err := c.Delete(ctx, p+"/child", 0); err != nil {
		t.Errorf("Delete with the right version: %v", err)
	}
	if err := c.Delete(ctx, p+"/child", -1); !errors.Is(err, client.ErrNoNode) {
		t.Errorf("Delete of a missing node: %v", err)
	}
}

func TestExistsAndChildren(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	if st, err := c.Exists(ctx, b+"/none"); st != nil || err != nil {
		t.Errorf("Exists(missing) = %+v, %v; want nil, nil", st, err)
	}
	for _, n := range []string{"c", "a", "b"} {
		if _, err := c.Create(ctx, b+"/"+n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Exists(ctx, b)
	if err != nil || st == nil || st.NumChildren != 3 || st.Cversion != 3 {
		t.Errorf("Exists = %+v, %v", st, err)
	}
	kids, err := c.Children(ctx, b)
	slices.Sort(kids)
	if err != nil || !slices.Equal(kids, []string{"a", "b", "c"}) {
		t.Errorf("Children = %v, %v", kids, err)
	}
	kids, st2, err := c.ChildrenStat(ctx, b)
	if err != nil || len(kids) != 3 || *st2 != *st {
		t.Errorf("ChildrenStat = %v, %+v, %v", kids, st2, err)
	}
	if _, err := c.Children(ctx, b+"/none"); !errors.Is(err, client.ErrNoNode) {
		t.Errorf("Children(missing) = %v", err)
	}
	if n, err := c.GetAllChildrenNumber(ctx, b); err != nil || n != 3 {
		t.Errorf("GetAllChildrenNumber = %d, %v", n, err)
	}
	if _, err := c.Create(ctx, b+"/a/x/y", nil, client.WithParents()); err != nil {
		t.Fatal(err)
	}
	if n, err := c.GetAllChildrenNumber(ctx, b); err != nil || n != 5 {
		t.Errorf("GetAllChildrenNumber after nesting = %d, %v", n, err)
	}
	if err := c.Sync(ctx, b); err != nil {
		t.Errorf("Sync: %v", err)
	}
	if err := c.Sync(ctx, b+"/none"); err != nil {
		t.Errorf("Sync of a missing path: %v", err)
	}
}

func TestDeleteRecursive(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	for _, p := range []string{"/t/a/b/c", "/t/a/d", "/t/e"} {
		if _, err := c.Create(ctx, b+p, nil, client.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeleteRecursive(ctx, b+"/t"); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Exists(ctx, b+"/t"); st != nil || err != nil {
		t.Errorf("tree still there: %+v, %v", st, err)
	}
	if err := c.DeleteRecursive(ctx, b+"/t"); !errors.Is(err, client.ErrNoNode) {
		t.Errorf("DeleteRecursive of a missing node: %v", err)
	}
}

func TestEphemeralsAndClose(t *testing.T) {
	c := connect(t)
	observer := connect(t)
	ctx := ctxFor(t)
	b := base(t, observer)
	for _, p := range []string{"/e1", "/e2", "/x/e3"} {
		if _, err := c.Create(ctx, b+p, nil, client.WithMode(client.Ephemeral), client.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	eph, err := c.GetEphemerals(ctx, b)
	slices.Sort(eph)
	if err != nil || !slices.Equal(eph, []string{b + "/e1", b + "/e2", b + "/x/e3"}) {
		t.Errorf("GetEphemerals = %v, %v", eph, err)
	}
	if eph, err := c.GetEphemerals(ctx, b+"/x"); err != nil || !slices.Equal(eph, []string{b + "/x/e3"}) {
		t.Errorf("GetEphemerals(prefix) = %v, %v", eph, err)
	}
	if eph, err := observer.GetEphemerals(ctx, "/"); err != nil || len(eph) != 0 {
		t.Errorf("another session sees ephemerals %v, %v", eph, err)
	}
	// Close ends the session at once: its ephemerals go without waiting for
	// the timeout.
	c.Close()
	if st, err := observer.Exists(ctx, b+"/e1"); st != nil || err != nil {
		t.Errorf("ephemeral survived Close: %+v, %v", st, err)
	}
}

func TestACLAndAuth(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)

	acl, st, err := c.GetACL(ctx, b)
	if err != nil || !slices.Equal(acl, client.OpenACL()) || st.Aversion != 0 {
		t.Errorf("GetACL = %v, %+v, %v", acl, st, err)
	}
	// A node only alice can read and change.
	alice := client.DigestACL(client.PermAll, "alice", "secret")
	if _, err := c.Create(ctx, b+"/private", []byte("x"), client.WithACL(alice...)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, b+"/private"); !errors.Is(err, client.ErrNoAuth) {
		t.Errorf("unauthenticated Get: %v, want ErrNoAuth", err)
	}
	// exists never checks ACLs.
	if st, err := c.Exists(ctx, b+"/private"); st == nil || err != nil {
		t.Errorf("Exists of a protected node: %+v, %v", st, err)
	}
	if err := c.AddAuth(ctx, "digest", []byte("alice:secret")); err != nil {
		t.Fatal(err)
	}
	if data, _, err := c.Get(ctx, b+"/private"); err != nil || string(data) != "x" {
		t.Errorf("Get after AddAuth = %q, %v", data, err)
	}
	who, err := c.WhoAmI(ctx)
	if err != nil || !slices.Contains(who, client.ClientInfo{AuthScheme: "digest", User: "alice"}) {
		t.Errorf("WhoAmI = %+v, %v", who, err)
	}

	// Credentials given at connect time work from the first operation.
	c2 := connect(t, client.WithAuth("digest", []byte("alice:secret")))
	if _, _, err := c2.Get(ctx, b+"/private"); err != nil {
		t.Errorf("Get with WithAuth: %v", err)
	}
	// The superuser passes every check.
	su := connect(t, client.WithAuth("digest", []byte("super:test")))
	if _, _, err := su.Get(ctx, b+"/private"); err != nil {
		t.Errorf("super Get: %v", err)
	}

	// CreatorAllACL needs authenticated ids.
	anon := connect(t)
	if _, err := anon.Create(ctx, b+"/mine", nil, client.WithACL(client.CreatorAllACL()...)); !errors.Is(err, client.ErrInvalidACL) {
		t.Errorf("CreatorAllACL without auth: %v", err)
	}
	if _, err := c.Create(ctx, b+"/mine", nil, client.WithACL(client.CreatorAllACL()...)); err != nil {
		t.Fatal(err)
	}
	if acl, _, err := c.GetACL(ctx, b+"/mine"); err != nil || len(acl) != 1 || acl[0].ID.ID != client.DigestID("alice", "secret") {
		t.Errorf("GetACL of a CreatorAll node = %+v, %v", acl, err)
	}

	// SetACL with versions.
	st, err = c.SetACL(ctx, b+"/private", client.WorldACL(client.PermRead), 0)
	if err != nil || st.Aversion != 1 {
		t.Fatalf("SetACL = %+v, %v", st, err)
	}
	if _, err := c.SetACL(ctx, b+"/private", client.OpenACL(), 1); !errors.Is(err, client.ErrNoAuth) {
		t.Errorf("SetACL without ADMIN: %v", err)
	}
	if _, err := su.SetACL(ctx, b+"/private", client.OpenACL(), 0); !errors.Is(err, client.ErrBadVersion) {
		t.Errorf("SetACL with stale aversion: %v", err)
	}
	if _, _, err := anon.Get(ctx, b+"/private"); err != nil {
		t.Errorf("world-readable Get: %v", err)
	}
	if _, err := anon.Set(ctx, b+"/private", nil, -1); !errors.Is(err, client.ErrNoAuth) {
		t.Errorf("Set without WRITE: %v", err)
	}
}

func TestAuthFailed(t *testing.T) {
	addr := client.ServerForTest(t)
	ctx := ctxFor(t)
	// No provider for the scheme: the server rejects it and closes.
	if _, err := client.Connect(ctx, addr, client.WithAuth("nosuchscheme", []byte("x"))); !errors.Is(err, client.ErrAuthFailed) {
		t.Errorf("Connect with bad credentials: %v, want ErrAuthFailed", err)
	}
	c := connect(t)
	expectStates(t, c, client.Connected)
	_, w, err := c.ExistsW(ctx, "/nosuchnode")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddAuth(ctx, "nosuchscheme", []byte("x")); !errors.Is(err, client.ErrAuthFailed) {
		t.Errorf("AddAuth with bad credentials: %v", err)
	}
	expectStates(t, c, client.Lost)
	e := nextEvent(t, w)
	if e.Type != client.EventNone || e.State != client.KeeperAuthFailed || !errors.Is(e.Err, client.ErrAuthFailed) {
		t.Errorf("watch final event %+v", e)
	}
	if _, err := c.Exists(ctx, "/"); !errors.Is(err, client.ErrAuthFailed) {
		t.Errorf("op after auth failure: %v", err)
	}
}

func TestConfig(t *testing.T) {
	addr := client.ServerForTest(t)
	setup := connect(t)
	b := base(t, setup)
	// Read outside the chroot.
	c := connectTo(t, addr+b)
	ctx := ctxFor(t)
	if _, st, err := c.GetConfig(ctx); err != nil || st == nil {
		t.Errorf("GetConfig = %+v, %v", st, err)
	}
	if _, _, w, err := c.GetConfigW(ctx); err != nil || w == nil {
		t.Errorf("GetConfigW: %v", err)
	}
	_, _, err := c.Reconfig(ctx, "", "3", "", -1)
	if !errors.Is(err, client.ErrReconfigDisabled) {
		t.Errorf("Reconfig on a server without reconfigEnabled: %v", err)
	}
}

func TestTxn(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	if _, err := c.Create(ctx, b+"/old", []byte("o")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, b+"/v", []byte("0")); err != nil {
		t.Fatal(err)
	}
	res, err := c.Txn().
		Create(b+"/new", []byte("n")).
		Create(b+"/seq-", nil, client.WithMode(client.PersistentSequential)).
		Create(b+"/cont", nil, client.WithMode(client.Container)).
		Create(b+"/ttl", nil, client.WithMode(client.PersistentTTL), client.WithTTL(time.Hour)).
		Set(b+"/v", []byte("1"), 0).
		Check(b+"/v", 1).
		Delete(b+"/old", 0).
		Commit(ctx)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if len(res) != 7 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Path != b+"/new" || res[0].Op != proto.OpCreate {
		t.Errorf("create result %+v", res[0])
	}
	if res[2].Path != b+"/cont" || res[2].Stat == nil || res[3].Stat == nil || res[3].Stat.Czxid != res[2].Stat.Czxid {
		t.Errorf("container and TTL create results %+v, %+v", res[2], res[3])
	}
	if !regexp.MustCompile(`/seq-\d{10}$`).MatchString(res[1].Path) {
		t.Errorf("sequential create result %+v", res[1])
	}
	if res[4].Stat == nil || res[4].Stat.Version != 1 {
		t.Errorf("set result %+v", res[4])
	}
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("result %d: %v", i, r.Err)
		}
	}
	if st, err := c.Exists(ctx, b+"/old"); err != nil || st != nil {
		t.Errorf("delete in txn not applied: %+v, %v", st, err)
	}

	// A failing check aborts everything.
	res, err = c.Txn().
		Create(b+"/never", nil).
		Check(b+"/v", 0).
		Set(b+"/v", []byte("2"), -1).
		Commit(ctx)
	var te *client.TxnError
	if !errors.As(err, &te) || te.Index != 1 || te.Path != b+"/v" || !errors.Is(err, client.ErrBadVersion) {
		t.Fatalf("failed Commit error = %v", err)
	}
	if len(res) != 3 || res[0].Err != nil || !errors.Is(res[1].Err, client.ErrBadVersion) ||
		!errors.Is(res[2].Err, client.ErrRuntimeInconsistency) {
		t.Errorf("failed Commit results %+v", res)
	}
	if st, err := c.Exists(ctx, b+"/never"); err != nil || st != nil {
		t.Errorf("failed txn applied its create: %+v, %v", st, err)
	}
	if data, _, err := c.Get(ctx, b+"/v"); err != nil || string(data) != "1" {
		t.Errorf("failed txn changed data to %q, %v", data, err)
	}

	// Building errors are reported before anything is sent.
	if _, err := c.Txn().Create(b+"/p/q", nil, client.WithParents()).Commit(ctx); !errors.Is(err, client.ErrBadArguments) {
		t.Errorf("WithParents in a txn: %v", err)
	}
	if _, err := c.Txn().Delete("bad", -1).Commit(ctx); !errors.Is(err, client.ErrInvalidPath) {
		t.Errorf("bad path in a txn: %v", err)
	}
	if res, err := c.Txn().Commit(ctx); err != nil || len(res) != 0 {
		t.Errorf("empty txn = %v, %v", res, err)
	}
}

func TestMultiRead(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	if _, err := c.Create(ctx, b+"/a", []byte("A")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, b+"/a/k", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.MultiRead(ctx, client.ReadData(b+"/a"), client.ReadChildren(b+"/a"), client.ReadData(b+"/none"))
	if err != nil {
		t.Fatal(err)
	}
	if string(res[0].Data) != "A" || res[0].Stat == nil || res[0].Stat.NumChildren != 1 {
		t.Errorf("data result %+v", res[0])
	}
	if !slices.Equal(res[1].Children, []string{"k"}) {
		t.Errorf("children result %+v", res[1])
	}
	if !errors.Is(res[2].Err, client.ErrNoNode) {
		t.Errorf("missing node result %+v", res[2])
	}
}

func TestNamespace(t *testing.T) {
	plain := connect(t)
	b := base(t, plain)
	ns := strings.TrimPrefix(b, "/") + "/ns/app"
	c := connect(t, client.WithNamespace(ns))
	ctx := ctxFor(t)
	if _, err := c.Create(ctx, "/x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if data, _, err := plain.Get(ctx, b+"/ns/app/x"); err != nil || string(data) != "1" {
		t.Errorf("namespaced node seen from outside: %q, %v", data, err)
	}
	kids, err := c.Children(ctx, "/")
	if err != nil || !slices.Equal(kids, []string{"x"}) {
		t.Errorf("Children(/) in namespace = %v, %v", kids, err)
	}
	_, w, err := c.ExistsW(ctx, "/y")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Create(ctx, "/y-", nil, client.WithMode(client.EphemeralSequential))
	if err != nil || !strings.HasPrefix(p, "/y-") {
		t.Fatalf("sequential create in namespace = %q, %v", p, err)
	}
	if _, err := plain.Create(ctx, b+"/ns/app/y", nil); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, client.EventNodeCreated, "/y")
	res, err := c.Txn().Create("/t", nil).Commit(ctx)
	if err != nil || res[0].Path != "/t" {
		t.Errorf("txn in namespace = %+v, %v", res, err)
	}
	// As in the Java client, GetEphemerals works on the server's paths.
	eph, err := c.GetEphemerals(ctx, "/")
	if err != nil || len(eph) != 1 || eph[0] != b+"/ns/app"+p {
		t.Errorf("GetEphemerals in namespace = %v, %v; want [%s]", eph, err, b+"/ns/app"+p)
	}
}

func TestChroot(t *testing.T) {
	addr := client.ServerForTest(t)
	plain := connect(t)
	b := base(t, plain)
	c := connectTo(t, addr+b)
	ctx := ctxFor(t)
	if _, err := c.Create(ctx, "/a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if data, _, err := plain.Get(ctx, b+"/a"); err != nil || string(data) != "1" {
		t.Errorf("chrooted node from outside: %q, %v", data, err)
	}
	if st, err := c.Exists(ctx, "/"); err != nil || st.NumChildren != 1 {
		t.Errorf("Exists(/) under chroot = %+v, %v", st, err)
	}
	_, _, w, err := c.ChildrenW(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Create(ctx, b+"/b", nil); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, client.EventNodeChildrenChanged, "/")
	// A sequential child of the chroot itself.
	if p, err := c.Create(ctx, "/", nil, client.WithMode(client.PersistentSequential)); err != nil ||
		!regexp.MustCompile(`^/\d{10}$`).MatchString(p) {
		t.Errorf("sequential create of / under chroot = %q, %v", p, err)
	}
	aw, err := c.AddWatch(ctx, "/", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Set(ctx, b+"/a", nil, -1); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, aw.C(), client.EventNodeDataChanged, "/a")

	// GetEphemerals ignores the chroot, as the Java client's getEphemerals
	// does: the prefix and the paths returned are the server's.
	for _, p := range []string{"/e1", "/x/e2"} {
		if _, err := c.Create(ctx, p, nil, client.WithMode(client.Ephemeral), client.WithParents()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"/", []string{b + "/e1", b + "/x/e2"}},
		{b, []string{b + "/e1", b + "/x/e2"}},
		{b + "/x", []string{b + "/x/e2"}},
		{"/e", nil},
		{"/x", nil},
	} {
		eph, err := c.GetEphemerals(ctx, tt.prefix)
		slices.Sort(eph)
		if err != nil || !slices.Equal(eph, tt.want) {
			t.Errorf("GetEphemerals(%q) under chroot %s = %q, %v; want %q", tt.prefix, b, eph, err, tt.want)
		}
	}
}

func TestRequestTooLarge(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	_, err := c.Create(ctx, b+"/big", make([]byte, 2<<20))
	if !errors.Is(err, client.ErrRequestTooLarge) {
		t.Errorf("2 MB create: %v, want ErrRequestTooLarge", err)
	}
	// The connection is unharmed.
	if _, err := c.Create(ctx, b+"/small", make([]byte, 1000)); err != nil {
		t.Errorf("create after an oversize request: %v", err)
	}
	if c.State() != client.Connected {
		t.Errorf("state %v", c.State())
	}
}

func TestPipelining(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	const workers, perWorker = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				p := fmt.Sprintf("%s/w%d-%d", b, w, i)
				want := fmt.Sprintf("%d:%d", w, i)
				if _, err := c.Create(ctx, p, []byte(want)); err != nil {
					errs <- err
					return
				}
				data, _, err := c.Get(ctx, p)
				if err != nil || string(data) != want {
					errs <- fmt.Errorf("get %s = %q, %v", p, data, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := c.GetAllChildrenNumber(ctx, b); err != nil || n != workers*perWorker {
		t.Errorf("%d nodes, %v; want %d", n, err, workers*perWorker)
	}
}

func TestListeners(t *testing.T) {
	addr := client.ServerForTest(t)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr())
	var mu sync.Mutex
	var got []client.State
	remove := c.AddListener(func(s client.State) {
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
	})
	px.cut(false)
	waitFor(t, "Suspended then Reconnected", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Equal(got, []client.State{client.Suspended, client.Reconnected})
	})
	remove()
	px.cut(false)
	waitFor(t, "reconnection", func() bool { return c.State() == client.Reconnected && c.Server() != "" })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Errorf("removed listener still called: %v", got)
	}
}

func TestContextCancel(t *testing.T) {
	addr := client.ServerForTest(t)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr())
	px.dropReplies()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Exists(ctx, "/"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exists without reply: %v, want DeadlineExceeded", err)
	}
	px.cut(false)
	if _, err := c.Exists(ctxFor(t), "/"); err != nil {
		t.Errorf("Exists after reconnect: %v", err)
	}
}
