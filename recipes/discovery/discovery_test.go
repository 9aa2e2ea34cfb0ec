package discovery_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/discovery"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// newDiscovery returns a registry at base, closed when the test ends.
func newDiscovery[T any](t *testing.T, c *client.Conn, base string, opts ...discovery.Option) *discovery.Discovery[T] {
	t.Helper()
	d, err := discovery.New[T](c, base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// instance returns a Dynamic instance with a payload and a registration
// time of whole milliseconds (what a record keeps).
func instance(name, id string, port int, payload string) discovery.Instance[json.RawMessage] {
	return discovery.Instance[json.RawMessage]{
		Name: name, ID: id, Address: "127.0.0.1", Port: new(port),
		Payload:          json.RawMessage(payload),
		RegistrationTime: time.UnixMilli(time.Now().UnixMilli()),
		ServiceType:      discovery.Dynamic,
	}
}

func ids[T any](list []discovery.Instance[T]) []string {
	var out []string
	for _, i := range list {
		out = append(out, i.ID)
	}
	return out
}

func TestRegisterQueryUnregister(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	d := newDiscovery[json.RawMessage](t, c, base+"/services")

	a := instance("web", "a", 8080, `{"@class":"java.util.HashMap","zone":"east"}`)
	b := instance("web", "b", 8081, `"plain"`)
	o := instance("db", "x", 5432, `null`)
	o.Payload = nil
	for _, i := range []discovery.Instance[json.RawMessage]{a, b, o} {
		if err := d.Register(ctx, i); err != nil {
			t.Fatal(err)
		}
	}

	names, err := d.QueryForNames(ctx)
	if err != nil || !slices.Equal(names, []string{"db", "web"}) {
		t.Fatalf("QueryForNames: %v, %v", names, err)
	}
	got, err := d.QueryForInstances(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []discovery.Instance[json.RawMessage]{a, b}) {
		t.Fatalf("QueryForInstances(web):\n got %+v\nwant %+v", got, []any{a, b})
	}
	one, err := d.QueryForInstance(ctx, "db", "x")
	if err != nil || !reflect.DeepEqual(one, o) {
		t.Fatalf("QueryForInstance(db, x) = %+v, %v; want %+v", one, err, o)
	}
	if got := d.Registered(); !slices.Equal(ids(got), []string{"x", "a", "b"}) {
		t.Errorf("Registered: %v", ids(got))
	}

	// The layout: BASE/NAME/ID, ephemeral, holding Curator's default record.
	data, st, err := c.Get(ctx, base+"/services/web/a")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.MarshalJSON()
	if string(data) != string(want) || st.EphemeralOwner != c.SessionID() {
		t.Errorf("node web/a: %s owner %#x; want %s owner %#x", data, st.EphemeralOwner, want, c.SessionID())
	}
	if strings.Contains(string(data), "enabled") {
		t.Errorf("default record has the enabled field: %s", data)
	}

	if err := d.Unregister(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := d.QueryForInstance(ctx, "web", "a"); !errors.Is(err, discovery.ErrNotFound) {
		t.Fatalf("QueryForInstance after Unregister: %v, want ErrNotFound", err)
	}
	if err := d.Unregister(ctx, a); !errors.Is(err, discovery.ErrNotRegistered) {
		t.Errorf("second Unregister: %v, want ErrNotRegistered", err)
	}
	if got, err := d.QueryForInstances(ctx, "none"); err != nil || len(got) != 0 {
		t.Errorf("QueryForInstances(none) = %v, %v", got, err)
	}
	if _, err := d.QueryForInstance(ctx, "web", "a/b"); !errors.Is(err, discovery.ErrInvalidInstance) {
		t.Errorf("QueryForInstance with a slash: %v", err)
	}

	// Another session sees the instances, and they go with the session.
	c2 := connect(t)
	d2 := newDiscovery[any](t, c2, base+"/services")
	if got, err := d2.QueryForInstances(ctx, "web"); err != nil || !slices.Equal(ids(got), []string{"b"}) {
		t.Fatalf("other session sees %v, %v", ids(got), err)
	}
	c.Close()
	if got, err := d2.QueryForInstances(ctx, "web"); err != nil || len(got) != 0 {
		t.Fatalf("after the session closed: %v, %v", ids(got), err)
	}
}

func TestServiceTypes(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	d := newDiscovery[json.RawMessage](t, c, base)

	s := instance("svc", "static", 1, `1`)
	s.ServiceType = discovery.Static
	p := instance("svc", "perm", 2, `2`)
	p.ServiceType = discovery.Permanent
	q := instance("svc", "seq", 3, `3`)
	q.ServiceType = discovery.DynamicSequential
	for _, i := range []discovery.Instance[json.RawMessage]{s, p, q} {
		if err := d.Register(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	kids, err := c.Children(ctx, base+"/svc")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(kids)
	if len(kids) != 3 || kids[0] != "perm" || !regexp.MustCompile(`^seq\d{10}$`).MatchString(kids[1]) || kids[2] != "static" {
		t.Fatalf("nodes %v", kids)
	}
	seqNode := kids[1]
	for _, k := range kids {
		_, st, err := c.Get(ctx, base+"/svc/"+k)
		if err != nil {
			t.Fatal(err)
		}
		if ephemeral := st.EphemeralOwner != 0; ephemeral != (k == seqNode) {
			t.Errorf("%s: ephemeralOwner %#x", k, st.EphemeralOwner)
		}
	}
	// A sequential instance registered again replaces its node.
	q.Payload = json.RawMessage(`33`)
	if err := d.Register(ctx, q); err != nil {
		t.Fatal(err)
	}
	got, err := d.QueryForInstances(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || string(got[1].Payload) != "33" {
		t.Fatalf("after re-registering the sequential instance: %+v", got)
	}
	// Close unregisters all, persistent ones included.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if kids, err := c.Children(ctx, base+"/svc"); err != nil || len(kids) != 0 {
		t.Errorf("after Close: %v, %v", kids, err)
	}
	// The service and base nodes are containers, as Curator makes them:
	// the server deletes them once empty.
	testserver.WaitFor(t, "the empty containers deleted", func() bool {
		st, err := c.Exists(ctx, base)
		return err == nil && st == nil
	})
	if err := d.Register(ctx, s); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("Register after Close: %v", err)
	}
	if err := d.Close(); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	d := newDiscovery[json.RawMessage](t, c, base)
	a := instance("svc", "a", 1, `"v1"`)
	if err := d.Update(ctx, a); !errors.Is(err, discovery.ErrNotRegistered) {
		t.Fatalf("Update before Register: %v", err)
	}
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, st1, err := c.Get(ctx, base+"/svc/a")
	if err != nil {
		t.Fatal(err)
	}
	a.Payload = json.RawMessage(`"v2"`)
	a.Port = new(2)
	if err := d.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := d.QueryForInstance(ctx, "svc", "a")
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("after Update: %+v, %v", got, err)
	}
	_, st2, err := c.Get(ctx, base+"/svc/a")
	if err != nil || st2.Czxid != st1.Czxid || st2.Version != st1.Version+1 {
		t.Errorf("Update did not set the data in place: %+v -> %+v (%v)", st1, st2, err)
	}
}

func TestRegisterReplacesNode(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	other := connect(t)
	// A node left by another session (a crashed predecessor) is replaced.
	if _, err := other.Create(ctx, base+"/svc/a", []byte("old"), client.WithMode(client.Ephemeral),
		client.WithParents()); err != nil {
		t.Fatal(err)
	}
	d := newDiscovery[json.RawMessage](t, c, base)
	a := instance("svc", "a", 1, `1`)
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, st, err := c.Get(ctx, base+"/svc/a"); err != nil || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("node after Register: %+v, %v", st, err)
	}
}

func TestEnabledField(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	a := instance("svc", "a", 1, `1`)
	a.Disabled = true
	if err := newDiscovery[json.RawMessage](t, c, base).Register(ctx, a); !errors.Is(err, discovery.ErrInvalidInstance) {
		t.Fatalf("Register of a Disabled instance without the enabled field: %v", err)
	}
	d := newDiscovery[json.RawMessage](t, c, base, discovery.WithEnabledField())
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.Get(ctx, base+"/svc/a")
	if err != nil || !strings.HasSuffix(string(data), `"uriSpec":null,"enabled":false}`) {
		t.Fatalf("record %s, %v", data, err)
	}
	if got, err := d.QueryForInstance(ctx, "svc", "a"); err != nil || !got.Disabled {
		t.Fatalf("read back %+v, %v", got, err)
	}
}

func TestInvalid(t *testing.T) {
	ctx := testserver.Context(t)
	c := connect(t)
	if _, err := discovery.New[any](c, "relative"); !errors.Is(err, discovery.ErrInvalidInstance) {
		t.Errorf("New with a relative base: %v", err)
	}
	d := newDiscovery[any](t, c, suite.Base(t))
	for _, inst := range []discovery.Instance[any]{
		{Name: "", ID: "a"}, {Name: "a", ID: ""}, {Name: "a/b", ID: "c"}, {Name: "a", ID: ".."},
		{Name: "a", ID: "b", ServiceType: "ODD"},
	} {
		if err := d.Register(ctx, inst); !errors.Is(err, discovery.ErrInvalidInstance) {
			t.Errorf("Register(%+v): %v", inst, err)
		}
	}
	if got := d.Registered(); len(got) != 0 {
		t.Errorf("invalid instances kept: %+v", got)
	}
}

// TestReRegisterAfterSessionExpiry: the ephemeral node goes with the
// session, and the Discovery creates it again on the Conn's new session.
func TestReRegisterAfterSessionExpiry(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	d := newDiscovery[json.RawMessage](t, c, base)
	a := instance("svc", "a", 1, `"payload"`)
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	watcher := newDiscovery[json.RawMessage](t, connect(t), base)
	cache, err := watcher.NewCache(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	events := make(chan discovery.CacheEvent[json.RawMessage], 16)
	cache.AddListener(func(e discovery.CacheEvent[json.RawMessage]) { events <- e })
	oldSession := c.SessionID()

	px.Cut(true) // no way back until the session is gone
	if e := nextEvent(t, events); e.Type != discovery.Removed || e.Node != "a" {
		t.Fatalf("event %v %s, want REMOVED a", e.Type, e.Node)
	}
	px.Resume()
	e := nextEvent(t, events)
	if e.Type != discovery.Added || e.Node != "a" || !reflect.DeepEqual(e.Instance, a) {
		t.Fatalf("event %v %s %+v, want ADDED a", e.Type, e.Node, e.Instance)
	}
	_, st, err := c.Get(ctx, base+"/svc/a")
	if err != nil {
		t.Fatal(err)
	}
	if st.EphemeralOwner == oldSession || st.EphemeralOwner != c.SessionID() {
		t.Errorf("re-registered node owned by %#x; old session %#x, new %#x", st.EphemeralOwner, oldSession, c.SessionID())
	}
}

// TestSuspensionKeepsNode: after a mere suspension the re-registration
// finds the node in place and leaves it (no remove and add for watchers).
func TestSuspensionKeepsNode(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(10*time.Second))
	d := newDiscovery[json.RawMessage](t, c, base)
	a := instance("svc", "a", 1, `1`)
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, st1, err := c.Get(ctx, base+"/svc/a")
	if err != nil {
		t.Fatal(err)
	}
	passes := discovery.Passes(d)
	px.Cut(false)
	testserver.WaitState(t, c, client.Suspended)
	testserver.WaitState(t, c, client.Reconnected)
	testserver.WaitFor(t, "a re-registration pass", func() bool { return discovery.Passes(d) > passes })
	_, st2, err := c.Get(ctx, base+"/svc/a")
	if err != nil || st2.Czxid != st1.Czxid || st2.Mzxid != st1.Mzxid {
		t.Errorf("node changed by the re-registration: %+v -> %+v (%v)", st1, st2, err)
	}
}

// TestReRegisterAfterConnectionLossDuringRegister: a Register that fails
// on the connection is done once the connection is back.
func TestRegisterWhileDisconnected(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	px := testserver.NewProxy(t, suite.Addr(t))
	c := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(10*time.Second),
		client.WithConnectTimeout(time.Second), client.WithRetryPolicy(client.NoRetry()))
	d := newDiscovery[json.RawMessage](t, c, base)
	px.Cut(true)
	testserver.WaitState(t, c, client.Suspended)
	a := instance("svc", "a", 1, `1`)
	if err := d.Register(ctx, a); err == nil || !client.IsRetryable(err) {
		t.Fatalf("Register while cut: %v, want a connection error", err)
	}
	px.Resume()
	other := newDiscovery[json.RawMessage](t, connect(t), base)
	testserver.WaitFor(t, "the instance registered after the reconnection", func() bool {
		got, err := other.QueryForInstance(ctx, "svc", "a")
		return err == nil && reflect.DeepEqual(got, a)
	})
}

func nextEvent[T any](t *testing.T, ch <-chan discovery.CacheEvent[T]) discovery.CacheEvent[T] {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no cache event within 30s")
	}
	return discovery.CacheEvent[T]{}
}
