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

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/proto"
)

// server is a ZooKeeper server process started by the test.
type server struct {
	name string
	addr string
	pid  int
	log  string // combined stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
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

// startApache starts Apache ZooKeeper 3.8 standalone on a free port, with
// the settings zooCfg gives zkgo.
func startApache(ctx context.Context, t *testing.T) *server {
	t.Helper()
	a := apachezk.Start(t, apachezk.Options{
		Config: []string{
			"maxClientCnxns=0",
			"4lw.commands.whitelist=*",
			"admin.enableServer=false",
			"forceSync=no",
		},
		Properties: []string{"org.slf4j.simpleLogger.defaultLogLevel=warn"},
	})
	return &server{name: "apache", addr: a.Addr(), pid: a.Pid()}
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
	addr, err := apachezk.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
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
	s.pid = cmd.Process.Pid
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
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
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
