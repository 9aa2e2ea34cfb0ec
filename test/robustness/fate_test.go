package robustness

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// sentinelXid marks the request sent after each case: its reply tells that
// the connection still serves requests.
const sentinelXid = 0x5e471e1

// fate is what a server made of a case: its replies before the sentinel's,
// as "xid:code:zxid" with zxid -1, 0 or + (positive), and whether it went on
// to answer the sentinel ("open") or not ("closed").
type fate string

// observe opens a session, sends frames, reads up to n replies, then sends
// the sentinel and returns the fate. The sentinel goes only after the
// replies because Apache closes a connection by queueing a close marker
// behind a reply: a request pipelined behind the bad one may be answered
// before the marker or not, depending on its threads.
func observe(addr string, frames []byte, n int) (fate, error) {
	c, err := dialSession(addr, 30000)
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(20 * time.Second))
	sentinel := proto.AppendRequest(nil, proto.RequestHeader{Xid: sentinelXid, Type: proto.OpExists}, &proto.ExistsRequest{Path: "/"})
	// A write error is an early close, which the reads below see.
	c.nc.Write(frames)
	if n == 0 {
		c.nc.Write(sentinel)
	}
	var out []string
	for {
		f, err := proto.ReadFrame(c.br, nil, 64<<20)
		if err != nil {
			if closedErr(err) {
				return fate(strings.Join(append(out, "closed"), " ")), nil
			}
			return "", err
		}
		d := proto.NewDecoder(f)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			return "", err
		}
		if h.Xid == proto.XidNotification {
			continue
		}
		if h.Xid == sentinelXid {
			state := "open"
			if h.Err != proto.OK {
				state = "sentinel:" + h.Err.Name()
			}
			return fate(strings.Join(append(out, state), " ")), nil
		}
		z := "+"
		if h.Zxid <= 0 {
			z = fmt.Sprint(h.Zxid)
		}
		out = append(out, fmt.Sprintf("%d:%s:%s", h.Xid, h.Err.Name(), z))
		if len(out) == n {
			c.nc.Write(sentinel)
		}
	}
}

// frames builds request frames.
type frames []byte

func (f frames) req(xid int32, op proto.OpCode, r proto.Record) frames {
	return proto.AppendRequest(f, proto.RequestHeader{Xid: xid, Type: op}, r)
}

// raw appends one frame with payload as is.
func (f frames) raw(payload ...[]byte) frames {
	var p []byte
	for _, b := range payload {
		p = append(p, b...)
	}
	return proto.AppendFrame(f, p)
}

// bytes appends bytes without framing.
func (f frames) bytes(b ...byte) frames { return append(f, b...) }

func i32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func hdr(xid int32, op proto.OpCode) []byte { return append(i32(xid), i32(int32(op))...) }

// TestMalformedPacketFateMatchesApache sends each malformed or unusual
// packet on a fresh session of Apache ZooKeeper 3.8 and of zkgo and
// compares what each answers and whether it keeps serving the connection.
// Where zkgo differs by design it is said why, and both sides are pinned.
func TestMalformedPacketFateMatchesApache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	apache := startApache(ctx, t)
	zkgo := startZkgo(ctx, t)

	open := proto.OpenACLUnsafe
	connect := proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true}
	var none frames
	cases := []struct {
		name   string
		frames frames
		want   fate
		// zkgo, when set, is zkgo's answer where it differs by design, and why.
		zkgo   fate
		why    string
		absent []string // paths neither server may create
	}{
		// Apache's UnimplementedRequestProcessor answers, then closes.
		{name: "unknown op", frames: none.raw(hdr(1, 999), []byte("/x")), want: "1:Unimplemented:-1 closed"},
		{name: "notification op", frames: none.raw(hdr(1, proto.OpNotification)), want: "1:Unimplemented:-1 closed"},
		{name: "error op", frames: none.raw(hdr(1, proto.OpError)), want: "1:Unimplemented:-1 closed"},
		// Read as a header: xid = protocolVersion, type = lastZxidSeen>>32.
		{name: "second connect request", frames: none.raw(proto.Encode(&connect)), want: "0:Unimplemented:-1 closed"},
		// ZooKeeperServer.processPacket: AuthFailed, then close, reading no more.
		{name: "auth with unknown scheme", frames: none.
			req(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: "nope", Auth: []byte("x")}).
			req(1, proto.OpCreate, &proto.CreateRequest{Path: "/after-authfail", ACL: open}),
			want: "-4:AuthFailed:0 closed", absent: []string{"/after-authfail"}},
		{name: "frame longer than jute.maxbuffer", frames: none.bytes(i32(proto.DefaultMaxBuffer + 1)...), want: "closed"},
		{name: "negative frame length", frames: none.bytes(0xff, 0xff, 0xff, 0xfe), want: "closed"},
		{name: "frame too short for a header", frames: none.raw(i32(1)), want: "closed"},
		{name: "empty frame", frames: none.raw(), want: "closed"},
		{name: "reconfig", frames: none.req(1, proto.OpReconfig, &proto.ReconfigRequest{CurConfigID: -1}), want: "1:Reconfig is disabled:+ open"},
		{name: "create with a relative path", frames: none.req(1, proto.OpCreate, &proto.CreateRequest{Path: "rel", ACL: open}), want: "1:BadArguments:+ open"},
		{name: "getData with trailing bytes", frames: none.raw(hdr(1, proto.OpGetData), i32(1), []byte("/"), []byte{0, 9, 9, 9}), want: "1:OK:+ open"},
		{name: "getData with xid -2", frames: none.req(proto.XidPing, proto.OpGetData, &proto.GetDataRequest{Path: "/"}), want: "-2:OK:+ open"},
		{name: "setWatches", frames: none.req(proto.XidSetWatches, proto.OpSetWatches, &proto.SetWatches{
			DataWatches: []string{"/"}, ExistWatches: []string{}, ChildWatches: []string{}}), want: "-8:OK:+ open"},
		{name: "addWatch with unknown mode", frames: none.req(1, proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: 9}), want: "1:MarshallingError:+ open"},

		// Records that do not decode: Apache answers MarshallingError and
		// keeps the connection; zkgo closes it (a malformed packet closes
		// its connection, TESTING.md).
		{name: "create with path past the end", frames: none.raw(hdr(1, proto.OpCreate), i32(100), []byte("/trunc")),
			want: "1:MarshallingError:+ open", zkgo: "closed", why: "malformed record", absent: []string{"/trunc"}},
		{name: "getData with string length -2", frames: none.raw(hdr(1, proto.OpGetData), i32(-2), []byte{0}),
			want: "1:MarshallingError:+ open", zkgo: "closed", why: "malformed record"},
		{name: "ACL count beyond the frame", frames: none.raw(hdr(1, proto.OpSetACL), i32(1), []byte("/"), i32(math.MaxInt32), i32(0)),
			want: "1:MarshallingError:+ open", zkgo: "closed", why: "malformed record"},
		{name: "multi with a read op", frames: none.req(1, proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Req: &proto.CreateRequest{Path: "/mixed", ACL: open}},
			{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/"}}}}),
			want: "1:MarshallingError:+ open", zkgo: "closed", why: "malformed record", absent: []string{"/mixed"}},
		{name: "multiRead with a write op", frames: none.req(1, proto.OpMultiRead, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Req: &proto.CreateRequest{Path: "/mixed", ACL: open}}}}),
			want: "1:MarshallingError:+ open", zkgo: "closed", why: "malformed record", absent: []string{"/mixed"}},
		// Apache without SASL configured answers an empty token.
		{name: "sasl", frames: none.req(1, proto.OpSASL, &proto.GetSASLRequest{Token: []byte("t")}),
			want: "1:OK:0 open", zkgo: "1:AuthFailed:0 closed", why: "zkgo has no SASL and says so"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]fate
			var errs [2]error
			var wg sync.WaitGroup
			for i, s := range []*server{apache, zkgo} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[i], errs[i] = observe(s.addr, tc.frames, strings.Count(string(tc.want), ":")/2)
				}()
			}
			wg.Wait()
			for i, name := range []string{"apache", "zkgo"} {
				if errs[i] != nil {
					t.Fatalf("%s: %v", name, errs[i])
				}
			}
			wantZkgo := tc.want
			if tc.zkgo != "" {
				wantZkgo = tc.zkgo
			}
			// Apache queues its close behind its reply from another thread
			// than the one that writes; on a loaded machine the sentinel can
			// now and then be answered first. The model holds if Apache shows
			// it in one of a few tries.
			for try := 1; got[0] != tc.want && try < 4; try++ {
				t.Logf("Apache: %q, expected %q: observing again (%d)", got[0], tc.want, try)
				if got[0], errs[0] = observe(apache.addr, tc.frames, strings.Count(string(tc.want), ":")/2); errs[0] != nil {
					t.Fatalf("apache: %v", errs[0])
				}
			}
			if got[0] != tc.want {
				t.Errorf("Apache: %q, expected %q (the test's model of Apache is wrong)", got[0], tc.want)
			}
			if got[1] != wantZkgo {
				t.Errorf("zkgo: %q, want %q (Apache: %q)", got[1], wantZkgo, got[0])
			}
			for _, p := range tc.absent {
				for _, s := range []*server{apache, zkgo} {
					if ok, err := exists(s.addr, p); err != nil || ok {
						t.Errorf("%s: %s exists=%v %v", s.name, p, ok, err)
					}
				}
			}
		})
	}

	// Writes pipelined after closeSession must fail, and the connection
	// end. (Apache answers any later request SessionExpired, or closes
	// before answering; zkgo answers writes so but still executes reads
	// until the connection closes.)
	t.Run("requests after closeSession", func(t *testing.T) {
		f := none.req(1, proto.OpCreate, &proto.CreateRequest{Path: "/eph", ACL: open, Flags: proto.ModeEphemeral}).
			req(2, proto.OpCloseSession, nil).
			req(3, proto.OpCreate, &proto.CreateRequest{Path: "/after-close", ACL: open}).
			req(4, proto.OpSetData, &proto.SetDataRequest{Path: "/", Version: -1})
		for _, s := range []*server{apache, zkgo} {
			got, err := replyUntilClosed(s.addr, f)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if len(got) < 2 || got[0] != "1:OK" || got[1] != "2:OK" {
				t.Errorf("%s: %q, want create and closeSession answered OK", s.name, got)
			}
			for _, r := range got[min(2, len(got)):] {
				if r != "3:Session expired" && r != "4:Session expired" {
					t.Errorf("%s: %q, a write after closeSession must fail with SessionExpired", s.name, got)
				}
			}
			for _, p := range []string{"/eph", "/after-close"} {
				if ok, err := exists(s.addr, p); err != nil || ok {
					t.Errorf("%s: %s exists=%v %v", s.name, p, ok, err)
				}
			}
		}
	})
}

// replyUntilClosed sends frames on a new session and returns the replies,
// as "xid:code", until the server closes the connection.
func replyUntilClosed(addr string, frames []byte) ([]string, error) {
	c, err := dialSession(addr, 30000)
	if err != nil {
		return nil, err
	}
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(20 * time.Second))
	c.nc.Write(frames)
	var out []string
	for {
		f, err := proto.ReadFrame(c.br, nil, 0)
		if closedErr(err) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var h proto.ReplyHeader
		if err := h.Decode(proto.NewDecoder(f)); err != nil {
			return out, err
		}
		if h.Xid != proto.XidNotification {
			out = append(out, fmt.Sprintf("%d:%s", h.Xid, h.Err.Name()))
		}
	}
}

// exists asks addr, on a session of its own, whether path exists.
func exists(addr, path string) (bool, error) {
	c, err := dialSession(addr, 10000)
	if err != nil {
		return false, err
	}
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: 1, Type: proto.OpExists}, &proto.ExistsRequest{Path: path})); err != nil {
		return false, err
	}
	for {
		f, err := proto.ReadFrame(c.br, nil, 0)
		if err != nil {
			return false, err
		}
		var h proto.ReplyHeader
		if err := h.Decode(proto.NewDecoder(f)); err != nil {
			return false, err
		}
		if h.Xid != 1 {
			continue
		}
		switch h.Err {
		case proto.OK:
			return true, nil
		case proto.ErrNoNode:
			return false, nil
		}
		return false, h.Err
	}
}
