package netproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer accepts on a free port and echoes lines back until the test
// ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func listen(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := Listen(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// roundTrip sends a line on c and returns what comes back, or the error.
func roundTrip(c net.Conn, line string) (string, error) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustWork checks that a new connection through p carries data.
func mustWork(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c := dial(t, p.Addr())
	if got, err := roundTrip(c, "ping"); err != nil || got != "ping" {
		t.Fatalf("round trip through %s = %q, %v; want ping", p.Addr(), got, err)
	}
	return c
}

func TestForwardCutHeal(t *testing.T) {
	p := listen(t, echoServer(t))
	if p.IsCut() {
		t.Fatal("new proxy is cut")
	}
	open := mustWork(t, p)

	p.Cut()
	if !p.IsCut() {
		t.Fatal("IsCut = false after Cut")
	}
	// The open connection is dropped: its next round trip fails rather
	// than waiting for the deadline.
	start := time.Now()
	if got, err := roundTrip(open, "after cut"); err == nil {
		t.Fatalf("open connection still carries data after Cut: %q", got)
	} else if isTimeout(err) {
		t.Fatalf("open connection hung after Cut: %v", err)
	}
	t.Logf("open connection failed %v after Cut", time.Since(start))
	// A new connection is refused while cut: the proxy resets it.
	for range 3 {
		c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
		if err != nil {
			continue // refused outright is also a refusal
		}
		if got, err := roundTrip(c, "while cut"); err == nil {
			t.Fatalf("new connection carried data while cut: %q", got)
		} else if isTimeout(err) {
			t.Fatalf("new connection hung while cut: %v", err)
		}
		c.Close()
	}

	p.Heal()
	if p.IsCut() {
		t.Fatal("IsCut = true after Heal")
	}
	mustWork(t, p)
}

// isTimeout reports whether err is a deadline expiry: a dropped link must
// fail at once, not hang until the deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestCutIsPerProxy(t *testing.T) {
	target := echoServer(t)
	a, b := listen(t, target), listen(t, target)
	ca, cb := mustWork(t, a), mustWork(t, b)
	a.Cut()
	if _, err := roundTrip(ca, "x"); err == nil {
		t.Fatal("connection through the cut proxy survived")
	}
	if got, err := roundTrip(cb, "y"); err != nil || got != "y" {
		t.Fatalf("connection through the other proxy = %q, %v; want y", got, err)
	}
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close()
	p := listen(t, target)
	// The reset may already come with the dial, or with the first read.
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	if got, err := roundTrip(c, "x"); err == nil {
		t.Fatalf("proxy to a closed port carried data: %q", got)
	} else if isTimeout(err) {
		t.Fatalf("proxy to a closed port hung: %v", err)
	}
}

func TestClose(t *testing.T) {
	p, err := Listen(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	open := mustWork(t, p)
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	if _, err := roundTrip(open, "x"); err == nil {
		t.Fatal("connection survived Close")
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("proxy still accepts after Close")
	}
}

func TestRewrite(t *testing.T) {
	// Replace the first line with its upper-case form; the rest passes
	// as it is.
	p, err := ListenRewrite(echoServer(t), func(dst io.Writer, src io.Reader) error {
		var b [6]byte
		if _, err := io.ReadFull(src, b[:]); err != nil {
			return err
		}
		_, err := io.WriteString(dst, strings.ToUpper(string(b[:])))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c := dial(t, p.Addr())
	for _, tc := range []struct{ send, want string }{{"hello", "HELLO"}, {"again", "again"}} {
		if got, err := roundTrip(c, tc.send); err != nil || got != tc.want {
			t.Fatalf("round trip of %q = %q, %v; want %q", tc.send, got, err, tc.want)
		}
	}
}
