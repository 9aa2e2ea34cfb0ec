package apachezk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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

	"github.com/zkgo/zkgo/proto"
)

// Jars is the classpath of a standalone Apache ZooKeeper from the Debian
// packages zookeeper, libzookeeper-java and libslf4j-java.
var Jars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-api.jar",
	"/usr/share/java/slf4j-simple.jar",
}

// ErrUnavailable is wrapped by Available's error when Java or a jar is missing.
var ErrUnavailable = errors.New("Apache ZooKeeper unavailable")

// ErrNotServing is wrapped by the start functions' error when the server
// exited or did not serve in time.
var ErrNotServing = errors.New("Apache ZooKeeper did not start serving")

// RequiredEnv is the environment variable that, set to "1" (CI), turns a
// missing Apache ZooKeeper from a skip into a failure.
const RequiredEnv = "ZKGO_INTEROP_REQUIRED"

// Required reports whether RequiredEnv is "1".
func Required() bool { return os.Getenv(RequiredEnv) == "1" }

// Available reports whether java and the jars are installed; its error wraps
// ErrUnavailable and names the Debian packages to install.
func Available() error {
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java")
	}
	for _, j := range Jars {
		if _, err := os.Stat(j); err != nil {
			missing = append(missing, j)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: missing %s (install the Debian package `zookeeper`, which brings openjdk-17-jre-headless, libzookeeper-java and libslf4j-java)",
		ErrUnavailable, strings.Join(missing, ", "))
}

// Require skips tb when Apache ZooKeeper is unavailable, or fails it when
// ZKGO_INTEROP_REQUIRED=1.
func Require(tb testing.TB) {
	tb.Helper()
	err := Available()
	if err == nil {
		return
	}
	if Required() {
		tb.Fatalf("%v (and %s=1)", err, RequiredEnv)
	}
	tb.Skip(err)
}

// FreeAddr returns a 127.0.0.1 address whose port was free a moment ago
// and on which nothing answers, so that a readiness probe cannot reach
// another server if the one started there fails to bind.
func FreeAddr() (string, error) {
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("finding a free port: %w", err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			continue
		}
		return addr, nil
	}
	return "", errors.New("finding a free port: every candidate answered")
}

// Options configure a server. Zero values take the defaults noted.
type Options struct {
	// TickTime is zoo.cfg's tickTime (default 2s).
	TickTime time.Duration
	// SuperDigest, if set ("user:base64(sha1)"), makes that digest user a
	// superuser.
	SuperDigest string
	// Config holds extra zoo.cfg lines, "key=value".
	Config []string
	// Properties holds extra JVM system properties, "key=value" (without -D).
	Properties []string
	// Heap is the JVM's -Xmx value (default "256m").
	Heap string
	// StartTimeout bounds the wait for the server to serve (default 60s).
	StartTimeout time.Duration
}

// Server is an Apache ZooKeeper process started by this package.
type Server struct {
	addr string
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
	once sync.Once
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
// for it. It is idempotent.
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
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	<-s.done
}

// LogTail returns the last n lines of the server's combined output, without
// Java stack frames and the noise of clients closing their sockets.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "at ") || strings.Contains(l, "EndOfStreamException") ||
			strings.HasSuffix(l, "Unexpected exception") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Start calls Require, starts a server in a temporary directory of tb and
// returns once it serves; tb's cleanup stops it and, if tb failed, logs its
// log tail. It fails tb if the server does not start.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	Require(tb)
	s, err := launch(context.Background(), tb.TempDir(), opts)
	if s != nil {
		tb.Cleanup(func() {
			s.Stop()
			if tb.Failed() {
				tb.Logf("Apache ZooKeeper (%s) log tail:\n%s", s.addr, s.LogTail(40))
			}
		})
	}
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// StartMain starts a server for a TestMain, which has no testing.TB: stop
// ends it and removes its directory. The error wraps ErrUnavailable when
// Java or the jars are missing, and otherwise carries the log tail.
func StartMain(opts Options) (addr string, stop func(), err error) {
	if err := Available(); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "zkgo-apachezk-")
	if err != nil {
		return "", nil, err
	}
	s, err := launch(context.Background(), dir, opts)
	if err != nil {
		if s != nil {
			s.Stop()
		}
		os.RemoveAll(dir)
		return "", nil, err
	}
	return s.addr, func() { s.Stop(); os.RemoveAll(dir) }, nil
}

// launch starts the server in dir and waits until it serves. On a failure
// after the process started it returns the (stopped) server with the error.
func launch(ctx context.Context, dir string, opts Options) (*Server, error) {
	if opts.TickTime == 0 {
		opts.TickTime = 2 * time.Second
	}
	if opts.Heap == "" {
		opts.Heap = "256m"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cfg := []string{
		"tickTime=" + strconv.FormatInt(opts.TickTime.Milliseconds(), 10),
		"dataDir=" + filepath.Join(dir, "data"),
		"clientPort=" + port,
		"clientPortAddress=127.0.0.1",
	}
	cfg = append(cfg, opts.Config...)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	// The readiness check below needs srvr, and the admin server would take
	// port 8080, which parallel tests share.
	props := []string{"zookeeper.4lw.commands.whitelist=*", "zookeeper.admin.enableServer=false"}
	if opts.SuperDigest != "" {
		props = append(props, "zookeeper.DigestAuthenticationProvider.superDigest="+opts.SuperDigest)
	}
	args := []string{"-cp", strings.Join(Jars, ":"), "-Xmx" + opts.Heap}
	for _, p := range append(props, opts.Properties...) {
		args = append(args, "-D"+p)
	}
	args = append(args, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)

	s := &Server{addr: addr, dir: dir, log: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command("java", args...)
	s.cmd.Dir, s.cmd.Stdout, s.cmd.Stderr = dir, logf, logf
	killWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting java: %w", err)
	}
	go func() {
		// Owned by s: reaps the process; Stop waits for done.
		s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitServing(ctx, opts.StartTimeout); err != nil {
		s.Stop()
		return s, fmt.Errorf("%w on %s: %v\nlog tail:\n%s", ErrNotServing, addr, err, s.LogTail(40))
	}
	return s, nil
}

// waitServing polls until srvr reports standalone mode (Apache listens
// before its database is loaded) and a session can be opened and closed.
func (s *Server) waitServing(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := errors.New("no attempt")
	for {
		if strings.Contains(FourLetter(s.addr, "srvr"), "Mode: standalone") {
			if last = probeSession(s.addr); last == nil {
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

// FourLetter sends a four-letter word to addr and returns the answer ("" if
// there is none within 2s).
func FourLetter(addr, word string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(word)); err != nil {
		return ""
	}
	b, _ := io.ReadAll(c)
	return string(b)
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
