package proto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// checkStable decodes b into a fresh record; a failure must wrap
// ErrMalformed, and a success must survive encode -> decode -> encode
// unchanged.
func checkStable(t *testing.T, newRec func() Record, b []byte) {
	t.Helper()
	r := newRec()
	if err := Decode(b, r); err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode error does not wrap ErrMalformed: %v", err)
		}
		return
	}
	b1 := Encode(r)
	r2 := newRec()
	if err := Decode(b1, r2); err != nil {
		t.Fatalf("re-decode of %x (from %x): %v", b1, b, err)
	}
	if !reflect.DeepEqual(r, r2) {
		t.Fatalf("unstable decode:\n first %#v\nsecond %#v", r, r2)
	}
	if b2 := Encode(r2); !bytes.Equal(b1, b2) {
		t.Fatalf("unstable encode:\n first %x\nsecond %x", b1, b2)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(int32(OpCreate), []byte{})
	f.Fuzz(func(t *testing.T, op int32, body []byte) {
		if NewRequest(OpCode(op)) == nil {
			return
		}
		checkStable(t, func() Record { return NewRequest(OpCode(op)) }, body)
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(int32(OpGetData), []byte{})
	f.Fuzz(func(t *testing.T, op int32, body []byte) {
		if NewResponse(OpCode(op)) == nil {
			return
		}
		checkStable(t, func() Record { return NewResponse(OpCode(op)) }, body)
	})
}

func FuzzMultiRequest(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		checkStable(t, func() Record { return &MultiRequest{} }, body)
	})
}

func FuzzMultiResponse(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		checkStable(t, func() Record { return &MultiResponse{} }, body)
	})
}

// FuzzConnectRequest covers both handshake records, which share the
// optional trailing byte.
func FuzzConnectRequest(f *testing.F) {
	f.Add(make([]byte, 44))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkStable(t, func() Record { return &ConnectRequest{} }, body)
		checkStable(t, func() Record { return &ConnectResponse{} }, body)
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 7, 0, 0, 0, 0})
	const max = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		buf := make([]byte, 0, 8)
		var reframed []byte
		for {
			p, err := ReadFrame(r, buf, max)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error: %v", err)
				}
				break
			}
			if len(p) > max {
				t.Fatalf("payload of %d bytes exceeds max %d", len(p), max)
			}
			reframed = AppendFrame(reframed, p)
			buf = p[:0]
		}
		if !bytes.HasPrefix(data, reframed) {
			t.Fatalf("frames re-encode to %x, not a prefix of the input %x", reframed, data)
		}
	})
}
