package netproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// ErrClosed is returned by Close when the proxy was already closed.
var ErrClosed = errors.New("netproxy: closed")

// dialTimeout bounds the proxy's dial to its target, so that an accepted
// connection is not held open for a target that does not answer.
const dialTimeout = 5 * time.Second

// Rewriter rewrites the start of what a connection carries toward the
// target, for protocols whose first message names an address that must
// be routed through a proxy too: it reads from src the bytes it replaces
// and writes their replacement to dst. What it does not read is forwarded
// unchanged once it returns; an error drops the connection.
type Rewriter func(dst io.Writer, src io.Reader) error

// Proxy forwards TCP connections accepted on Addr to Target.
type Proxy struct {
	ln      net.Listener
	target  string
	rewrite Rewriter       // nil: forward everything as it is
	wg      sync.WaitGroup // the accept loop and every connection's copiers

	mu     sync.Mutex
	cut    bool                  // guarded by mu
	closed bool                  // guarded by mu
	conns  map[net.Conn]struct{} // both ends of every live link; guarded by mu
}

// Listen starts a proxy on a free 127.0.0.1 port that forwards to target.
func Listen(target string) (*Proxy, error) {
	return ListenRewrite(target, nil)
}

// ListenRewrite is Listen with a Rewriter applied to the start of every
// connection's stream toward target.
func ListenRewrite(target string, rw Rewriter) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, rewrite: rw, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on, 127.0.0.1:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut drops every connection the proxy carries (both ends are reset) and
// makes it reset new connections until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	conns := p.takeConnsLocked()
	p.mu.Unlock()
	for _, c := range conns {
		reset(c)
	}
}

// Heal lets new connections through again. Connections dropped by Cut stay
// dropped: the endpoints reconnect as they would after a network failure.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// IsCut reports whether the proxy is cut.
func (p *Proxy) IsCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Close stops the listener, drops every connection and waits for the
// proxy's goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	conns := p.takeConnsLocked()
	p.mu.Unlock()
	err := p.ln.Close()
	for _, c := range conns {
		reset(c)
	}
	p.wg.Wait()
	return err
}

// takeConnsLocked empties the connection set and returns what it held.
func (p *Proxy) takeConnsLocked() []net.Conn {
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	clear(p.conns)
	return conns
}

// accept runs until the listener is closed.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A temporary failure (e.g. out of file descriptors): retry
			// after a pause rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		refuse := p.cut || p.closed
		p.mu.Unlock()
		if refuse {
			reset(c)
			continue
		}
		p.wg.Add(1)
		go p.link(c)
	}
}

// link dials the target for the accepted connection c and copies bytes both
// ways until either side closes or the proxy drops the link.
func (p *Proxy) link(c net.Conn) {
	defer p.wg.Done()
	t, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		// The target refused: so does the proxy.
		reset(c)
		return
	}
	// A Cut or Close may have come while dialing: register both ends only
	// if the link may still exist.
	p.mu.Lock()
	if p.cut || p.closed {
		p.mu.Unlock()
		reset(c)
		reset(t)
		return
	}
	p.conns[c] = struct{}{}
	p.conns[t] = struct{}{}
	p.mu.Unlock()

	done := make(chan struct{}, 2)
	go func() {
		if p.rewrite == nil || p.rewrite(t, c) == nil {
			io.Copy(t, c)
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(c, t)
		done <- struct{}{}
	}()
	// The first direction to end ends the link: closing both ends makes
	// the other copier return too.
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, t)
	p.mu.Unlock()
	c.Close()
	t.Close()
	<-done
}

// reset closes c so that its peer sees a reset rather than an orderly
// end of stream, as when a link fails.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
