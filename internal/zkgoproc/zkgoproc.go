package zkgoproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/testproc"
)

// ErrNotServing is wrapped by Start's failure when the server exited or did
// not serve in time.
var ErrNotServing = errors.New("zkgo server did not start serving")

// Options configure a server. Zero values take the defaults noted.
type Options struct {
	// TickTime is zoo.cfg's tickTime (default 2s).
	TickTime time.Duration
	// Config holds extra zoo.cfg lines, "key=value", written after tickTime,
	// dataDir, clientPort and clientPortAddress.
	Config []string
	// Dir is the server's directory (zoo.cfg, data/, server.log). Empty means
	// a new temporary directory of tb; pass a previous Server's Dir to
	// restart on its data. The log is appended to, so it spans restarts.
	Dir string
	// Addr is the 127.0.0.1:port to serve on. Empty means a free port; pass
	// a previous Server's Addr to restart on the same address.
	Addr string
	// StartTimeout bounds the wait for the server to serve (default 60s).
	StartTimeout time.Duration
}

// Server is a zkgo server process started by this package: Addr, Pid, Dir,
// Done, Stop, Kill and LogTail come from testproc.Process.
type Server struct {
	*testproc.Process
}

// Start builds zkserver (see Build), starts it and returns once it serves;
// tb's cleanup stops it and, if tb failed, logs its log tail. It fails tb
// if the server does not start.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin := Build(tb)
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	s, err := launch(context.Background(), bin, opts)
	if s != nil {
		tb.Cleanup(func() {
			s.Stop()
			if tb.Failed() {
				tb.Logf("zkgo server (%s, pid %d) log tail:\n%s", s.Addr(), s.Pid(), s.LogTail(40))
			}
		})
	}
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// launch starts bin in opts.Dir and waits until it serves. On a failure
// after the process started it returns the (stopped) server with the error.
func launch(ctx context.Context, bin string, opts Options) (*Server, error) {
	if opts.TickTime == 0 {
		opts.TickTime = 2 * time.Second
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	addr := opts.Addr
	if addr == "" {
		var err error
		if addr, err = testproc.FreeAddr(); err != nil {
			return nil, err
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("server address %q: %w", addr, err)
	}
	dir := opts.Dir
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	cfg := []string{
		"tickTime=" + strconv.FormatInt(opts.TickTime.Milliseconds(), 10),
		"dataDir=" + dataDir,
		"clientPort=" + port,
		"clientPortAddress=" + host,
	}
	cfg = append(cfg, opts.Config...)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}

	p, err := testproc.Launch(ctx, testproc.Spec{
		Cmd:       exec.Command(bin, "start-foreground", "--config", cfgPath),
		Addr:      addr,
		Dir:       dir,
		Log:       filepath.Join(dir, "server.log"),
		AppendLog: true, // one log across restarts on the same Dir
	}, opts.StartTimeout)
	if p == nil {
		return nil, err
	}
	if err != nil {
		return &Server{p}, fmt.Errorf("%w on %s: %w", ErrNotServing, addr, err)
	}
	return &Server{p}, nil
}
