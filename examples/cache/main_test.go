package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/zktest"
)

// TestPrintsEvents runs the command against an in-process server and
// checks its lines as nodes change.
func TestPrintsEvents(t *testing.T) {
	srv := zktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Connect(ctx, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create(ctx, "/app/a", []byte("one"), client.WithParents()); err != nil {
		t.Fatal(err)
	}

	pr, pw := io.Pipe()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"-server", srv.Addr(), "-path", "/app"}, pw)
		pw.Close()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-lines:
				if got != w {
					t.Fatalf("line %q, want %q", got, w)
				}
			case <-ctx.Done():
				t.Fatalf("no line %q", w)
			}
		}
	}
	expect(`NODE_CREATED /app ""`, `NODE_CREATED /app/a "one"`, "INITIALIZED")
	c.Set(ctx, "/app/a", []byte("two"), -1)
	expect(`NODE_CHANGED /app/a "two"`)
	c.Create(ctx, "/app/b", nil)
	expect(`NODE_CREATED /app/b ""`)
	c.Delete(ctx, "/app/a", -1)
	expect("NODE_DELETED /app/a")
	stop()
	for range lines { // drain, so that the listener never blocks Close
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	if err := run(context.Background(), []string{"-path", "/x"}, io.Discard); err == nil {
		t.Fatal("no error without -server")
	}
	err := run(context.Background(), []string{"-server", "127.0.0.1:1", "-path", "/x", "-kind", "nope"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-kind") {
		t.Fatalf("bad -kind: %v", err)
	}
}
