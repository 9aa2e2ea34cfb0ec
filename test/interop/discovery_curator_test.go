package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/discovery"
)

// This file checks that recipes/discovery and examples/discovery share a
// service registry with Apache Curator 5's curator-x-discovery:
// testdata/discovery/DiscoveryAgent.java, compiled against the Debian jars
// (libcurator-discovery-java), writes records that must be byte for byte
// the ones Go writes, and registers, queries, caches and picks instances
// beside Go on the same base paths.

// discoveryClasspath is curatorClasspath plus curator-x-discovery and
// Jackson, which its records are written with.
func discoveryClasspath(t *testing.T) string {
	t.Helper()
	cp := curatorClasspath(t)
	for _, j := range []struct{ jar, pkg string }{
		{"curator-x-discovery.jar", "libcurator-discovery-java"},
		{"jackson-databind.jar", "libjackson2-databind-java"},
		{"jackson-core.jar", "libjackson2-core-java"},
		{"jackson-annotations.jar", "libjackson2-annotations-java"},
	} {
		cp += ":" + requireFile(t, filepath.Join(javaDir, j.jar), j.pkg)
	}
	return cp
}

// startDiscoveryAgent runs DiscoveryAgent against addr; it is stopped at
// the test's end.
func startDiscoveryAgent(t *testing.T, java, classpath, addr string) *agent {
	t.Helper()
	return startAgentClass(t, java, classpath, "DiscoveryAgent", addr)
}

// ask sends one command and returns its one-line answer, failing on FAIL.
func (a *agent) ask(t *testing.T, format string, args ...any) string {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	if _, err := io.WriteString(a.stdin, cmd+"\n"); err != nil {
		t.Fatalf("agent %q: %v", cmd, err)
	}
	got := a.next(t, 60*time.Second)
	if strings.HasPrefix(got, "FAIL") {
		t.Fatalf("agent %q: %s", cmd, got)
	}
	return got
}

// records parses an INSTANCES answer into its raw records.
func records(t *testing.T, answer string) []string {
	t.Helper()
	list, ok := strings.CutPrefix(answer, "INSTANCES")
	if !ok {
		t.Fatalf("answer %q, want INSTANCES", answer)
	}
	list = strings.TrimPrefix(list, " ")
	if list == "" {
		return nil
	}
	return strings.Split(list, "\t")
}

type rawInstance = discovery.Instance[json.RawMessage]

func decode(t *testing.T, rec string) rawInstance {
	t.Helper()
	var inst rawInstance
	if err := inst.UnmarshalJSON([]byte(rec)); err != nil {
		t.Fatalf("record %s: %v", rec, err)
	}
	return inst
}

func TestCuratorDiscovery(t *testing.T) {
	t.Parallel()
	java := requireJava(t)
	cp := compileJava(t, discoveryClasspath(t), "discovery", "DiscoveryAgent.java")
	example := filepath.Join(t.TempDir(), "discovery")
	runTool(t, 5*time.Minute, "", "go", "build", "-o", example, "github.com/zkgo/zkgo/examples/discovery")

	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		a := startDiscoveryAgent(t, java, cp, tg.addr)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c, err := client.Connect(ctx, tg.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		t.Run("records", func(t *testing.T) { discoveryRecords(ctx, t, a, c) })
		t.Run("registry", func(t *testing.T) { discoveryRegistry(ctx, t, a, c) })
		t.Run("caches", func(t *testing.T) { discoveryCaches(ctx, t, a, c) })
		t.Run("example", func(t *testing.T) { discoveryExample(t, a, tg.addr, example) })
	})
}

// discoveryRecords: Go writes the bytes Curator's JsonInstanceSerializer
// writes, in both of its modes, for every service type and payload kind.
func discoveryRecords(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	spec, err := discovery.ParseURISpec("{scheme}://foo.com:{port}/x")
	if err != nil {
		t.Fatal(err)
	}
	full, err := discovery.New[json.RawMessage](c, "/records-full", discovery.WithEnabledField())
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for i, tc := range []struct {
		typ     discovery.ServiceType
		port    string
		ssl     string
		addr    string
		uri     string
		payload string // as the agent reads it
		written string // the payload as Jackson writes it with Curator's type info
	}{
		{discovery.Dynamic, "8080", "-", "10.0.0.1", "{scheme}://foo.com:{port}/x", "", "null"},
		{discovery.Static, "-", "443", "10.0.0.2", "-", `"str <a&b> é"`, `"str <a&b> é"`},
		{discovery.Permanent, "1", "2", "-", "-", `5`, `5`},
		{discovery.DynamicSequential, "1", "-", "h", "-", `2.5`, `2.5`},
		{discovery.Dynamic, "1", "-", "h", "-", `true`, `true`},
		{discovery.Dynamic, "1", "-", "h", "-", `{"k":"v","n":[1,2]}`,
			`{"@class":"java.util.LinkedHashMap","k":"v","n":[1,2]}`}, // nested values untyped
	} {
		inst := rawInstance{
			Name: "svc", ID: fmt.Sprintf("id%d", i), Payload: json.RawMessage(tc.written),
			RegistrationTime: time.UnixMilli(1234567890123 + int64(i)), ServiceType: tc.typ,
		}
		if tc.written == "null" {
			inst.Payload = nil
		}
		if tc.addr != "-" {
			inst.Address = tc.addr
		}
		var n int
		if _, err := fmt.Sscan(tc.port, &n); err == nil {
			inst.Port = new(n)
		}
		if _, err := fmt.Sscan(tc.ssl, &n); err == nil {
			inst.SSLPort = new(n)
		}
		if tc.uri != "-" {
			inst.URISpec = spec
		}
		args := fmt.Sprintf("svc %s %s %s %s %d %s %s %s", inst.ID, tc.addr, tc.port, tc.ssl,
			inst.RegistrationTime.UnixMilli(), tc.typ, tc.uri, tc.payload)

		want, _ := strings.CutPrefix(a.ask(t, "json default %s", args), "JSON ")
		got, err := inst.MarshalJSON()
		if err != nil || string(got) != want {
			t.Errorf("record of %s:\n  go   %s (%v)\n  java %s", inst.ID, got, err, want)
		}
		if back := decode(t, want); !reflect.DeepEqual(back, inst) {
			t.Errorf("Curator's record read as %+v, want %+v", back, inst)
		}

		// The enabled field, written by a Discovery WithEnabledField.
		want, _ = strings.CutPrefix(a.ask(t, "json full %s", args), "JSON ")
		if err := full.Register(ctx, inst); err != nil {
			t.Fatal(err)
		}
		p := "/records-full/svc/" + inst.ID
		if tc.typ == discovery.DynamicSequential {
			kids, err := c.Children(ctx, "/records-full/svc")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range kids {
				if strings.HasPrefix(k, inst.ID) && len(k) == len(inst.ID)+10 {
					p = "/records-full/svc/" + k
				}
			}
		}
		data, _, err := c.Get(ctx, p)
		if err != nil || string(data) != want {
			t.Errorf("full record of %s:\n  go   %s (%v)\n  java %s", inst.ID, data, err, want)
		}
	}
}

// discoveryRegistry: Go and Java register instances on one base path and
// each finds the other's, with every field and the payload intact.
func discoveryRegistry(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	d, err := discovery.New[json.RawMessage](c, "/disc")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	g1 := rawInstance{Name: "web", ID: "g1", Address: "10.1.1.1", Port: new(8081),
		Payload:          json.RawMessage(`{"@class":"java.util.HashMap","zone":"east"}`),
		RegistrationTime: time.UnixMilli(time.Now().UnixMilli()), ServiceType: discovery.Dynamic}
	if err := d.Register(ctx, g1); err != nil {
		t.Fatal(err)
	}
	a.ask(t, `register /disc web j1 10.2.2.2 9091 {"zone":"west"}`)
	a.ask(t, `register /disc db j9 10.2.2.9 5432 "primary"`)
	// On an ensemble Go's server may lag behind Java's: catch up first.
	syncPath(ctx, t, c, "/")

	names, err := d.QueryForNames(ctx)
	if err != nil || !slices.Equal(names, []string{"db", "web"}) {
		t.Fatalf("Go QueryForNames: %v, %v", names, err)
	}
	if got := a.ask(t, "names /disc"); got != "NAMES db,web" {
		t.Fatalf("Java queryForNames: %s", got)
	}
	got, err := d.QueryForInstances(ctx, "web")
	if err != nil || len(got) != 2 {
		t.Fatalf("Go QueryForInstances(web): %+v, %v", got, err)
	}
	if !reflect.DeepEqual(got[0], g1) {
		t.Errorf("Go reads its own instance as %+v", got[0])
	}
	j1 := got[1]
	if j1.Name != "web" || j1.ID != "j1" || j1.Address != "10.2.2.2" || j1.Port == nil || *j1.Port != 9091 ||
		j1.SSLPort != nil || j1.ServiceType != discovery.Dynamic || j1.URISpec != nil || j1.Disabled ||
		j1.RegistrationTime.IsZero() || string(j1.Payload) != `{"@class":"java.util.LinkedHashMap","zone":"west"}` {
		t.Errorf("Go reads Java's instance as %+v (payload %s)", j1, j1.Payload)
	}
	j9, err := d.QueryForInstance(ctx, "db", "j9")
	if err != nil || string(j9.Payload) != `"primary"` {
		t.Errorf("Go QueryForInstance(db, j9): %+v, %v", j9, err)
	}

	// Java reads Go's record and writes it back byte for byte.
	own, _, err := c.Get(ctx, "/disc/web/g1")
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, a.ask(t, "query /disc web"))
	if len(recs) != 2 || recs[0] != string(own) || !reflect.DeepEqual(decode(t, recs[1]), j1) {
		t.Fatalf("Java queryForInstances(web):\n%s\nwant g1 as %s", strings.Join(recs, "\n"), own)
	}
	if got := a.ask(t, "get /disc web g1"); got != "INSTANCE "+string(own) {
		t.Errorf("Java queryForInstance(web, g1): %s", got)
	}

	// Each side unregisters; the other sees it gone.
	if err := d.Unregister(ctx, g1); err != nil {
		t.Fatal(err)
	}
	if got := a.ask(t, "get /disc web g1"); got != "NONE" {
		t.Errorf("Java still finds g1: %s", got)
	}
	a.ask(t, "unregister /disc web j1")
	syncPath(ctx, t, c, "/")
	if _, err := d.QueryForInstance(ctx, "web", "j1"); !errors.Is(err, discovery.ErrNotFound) {
		t.Errorf("Go still finds j1: %v", err)
	}
}

// discoveryCaches: a Go cache follows Java's instances and a Curator
// ServiceCache follows Go's; providers of both sides hand out both.
func discoveryCaches(ctx context.Context, t *testing.T, a *agent, c *client.Conn) {
	d, err := discovery.New[json.RawMessage](c, "/disc2")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cache, err := d.NewCache(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	events := make(chan discovery.CacheEvent[json.RawMessage], 64)
	cache.AddListener(func(e discovery.CacheEvent[json.RawMessage]) { events <- e })
	next := func(typ discovery.EventType, node string) rawInstance {
		t.Helper()
		select {
		case e := <-events:
			if e.Type != typ || e.Node != node {
				t.Fatalf("Go cache event %v %s, want %v %s", e.Type, e.Node, typ, node)
			}
			return e.Instance
		case <-time.After(30 * time.Second):
			t.Fatalf("Go cache: no %v %s within 30s", typ, node)
		}
		return rawInstance{}
	}
	a.ask(t, "cache /disc2 api")
	// javaSees waits until Curator's cache holds exactly want (records
	// by id order).
	javaSees := func(want ...string) {
		t.Helper()
		var got []string
		waitUntil(t, fmt.Sprintf("Curator's cache holding %d instances", len(want)), func() bool {
			got = records(t, a.ask(t, "cached /disc2 api"))
			return slices.Equal(got, want)
		})
	}

	a.ask(t, `register /disc2 api j2 10.2.2.2 9092 {"v":1}`)
	if j2 := next(discovery.Added, "j2"); *j2.Port != 9092 || string(j2.Payload) != `{"@class":"java.util.LinkedHashMap","v":1}` {
		t.Errorf("Go cache got %+v (payload %s)", j2, j2.Payload)
	}
	g2 := rawInstance{Name: "api", ID: "g2", Address: "10.1.1.2", Port: new(8082), Payload: json.RawMessage(`"go"`),
		RegistrationTime: time.UnixMilli(time.Now().UnixMilli())}
	if err := d.Register(ctx, g2); err != nil {
		t.Fatal(err)
	}
	next(discovery.Added, "g2")
	rec := func(i rawInstance) string {
		b, err := i.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	j2rec, _ := strings.CutPrefix(a.ask(t, "get /disc2 api j2"), "INSTANCE ")
	javaSees(rec(g2), j2rec)

	// Updates, both ways.
	a.ask(t, `update /disc2 api j2 10.2.2.2 9093 {"v":2}`)
	if j2 := next(discovery.Updated, "j2"); *j2.Port != 9093 || string(j2.Payload) != `{"@class":"java.util.LinkedHashMap","v":2}` {
		t.Errorf("Go cache got update %+v (payload %s)", j2, j2.Payload)
	}
	j2rec, _ = strings.CutPrefix(a.ask(t, "get /disc2 api j2"), "INSTANCE ")
	g2.Payload = json.RawMessage(`"go2"`)
	if err := d.Update(ctx, g2); err != nil {
		t.Fatal(err)
	}
	next(discovery.Updated, "g2")
	javaSees(rec(g2), j2rec)

	// Providers: round robin over the two, on each side.
	a.ask(t, "provider /disc2 api")
	var javaPicks []string
	waitUntil(t, "Curator's provider seeing both instances", func() bool {
		javaPicks = nil
		for range 2 {
			javaPicks = append(javaPicks, decode(t, strings.TrimPrefix(a.ask(t, "pick /disc2 api"), "INSTANCE ")).ID)
		}
		slices.Sort(javaPicks)
		return slices.Equal(javaPicks, []string{"g2", "j2"})
	})
	p, err := d.NewProvider(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var goPicks []string
	for range 2 {
		i, err := p.Instance()
		if err != nil {
			t.Fatal(err)
		}
		goPicks = append(goPicks, i.ID)
	}
	if !slices.Equal(goPicks, []string{"g2", "j2"}) {
		t.Errorf("Go provider picked %v", goPicks)
	}

	// Removals, both ways.
	a.ask(t, "unregister /disc2 api j2")
	next(discovery.Removed, "j2")
	javaSees(rec(g2))
	if err := d.Unregister(ctx, g2); err != nil {
		t.Fatal(err)
	}
	next(discovery.Removed, "g2")
	javaSees()
}

// discoveryExample: examples/discovery registers an instance Curator finds,
// and prints Curator's instances as they come and go.
func discoveryExample(t *testing.T, a *agent, addr, bin string) {
	ex, _ := startLineProcess(t, "examples/discovery", exec.Command(bin, "-server", addr, "-base", "/disc3", "-name", "web",
		"-id", "ex1", "-address", "127.0.0.1", "-port", "7001", "-payload", `{"@class":"java.util.HashMap","k":"v"}`), false)
	expectLine := func(want string) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-ex.lines:
				if !ok {
					t.Fatalf("example exited before %q\n%s", want, tail(ex.stderr.String(), 20))
				}
				if l == want {
					return
				}
			case <-deadline:
				t.Fatalf("example: no line %q within 60s", want)
			}
		}
	}
	expectLine("registered web ex1@127.0.0.1:7001")
	got := decode(t, strings.TrimPrefix(a.ask(t, "get /disc3 web ex1"), "INSTANCE "))
	if got.Address != "127.0.0.1" || *got.Port != 7001 || string(got.Payload) != `{"@class":"java.util.HashMap","k":"v"}` {
		t.Errorf("Curator reads the example's instance as %+v", got)
	}
	a.ask(t, `register /disc3 web j3 10.3.3.3 9093 "x"`)
	expectLine("added j3@10.3.3.3:9093")
	expectLine("instances ex1@127.0.0.1:7001 j3@10.3.3.3:9093")
	a.ask(t, "unregister /disc3 web j3")
	expectLine("removed j3@10.3.3.3:9093")
}
