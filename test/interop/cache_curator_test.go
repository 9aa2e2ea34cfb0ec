package interop

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/cache"
)

// This file checks recipes/cache against Apache Curator 5's CuratorCache:
// testdata/cache/CacheAgent.java runs a CuratorCache beside a Go one on
// the same path, while Go and then Curator write to it; after every write
// both report the same events, and at the end their views and the
// server's are the same.

// startCacheAgent starts CacheAgent (see startAgentClass).
func startCacheAgent(t *testing.T, java, classpath, addr string) *cacheAgent {
	t.Helper()
	return &cacheAgent{agent: *startAgentClass(t, java, classpath, "CacheAgent", addr), events: make(map[string][]string)}
}

// cacheAgent is a running CacheAgent. Its stdout mixes command answers
// with cache events; events are kept per cache root until asked for.
type cacheAgent struct {
	agent
	events map[string][]string // root -> events not yet read ("TYPE path data")
}

// line reads one line: an event is filed away (and "" returned), an
// answer returned.
func (a *cacheAgent) line(t *testing.T) (answer string) {
	t.Helper()
	l := a.next(t, 60*time.Second)
	rest, ok := strings.CutPrefix(l, "EVENT ")
	if !ok {
		return l
	}
	root, ev, _ := strings.Cut(rest, " ")
	a.events[root] = append(a.events[root], ev)
	return ""
}

// cmd sends a command and returns its answer, failing on FAIL.
func (a *cacheAgent) cmd(t *testing.T, format string, args ...any) string {
	t.Helper()
	c := fmt.Sprintf(format, args...)
	if _, err := io.WriteString(a.stdin, c+"\n"); err != nil {
		t.Fatalf("agent %q: %v", c, err)
	}
	ans := a.line(t)
	for ans == "" {
		ans = a.line(t)
	}
	if strings.HasPrefix(ans, "FAIL") {
		t.Fatalf("agent %q: %s", c, ans)
	}
	return ans
}

// event returns the next event of the Curator cache at root.
func (a *cacheAgent) event(t *testing.T, root string) string {
	t.Helper()
	for len(a.events[root]) == 0 {
		if ans := a.line(t); ans != "" {
			t.Fatalf("unexpected answer %q while waiting for an event", ans)
		}
	}
	ev := a.events[root][0]
	a.events[root] = a.events[root][1:]
	return ev
}

// goEvents is a Go cache's listener, writing events as CacheAgent does.
type goEvents struct {
	mu   sync.Mutex
	evs  []string // guarded by mu
	wake chan struct{}
}

func (g *goEvents) listen(ev cache.Event) {
	var s string
	switch ev.Type {
	case cache.NodeCreated, cache.NodeChanged:
		s = fmt.Sprintf("%s %s %s", ev.Type, ev.Path, word(ev.Node.Data))
	case cache.NodeDeleted:
		s = fmt.Sprintf("%s %s", ev.Type, ev.Path)
	case cache.Initialized:
		s = ev.Type.String()
	default:
		return // Curator's CuratorCache reports no connection events
	}
	g.mu.Lock()
	g.evs = append(g.evs, s)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

func (g *goEvents) next(t *testing.T) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		g.mu.Lock()
		if len(g.evs) > 0 {
			ev := g.evs[0]
			g.evs = g.evs[1:]
			g.mu.Unlock()
			return ev
		}
		g.mu.Unlock()
		select {
		case <-g.wake:
		case <-deadline:
			t.Fatal("Go cache: no event within 60s")
		}
	}
}

// word is CacheAgent's text of node data.
func word(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

func TestCuratorCacheInterop(t *testing.T) {
	t.Parallel()
	java := requireJava(t)
	cp := compileJava(t, curatorClasspath(t), "cache", "CacheAgent.java")

	forEachTarget(t, serverOpts{}, func(t *testing.T, tg *target) {
		a := startCacheAgent(t, java, cp, tg.addr)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c, err := client.Connect(ctx, tg.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, writer := range []string{"go", "java"} {
			t.Run(writer+"-writes", func(t *testing.T) { cacheInterop(ctx, t, a, c, writer) })
		}
	})
}

// cacheInterop watches one path with a Go and a Curator CuratorCache while
// writer ("go" or "java") changes it step by step.
func cacheInterop(ctx context.Context, t *testing.T, a *cacheAgent, c *client.Conn, writer string) {
	root := "/cache-interop-" + writer
	if _, err := c.Create(ctx, root+"/seed", []byte("s0"), client.WithParents()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteRecursive(context.Background(), root) })

	g := &goEvents{wake: make(chan struct{}, 1)}
	gc := cache.NewCuratorCache(c, root)
	gc.AddListener(g.listen)
	if err := gc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	a.cmd(t, "watch %s", root)

	// The initial population: the same nodes (Curator reads siblings in
	// parallel, so their order may differ), then INITIALIZED.
	wantInit := []string{"NODE_CREATED " + root + " -", "NODE_CREATED " + root + "/seed s0", "INITIALIZED"}
	var goInit, javaInit []string
	for range wantInit {
		goInit = append(goInit, g.next(t))
		javaInit = append(javaInit, a.event(t, root))
	}
	for _, got := range [][]string{goInit, javaInit} {
		if got[2] != "INITIALIZED" || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(wantInit))) {
			t.Fatalf("initial events: Go %q, Curator %q; want %q", goInit, javaInit, wantInit)
		}
	}

	steps := []struct {
		op, path, data string
		want           []string
	}{
		{"create", "/a", "a1", []string{"NODE_CREATED /a a1"}},
		{"create", "/a/b", "b1", []string{"NODE_CREATED /a/b b1"}},
		{"set", "/a", "a2", []string{"NODE_CHANGED /a a2"}},
		{"set", "/seed", "s1", []string{"NODE_CHANGED /seed s1"}},
		{"create", "/c", "-", []string{"NODE_CREATED /c -"}},
		{"set", "/c", "c1", []string{"NODE_CHANGED /c c1"}},
		{"delete", "/a", "", []string{"NODE_DELETED /a/b", "NODE_DELETED /a"}},
		{"create", "/a", "again", []string{"NODE_CREATED /a again"}},
	}
	for _, s := range steps {
		p := root + s.path
		if writer == "java" {
			a.cmd(t, "%s %s %s", s.op, p, s.data)
		} else {
			data := []byte(s.data)
			if s.data == "-" {
				data = nil
			}
			var err error
			switch s.op {
			case "create":
				_, err = c.Create(ctx, p, data)
			case "set":
				_, err = c.Set(ctx, p, data, -1)
			case "delete":
				err = c.DeleteRecursive(ctx, p)
			}
			if err != nil {
				t.Fatalf("%s %s: %v", s.op, p, err)
			}
		}
		for _, w := range s.want {
			typ, rest, _ := strings.Cut(w, " ")
			w = typ + " " + root + rest
			goEv, javaEv := g.next(t), a.event(t, root)
			if goEv != w || javaEv != w {
				t.Fatalf("after %s %s: Go cache %q, Curator %q; want %q", s.op, p, goEv, javaEv, w)
			}
		}
	}

	// The views: Go's, Curator's and the server's.
	goView := make(map[string]string)
	for _, n := range gc.Current() {
		goView[n.Path] = word(n.Data)
	}
	javaView := make(map[string]string)
	if list := strings.TrimPrefix(a.cmd(t, "view %s", root), "VIEW "); list != "" {
		for _, kv := range strings.Split(list, ",") {
			k, v, _ := strings.Cut(kv, "=")
			javaView[k] = v
		}
	}
	server := map[string]string{}
	for _, p := range []string{root, root + "/seed", root + "/c", root + "/a"} {
		data, _, err := c.Get(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		server[p] = word(data)
	}
	if children, _ := c.Children(ctx, root); len(children) != 3 {
		t.Fatalf("server children %q", children)
	}
	if !maps.Equal(goView, server) || !maps.Equal(javaView, server) {
		t.Fatalf("views: Go %v, Curator %v, server %v", goView, javaView, server)
	}
}
