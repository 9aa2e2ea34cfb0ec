package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/config"
)

// foreground runs the server until it fails or a signal arrives. The first
// SIGTERM/SIGINT starts a graceful Shutdown bounded by o.shutdownTimeout,
// after which (or on a second signal) the server is closed.
func (a *app) foreground(ctx context.Context, cfgPath string, cfg *config.Config, o options) error {
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: o.logLevel}))
	src := describeConfig(cfgPath)
	for _, k := range cfg.Unknown {
		logger.Warn("ignoring unknown configuration key", "key", k, "config", src)
	}
	for _, w := range cfg.Warnings {
		logger.Warn(w, "config", src)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("dataDir: %w", err)
	}

	// Claim the pid file unless another live server holds it.
	pidPath := pidFilePath(cfg, a.getenv)
	self := os.Getpid()
	if pid, err := readPIDFile(pidPath); err == nil && pid != self && processAlive(pid) {
		return fmt.Errorf("already running as process %d (pid file %s)", pid, pidPath)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("replacing unreadable pid file", "path", pidPath, "err", err)
	}
	if err := writePIDFile(pidPath, self); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	defer func() {
		if err := removePIDFile(pidPath, self); err != nil {
			logger.Warn("removing pid file", "path", pidPath, "err", err)
		}
	}()

	srv, err := a.newServer(cfg, logger)
	if err != nil {
		return err
	}
	mode := "standalone"
	if cfg.Distributed() {
		mode = fmt.Sprintf("ensemble member %d of %d servers", cfg.MyID, len(cfg.Servers))
	}
	logger.Info("starting", "version", versionString(), "config", src, "client_addr", cfg.ClientAddr(),
		"data_dir", cfg.DataDir, "mode", mode, "pid", self)

	signals, stopSignals := a.notify()
	defer stopSignals()
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()

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

// closeGrace bounds the wait for ListenAndServe to return after Close.
const closeGrace = 5 * time.Second

// notifySignals subscribes to SIGTERM and SIGINT.
func notifySignals() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 2)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	return c, func() { signal.Stop(c) }
}
