package main

import (
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// TestMultiCode checks that a multi answered OK in the header counts as
// failed when one of its results is an error.
func TestMultiCode(t *testing.T) {
	enc := func(r *proto.MultiResponse) []byte {
		e := proto.NewEncoder(nil)
		r.Encode(e)
		return e.Bytes()
	}
	ok := enc(&proto.MultiResponse{Results: []proto.MultiResult{
		{Type: proto.OpSetData, Resp: &proto.SetDataResponse{}},
	}})
	failed := enc(&proto.MultiResponse{Results: []proto.MultiResult{
		{Type: proto.OpError, Err: proto.ErrRuntimeInconsistency, Resp: &proto.ErrorResponse{Err: proto.ErrRuntimeInconsistency}},
		{Type: proto.OpError, Err: proto.ErrNoNode, Resp: &proto.ErrorResponse{Err: proto.ErrNoNode}},
	}})
	if got := multiCode(ok); got != proto.OK {
		t.Errorf("successful multi: %v", got)
	}
	if got := multiCode(failed); got != proto.ErrNoNode {
		t.Errorf("failed multi: %v, want NoNode (the op that failed)", got)
	}
	if got := multiCode([]byte{1, 2}); got == proto.OK {
		t.Errorf("undecodable reply counted as OK")
	}
}
