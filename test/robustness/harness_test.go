package robustness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkgo/zkgo/internal/apachezk"
	"github.com/zkgo/zkgo/internal/zkgoproc"
	"github.com/zkgo/zkgo/proto"
)

func TestMain(m *testing.M) {
	code := m.Run()
	zkgoproc.RemoveBuild()
	os.Exit(code)
}

// server is a ZooKeeper server process started by the test.
type server struct {
	name string
	addr string
	pid  int
}

// sharedConfig is the standalone configuration both implementations run
// with, after tickTime (2s), dataDir, clientPort and clientPortAddress.
func sharedConfig() []string {
	return []string{
		"maxClientCnxns=0",
		"4lw.commands.whitelist=*",
		"admin.enableServer=false",
		"forceSync=no",
	}
}

// startApache starts Apache ZooKeeper 3.8 standalone on a free port, with
// sharedConfig.
func startApache(ctx context.Context, t *testing.T) *server {
	t.Helper()
	a := apachezk.Start(t, apachezk.Options{
		Config:     sharedConfig(),
		Properties: []string{"org.slf4j.simpleLogger.defaultLogLevel=warn"},
	})
	return &server{name: "apache", addr: a.Addr(), pid: a.Pid()}
}

// startZkgo builds cmd/zkserver and starts it standalone on a free port,
// with sharedConfig.
func startZkgo(ctx context.Context, t *testing.T) *server {
	t.Helper()
	z := zkgoproc.Start(t, zkgoproc.Options{TickTime: 2 * time.Second, Config: sharedConfig()})
	return &server{name: "zkgo", addr: z.Addr(), pid: z.Pid()}
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
