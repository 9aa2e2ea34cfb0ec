package cache_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/cache"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// recorder is a listener that keeps every event, for tests to read in
// order.
type recorder struct {
	mu     sync.Mutex
	events []cache.Event // guarded by mu
	read   int           // guarded by mu: events consumed by next
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) listen(ev cache.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// all returns every event so far.
func (r *recorder) all() []cache.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// next returns the next unread event, waiting up to 30s.
func (r *recorder) next(t testing.TB) cache.Event {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		if r.read < len(r.events) {
			ev := r.events[r.read]
			r.read++
			r.mu.Unlock()
			return ev
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("no event within 30s; got %s", format(r.all()))
		}
	}
}

// expect reads the next events and checks them against want, each as
// format would write it.
func (r *recorder) expect(t testing.TB, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := describe(r.next(t)); got != w {
			t.Fatalf("event %q, want %q (all: %s)", got, w, format(r.all()))
		}
	}
}

// until reads events until one of type typ, returning those before it.
func (r *recorder) until(t testing.TB, typ cache.EventType) []cache.Event {
	t.Helper()
	var before []cache.Event
	for {
		ev := r.next(t)
		if ev.Type == typ {
			return before
		}
		before = append(before, ev)
	}
}

// describe writes an event as "TYPE path data" ("TYPE path" for
// deletions, "TYPE" for the others), checking its fields on the way.
func describe(ev cache.Event) string {
	switch ev.Type {
	case cache.NodeCreated, cache.NodeChanged:
		if ev.Node == nil || ev.Node.Path != ev.Path || (ev.Type == cache.NodeChanged) != (ev.Old != nil) {
			return fmt.Sprintf("malformed %#v", ev)
		}
		return fmt.Sprintf("%s %s %s", ev.Type, ev.Path, ev.Node.Data)
	case cache.NodeDeleted:
		if ev.Node != nil || ev.Old == nil || ev.Old.Path != ev.Path {
			return fmt.Sprintf("malformed %#v", ev)
		}
		return fmt.Sprintf("%s %s", ev.Type, ev.Path)
	}
	if ev.Path != "" || ev.Node != nil || ev.Old != nil {
		return fmt.Sprintf("malformed %#v", ev)
	}
	return ev.Type.String()
}

func format(evs []cache.Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = describe(ev)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// replay applies node events to a model of the view, failing on an event
// that contradicts it (a creation of a node already there, a change or
// deletion of one that is not): so events are neither missed nor doubled.
func replay(t testing.TB, evs []cache.Event) map[string]string {
	t.Helper()
	m := make(map[string]string)
	for _, ev := range evs {
		_, ok := m[ev.Path]
		switch ev.Type {
		case cache.NodeCreated:
			if ok {
				t.Fatalf("%s of a node already in the view: %s", describe(ev), format(evs))
			}
			m[ev.Path] = string(ev.Node.Data)
		case cache.NodeChanged:
			if !ok || m[ev.Path] != string(ev.Old.Data) {
				t.Fatalf("%s does not follow the view: %s", describe(ev), format(evs))
			}
			m[ev.Path] = string(ev.Node.Data)
		case cache.NodeDeleted:
			if !ok {
				t.Fatalf("%s of a node not in the view: %s", describe(ev), format(evs))
			}
			delete(m, ev.Path)
		}
	}
	return m
}

// toMap turns nodes into path -> data.
func toMap(nodes []cache.Node) map[string]string {
	m := make(map[string]string, len(nodes))
	for _, n := range nodes {
		m[n.Path] = string(n.Data)
	}
	return m
}

// serverView reads what a cache of root should hold: the root (if
// withRoot) and the descendants down to maxDepth.
func serverView(t testing.TB, c *client.Conn, root string, withRoot bool, maxDepth int) map[string]string {
	t.Helper()
	ctx := testserver.Context(t)
	m := make(map[string]string)
	var walk func(p string, d int)
	walk = func(p string, d int) {
		data, _, err := c.Get(ctx, p)
		if errors.Is(err, client.ErrNoNode) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if d > 0 || withRoot {
			m[p] = string(data)
		}
		if d == maxDepth {
			return
		}
		children, err := c.Children(ctx, p)
		if errors.Is(err, client.ErrNoNode) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range children {
			walk(p+"/"+ch, d+1)
		}
	}
	walk(root, 0)
	return m
}

// waitView waits until view() equals want.
func waitView(t testing.TB, what string, view func() map[string]string, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := view()
		if maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: view %v, want %v", what, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustCreate creates p with data (and its parents).
func mustCreate(t testing.TB, c *client.Conn, p, data string) {
	t.Helper()
	if _, err := c.Create(testserver.Context(t), p, []byte(data), client.WithParents()); err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
}

func mustSet(t testing.TB, c *client.Conn, p, data string) {
	t.Helper()
	if _, err := c.Set(testserver.Context(t), p, []byte(data), -1); err != nil {
		t.Fatalf("set %s: %v", p, err)
	}
}

func mustDelete(t testing.TB, c *client.Conn, p string) {
	t.Helper()
	if err := c.DeleteRecursive(testserver.Context(t), p); err != nil {
		t.Fatalf("delete %s: %v", p, err)
	}
}

// started is what the tests need of every cache.
type started interface {
	AddListener(func(cache.Event)) func()
	Start(context.Context) error
	Close() error
}

// start adds a recorder to x, starts it and closes it at the end.
func start[C started](t testing.TB, x C) (C, *recorder) {
	t.Helper()
	r := newRecorder()
	x.AddListener(r.listen)
	if err := x.Start(testserver.Context(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x, r
}
