package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// fakeHandler answers one request of a connection and returns the reply
// frames to send now (none to hold the reply back).
type fakeHandler func(hdr proto.RequestHeader, body []byte) [][]byte

// startFake starts a minimal ZooKeeper server on 127.0.0.1 that answers the
// handshake with the given session timeout and every request through a
// handler made per connection. It stops when the test ends.
func startFake(t *testing.T, timeout time.Duration, newHandler func() fakeHandler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveFake(c, timeout, newHandler())
			}()
		}
	}()
	return ln.Addr().String()
}

func serveFake(c net.Conn, timeout time.Duration, h fakeHandler) {
	br := bufio.NewReader(c)
	if _, err := proto.ReadFrame(br, nil, 0); err != nil {
		return
	}
	resp := proto.ConnectResponse{TimeOut: int32(timeout / time.Millisecond), SessionID: 0x1234, Passwd: make([]byte, 16)}
	if _, err := c.Write(proto.AppendFrame(nil, proto.Encode(&resp))); err != nil {
		return
	}
	for {
		frame, err := proto.ReadFrame(br, nil, 0)
		if err != nil {
			return
		}
		var hdr proto.RequestHeader
		d := proto.NewDecoder(frame)
		if hdr.Decode(d) != nil {
			return
		}
		for _, out := range h(hdr, d.Rest()) {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		if hdr.Type == proto.OpCloseSession {
			return
		}
	}
}

// fakeReply is a reply frame: the code and, for OK, the record.
func fakeReply(xid int32, code proto.Code, rec proto.Record) []byte {
	if code != proto.OK {
		rec = nil
	}
	return proto.AppendReply(nil, proto.ReplyHeader{Xid: xid, Zxid: 1, Err: code}, rec)
}

// basicReply answers the requests every run makes (create, delete, ping,
// closeSession) successfully, and getData/setData/exists with the given
// codes.
func basicReply(hdr proto.RequestHeader, get, set proto.Code) []byte {
	switch hdr.Type {
	case proto.OpCreate:
		return fakeReply(hdr.Xid, proto.OK, &proto.CreateResponse{Path: "/x"})
	case proto.OpGetData:
		return fakeReply(hdr.Xid, get, &proto.GetDataResponse{Data: []byte("v")})
	case proto.OpSetData:
		return fakeReply(hdr.Xid, set, &proto.SetDataResponse{})
	case proto.OpExists:
		return fakeReply(hdr.Xid, proto.OK, &proto.ExistsResponse{})
	default: // delete, ping (xid -2), closeSession
		return fakeReply(hdr.Xid, proto.OK, nil)
	}
}

// runBenchJSON runs zkbench with args plus -json and decodes the result.
func runBenchJSON(t *testing.T, args ...string) benchResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, append(args, "-json"), &out, &errOut); code != 0 {
		t.Fatalf("zkbench %q: exit %d: %s", args, code, errOut.String())
	}
	var r benchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decode %q: %v", out.String(), err)
	}
	return r
}

func TestErrorRepliesCountAsErrorsByCode(t *testing.T) {
	addr := startFake(t, 30*time.Second, func() fakeHandler {
		return func(hdr proto.RequestHeader, _ []byte) [][]byte {
			return [][]byte{basicReply(hdr, proto.OK, proto.ErrBadVersion)}
		}
	})
	r := runBenchJSON(t, "-server", addr, "-workload", "mixed", "-duration", "300ms", "-warmup", "50ms",
		"-sessions", "2", "-outstanding", "4", "-keys", "10")
	get, set := r.ByOp["get"], r.ByOp["set"]
	if get.Ops == 0 || get.Errors != 0 {
		t.Errorf("get: %d ops, %d errors; want successes only", get.Ops, get.Errors)
	}
	if set.Ops != 0 || set.Errors == 0 || set.ErrorsByCode["BadVersion"] != set.Errors {
		t.Errorf("set: %d ops, %d errors %v; want BadVersion errors only", set.Ops, set.Errors, set.ErrorsByCode)
	}
	if r.Total.Ops != get.Ops || r.Total.Errors != set.Errors {
		t.Errorf("total %d ops %d errors, want %d and %d", r.Total.Ops, r.Total.Errors, get.Ops, set.Errors)
	}
	if set.LatencyUS != (latency{}) {
		t.Errorf("failed sets have latencies: %+v", set.LatencyUS)
	}
	// Roughly 10% sets: the mix is drawn at random, so only a loose check.
	if frac := float64(set.Errors) / float64(get.Ops+set.Errors); frac < 0.03 || frac > 0.2 {
		t.Errorf("set fraction %.3f, want about 0.1", frac)
	}
}

func TestReplyOutOfOrderFails(t *testing.T) {
	addr := startFake(t, 30*time.Second, func() fakeHandler {
		var held []byte
		return func(hdr proto.RequestHeader, _ []byte) [][]byte {
			r := basicReply(hdr, proto.OK, proto.OK)
			if hdr.Type != proto.OpGetData {
				return [][]byte{r}
			}
			if held == nil {
				held = r
				return nil
			}
			out := [][]byte{r, held} // swapped
			held = nil
			return out
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"-server", addr, "-sessions", "1", "-outstanding", "2", "-keys", "3",
		"-duration", "300ms", "-warmup", "0s"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "out of order") {
		t.Errorf("exit %d, stderr %q; want 1 and an out-of-order error", code, errOut.String())
	}
}

func TestPingsWhenServerIsSilent(t *testing.T) {
	// The server holds the first getData reply until it gets a ping: with
	// a 300ms session timeout the client must ping within 100ms or so, and
	// gives up only after 600ms of silence.
	var pings atomic.Int64
	addr := startFake(t, 300*time.Millisecond, func() fakeHandler {
		var held []byte
		first := true
		return func(hdr proto.RequestHeader, _ []byte) [][]byte {
			r := basicReply(hdr, proto.OK, proto.OK)
			switch {
			case hdr.Type == proto.OpGetData && first:
				first, held = false, r
				return nil
			case hdr.Type == proto.OpPing:
				pings.Add(1)
				out := [][]byte{r}
				if held != nil {
					out = [][]byte{held, r}
					held = nil
				}
				return out
			}
			return [][]byte{r}
		}
	})
	r := runBenchJSON(t, "-server", addr, "-sessions", "1", "-outstanding", "1", "-keys", "3",
		"-duration", "400ms", "-warmup", "0s")
	if pings.Load() == 0 {
		t.Error("no ping sent while the only request was outstanding")
	}
	if r.Total.Ops == 0 || r.Total.LatencyUS.Max < 50000 {
		t.Errorf("got %d ops, max latency %dµs; want the held reply (>=50ms) counted", r.Total.Ops, r.Total.LatencyUS.Max)
	}
}
