// This file is the only one that imports the server package.

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
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
		version: server.Version,
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

// realServer adapts *server.Server: Serve reports a requested stop
// (server.ErrServerClosed) as nil.
type realServer struct{ *server.Server }

func (s realServer) Serve(ln net.Listener) error {
	if err := s.Server.Serve(ln); !errors.Is(err, server.ErrServerClosed) {
		return err
	}
	return nil
}
