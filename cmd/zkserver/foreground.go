package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/config"
)

// foreground runs the server until it fails or a signal arrives. The first
// SIGTERM/SIGINT starts a graceful Shutdown bounded by o.shutdownTimeout,
// after which (or on a second signal) the server is closed. When start
// launched it, it tells start through the ready pipe (see readyFDEnv)
// whether it got as far as serving, and if not, why.
func (a *app) foreground(ctx context.Context, cfgPath string, cfg *config.Config, o options) error {
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: o.logLevel}))
	src := describeConfig(cfgPath)
	for _, k := range cfg.Unknown {
		logger.Warn("ignoring unknown configuration key", "key", k, "config", src)
	}
	for _, w := range cfg.Warnings {
		logger.Warn(w, "config", src)
	}
	// Subscribe first: a signal during a long start (restoring a large
	// snapshot) then ends the server cleanly once it is up.
	signals, stopSignals := a.notify()
	defer stopSignals()
	report := a.readyReporter()
	srv, ln, release, err := a.open(cfg, logger)
	if err != nil {
		report(err)
		return err
	}
	defer release()
	mode := "standalone"
	if cfg.Distributed() {
		mode = fmt.Sprintf("ensemble member %d of %d servers", cfg.MyID, len(cfg.Servers))
	}
	// The one line a start logs at info level: what is served, and where.
	logger.Info("serving", "version", a.version, "client_addr", ln.Addr().String(), "data_dir", cfg.DataDir,
		"mode", mode, "config", src, "pid", os.Getpid())
	report(nil)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		if err != nil {
			return fmt.Errorf("serving: %w", err)
		}
		return nil
	case sig := <-signals:
		logger.Info("shutting down", "signal", sig.String(), "timeout", o.shutdownTimeout)
	case <-ctx.Done():
		logger.Info("shutting down", "reason", ctx.Err(), "timeout", o.shutdownTimeout)
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- srv.Shutdown(shutdownCtx) }()
	select {
	case err = <-shutdownDone:
	case sig := <-signals:
		logger.Warn("second signal: closing now", "signal", sig.String())
		cancel()
		err = <-shutdownDone
	}
	if err != nil {
		logger.Warn("graceful shutdown incomplete; closing", "err", err)
		if cerr := srv.Close(); cerr != nil {
			logger.Warn("close", "err", cerr)
		}
	}
	select {
	case err := <-served:
		if err != nil {
			logger.Warn("server stopped with an error", "err", err)
		}
		logger.Info("stopped")
	case <-time.After(closeGrace):
		// Do not hang the process on a server that ignores Close.
		logger.Error("server did not stop after Close; exiting anyway", "waited", closeGrace)
	}
	return nil
}

// open prepares the server: it creates dataDir, makes sure no other server
// holds the pid file, binds the client port, then writes the pid file (so
// that it names the process holding the port) and creates the server. On
// success release removes the pid file; the server owns ln.
func (a *app) open(cfg *config.Config, logger *slog.Logger) (_ zkServer, _ net.Listener, release func(), err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("dataDir: %w", err)
	}
	pidPath := pidFilePath(cfg, a.getenv)
	self := os.Getpid()
	if pid, err := readPIDFile(pidPath); err == nil && pid != self && processAlive(pid) {
		return nil, nil, nil, fmt.Errorf("already running as process %d (pid file %s)", pid, pidPath)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("replacing unreadable pid file", "path", pidPath, "err", err)
	}
	ln, err := net.Listen("tcp", cfg.ClientAddr())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("client port: %w", err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	if err := writePIDFile(pidPath, self); err != nil {
		return nil, nil, nil, fmt.Errorf("pid file: %w", err)
	}
	release = func() {
		if err := removePIDFile(pidPath, self); err != nil {
			logger.Warn("removing pid file", "path", pidPath, "err", err)
		}
	}
	srv, err := a.newServer(cfg, logger)
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return srv, ln, release, nil
}

// closeGrace bounds the wait for Serve to return after Close.
const closeGrace = 5 * time.Second

// notifySignals subscribes to SIGTERM and SIGINT.
func notifySignals() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	return c, func() { signal.Stop(c) }
}
