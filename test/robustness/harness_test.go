package robustness

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
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// javaJars are the Debian jars Apache ZooKeeper needs in standalone mode.
var javaJars = []string{
	"/usr/share/java/zookeeper.jar",
	"/usr/share/java/zookeeper-jute.jar",
	"/usr/share/java/slf4j-api.jar",
	"/usr/share/java/slf4j-simple.jar",
}

// requireJava skips the test, or fails it when ZKGO_INTEROP_REQUIRED=1
// (CI), if Java or the ZooKeeper jars are missing.
func requireJava(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java (Debian package openjdk-17-jre-headless)")
	}
	for _, j := range javaJars {
		if _, err := os.Stat(j); err != nil {
			missing = append(missing, j+" (Debian packages zookeeper, libzookeeper-java, libslf4j-java)")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the robustness test against Apache ZooKeeper needs " + strings.Join(missing, ", ")
	if os.Getenv("ZKGO_INTEROP_REQUIRED") == "1" {
		t.Fatal(msg + " and ZKGO_INTEROP_REQUIRED=1")
	}
	t.Skip(msg)
}

// server is a ZooKeeper server process started by the test.
type server struct {
	name string
	addr string
	log  string // combined stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// zooCfg is the standalone configuration both implementations run with.
func zooCfg(dataDir, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return strings.Join([]string{
		"tickTime=2000",
		"dataDir=" + dataDir,
		"clientPort=" + port,
		"clientPortAddress=" + host,
		"maxClientCnxns=0",
		"4lw.commands.whitelist=*",
		"admin.enableServer=false",
		"forceSync=no",
	}, "\n") + "\n"
}

// startApache starts Apache ZooKeeper 3.8 standalone on a free port.
func startApache(ctx context.Context, t *testing.T) *server {
	t.Helper()
	requireJava(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(zooCfg(filepath.Join(dir, "data"), addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("java", "-cp", strings.Join(javaJars, ":"), "-Xmx256m",
		"-Dzookeeper.4lw.commands.whitelist=*", "-Dzookeeper.admin.enableServer=false",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
	return launch(ctx, t, "apache", dir, addr, cmd)
}

// startZkgo builds cmd/zkserver and starts it standalone on a free port.
func startZkgo(ctx context.Context, t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "zkserver")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/zkgo/zkgo/cmd/zkserver")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/zkserver: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(zooCfg(filepath.Join(dir, "data"), addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	return launch(ctx, t, "zkgo", dir, addr, exec.Command(bin, "start-foreground", "--config", cfg))
}

// launch starts cmd, registers its cleanup and waits until it grants a
// session.
func launch(ctx context.Context, t *testing.T, name, dir, addr string, cmd *exec.Cmd) *server {
	t.Helper()
	s := &server{name: name, addr: addr, log: filepath.Join(dir, "server.log"), cmd: cmd, done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	killWithTest(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		// Reaps the process; stop waits for it.
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			if b, err := os.ReadFile(s.log); err == nil {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("%s log tail:\n%s", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
			}
		}
	})
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c, err := dialSession(addr, 10000)
		if err == nil {
			c.nc.Close()
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited before serving", name)
		case <-ctx.Done():
			t.Fatalf("%s did not grant a session on %s: %v", name, addr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends the process the test started, by PID.
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

// rssKB returns the resident set size of the process, from /proc.
func (s *server) rssKB() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// rawConn is a session spoken to byte by byte.
type rawConn struct {
	nc net.Conn
	br *bufio.Reader
	id int64
}

// dialSession opens a session asking for timeoutMs.
func dialSession(addr string, timeoutMs int32) (*rawConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := proto.ConnectRequest{TimeOut: timeoutMs, Passwd: make([]byte, 16), HasReadOnly: true}
	if _, err := nc.Write(proto.AppendFrame(nil, proto.Encode(&req))); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	f, err := proto.ReadFrame(br, nil, 0)
	if err != nil {
		nc.Close()
		return nil, err
	}
	var resp proto.ConnectResponse
	if err := proto.Decode(f, &resp); err != nil || resp.SessionID == 0 {
		nc.Close()
		return nil, fmt.Errorf("connect response %+v: %v", resp, err)
	}
	nc.SetDeadline(time.Time{})
	return &rawConn{nc: nc, br: br, id: resp.SessionID}, nil
}

// closedErr reports whether err means the peer closed the connection.
func closedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
