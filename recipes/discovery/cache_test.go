package discovery_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/discovery"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// recorder collects a cache's events.
type recorder struct {
	ch chan discovery.CacheEvent[json.RawMessage]
}

func record(ca *discovery.Cache[json.RawMessage]) recorder {
	r := recorder{ch: make(chan discovery.CacheEvent[json.RawMessage], 64)}
	ca.AddListener(func(e discovery.CacheEvent[json.RawMessage]) { r.ch <- e })
	return r
}

// expect waits for the next event and checks its type, node and instance
// (nil: not checked).
func (r recorder) expect(t *testing.T, typ discovery.EventType, node string, inst *discovery.Instance[json.RawMessage]) {
	t.Helper()
	e := nextEvent(t, r.ch)
	if e.Type != typ || e.Node != node || (inst != nil && !reflect.DeepEqual(e.Instance, *inst)) {
		t.Fatalf("event %v %s %+v, want %v %s %+v", e.Type, e.Node, e.Instance, typ, node, inst)
	}
}

// none proves that no event is pending: a change made after everything
// before it is the next event.
func (r recorder) none(t *testing.T, d *discovery.Discovery[json.RawMessage], name string) {
	t.Helper()
	ctx := testserver.Context(t)
	m := instance(name, "zz-marker", 1, `0`)
	if err := d.Register(ctx, m); err != nil {
		t.Fatal(err)
	}
	r.expect(t, discovery.Added, "zz-marker", &m)
	if err := d.Unregister(ctx, m); err != nil {
		t.Fatal(err)
	}
	r.expect(t, discovery.Removed, "zz-marker", &m)
}

func TestCacheSeesChanges(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	c := connect(t)
	d := newDiscovery[json.RawMessage](t, c, base)
	a := instance("svc", "a", 1, `"a1"`)
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}

	watcher := newDiscovery[json.RawMessage](t, connect(t), base)
	ca, err := watcher.NewCache(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if got := ca.Instances(); !reflect.DeepEqual(got, []discovery.Instance[json.RawMessage]{a}) {
		t.Fatalf("initial instances %+v", got)
	}
	r := record(ca)

	b := instance("svc", "b", 2, `"b1"`)
	if err := d.Register(ctx, b); err != nil {
		t.Fatal(err)
	}
	r.expect(t, discovery.Added, "b", &b)
	a.Payload = json.RawMessage(`"a2"`)
	if err := d.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	r.expect(t, discovery.Updated, "a", &a)
	if err := d.Unregister(ctx, b); err != nil {
		t.Fatal(err)
	}
	r.expect(t, discovery.Removed, "b", &b)

	// Nodes written by others: a record as Java writes it, a node that is
	// not a record (ignored), a node deeper than instances (ignored).
	java := `{"name":"svc","id":"j","address":"10.0.0.9","port":9,"sslPort":null,"payload":null,` +
		`"registrationTimeUTC":5,"serviceType":"DYNAMIC","uriSpec":null}`
	if _, err := c.Create(ctx, base+"/svc/garbage", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, base+"/svc/garbage/child", []byte(java)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, base+"/svc/j", []byte(java), client.WithMode(client.Ephemeral)); err != nil {
		t.Fatal(err)
	}
	j := discovery.Instance[json.RawMessage]{Name: "svc", ID: "j", Address: "10.0.0.9", Port: new(9),
		RegistrationTime: time.UnixMilli(5), ServiceType: discovery.Dynamic}
	r.expect(t, discovery.Added, "j", &j)
	r.none(t, d, "svc")
	if got := ca.Instances(); !reflect.DeepEqual(got, []discovery.Instance[json.RawMessage]{a, j}) {
		t.Fatalf("instances %+v", got)
	}
	if err := c.DeleteRecursive(ctx, base+"/svc/garbage"); err != nil {
		t.Fatal(err)
	}
	r.none(t, d, "svc")

	if err := ca.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ca.Close(); !errors.Is(err, discovery.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestCacheAfterSessionLoss: changes made while the cache's session was
// lost show up once it has a new one, and nothing else does.
func TestCacheAfterSessionLoss(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	d := newDiscovery[json.RawMessage](t, connect(t), base)
	a := instance("svc", "a", 1, `1`)
	b := instance("svc", "b", 2, `2`)
	for _, i := range []discovery.Instance[json.RawMessage]{a, b} {
		if err := d.Register(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	px := testserver.NewProxy(t, suite.Addr(t))
	cc := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(time.Second))
	ca, err := newDiscovery[json.RawMessage](t, cc, base).NewCache(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	r := record(ca)

	px.Cut(true)
	testserver.WaitState(t, cc, client.Lost)
	c := instance("svc", "c", 3, `3`)
	if err := d.Register(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := d.Unregister(ctx, a); err != nil {
		t.Fatal(err)
	}
	b.Payload = json.RawMessage(`22`)
	if err := d.Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	px.Resume()
	var got []string
	for range 3 {
		e := nextEvent(t, r.ch)
		got = append(got, e.Type.String()+" "+e.Node)
	}
	slices.Sort(got)
	if want := []string{"ADDED c", "REMOVED a", "UPDATED b"}; !slices.Equal(got, want) {
		t.Fatalf("events after the new session: %v, want %v", got, want)
	}
	// The watch is back: later changes are seen too.
	r.none(t, d, "svc")
	if got := ca.Instances(); !reflect.DeepEqual(got, []discovery.Instance[json.RawMessage]{b, c}) {
		t.Fatalf("instances %+v", got)
	}
}

// TestCacheMissingService: a cache of a service not registered yet sees
// its first instance.
func TestCacheMissingService(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	d := newDiscovery[json.RawMessage](t, connect(t), base)
	ca, err := d.NewCache(ctx, "later")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if got := ca.Instances(); len(got) != 0 {
		t.Fatalf("instances %+v", got)
	}
	r := record(ca)
	a := instance("later", "a", 1, `1`)
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	r.expect(t, discovery.Added, "a", &a)
	if _, err := d.NewCache(ctx, "a/b"); !errors.Is(err, discovery.ErrInvalidInstance) {
		t.Errorf("NewCache(a/b): %v", err)
	}
}

// TestCacheAfterSuspension: changes made while the connection was down
// (the session survived) are read again after Reconnected, since the
// server does not replay them to a persistent watch.
func TestCacheAfterSuspension(t *testing.T) {
	ctx := testserver.Context(t)
	base := suite.Base(t)
	d := newDiscovery[json.RawMessage](t, connect(t), base)
	a := instance("svc", "a", 1, `1`)
	if err := d.Register(ctx, a); err != nil {
		t.Fatal(err)
	}
	px := testserver.NewProxy(t, suite.Addr(t))
	cc := testserver.Connect(t, px.Addr(), client.WithSessionTimeout(20*time.Second))
	ca, err := newDiscovery[json.RawMessage](t, cc, base).NewCache(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	r := record(ca)
	session := cc.SessionID()

	px.Cut(true)
	testserver.WaitState(t, cc, client.Suspended)
	a.Payload = json.RawMessage(`11`)
	if err := d.Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := instance("svc", "b", 2, `2`)
	if err := d.Register(ctx, b); err != nil {
		t.Fatal(err)
	}
	px.Resume()
	testserver.WaitState(t, cc, client.Reconnected)
	if cc.SessionID() != session {
		t.Fatalf("session changed: %#x -> %#x", session, cc.SessionID())
	}
	var got []string
	for range 2 {
		e := nextEvent(t, r.ch)
		got = append(got, e.Type.String()+" "+e.Node)
	}
	slices.Sort(got)
	if want := []string{"ADDED b", "UPDATED a"}; !slices.Equal(got, want) {
		t.Fatalf("events after the reconnection: %v, want %v", got, want)
	}
	r.none(t, d, "svc")
	if got := ca.Instances(); !reflect.DeepEqual(got, []discovery.Instance[json.RawMessage]{a, b}) {
		t.Fatalf("instances %+v", got)
	}
}
