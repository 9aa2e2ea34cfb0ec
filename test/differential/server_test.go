package differential

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/proto"
)

// reapIntervalMs is znode.container.checkIntervalMs for both servers. It is
// shorter than the 1000 ms other harnesses use because the test waits for
// every container and TTL reap it provokes before sending the next op.
const reapIntervalMs = 200

// superDigest makes "digest super:test" a superuser on both servers.
const superDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="

// server is a ZooKeeper server process started by the test.
type server struct {
	name string
	addr string
	dir  string
	log  string // path of the combined stdout/stderr log
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// requireJava skips (or, in CI, fails) the test when Java or the ZooKeeper
// jars are missing.
func requireJava(t *testing.T) {
	t.Helper()
	apachezk.Require(t)
}

// zooCfg renders a standalone zoo.cfg shared by both implementations.
func zooCfg(dataDir, addr string, extra ...string) string {
	host, port, _ := net.SplitHostPort(addr)
	lines := []string{
		"tickTime=2000",
		"dataDir=" + dataDir,
		"clientPort=" + port,
		"clientPortAddress=" + host,
		"maxClientCnxns=0",
		"4lw.commands.whitelist=*",
		"extendedTypesEnabled=true",
		fmt.Sprintf("znode.container.checkIntervalMs=%d", reapIntervalMs),
		"DigestAuthenticationProvider.superDigest=" + superDigest,
	}
	return strings.Join(append(lines, extra...), "\n") + "\n"
}

// startApache starts Apache ZooKeeper standalone on a free port, with the
// settings zooCfg gives zkgo.
func startApache(ctx context.Context, t *testing.T, name string) *server {
	t.Helper()
	a := apachezk.Start(t, apachezk.Options{
		// forceSync=no: the test is about semantics, and fsync per write
		// would dominate its runtime.
		Config: []string{
			"maxClientCnxns=0",
			"4lw.commands.whitelist=*",
			"extendedTypesEnabled=true",
			fmt.Sprintf("znode.container.checkIntervalMs=%d", reapIntervalMs),
			"DigestAuthenticationProvider.superDigest=" + superDigest,
			"forceSync=no",
		},
		SuperDigest: superDigest,
		Heap:        "512m",
		Properties: []string{
			"zookeeper.extendedTypesEnabled=true",
			fmt.Sprintf("znode.container.checkIntervalMs=%d", reapIntervalMs),
			"org.slf4j.simpleLogger.defaultLogLevel=warn",
		},
	})
	return &server{name: name, addr: a.Addr(), dir: a.Dir()}
}

// startZkgo builds cmd/zkserver and starts it standalone on a free port.
func startZkgo(ctx context.Context, t *testing.T, name string) *server {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "zkserver")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/zkgo/zkgo/cmd/zkserver")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building zkgo's cmd/zkserver (B=zkgo; set ZKGO_DIFF_B=apache to test the harness alone): %v\n%s", err, out)
	}
	addr, err := apachezk.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(zooCfg(filepath.Join(dir, "data"), addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	return launch(ctx, t, name, dir, addr, exec.Command(bin, "start-foreground", "--config", cfgPath))
}

// launch starts cmd, registers its cleanup, and waits until the server
// accepts a session.
func launch(ctx context.Context, t *testing.T, name, dir, addr string, cmd *exec.Cmd) *server {
	t.Helper()
	s := &server{name: name, addr: addr, dir: dir, log: filepath.Join(dir, "server.log"), cmd: cmd, done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir = dir
	killWithTest(cmd)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("%s: start %s: %v", name, cmd.Path, err)
	}
	go func() {
		// Owned by the server: reaps the process; stop() waits for it.
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop()
		if tail := s.logTail(40); t.Failed() && tail != "" {
			t.Logf("%s (%s) log tail:\n%s", name, addr, tail)
		}
	})
	if err := s.waitServing(ctx, 60*time.Second); err != nil {
		t.Fatalf("%s did not start serving on %s: %v\nlog tail:\n%s", name, addr, err, s.logTail(40))
	}
	return s
}

// stop terminates the process started by the test, by PID.
func (s *server) stop() {
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
}

// waitServing polls until a session can be opened and closed.
func (s *server) waitServing(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-s.done:
			return errors.New("process exited")
		default:
		}
		if last = probe(ctx, s.addr); last == nil {
			return nil
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

// probe opens a session and closes it.
func probe(ctx context.Context, addr string) error {
	c, resp, err := dial(ctx, addr, &proto.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), HasReadOnly: true}, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.close()
	if resp.SessionID == 0 {
		return errors.New("no session granted")
	}
	r, _, err := c.call(c.nextXid(), proto.OpCloseSession, nil)
	if err != nil {
		return err
	}
	if r.hdr.Err != proto.OK {
		return fmt.Errorf("closeSession: %w", r.hdr.Err)
	}
	return nil
}

// logTail returns the last n lines of the server's log.
func (s *server) logTail(n int) string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		// Skip stack frames and the noise of clients closing their sockets.
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
