// Package zktest starts an in-process zkgo server, or a whole ensemble
// (StartEnsemble), for tests, as net/http/httptest does for HTTP: no Java,
// no fixed ports, temporary data directories, everything stopped when the
// test ends.
//
//	srv := zktest.Start(t)
//	conn, _, err := zk.Connect([]string{srv.Addr()}, time.Second)
//
// A Server is safe for concurrent use.
package zktest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/server"
)

// Option adjusts a test server.
type Option func(*options)

type options struct {
	cfg    *config.Config
	logger *slog.Logger
}

// WithConfig lets the caller change any setting before the server starts.
func WithConfig(f func(*config.Config)) Option { return func(o *options) { f(o.cfg) } }

// WithTickTime sets tickTime, which bounds session timeouts (2 to 20 ticks).
func WithTickTime(d time.Duration) Option { return func(o *options) { o.cfg.TickTime = d } }

// WithLogger sends the server's logs to l (default: discarded, or the test
// log when the test runs with -v).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Server is a running in-process zkgo server.
type Server struct {
	tb   testing.TB
	cfg  *config.Config
	log  *slog.Logger
	mu   sync.Mutex
	srv  *server.Server
	addr string
	done chan error
}

// Start starts a standalone server on 127.0.0.1 on a free port with a
// temporary data directory, with extended types (TTL nodes) enabled and
// every four-letter word allowed. It is stopped by tb.Cleanup.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := newConfig(tb.TempDir())
	o := options{cfg: cfg, logger: testLogger(tb)}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{tb: tb, cfg: cfg, log: o.logger}
	if err := s.start("127.0.0.1:0"); err != nil {
		tb.Fatalf("zktest: %v", err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

// StartMain starts a server as Start does, for a TestMain, where there is
// no testing.TB: its data directory is a new temporary directory, and stop
// shuts the server down and removes the directory.
func StartMain(opts ...Option) (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "zktest-")
	if err != nil {
		return "", nil, err
	}
	o := options{cfg: newConfig(dir), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	srv, err := server.New(o.cfg, o.logger)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	stop = func() {
		srv.Close()
		<-served
		os.RemoveAll(dir)
	}
	return ln.Addr().String(), stop, nil
}

// newConfig is the configuration of a test server: dataDir, extended types
// (TTL nodes) and every four-letter word.
func newConfig(dataDir string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.ClientPortAddress = "127.0.0.1"
	cfg.ClientPort = 0
	cfg.ExtendedTypesEnabled = true
	cfg.FourLetterWhitelist = config.WordSet{"*": {}}
	cfg.ContainerCheckInterval = 100 * time.Millisecond
	cfg.AdminEnableServer = false
	return cfg
}

func (s *Server) start(addr string) error {
	srv, err := server.New(s.cfg, s.log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	s.mu.Lock()
	s.srv, s.addr, s.done = srv, ln.Addr().String(), done
	s.mu.Unlock()
	return nil
}

// Addr returns the client address, host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop shuts the server down. Calling it again does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		s.tb.Errorf("zktest: shutdown: %v", err)
	}
	if err := <-done; err != nil && !errors.Is(err, server.ErrServerClosed) {
		s.tb.Errorf("zktest: serve: %v", err)
	}
}

// Restart stops the server and starts it again on the same address with the
// same data directory: sessions, znodes and zxids survive.
func (s *Server) Restart() {
	s.tb.Helper()
	addr := s.Addr()
	s.Stop()
	var err error
	for i := 0; i < 50; i++ {
		if err = s.start(addr); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // the port may linger briefly
	}
	s.tb.Fatalf("zktest: restart: %v", err)
}

// Server returns the underlying server.
func (s *Server) Server() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

func testLogger(tb testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(string(p[:len(p)-1]))
	return len(p), nil
}
