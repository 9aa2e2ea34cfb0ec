package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

// ctxFor returns a context bounded for one test.
func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connectTo opens a Conn to addr (a connect string) and closes it at the end
// of the test.
func connectTo(t testing.TB, addr string, opts ...client.Option) *client.Conn {
	t.Helper()
	opts = append([]client.Option{client.WithSessionTimeout(10 * time.Second),
		client.WithConnectTimeout(10 * time.Second)}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("Connect(%s): %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connect opens a Conn to the suite's server.
func connect(t testing.TB, opts ...client.Option) *client.Conn {
	t.Helper()
	return connectTo(t, client.ServerForTest(t), opts...)
}

// base creates a fresh node named after the test and removes its subtree at
// the end; tests work below it.
func base(t testing.TB, c *client.Conn) string {
	t.Helper()
	p := "/" + strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	ctx := ctxFor(t)
	removeAsSuper(t, p)
	if _, err := c.Create(ctx, p, nil); err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
	t.Cleanup(func() { removeAsSuper(t, p) })
	return p
}

// superAuth is the superuser of the test server (digest super:test), who
// can delete whatever ACLs a test left behind.
var superAuth = client.WithAuth("digest", []byte("super:test"))

// removeAsSuper deletes the subtree at p, if any.
func removeAsSuper(t testing.TB, p string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, client.ServerForTest(t), superAuth)
	if err != nil {
		t.Fatalf("connect for cleanup: %v", err)
	}
	defer c.Close()
	if err := c.DeleteRecursive(ctx, p); err != nil && !errors.Is(err, client.ErrNoNode) {
		t.Fatalf("cleanup %s: %v", p, err)
	}
}

// nextEvent waits for one event on ch.
func nextEvent(t testing.TB, ch <-chan client.Event) client.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed without an event")
		}
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no watch event within 20s")
	}
	return client.Event{}
}

// expectEvent waits for one event and checks its type and path.
func expectEvent(t testing.TB, ch <-chan client.Event, typ client.EventType, path string) client.Event {
	t.Helper()
	e := nextEvent(t, ch)
	if e.Type != typ || e.Path != path {
		t.Fatalf("event %v %q (state %v, err %v), want %v %q", e.Type, e.Path, e.State, e.Err, typ, path)
	}
	return e
}

// expectClosed checks that a one-shot channel is closed after its event.
func expectClosed(t testing.TB, ch <-chan client.Event) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if ok {
			t.Fatalf("second event on a one-shot watch: %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch channel not closed")
	}
}

// expectNoEvent checks that no event is waiting on ch, a one-shot watch of
// c, once every change that could trigger it has been applied. It proves
// absence with one round trip, not a time window: the server queues a
// connection's events before any later reply, and c hands a one-shot event
// to its channel before it reads the next frame, so once the reply to a
// request sent now is in, any event for ch is too.
func expectNoEvent(t testing.TB, c *client.Conn, ch <-chan client.Event) {
	t.Helper()
	if _, err := c.Exists(ctxFor(t), "/"); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed without an event")
		}
		t.Fatalf("unexpected event %+v", e)
	default:
	}
}

// expectStates reads the state channel and checks the next transitions.
func expectStates(t testing.TB, c *client.Conn, want ...client.State) {
	t.Helper()
	for _, w := range want {
		select {
		case s, ok := <-c.States():
			if !ok {
				t.Fatalf("state channel closed, want %v", w)
			}
			if s != w {
				t.Fatalf("state %v, want %v", s, w)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no state transition within 30s, want %v", w)
		}
	}
}

// waitFor polls cond until it holds or 30s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proxy is a TCP proxy to the server that a test can cut, to simulate
// network failures between the client and the server.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[net.Conn]struct{} // guarded by mu: both sides of every link
	refuse  bool                  // guarded by mu: close new connections at once
	refused int                   // guarded by mu: connections refused so far
	drop    bool                  // guarded by mu: discard server-to-client bytes
	closed  bool                  // guarded by mu
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.refuse || p.closed {
			p.refused++
			p.mu.Unlock()
			down.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		p.conns[down] = struct{}{}
		p.conns[up] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, down, false)
		go p.pipe(down, up, true)
	}
}

// pipe copies src to dst until either fails; replies is set for the
// server-to-client direction, which drop can silence.
func (p *proxy) pipe(dst, src net.Conn, replies bool) {
	defer p.wg.Done()
	defer func() {
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := replies && p.drop
			p.mu.Unlock()
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// cut breaks every current link; with refuse set, new connections are also
// closed at once until resume.
func (p *proxy) cut(refuse bool) {
	p.mu.Lock()
	p.refuse = refuse
	p.drop = false
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// dropReplies makes the proxy swallow everything the server sends, so that
// requests reach the server but their replies are lost.
func (p *proxy) dropReplies() {
	p.mu.Lock()
	p.drop = true
	p.mu.Unlock()
}

// refusals returns how many connections were closed at once while refusing.
func (p *proxy) refusals() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// resume accepts new connections again.
func (p *proxy) resume() {
	p.mu.Lock()
	p.refuse = false
	p.drop = false
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.cut(true)
	p.wg.Wait()
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
