package proto

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestReadFrame(t *testing.T) {
	in := AppendFrame(AppendFrame(AppendFrame(nil, []byte("hello")), nil), []byte("xy"))
	r := bytes.NewReader(in)
	buf := make([]byte, 0, 16)
	p, err := ReadFrame(r, buf, 100)
	if err != nil || string(p) != "hello" {
		t.Fatalf("got %q, %v", p, err)
	}
	if &p[:1][0] != &buf[:1][0] {
		t.Error("payload did not reuse buf")
	}
	p, err = ReadFrame(r, nil, 100)
	if err != nil || len(p) != 0 {
		t.Fatalf("empty frame: got %q, %v", p, err)
	}
	p, err = ReadFrame(r, make([]byte, 0, 1), 100)
	if err != nil || string(p) != "xy" {
		t.Fatalf("got %q, %v", p, err)
	}
	if _, err := ReadFrame(r, nil, 100); err != io.EOF {
		t.Errorf("at end: err = %v, want io.EOF", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"short header", []byte{0, 0}, 10, io.ErrUnexpectedEOF},
		{"short payload", be(5, "abc"), 10, io.ErrUnexpectedEOF},
		{"header only", be(5), 10, io.ErrUnexpectedEOF},
		{"negative", be(-1), 10, ErrMalformed},
		{"min int", be(-0x80000000), 10, ErrMalformed},
		{"over max", be(11, "01234567890"), 10, ErrFrameTooLarge},
		{"huge", be(0x7fffffff), 10, ErrFrameTooLarge},
		{"four letter word", []byte("ruok"), DefaultMaxBuffer, ErrFrameTooLarge},
		{"default max", be(DefaultMaxBuffer + 1), 0, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		_, err := ReadFrame(bytes.NewReader(tt.in), nil, tt.max)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if n := allocBytes(func() { _, _ = ReadFrame(bytes.NewReader(tt.in), nil, tt.max) }); n > 1024 {
			t.Errorf("%s: %d bytes allocated", tt.name, n)
		}
	}
	// Exactly max is allowed.
	if p, err := ReadFrame(bytes.NewReader(be(10, "0123456789")), nil, 10); err != nil || len(p) != 10 {
		t.Errorf("frame of max bytes: %q, %v", p, err)
	}
}

func TestBeginEndFrame(t *testing.T) {
	e := NewEncoder([]byte("prefix"))
	outer := BeginFrame(e)
	h := ReplyHeader{Xid: 3, Zxid: 4}
	h.Encode(e)
	EndFrame(e, outer)
	mark := BeginFrame(e)
	EndFrame(e, mark)
	want := append([]byte("prefix"), AppendFrame(nil, Encode(&h))...)
	want = AppendFrame(want, nil)
	if !bytes.Equal(e.Bytes(), want) {
		t.Errorf("got  %x\nwant %x", e.Bytes(), want)
	}
}

func TestAppendRequestReply(t *testing.T) {
	sync := &SyncRequest{Path: "/a"}
	frame := AppendRequest([]byte{9}, RequestHeader{Xid: 5, Type: OpSync}, sync)
	if frame[0] != 9 {
		t.Fatal("dst prefix lost")
	}
	p, err := ReadFrame(bytes.NewReader(frame[1:]), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(p)
	var h RequestHeader
	var got SyncRequest
	if h.Decode(d) != nil || got.Decode(d) != nil || d.Remaining() != 0 {
		t.Fatalf("bad request frame %x: %v", p, d.Err())
	}
	if h != (RequestHeader{Xid: 5, Type: OpSync}) || got != *sync {
		t.Errorf("got %+v %+v", h, got)
	}

	ping := AppendRequest(nil, RequestHeader{Xid: XidPing, Type: OpPing}, nil)
	if want := be(8, XidPing, int(OpPing)); !bytes.Equal(ping, want) {
		t.Errorf("ping: got %x want %x", ping, want)
	}
	errReply := AppendReply(nil, ReplyHeader{Xid: 5, Zxid: 6, Err: ErrNoNode}, nil)
	if want := AppendFrame(nil, Encode(&ReplyHeader{Xid: 5, Zxid: 6, Err: ErrNoNode})); !bytes.Equal(errReply, want) {
		t.Errorf("error reply: got %x want %x", errReply, want)
	}
	ok := AppendReply(nil, ReplyHeader{Xid: 5, Zxid: 6}, &SyncResponse{Path: "/a"})
	if want := AppendFrame(nil, append(Encode(&ReplyHeader{Xid: 5, Zxid: 6}), Encode(&SyncResponse{Path: "/a"})...)); !bytes.Equal(ok, want) {
		t.Errorf("reply: got %x want %x", ok, want)
	}
}
