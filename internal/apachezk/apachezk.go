package apachezk

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

// Server is an Apache ZooKeeper process started by this package: Addr,
// Pid, Dir, Done, Stop, Kill and LogTail come from testproc.Process.
type Server struct {
	*testproc.Process
}

// skipJavaNoise drops Java stack frames and the noise of clients closing
// their sockets from log tails.
func skipJavaNoise(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(l), "at ") || strings.Contains(l, "EndOfStreamException") ||
		strings.HasSuffix(l, "Unexpected exception")
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
				tb.Logf("Apache ZooKeeper (%s) log tail:\n%s", s.Addr(), s.LogTail(40))
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
	return s.Addr(), func() { s.Stop(); os.RemoveAll(dir) }, nil
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
	addr, err := testproc.FreeAddr()
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

	p, err := testproc.Launch(ctx, testproc.Spec{
		Cmd:      exec.Command("java", args...),
		Addr:     addr,
		Dir:      dir,
		Log:      filepath.Join(dir, "server.log"),
		SkipLine: skipJavaNoise,
	}, opts.StartTimeout)
	if p == nil {
		return nil, err
	}
	if err != nil {
		return &Server{p}, fmt.Errorf("%w on %s: %w", ErrNotServing, addr, err)
	}
	return &Server{p}, nil
}
