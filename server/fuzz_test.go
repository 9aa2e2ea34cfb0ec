package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/config"
	"github.com/zkgo/zkgo/proto"
)

// The fuzz targets write arbitrary bytes on a client connection of a
// running server (see robust_test.go for the harness) and check the replies,
// that the connection ends in time, and the server's bookkeeping after it.
//
// The seed corpus in testdata/fuzz is generated from rbConnectionSeeds and
// rbWordSeeds; TestFuzzSeedCorpusCurrent fails when it is out of date and
// rewrites it with -update-fuzz-seeds.

var rbUpdateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the generated seed corpus in testdata/fuzz")

// --- what a fuzz input means ---

// An input of FuzzServerConnection is a mode byte and the bytes to send.
// The low three bits of the mode choose what precedes them (see also
// rbHangUp and rbFramed):
const (
	rbRaw         = 0 // nothing: the bytes start the connection (6 and 7 too)
	rbConnect     = 1 // a connect request for a new session, 45 bytes
	rbConnect44   = 2 // the same without the readOnly byte (pre-3.4 clients)
	rbConnectRO   = 3 // a new session from a client that accepts read-only
	rbResumeBogus = 4 // resuming a session that does not exist
	rbFromFuture  = 5 // a client that has seen a later zxid than the server
)

// rbHangUp (bit 3 of the mode) closes the socket right after writing instead
// of reading the answers, so requests are still in flight when the
// connection ends.
const rbHangUp = 0x08

// rbFramed (bit 4 of the mode) makes the harness frame the requests, so
// that mutations reach the record decoders and the tree instead of breaking
// the framing: the bytes after the mode are chunks of [op selector, body
// length, body], each sent as a whole request frame (see rbFrame).
const rbFramed = 0x10

// rbOps are the op codes a framed chunk can select: every op clients send,
// and a few no server knows.
var rbOps = []proto.OpCode{
	proto.OpCreate, proto.OpDelete, proto.OpExists, proto.OpGetData, proto.OpSetData,
	proto.OpGetACL, proto.OpSetACL, proto.OpGetChildren, proto.OpSync, proto.OpPing,
	proto.OpGetChildren2, proto.OpCheck, proto.OpMulti, proto.OpCreate2, proto.OpReconfig,
	proto.OpCheckWatches, proto.OpRemoveWatches, proto.OpCreateContainer, proto.OpCreateTTL,
	proto.OpMultiRead, proto.OpAuth, proto.OpSetWatches, proto.OpSASL, proto.OpGetEphemerals,
	proto.OpGetAllChildrenNumber, proto.OpSetWatches2, proto.OpAddWatch, proto.OpWhoAmI,
	proto.OpCloseSession, proto.OpNotification, proto.OpDeleteContainer, proto.OpCreateSession, 999,
}

// rbFrame turns framed chunks into request frames with xids 1, 2, ...; a
// chunk cut short by the end of the input is sent with what remains.
func rbFrame(chunks []byte) []byte {
	var s rbStream
	for len(chunks) >= 2 {
		op := rbOps[int(chunks[0])%len(rbOps)]
		n := min(int(chunks[1]), len(chunks)-2)
		s.reqBody(op, chunks[2:2+n]...)
		chunks = chunks[2+n:]
	}
	return s.b
}

// rbChunk is the framed-mode encoding of one request body.
func rbChunk(op proto.OpCode, r proto.Record) []byte {
	var body []byte
	if r != nil {
		body = proto.Encode(r)
	}
	if len(body) > 255 {
		panic("rbChunk: body too long")
	}
	return append([]byte{byte(slices.Index(rbOps, op)), byte(len(body))}, body...)
}

// rbSessionTimeout is what fuzzed sessions ask for (raised to the minimum).
const rbSessionTimeout = 1

// rbPrefix returns the bytes the mode puts before the input.
func rbPrefix(mode byte) []byte {
	req := proto.ConnectRequest{TimeOut: rbSessionTimeout, Passwd: make([]byte, 16), HasReadOnly: true}
	switch mode & 7 {
	case rbConnect:
	case rbConnect44:
		req.HasReadOnly = false
	case rbConnectRO:
		req.ReadOnly = true
	case rbResumeBogus:
		req.SessionID = 0x0123456789abcdef
		req.Passwd = []byte("not the password")
	case rbFromFuture:
		req.LastZxidSeen = math.MaxInt64
	default:
		return nil
	}
	return proto.AppendFrame(nil, proto.Encode(&req))
}

// rbReq is a request frame as the server will read it.
type rbReq struct {
	xid int32
	op  proto.OpCode
}

// rbPlan is what the server will make of a byte stream: a four-letter word,
// or a connect frame and then request frames up to the first one whose
// length or header it must refuse.
type rbPlan struct {
	word    bool
	connect []byte // payload of the connect frame, nil if incomplete or refused
	reqs    []rbReq
	// whole is true when the stream ends right after the last request frame,
	// so a further request would be read as a request of its own.
	whole bool
}

func rbParse(stream []byte, maxBuffer int) rbPlan {
	var p rbPlan
	if len(stream) >= 4 {
		if _, ok := fourLetterName(string(stream[:4])); ok {
			p.word = true
			return p
		}
	}
	r := bytes.NewReader(stream)
	f, err := proto.ReadFrame(r, nil, maxBuffer)
	if err != nil {
		return p
	}
	p.connect = f
	for {
		f, err := proto.ReadFrame(r, nil, maxBuffer)
		if errors.Is(err, io.EOF) {
			p.whole = true
			return p
		}
		if err != nil {
			return p
		}
		var h proto.RequestHeader
		if h.Decode(proto.NewDecoder(f)) != nil {
			return p
		}
		p.reqs = append(p.reqs, rbReq{h.Xid, h.Type})
	}
}

// frame must be well formed; replies must answer the requests sent, in
// order, each with the body its op and error code call for.
func (r *rbServer) exchange(tb testing.TB, input []byte) {
	tb.Helper()
	if len(input) == 0 {
		return
	}
	mode := input[0]
	rest := input[1:]
	if mode&rbFramed != 0 {
		rest = rbFrame(rest)
	}
	stream := append(rbPrefix(mode), rest...)
	nc, err := net.DialTimeout("tcp", r.addr, rbTimeout)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(rbTimeout))
	// Write errors are expected: the server may close before reading all.
	nc.Write(stream)
	if mode&rbHangUp != 0 {
		return
	}
	plan := rbParse(stream, r.srv.opts.maxBuffer)
	br := bufio.NewReaderSize(nc, 64<<10)
	if plan.word || plan.connect == nil {
		nc.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, br); err != nil && !rbClosed(err) {
			tb.Fatalf("no answer or close within %v: %v", rbTimeout, err)
		}
		return
	}
	// The server ignores bytes after the optional readOnly byte.
	var creq proto.ConnectRequest
	connectOK := creq.Decode(proto.NewDecoder(plan.connect)) == nil

	// The connect response, if the server accepted the request.
	frame, err := proto.ReadFrame(br, nil, 64<<20)
	if err != nil {
		if rbClosed(err) {
			return // refused or malformed handshake: closed without a word
		}
		tb.Fatalf("handshake: no answer or close within %v: %v", rbTimeout, err)
	}
	if !connectOK {
		tb.Fatalf("server answered a connect request it cannot have decoded: %x", plan.connect)
	}
	var cresp proto.ConnectResponse
	if err := proto.Decode(frame, &cresp); err != nil {
		tb.Fatalf("malformed connect response %x: %v", frame, err)
	}
	if cresp.HasReadOnly != creq.HasReadOnly {
		tb.Errorf("connect response readOnly byte present=%v, request's=%v", cresp.HasReadOnly, creq.HasReadOnly)
	}
	if cresp.SessionID == 0 {
		// Expired or unknown session: nothing may follow.
		if rest, err := io.ReadAll(br); len(rest) > 0 || (err != nil && !rbClosed(err)) {
			tb.Fatalf("after an expired-session answer: %d more bytes, %v", len(rest), err)
		}
		return
	}
	lo, hi := r.srv.opts.minSessionTimeout, r.srv.opts.maxSessionTimeout
	if cresp.TimeOut < lo || cresp.TimeOut > hi {
		tb.Errorf("negotiated timeout %d outside [%d, %d]", cresp.TimeOut, lo, hi)
	}
	expect := plan.reqs
	if plan.whole {
		nc.Write(proto.AppendRequest(nil, proto.RequestHeader{Xid: rbSentinelXid, Type: proto.OpExists}, &proto.ExistsRequest{Path: "/"}))
		expect = append(slices.Clip(expect), rbReq{rbSentinelXid, proto.OpExists})
	} else {
		nc.(*net.TCPConn).CloseWrite()
	}
	answered := 0
	for {
		frame, err := proto.ReadFrame(br, nil, 64<<20)
		if err != nil {
			if rbClosed(err) {
				return
			}
			tb.Fatalf("after %d of %d replies: no answer or close within %v: %v", answered, len(expect), rbTimeout, err)
		}
		d := proto.NewDecoder(frame)
		var h proto.ReplyHeader
		if err := h.Decode(d); err != nil {
			tb.Fatalf("malformed reply header %x: %v", frame, err)
		}
		body := d.Rest()
		if h.Xid == proto.XidNotification && h.Zxid == -1 && h.Err == proto.OK {
			var ev proto.WatcherEvent
			if err := proto.Decode(body, &ev); err != nil {
				tb.Fatalf("malformed notification %x: %v", body, err)
			}
			continue
		}
		if answered == len(expect) {
			tb.Fatalf("reply %+v to no request (all %d answered)", h, len(expect))
		}
		want := expect[answered]
		answered++
		if h.Xid != want.xid {
			tb.Fatalf("reply %d has xid %d, request %d had %d (%v)", answered, h.Xid, answered, want.xid, want.op)
		}
		rbCheckBody(tb, want.op, h, body)
		if answered == len(expect) && plan.whole {
			// Everything answered: hang up and expect the server to close.
			nc.(*net.TCPConn).CloseWrite()
		}
	}
}

// rbCheckBody checks a reply's body against its request's op: empty for
// errors and header-only ops, else exactly the op's response record.
func rbCheckBody(tb testing.TB, op proto.OpCode, h proto.ReplyHeader, body []byte) {
	tb.Helper()
	if h.Err != proto.OK {
		if len(body) != 0 {
			tb.Fatalf("%v error reply %v carries %d body bytes", op, h.Err, len(body))
		}
		return
	}
	resp := proto.NewResponse(op)
	if op == proto.OpNotification || resp == nil {
		if len(body) != 0 {
			tb.Fatalf("%v reply carries %d unexpected body bytes", op, len(body))
		}
		return
	}
	if err := proto.Decode(body, resp); err != nil {
		tb.Fatalf("%v reply body %x: %v", op, body, err)
	}
}

// --- fuzz targets ---

// FuzzServerConnection writes each input on a fresh connection of one
// server per fuzzing process (see rbPrefix for what the first byte means)
// and checks that the connection is answered or closed in time with well
// formed replies in request order, that the server's bookkeeping stays
// consistent once it closes, and that another client is still served.
func FuzzServerConnection(f *testing.F) {
	r := startRB(f, nil)
	f.Fuzz(func(t *testing.T, input []byte) {
		r.exchange(t, input)
		r.checkState(t, 1)
		r.probe(t)
	})
}

// FuzzFourLetter sends a four-letter word chosen by word (any other value
// takes the first four bytes of tail) followed by tail, and checks the
// answer of the words whose answer it knows, stmk's effect on gtmk, and that
// the connection closes in time.
func FuzzFourLetter(f *testing.F) {
	r := startRB(f, nil)
	words := append(config.FourLetterWords(), telnetClose)
	f.Fuzz(func(t *testing.T, word uint8, tail []byte) {
		var w string
		if int(word) < len(words) {
			w = words[word]
		} else if len(tail) >= 4 {
			w, tail = string(tail[:4]), tail[4:]
		} else {
			return
		}
		out, err := rbAsk(r.addr, w, tail)
		if err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		if _, known := fourLetterName(w); known {
			rbCheckWord(t, r, w, tail, out)
		}
		r.checkState(t, 1)
		r.probe(t)
	})
}

// rbAsk writes word and tail, half-closes, and reads the answer to the end.
func rbAsk(addr, word string, tail []byte) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, rbTimeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(rbTimeout))
	nc.Write(append([]byte(word), tail...))
	nc.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(nc)
	if err != nil && !rbClosed(err) {
		return string(out), fmt.Errorf("no answer or close within %v: %w", rbTimeout, err)
	}
	return string(out), nil
}

func rbCheckWord(tb testing.TB, r *rbServer, word string, tail []byte, out string) {
	tb.Helper()
	switch word {
	case "ruok":
		if out != "imok" {
			tb.Fatalf("ruok: %q", out)
		}
	case "isro":
		if out != "rw" {
			tb.Fatalf("isro: %q", out)
		}
	case "gtmk":
		if _, err := strconv.ParseInt(out, 10, 64); err != nil {
			tb.Fatalf("gtmk: %q", out)
		}
	case "stmk":
		if len(tail) < 8 {
			// Apache fails reading the mask and closes without an answer.
			if out != "" {
				tb.Fatalf("stmk with %d mask bytes answered %q", len(tail), out)
			}
			return
		}
		mask := strconv.FormatInt(int64(binary.BigEndian.Uint64(tail)), 10)
		if out != mask {
			tb.Fatalf("stmk %x: %q, want %q", tail[:8], out, mask)
		}
		if got, err := rbAsk(r.addr, "gtmk", nil); err != nil || got != mask {
			tb.Fatalf("gtmk after stmk %s: %q %v", mask, got, err)
		}
	case telnetClose, "hash":
		// telnet close answers nothing; hash lists nothing this early.
	default:
		if out == "" {
			tb.Fatalf("%s: empty answer", word)
		}
	}
}

// --- seed corpus ---

type rbSeed struct {
	name string
	vals []any
}

// rbConnectionSeeds are valid sessions doing every op, and the malformed
// inputs that matter most: bad lengths, truncated frames and records, bogus
// op codes, odd xids and handshakes.
func rbConnectionSeeds() []rbSeed {
	open := proto.OpenACLUnsafe
	create := func(path string, flags proto.CreateMode) *proto.CreateRequest {
		return &proto.CreateRequest{Path: path, Data: []byte("d"), ACL: open, Flags: flags}
	}
	var seeds []rbSeed
	add := func(name string, input []byte) { seeds = append(seeds, rbSeed{name, []any{input}}) }
	s := func() *rbStream { return &rbStream{} }

	// Valid sessions.
	add("session_empty", s().input(rbConnect))
	add("session_empty_44", s().input(rbConnect44))
	add("session_readonly", s().input(rbConnectRO))
	add("session_resume_unknown", s().req(proto.OpExists, &proto.ExistsRequest{Path: "/"}).input(rbResumeBogus))
	add("session_future_zxid", s().req(proto.OpExists, &proto.ExistsRequest{Path: "/"}).input(rbFromFuture))
	add("session_crud", s().
		req(proto.OpCreate, create("/seed", 0)).
		req(proto.OpCreate2, create("/seed/c2", 0)).
		req(proto.OpCreate, create("/seed/s-", proto.ModePersistentSequential)).
		req(proto.OpCreate, create("/seed/e", proto.ModeEphemeral)).
		req(proto.OpCreate, create("/seed/es-", proto.ModeEphemeralSequential)).
		req(proto.OpCreateContainer, create("/seed/box", proto.ModeContainer)).
		req(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/seed/ttl", ACL: open, Flags: proto.ModePersistentWithTTL, TTL: 100}).
		req(proto.OpExists, &proto.ExistsRequest{Path: "/seed", Watch: true}).
		req(proto.OpGetData, &proto.GetDataRequest{Path: "/seed", Watch: true}).
		req(proto.OpSetData, &proto.SetDataRequest{Path: "/seed", Data: []byte("x"), Version: -1}).
		req(proto.OpGetACL, &proto.GetACLRequest{Path: "/seed"}).
		req(proto.OpSetACL, &proto.SetACLRequest{Path: "/seed/c2", ACL: open, Version: -1}).
		req(proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/seed", Watch: true}).
		req(proto.OpGetChildren2, &proto.GetChildren2Request{Path: "/seed"}).
		req(proto.OpSync, &proto.SyncRequest{Path: "/seed"}).
		req(proto.OpCheck, &proto.CheckVersionRequest{Path: "/seed", Version: -1}).
		req(proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"}).
		req(proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "/seed"}).
		req(proto.OpDelete, &proto.DeleteRequest{Path: "/seed/c2", Version: -1}).
		req(proto.OpWhoAmI, nil).
		reqXid(proto.XidPing, proto.OpPing, nil).
		input(rbConnect))
	add("session_multi", s().
		req(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Req: create("/seed-multi", 0)},
			{Type: proto.OpSetData, Req: &proto.SetDataRequest{Path: "/seed-multi", Data: []byte("y"), Version: 0}},
			{Type: proto.OpCheck, Req: &proto.CheckVersionRequest{Path: "/seed-multi", Version: 1}},
			{Type: proto.OpCreateTTL, Req: &proto.CreateTTLRequest{Path: "/seed-multi/t", ACL: open, Flags: proto.ModePersistentWithTTL, TTL: 50}},
			{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: "/seed-multi/t", Version: -1}},
		}}).
		req(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Req: create("/seed-multi", 0)}, // fails: exists
			{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: "/seed-multi", Version: -1}},
		}}).
		req(proto.OpMultiRead, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/seed-multi"}},
			{Type: proto.OpGetChildren, Req: &proto.GetChildrenRequest{Path: "/"}},
			{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/missing"}},
		}}).
		req(proto.OpMulti, &proto.MultiRequest{}).
		input(rbConnect))
	add("session_watches", s().
		req(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/seed-w", Mode: proto.AddWatchPersistent}).
		req(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: proto.AddWatchPersistentRecursive}).
		req(proto.OpCreate, create("/seed-w", proto.ModeEphemeral)).
		req(proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: "/seed-w", Type: proto.WatcherAny}).
		req(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/seed-w", Type: proto.WatcherPersistent}).
		req(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/seed-w", Type: 99}).
		reqXid(proto.XidSetWatches, proto.OpSetWatches, &proto.SetWatches{RelativeZxid: 1,
			DataWatches: []string{"/", "/gone"}, ExistWatches: []string{"/", "/gone"}, ChildWatches: []string{"/", "/gone"}}).
		reqXid(proto.XidSetWatches, proto.OpSetWatches2, &proto.SetWatches2{RelativeZxid: math.MaxInt64,
			DataWatches: []string{"/"}, ExistWatches: []string{}, ChildWatches: []string{"/zookeeper"},
			PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r"}}).
		req(proto.OpDelete, &proto.DeleteRequest{Path: "/seed-w", Version: -1}).
		input(rbConnect))
	add("session_auth", s().
		reqXid(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte("user:pw")}).
		reqXid(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: "ip", Auth: []byte("x")}).
		req(proto.OpCreate, &proto.CreateRequest{Path: "/seed-auth", ACL: proto.CreatorAllACL}).
		req(proto.OpWhoAmI, nil).
		req(proto.OpGetData, &proto.GetDataRequest{Path: "/seed-auth"}).
		input(rbConnect))
	add("session_auth_unknown_scheme", s().
		reqXid(proto.XidAuth, proto.OpAuth, &proto.AuthPacket{Scheme: "nope", Auth: []byte("x")}).
		req(proto.OpCreate, create("/seed-after-authfail", 0)).
		input(rbConnect))
	add("session_sasl", s().req(proto.OpSASL, &proto.GetSASLRequest{Token: []byte("tok")}).input(rbConnect))
	add("session_reconfig", s().req(proto.OpReconfig, &proto.ReconfigRequest{CurConfigID: -1}).input(rbConnect))
	add("session_close", s().
		req(proto.OpCreate, create("/seed-eph", proto.ModeEphemeral)).
		req(proto.OpCloseSession, nil).
		req(proto.OpCreate, create("/seed-after-close", 0)).
		req(proto.OpExists, &proto.ExistsRequest{Path: "/seed-eph", Watch: true}).
		input(rbConnect))
	add("hangup_pipelined_watches", s().
		req(proto.OpSetData, &proto.SetDataRequest{Path: "/", Version: -1}).
		req(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: proto.AddWatchPersistentRecursive}).
		req(proto.OpGetData, &proto.GetDataRequest{Path: "/", Watch: true}).
		input(rbConnect|rbHangUp))
	add("hangup_pending_writes", s().
		req(proto.OpCreate, create("/seed-hang", proto.ModeEphemeralSequential)).
		req(proto.OpCreate, create("/seed-hang", proto.ModeEphemeralSequential)).
		req(proto.OpCreate, create("/seed-hang", proto.ModeEphemeralSequential)).
		input(rbConnect|rbHangUp))

	// Framed chunks: valid bodies for the fuzzer to mutate in place.
	add("framed_ops", rbCat([]byte{rbConnect | rbFramed},
		rbChunk(proto.OpCreate, create("/framed", 0)),
		rbChunk(proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "/framed/t", ACL: open, Flags: proto.ModePersistentSequentialWithTTL, TTL: 20}),
		rbChunk(proto.OpCreate, create("/framed/e", proto.ModeEphemeral)),
		rbChunk(proto.OpSetData, &proto.SetDataRequest{Path: "/framed", Data: []byte("z"), Version: -1}),
		rbChunk(proto.OpGetChildren2, &proto.GetChildren2Request{Path: "/framed", Watch: true}),
		rbChunk(proto.OpSetACL, &proto.SetACLRequest{Path: "/framed", ACL: proto.CreatorAllACL, Version: -1}),
		rbChunk(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte("a:b")}),
		rbChunk(proto.OpSetACL, &proto.SetACLRequest{Path: "/framed", ACL: proto.CreatorAllACL, Version: -1}),
		rbChunk(proto.OpGetACL, &proto.GetACLRequest{Path: "/framed"}),
		rbChunk(proto.OpDelete, &proto.DeleteRequest{Path: "/framed/e", Version: -1}),
	))
	add("framed_multi", rbCat([]byte{rbConnect | rbFramed},
		rbChunk(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpCreate, Req: create("/fm", 0)},
			{Type: proto.OpCreateContainer, Req: create("/fm/c", proto.ModeContainer)},
			{Type: proto.OpCreate, Req: create("/fm/c/x", proto.ModeEphemeralSequential)},
			{Type: proto.OpCheck, Req: &proto.CheckVersionRequest{Path: "/fm", Version: 0}},
		}}),
		rbChunk(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: "/fm/c/x0000000000", Version: -1}},
			{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: "/fm/c", Version: -1}},
			{Type: proto.OpSetData, Req: &proto.SetDataRequest{Path: "/fm", Version: 5}},
		}}),
		rbChunk(proto.OpMultiRead, &proto.MultiRequest{Ops: []proto.MultiOp{
			{Type: proto.OpGetChildren, Req: &proto.GetChildrenRequest{Path: "/fm"}},
			{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/fm/c"}},
		}}),
	))
	add("framed_watches", rbCat([]byte{rbConnect | rbFramed | rbHangUp},
		rbChunk(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/fw", Mode: proto.AddWatchPersistentRecursive}),
		rbChunk(proto.OpCreate, create("/fw", proto.ModeEphemeral)),
		rbChunk(proto.OpExists, &proto.ExistsRequest{Path: "/fw/x", Watch: true}),
		rbChunk(proto.OpSetWatches2, &proto.SetWatches2{DataWatches: []string{"/fw"}, PersistentWatches: []string{"/"}}),
		rbChunk(proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: "/fw", Type: proto.WatcherAny}),
		rbChunk(proto.OpCloseSession, nil),
	))

	// Op codes and xids.
	add("op_unknown", s().req(999, nil).req(proto.OpExists, &proto.ExistsRequest{Path: "/"}).input(rbConnect))
	add("op_notification", s().req(proto.OpNotification, nil).input(rbConnect))
	add("op_create_session", s().reqBody(proto.OpCreateSession, rbI32(30000)...).input(rbConnect))
	add("op_delete_container", s().reqBody(proto.OpDeleteContainer, []byte("/seed")...).input(rbConnect))
	add("op_error", s().req(proto.OpError, nil).input(rbConnect))
	add("op_negative", s().req(math.MinInt32, nil).req(math.MaxInt32, nil).input(rbConnect))
	add("xid_edges", s().
		reqXid(proto.XidNotification, proto.OpExists, &proto.ExistsRequest{Path: "/"}).
		reqXid(proto.XidPing, proto.OpGetData, &proto.GetDataRequest{Path: "/"}).
		reqXid(proto.XidAuth, proto.OpPing, nil).
		reqXid(proto.XidSetWatches, proto.OpSync, &proto.SyncRequest{Path: "/"}).
		reqXid(0, proto.OpPing, nil).
		reqXid(math.MinInt32, proto.OpPing, nil).
		reqXid(math.MaxInt32, proto.OpCreate, create("/seed-xid", proto.ModeEphemeral)).
		reqXid(math.MaxInt32, proto.OpPing, nil).
		input(rbConnect))
	add("second_connect", s().raw(rbPrefix(rbConnect)...).req(proto.OpExists, &proto.ExistsRequest{Path: "/"}).input(rbConnect))

	// Frame lengths.
	ping := s().reqXid(proto.XidPing, proto.OpPing, nil).b
	add("frame_empty", s().frame().raw(ping...).input(rbConnect))
	add("frame_short_header", s().frame(0, 0, 0, 1, 0, 0, 0).input(rbConnect))
	add("frame_header_only_create", s().frame(rbCat(rbI32(1), rbI32(int32(proto.OpCreate)))...).input(rbConnect))
	add("frame_negative_length", s().raw(ping...).raw(0xff, 0xff, 0xff, 0xff).input(rbConnect))
	add("frame_min_length", s().raw(0x80, 0, 0, 0).input(rbConnect))
	add("frame_huge_length", s().raw(0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1).input(rbConnect))
	add("frame_maxbuffer_plus_one", s().raw(rbI32(proto.DefaultMaxBuffer+1)...).raw(make([]byte, 64)...).input(rbConnect))
	add("frame_truncated", s().req(proto.OpCreate, create("/seed-trunc", 0)).input(rbConnect)[:30])
	add("frame_length_past_end", s().raw(0, 0, 1, 0).raw(ping...).input(rbConnect))

	// Records inside valid frames.
	hdr := func(op proto.OpCode) []byte { return rbCat(rbI32(1), rbI32(int32(op))) }
	add("record_path_past_end", s().frame(rbCat(hdr(proto.OpCreate), rbI32(100), []byte("/ab"))...).input(rbConnect))
	add("record_string_len_minus_two", s().frame(rbCat(hdr(proto.OpGetData), rbI32(-2), []byte{0})...).input(rbConnect))
	add("record_string_len_huge", s().frame(rbCat(hdr(proto.OpExists), rbI32(math.MaxInt32))...).input(rbConnect))
	add("record_null_path", s().frame(rbCat(hdr(proto.OpCreate), rbI32(-1), rbI32(-1), rbI32(-1), rbI32(0))...).input(rbConnect))
	add("record_acl_count_huge", s().frame(rbCat(hdr(proto.OpSetACL), rbI32(1), []byte("/"), rbI32(math.MaxInt32), rbI32(0))...).input(rbConnect))
	add("record_acl_count_negative", s().frame(rbCat(hdr(proto.OpCreate), rbI32(2), []byte("/n"), rbI32(0), rbI32(-7), rbI32(0))...).input(rbConnect))
	add("record_watches_count_negative", s().frame(rbCat(rbI32(-8), rbI32(int32(proto.OpSetWatches)), make([]byte, 8), rbI32(-5))...).input(rbConnect))
	add("record_trailing_bytes", s().frame(rbCat(hdr(proto.OpGetData), rbI32(1), []byte("/"), []byte{0, 9, 9, 9})...).input(rbConnect))
	add("record_bad_flags", s().req(proto.OpCreate, create("/seed-flags", 77)).input(rbConnect))
	add("record_bad_path", s().req(proto.OpCreate, create("noslash", 0)).req(proto.OpCreate, create("/a//b", 0)).
		req(proto.OpCreate, create("/nul\x00", 0)).req(proto.OpDelete, &proto.DeleteRequest{Path: "/", Version: -1}).
		req(proto.OpDelete, &proto.DeleteRequest{Path: "/zookeeper", Version: -1}).input(rbConnect))
	add("record_addwatch_bad_mode", s().req(proto.OpAddWatch, &proto.AddWatchRequest{Path: "/", Mode: 7}).input(rbConnect))
	add("record_setdata_missing_node", s().req(proto.OpSetData, &proto.SetDataRequest{Path: "/seed-none", Data: make([]byte, 4096), Version: -1}).input(rbConnect))

	// Multi.
	mh := func(op proto.OpCode, done bool) []byte {
		return proto.Encode(&proto.MultiHeader{Type: op, Done: done, Err: -1})
	}
	add("multi_with_read", s().req(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Req: create("/seed-mr", 0)},
		{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/"}},
	}}).input(rbConnect))
	add("multi_reads_only", s().req(proto.OpMulti, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: "/"}},
	}}).input(rbConnect))
	add("multiread_with_write", s().req(proto.OpMultiRead, &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Req: create("/seed-mw", 0)},
	}}).input(rbConnect))
	add("multi_bad_op", s().frame(rbCat(hdr(proto.OpMulti), mh(999, false), mh(-1, true))...).input(rbConnect))
	add("multi_no_end", s().frame(rbCat(hdr(proto.OpMulti), mh(proto.OpCheck, false), proto.Encode(&proto.CheckVersionRequest{Path: "/", Version: -1}))...).input(rbConnect))
	add("multi_empty_body", s().frame(hdr(proto.OpMulti)...).input(rbConnect))
	add("multi_nested", s().frame(rbCat(hdr(proto.OpMulti), mh(proto.OpMulti, false), mh(-1, true), mh(-1, true))...).input(rbConnect))

	// Handshakes sent raw.
	cr := func(r proto.ConnectRequest) []byte { return proto.Encode(&r) }
	add("raw_connect", s().frame(cr(proto.ConnectRequest{TimeOut: 1, Passwd: make([]byte, 16)})...).req(proto.OpExists, &proto.ExistsRequest{Path: "/"}).input(rbRaw))
	add("raw_connect_short", s().frame(make([]byte, 10)...).input(rbRaw))
	add("raw_connect_null_passwd", s().frame(rbCat(make([]byte, 24), rbI32(-1))...).input(rbRaw))
	add("raw_connect_passwd_huge", s().frame(rbCat(make([]byte, 24), rbI32(math.MaxInt32))...).input(rbRaw))
	add("raw_connect_trailing", s().frame(rbCat(cr(proto.ConnectRequest{TimeOut: 1, Passwd: make([]byte, 16), HasReadOnly: true}), []byte{1, 2, 3})...).input(rbRaw))
	add("raw_connect_negative_timeout", s().frame(cr(proto.ConnectRequest{TimeOut: -1, Passwd: []byte{}})...).input(rbRaw))
	add("raw_connect_negative_length", s().raw(0xff, 0xff, 0xff, 0xfe).input(rbRaw))
	add("raw_connect_huge_length", s().raw(0x7f, 0xff, 0xff, 0xff).input(rbRaw))
	add("raw_three_bytes", s().raw(0, 0, 0).input(rbRaw))
	add("raw_word_ruok", s().raw([]byte("ruok")...).input(rbRaw))
	add("raw_word_stmk", s().raw([]byte("stmk")...).raw(0, 0, 0, 0, 0, 0, 1, 0x12).input(rbRaw))
	add("raw_word_telnet_close", s().raw([]byte(telnetClose)...).input(rbRaw))
	add("raw_http", s().raw([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")...).input(rbRaw))
	return seeds
}

// rbWordSeeds are every word with no tail, and stmk with short and long masks.
func rbWordSeeds() []rbSeed {
	words := append(config.FourLetterWords(), telnetClose)
	var seeds []rbSeed
	for i, w := range words {
		name := w
		if w == telnetClose {
			name = "telnet_close"
		}
		seeds = append(seeds, rbSeed{"word_" + name, []any{uint8(i), []byte{}}})
	}
	stmk := uint8(slices.Index(words, "stmk"))
	seeds = append(seeds,
		rbSeed{"stmk_short_mask", []any{stmk, []byte{1, 2, 3}}},
		rbSeed{"stmk_mask", []any{stmk, []byte{0, 0, 0, 0, 0, 0, 0x01, 0x12}}},
		rbSeed{"stmk_negative_mask", []any{stmk, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}},
		rbSeed{"stmk_long_tail", []any{stmk, rbCat([]byte{0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 4096))}},
		rbSeed{"ruok_tail", []any{uint8(slices.Index(words, "ruok")), []byte("ruokruok\n")}},
		rbSeed{"other_bytes", []any{uint8(255), []byte("abcdefgh")}},
		rbSeed{"other_connect", []any{uint8(255), rbCat(rbI32(45), make([]byte, 45))}},
	)
	return seeds
}

// rbCorpusFile renders values in the go test fuzz v1 format.
func rbCorpusFile(vals []any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		default:
			panic(fmt.Sprintf("rbCorpusFile: %T", v))
		}
	}
	return []byte(b.String())
}

// TestFuzzSeedCorpusCurrent checks that the generated seed files in
// testdata/fuzz match the seeds defined here (run with -update-fuzz-seeds to
// rewrite them). Files the fuzzer added are left alone.
func TestFuzzSeedCorpusCurrent(t *testing.T) {
	for target, seeds := range map[string][]rbSeed{
		"FuzzServerConnection": rbConnectionSeeds(),
		"FuzzFourLetter":       rbWordSeeds(),
	} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *rbUpdateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		defer func() {
			files, _ := filepath.Glob(filepath.Join(dir, "seed_*"))
			for _, f := range files {
				if name := strings.TrimPrefix(filepath.Base(f), "seed_"); !seen[name] {
					if *rbUpdateSeeds {
						os.Remove(f)
					} else {
						t.Errorf("%s is no generated seed; delete it or run with -update-fuzz-seeds", f)
					}
				}
			}
		}()
		for _, s := range seeds {
			if seen[s.name] {
				t.Fatalf("%s: duplicate seed name %s", target, s.name)
			}
			seen[s.name] = true
			path := filepath.Join(dir, "seed_"+s.name)
			want := rbCorpusFile(s.vals)
			if *rbUpdateSeeds {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != string(want) {
				t.Errorf("%s is missing or stale (%v); run: go test -run TestFuzzSeedCorpusCurrent ./server/ -args -update-fuzz-seeds", path, err)
			}
		}
	}
}
