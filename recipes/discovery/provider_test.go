package discovery_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zkgo/zkgo/recipes/discovery"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// registerAll registers one instance of svc per id.
func registerAll(t *testing.T, d *discovery.Discovery[json.RawMessage], ids ...string) []discovery.Instance[json.RawMessage] {
	t.Helper()
	ctx := testserver.Context(t)
	var out []discovery.Instance[json.RawMessage]
	for i, id := range ids {
		inst := instance("svc", id, 1000+i, `1`)
		if err := d.Register(ctx, inst); err != nil {
			t.Fatal(err)
		}
		out = append(out, inst)
	}
	return out
}

// waitInstances waits until p offers exactly the instances want.
func waitInstances(t *testing.T, p *discovery.Provider[json.RawMessage], want ...string) {
	t.Helper()
	testserver.WaitFor(t, fmt.Sprintf("provider instances %v", want), func() bool {
		return slices.Equal(ids(p.Instances()), want)
	})
}

func newProvider(t *testing.T, d *discovery.Discovery[json.RawMessage], opts ...discovery.ProviderOption) *discovery.Provider[json.RawMessage] {
	t.Helper()
	p, err := d.NewProvider(testserver.Context(t), "svc", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestProviderRoundRobin(t *testing.T) {
	d := newDiscovery[json.RawMessage](t, connect(t), suite.Base(t))
	p := newProvider(t, d)
	if _, err := p.Instance(); !errors.Is(err, discovery.ErrNoInstances) {
		t.Fatalf("Instance with none: %v", err)
	}
	registerAll(t, d, "a", "b", "c")
	waitInstances(t, p, "a", "b", "c")
	var got []string
	for range 7 {
		inst, err := p.Instance()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, inst.ID)
	}
	// The call that found none took no turn: it starts at a, in node
	// order.
	if want := []string{"a", "b", "c", "a", "b", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("round robin gave %v, want %v", got, want)
	}
}

func TestProviderRandom(t *testing.T) {
	d := newDiscovery[json.RawMessage](t, connect(t), suite.Base(t))
	p := newProvider(t, d, discovery.WithStrategy(discovery.Random()))
	registerAll(t, d, "a", "b", "c")
	waitInstances(t, p, "a", "b", "c")
	seen := map[string]int{}
	for range 300 {
		inst, err := p.Instance()
		if err != nil {
			t.Fatal(err)
		}
		seen[inst.ID]++
	}
	// Each has probability 1/3 per call: missing one in 300 calls has
	// probability below 1e-50.
	if len(seen) != 3 {
		t.Errorf("random gave %v", seen)
	}
}

func TestProviderFilters(t *testing.T) {
	ctx := testserver.Context(t)
	d := newDiscovery[json.RawMessage](t, connect(t), suite.Base(t), discovery.WithEnabledField())
	p := newProvider(t, d, discovery.WithFilter(func(i discovery.Instance[json.RawMessage]) bool {
		return i.ID != "c"
	}))
	all := registerAll(t, d, "a", "b", "c")
	waitInstances(t, p, "a", "b")
	all[1].Disabled = true // Curator's providers skip disabled instances
	if err := d.Update(ctx, all[1]); err != nil {
		t.Fatal(err)
	}
	waitInstances(t, p, "a")
	if got := p.Cache().Instances(); len(got) != 3 {
		t.Errorf("cache has %v", ids(got))
	}

	if _, err := d.NewProvider(ctx, "svc", discovery.WithFilter(func(discovery.Instance[int]) bool { return true })); err == nil {
		t.Error("NewProvider accepted a filter of another payload type")
	}
}

func TestProviderNoteError(t *testing.T) {
	d := newDiscovery[json.RawMessage](t, connect(t), suite.Base(t))
	const timeout = 2 * time.Second
	p := newProvider(t, d, discovery.WithDownInstancePolicy(discovery.DownInstancePolicy{Timeout: timeout, ErrorThreshold: 2}))
	all := registerAll(t, d, "a", "b")
	waitInstances(t, p, "a", "b")
	start := time.Now()
	p.NoteError(all[0])
	if got := ids(p.Instances()); !slices.Equal(got, []string{"a", "b"}) && time.Since(start) < timeout {
		t.Fatalf("down after one error: %v", got)
	}
	p.NoteError(all[0])
	got := ids(p.Instances())
	if time.Since(start) < timeout && !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after two errors: %v, want [b]", got)
	}
	for range 5 {
		if inst, err := p.Instance(); err != nil || (inst.ID != "b" && time.Since(start) < timeout) {
			t.Fatalf("Instance gave %s, %v", inst.ID, err)
		}
	}
	// Back once the timeout has passed since the first error.
	waitInstances(t, p, "a", "b")
	if time.Since(start) < timeout {
		t.Errorf("back after %v, before the timeout %v", time.Since(start), timeout)
	}
}
