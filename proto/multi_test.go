package proto

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// end is the multi terminator on the wire.
var end = be(-1, byte(1), -1)

func TestMultiRequestRejects(t *testing.T) {
	del := be(int(OpDelete), byte(0), -1, 2, "/a", 1)
	get := be(int(OpGetData), byte(0), -1, 2, "/a", byte(0))
	tests := []struct {
		name, wantMsg string
		in            []byte
	}{
		{"exists op", "invalid type", append(be(int(OpExists), byte(0), -1, 2, "/a", byte(0)), end...)},
		{"nested multi", "invalid type", append(be(int(OpMulti), byte(0), -1), end...)},
		{"error type not done", "invalid type", append(be(-1, byte(0), -1), end...)},
		{"unknown op", "invalid type", append(be(999, byte(0), -1), end...)},
		{"write then read", "mixes", append(append(append([]byte{}, del...), get...), end...)},
		{"read then write", "mixes", append(append(append([]byte{}, get...), del...), end...)},
		{"no terminator", "", del},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		var r MultiRequest
		err := Decode(tt.in, &r)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%s: err = %v, want ErrMalformed containing %q", tt.name, err, tt.wantMsg)
		}
		if r.Ops != nil {
			t.Errorf("%s: Ops = %v after failure, want nil", tt.name, r.Ops)
		}
	}
}

func TestMultiTerminatorFieldsIgnored(t *testing.T) {
	in := append(be(int(OpCheck), byte(0), -1, 2, "/a", 1), be(0, byte(7), 0)...)
	var r MultiRequest
	if err := Decode(in, &r); err != nil {
		t.Fatal(err)
	}
	want := []MultiOp{{Type: OpCheck, Req: &CheckVersionRequest{Path: "/a", Version: 1}}}
	if !reflect.DeepEqual(r.Ops, want) {
		t.Errorf("got %#v", r.Ops)
	}
	var resp MultiResponse
	if err := Decode(be(int(OpDelete), byte(0), 0, 5, byte(1), 0), &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Type != OpDelete {
		t.Errorf("got %#v", resp.Results)
	}
}

func TestMultiRequestNilReq(t *testing.T) {
	r := MultiRequest{Ops: []MultiOp{{Type: OpCreateTTL}, {Type: OpDelete}}}
	var got MultiRequest
	if err := Decode(Encode(&r), &got); err != nil {
		t.Fatal(err)
	}
	want := []MultiOp{{Type: OpCreateTTL, Req: &CreateTTLRequest{}}, {Type: OpDelete, Req: &DeleteRequest{}}}
	if !reflect.DeepEqual(got.Ops, want) {
		t.Errorf("got %#v", got.Ops)
	}
}

func TestMultiResponseRejects(t *testing.T) {
	for _, typ := range []OpCode{OpCreateContainer, OpCreateTTL, OpExists, OpMulti, OpNotification, 999} {
		in := append(be(int(typ), byte(0), 0), end...)
		var r MultiResponse
		if err := Decode(in, &r); !errors.Is(err, ErrMalformed) {
			t.Errorf("type %v: err = %v, want ErrMalformed", typ, err)
		}
	}
	var r MultiResponse
	if err := Decode(be(-1, byte(0), -101), &r); !errors.Is(err, ErrMalformed) {
		t.Errorf("error result without body: err = %v", err)
	}
}

// TestMultiResponseEncode checks the type mapping FinalRequestProcessor
// applies and the error result layout.
func TestMultiResponseEncode(t *testing.T) {
	r := MultiResponse{Results: []MultiResult{
		{Type: OpCreateTTL, Resp: &Create2Response{Path: "/t", Stat: testStat}},
		{Type: OpCreateContainer},
		{Type: OpDeleteContainer},
		{Type: OpSetData, Err: ErrBadVersion}, // Err is ignored for non-error results
		{Type: OpError, Err: ErrNoNode},
	}}
	want := append(be(int(OpCreate2), byte(0), 0, 2, "/t"), Encode(&testStat)...)
	want = append(want, be(int(OpCreate2), byte(0), 0, 0)...) // empty path
	want = append(want, Encode(&Stat{})...)
	want = append(want, be(int(OpDelete), byte(0), 0)...)
	want = append(want, be(int(OpSetData), byte(0), 0)...)
	want = append(want, Encode(&Stat{})...)
	want = append(want, be(-1, byte(0), -101, -101)...)
	want = append(want, end...)
	got := Encode(&r)
	if string(got) != string(want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	var back MultiResponse
	if err := Decode(got, &back); err != nil {
		t.Fatal(err)
	}
	wantBack := []MultiResult{
		{Type: OpCreate2, Resp: &Create2Response{Path: "/t", Stat: testStat}},
		{Type: OpCreate2, Resp: &Create2Response{}},
		{Type: OpDelete},
		{Type: OpSetData, Resp: &SetDataResponse{}},
		{Type: OpError, Err: ErrNoNode},
	}
	if !reflect.DeepEqual(back.Results, wantBack) {
		t.Errorf("got %#v", back.Results)
	}
}

func TestMultiLarge(t *testing.T) {
	var r MultiRequest
	for i := 0; i < 2000; i++ {
		r.Ops = append(r.Ops, MultiOp{Type: OpSetData, Req: &SetDataRequest{Path: "/n", Data: []byte{byte(i)}, Version: int32(i)}})
	}
	var got MultiRequest
	if err := Decode(Encode(&r), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Error("large multi did not round-trip")
	}
}
