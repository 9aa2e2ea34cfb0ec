package robustness

import (
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// TestUnreadRepliesDoNotGrowServer floods a zkserver process with 10,000
// getData requests of a 16 KB node from a client that reads nothing for a
// while: the 160 MB of replies must not pile up in the server (its resident
// size may grow by far less), another client must be served meanwhile, and
// the flooding client must then get every reply, in order.
func TestUnreadRepliesDoNotGrowServer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the server's resident size from /proc")
	}
	const (
		n     = 10000
		size  = 16 << 10
		limit = 64 << 10 // kB of growth allowed, well below n*size
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := startZkgo(ctx, t)

	setup, err := dialSession(s.addr, 30000)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.nc.Close()
	setup.nc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := setup.nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: 1, Type: proto.OpCreate},
		&proto.CreateRequest{Path: "/big", Data: make([]byte, size), ACL: proto.OpenACLUnsafe})); err != nil {
		t.Fatal(err)
	}
	if f, err := proto.ReadFrame(setup.br, nil, 0); err != nil {
		t.Fatal(err)
	} else if h := decodeHeader(t, f); h.Xid != 1 || h.Err != proto.OK {
		t.Fatalf("create /big: %v", h.Err)
	}
	base, err := s.rssKB()
	if err != nil {
		t.Fatal(err)
	}

	flood, err := dialSession(s.addr, 60000)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.nc.Close()
	var reqs []byte
	for i := int32(1); i <= n; i++ {
		reqs = proto.AppendRequest(reqs, proto.RequestHeader{Xid: i, Type: proto.OpGetData}, &proto.GetDataRequest{Path: "/big"})
	}
	wrote := make(chan error, 1)
	go func() {
		// Blocks while the server reads no more; ends at the latest when
		// the deferred Close closes the connection.
		_, err := flood.nc.Write(reqs)
		wrote <- err
	}()

	// Watch the server until it has stopped reading the flood: the count of
	// requests it read from the connection (cons) stays put for a second
	// while the resident size stays within the limit. However slow the
	// machine, a server that buffers replies without bound keeps reading
	// until it passes the limit or has read every request.
	local := flood.nc.LocalAddr().String()
	peak := base
	last, since := -1, time.Now()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rss, err := s.rssKB()
		if err != nil {
			t.Fatal(err)
		}
		peak = max(peak, rss)
		if peak-base > limit {
			flood.nc.Close()
			t.Fatalf("server grew by %d kB for a client that reads nothing (limit %d kB)", peak-base, limit)
		}
		recv, err := received(s.addr, local)
		if err != nil {
			t.Fatal(err)
		}
		if recv == n {
			flood.nc.Close()
			t.Fatalf("server read all %d requests of a client that reads none of the %d MB of replies", n, n*size>>20)
		}
		if recv != last {
			last, since = recv, time.Now()
		} else if recv > 0 && time.Since(since) >= time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still reading the flood after 2 minutes (%d requests read)", recv)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("server stopped reading after %d of %d requests", last, n)
	// Another client is served meanwhile.
	if ok, err := exists(s.addr, "/big"); err != nil || !ok {
		t.Fatalf("another client: exists /big = %v, %v", ok, err)
	}

	flood.nc.SetDeadline(time.Now().Add(2 * time.Minute))
	for i := int32(1); i <= n; i++ {
		f, err := proto.ReadFrame(flood.br, nil, 1<<20)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if h := decodeHeader(t, f); h.Xid != i || h.Err != proto.OK || len(f) < size {
			t.Fatalf("reply %d: %+v, %d bytes", i, h, len(f))
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	t.Logf("resident size %d kB before the flood, peak %d kB", base, peak)
}

func decodeHeader(t *testing.T, f []byte) proto.ReplyHeader {
	t.Helper()
	var h proto.ReplyHeader
	if err := h.Decode(proto.NewDecoder(f)); err != nil {
		t.Fatalf("reply header %x: %v", f, err)
	}
	return h
}

// received returns how many requests the server at addr has read from the
// connection whose client end is local, as its cons answer says.
func received(addr, local string) (int, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write([]byte("cons")); err != nil {
		return 0, err
	}
	out, err := io.ReadAll(nc)
	if err != nil {
		return 0, err
	}
	re := regexp.MustCompile(`/` + regexp.QuoteMeta(local) + `\[\d+\]\(queued=\d+,recved=(\d+),`)
	m := re.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("cons does not list %s:\n%s", local, out)
	}
	return strconv.Atoi(string(m[1]))
}
