// This file is the only one that imports the server package.

package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/server"
)

func main() {
	// A znode tree is a large, long-lived heap with little garbage relative
	// to it: collecting at 50% growth instead of Go's default 100% keeps RSS
	// near the live data for a few percent of CPU. GOGC overrides it.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	a := &app{
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		environ: os.Environ(),
		newServer: func(cfg *config.Config, logger *slog.Logger) (zkServer, error) {
			s, err := server.New(cfg, logger)
			if err != nil {
				return nil, err
			}
			return realServer{s}, nil
		},
		notify: notifySignals,
	}
	os.Exit(a.run(context.Background(), os.Args[1:]))
}

// realServer adapts *server.Server: ListenAndServe reports a requested stop
// (server.ErrServerClosed) as nil.
type realServer struct{ *server.Server }

func (s realServer) ListenAndServe() error {
	if err := s.Server.ListenAndServe(); !errors.Is(err, server.ErrServerClosed) {
		return err
	}
	return nil
}
