package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/zktest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLine waits until out has the line want.
func waitLine(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains("\n"+out.String(), "\n"+want+"\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no line %q in:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// start runs the program until the returned stop is called.
func start(t *testing.T, args ...string) (*syncBuffer, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, out) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run %v: %v\n%s", args, err, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Errorf("run %v did not stop", args)
			}
		})
	}
	t.Cleanup(stop)
	return out, stop
}

// TestTwoInstances: each program sees the other's instance come and go.
func TestTwoInstances(t *testing.T) {
	srv := zktest.Start(t)
	common := []string{"-server", srv.Addr(), "-base", "/services", "-name", "web", "-address", "127.0.0.1"}
	a, _ := start(t, append(common, "-id", "a", "-port", "8001")...)
	waitLine(t, a, "registered web a@127.0.0.1:8001")
	waitLine(t, a, "instances a@127.0.0.1:8001")

	b, stopB := start(t, append(common, "-id", "b", "-port", "8002", "-payload", `{"v":1}`)...)
	waitLine(t, b, "instances a@127.0.0.1:8001")
	waitLine(t, b, "added b@127.0.0.1:8002")
	waitLine(t, b, "instances a@127.0.0.1:8001 b@127.0.0.1:8002")
	waitLine(t, a, "added b@127.0.0.1:8002")
	waitLine(t, a, "instances a@127.0.0.1:8001 b@127.0.0.1:8002")

	stopB() // b unregisters
	waitLine(t, a, "removed b@127.0.0.1:8002")
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-name", "x", "-port", "1"},
		{"-server", "127.0.0.1:1", "-port", "1"},
		{"-server", "127.0.0.1:1", "-name", "x"},
		{"-server", "127.0.0.1:1", "-name", "x", "-port", "1", "-payload", "{"},
	} {
		if err := run(context.Background(), args, &syncBuffer{}); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}
