package zkgoproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/proto"
)

// ErrNotServing is wrapped by Start's failure when the server exited or did
// not serve in time.
var ErrNotServing = errors.New("zkgo server did not start serving")

// stopBound is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopBound = 10 * time.Second

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

// Server is a zkgo server process started by this package.
type Server struct {
	addr string
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	once sync.Once     // sends Stop's signals at most once
}

// Addr returns the client address, 127.0.0.1:port.
func (s *Server) Addr() string { return s.addr }

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Dir returns the server's directory (zoo.cfg, data/, server.log).
func (s *Server) Dir() string { return s.dir }

// Done returns a channel closed once the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop ends the process by PID (SIGTERM, then SIGKILL after 10s) and waits
// for it. It is idempotent, and returns at once after Kill.
func (s *Server) Stop() {
	s.once.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopBound):
			s.cmd.Process.Kill()
		}
	})
	<-s.done
}

// Kill sends SIGKILL to the process (a crash: nothing is flushed) and waits
// for it to exit. It is idempotent.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill() // os.Process ignores a process already reaped
	<-s.done
}

// LogTail returns the last n lines of the server's combined output.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
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
				tb.Logf("zkgo server (%s, pid %d) log tail:\n%s", s.addr, s.Pid(), s.LogTail(40))
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
		if addr, err = apachezk.FreeAddr(); err != nil {
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

	s := &Server{addr: addr, dir: dir, log: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "start-foreground", "--config", cfgPath)
	s.cmd.Dir, s.cmd.Stdout, s.cmd.Stderr = dir, logf, logf
	killWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		// Owned by s: reaps the process; Stop and Kill wait for done.
		s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitServing(ctx, opts.StartTimeout); err != nil {
		s.Stop()
		return s, fmt.Errorf("%w on %s: %w\nlog tail:\n%s", ErrNotServing, addr, err, s.LogTail(40))
	}
	return s, nil
}

// waitServing polls until srvr reports standalone mode and a session can be
// opened and closed. srvr is in every whitelist, so this holds whatever
// 4lw.commands.whitelist the caller configures.
func (s *Server) waitServing(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := errors.New("no attempt")
	for {
		if strings.Contains(apachezk.FourLetter(s.addr, "srvr"), "Mode: standalone") {
			last = probeSession(s.addr)
			if last == nil {
				return nil
			}
		} else {
			last = errors.New("srvr reports no standalone mode")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), last)
		case <-s.done:
			return errors.New("process exited")
		case <-tick.C:
		}
	}
}

// probeSession opens a session at addr and closes it.
func probeSession(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	req := proto.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), HasReadOnly: true}
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		return err
	}
	br := bufio.NewReader(nc)
	f, err := proto.ReadFrame(br, nil, 0)
	if err != nil {
		return err
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(f, &resp); err != nil {
		return err
	}
	if resp.SessionID == 0 {
		return errors.New("no session granted")
	}
	hdr := proto.RequestHeader{Xid: 1, Type: proto.OpCloseSession}
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&hdr))); err != nil {
		return err
	}
	if f, err = proto.ReadFrame(br, nil, 0); err != nil {
		return err
	}
	var rh proto.ReplyHeader
	if err := proto.Decode(f, &rh); err != nil {
		return err
	}
	if rh.Err != proto.OK {
		return fmt.Errorf("closeSession: %w", rh.Err)
	}
	return nil
}
