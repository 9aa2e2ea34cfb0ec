package proto

// MultiHeader precedes each op of a multi request and each result of a multi
// response; a header with Done set ends the sequence.
type MultiHeader struct {
	Type OpCode
	Done bool
	Err  Code
}

// Encode implements Record.
func (r *MultiHeader) Encode(e *Encoder) {
	e.Int(int32(r.Type))
	e.Bool(r.Done)
	e.Int(int32(r.Err))
}

// Decode implements Record.
func (r *MultiHeader) Decode(d *Decoder) error {
	r.Type = OpCode(d.Int())
	r.Done = d.Bool()
	r.Err = Code(d.Int())
	return d.Err()
}

// encodeMultiEnd writes the header that terminates both multi requests and
// multi responses.
func encodeMultiEnd(e *Encoder) {
	end := MultiHeader{Type: OpError, Done: true, Err: -1}
	end.Encode(e)
}

// MultiOp is one operation of a multi or multiRead request. Req's dynamic
// type follows Type: *CreateRequest for OpCreate, OpCreate2 and
// OpCreateContainer; *CreateTTLRequest for OpCreateTTL; *DeleteRequest,
// *SetDataRequest, *CheckVersionRequest, *GetChildrenRequest and
// *GetDataRequest for OpDelete, OpSetData, OpCheck, OpGetChildren and
// OpGetData.
type MultiOp struct {
	Type OpCode
	Req  Record
}

// MultiRequest is the body of a multi (atomic writes) or multiRead request:
// a MultiHeader{Type, false, -1} and the op's record per op, then
// MultiHeader{-1, true, -1}. As in Apache ZooKeeper, reads (getData,
// getChildren) and writes cannot be mixed in one request. Which kind goes
// with which op code, and whether create flags are valid, is left to the
// server.
type MultiRequest struct {
	Ops []MultiOp
}

// newMultiOpRequest returns an empty request record for an op allowed inside
// a multi, or nil.
func newMultiOpRequest(t OpCode) Record {
	switch t {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpGetData:
		return &GetDataRequest{}
	}
	return nil
}

// isMultiRead reports whether t is an op allowed in multiRead.
func isMultiRead(t OpCode) bool { return t == OpGetChildren || t == OpGetData }

// Encode implements Record. An op whose Req is nil is written with an empty
// record of its type so the stream stays well formed.
func (r *MultiRequest) Encode(e *Encoder) {
	for i := range r.Ops {
		op := &r.Ops[i]
		h := MultiHeader{Type: op.Type, Done: false, Err: -1}
		h.Encode(e)
		req := op.Req
		if req == nil {
			req = newMultiOpRequest(op.Type)
		}
		if req != nil {
			req.Encode(e)
		}
	}
	encodeMultiEnd(e)
}

// Decode implements Record. An op type not allowed in a multi, or reads mixed
// with writes, is an error wrapping ErrMalformed.
func (r *MultiRequest) Decode(d *Decoder) error {
	r.Ops = nil
	var h MultiHeader
	var ops []MultiOp
	for i := 0; ; i++ {
		// Every op consumes at least a header, so the loop ends with the input.
		if err := h.Decode(d); err != nil {
			return err
		}
		if h.Done {
			break
		}
		req := newMultiOpRequest(h.Type)
		if req == nil {
			d.fail("multi: op %d has invalid type %d", i, int32(h.Type))
			return d.Err()
		}
		if i > 0 && isMultiRead(h.Type) != isMultiRead(ops[0].Type) {
			d.fail("multi: op %d (%v) mixes reads and writes", i, h.Type)
			return d.Err()
		}
		if err := req.Decode(d); err != nil {
			return err
		}
		ops = append(ops, MultiOp{Type: h.Type, Req: req})
	}
	r.Ops = ops
	return d.Err()
}

// MultiResult is one result of a multi or multiRead response. Resp's dynamic
// type follows Type: *CreateResponse for OpCreate, *Create2Response for
// OpCreate2, *SetDataResponse for OpSetData, *GetChildrenResponse for
// OpGetChildren, *GetDataResponse for OpGetData, and nil for OpDelete,
// OpCheck and OpError. A failed op, and every op of a failed multi, has Type
// OpError and its code in Err; Err is OK for the other types.
//
// When encoding, Type OpCreateTTL and OpCreateContainer are written as
// OpCreate2 and OpDeleteContainer as OpDelete, as Apache ZooKeeper does, and
// a nil Resp is written as an empty record of its type.
type MultiResult struct {
	Type OpCode
	Err  Code
	Resp Record
}

// MultiResponse is the body of a multi or multiRead reply: per result a
// MultiHeader{Type, false, Err} and the result's record (ErrorResponse for
// errors), then MultiHeader{-1, true, -1}.
type MultiResponse struct {
	Results []MultiResult
}

// multiResultWireType maps a result type to the type Apache ZooKeeper puts on
// the wire.
func multiResultWireType(t OpCode) OpCode {
	switch t {
	case OpCreateTTL, OpCreateContainer:
		return OpCreate2
	case OpDeleteContainer:
		return OpDelete
	}
	return t
}

// newMultiResultResponse returns an empty response record for a wire result
// type that has one; ok is false for types not allowed in a multi response.
func newMultiResultResponse(t OpCode) (resp Record, ok bool) {
	switch t {
	case OpCreate:
		return &CreateResponse{}, true
	case OpCreate2:
		return &Create2Response{}, true
	case OpSetData:
		return &SetDataResponse{}, true
	case OpGetChildren:
		return &GetChildrenResponse{}, true
	case OpGetData:
		return &GetDataResponse{}, true
	case OpDelete, OpCheck, OpError:
		return nil, true
	}
	return nil, false
}

// Encode implements Record.
func (r *MultiResponse) Encode(e *Encoder) {
	for i := range r.Results {
		res := &r.Results[i]
		t := multiResultWireType(res.Type)
		if t == OpError {
			h := MultiHeader{Type: OpError, Err: res.Err}
			h.Encode(e)
			e.Int(int32(res.Err))
			continue
		}
		h := MultiHeader{Type: t, Err: OK}
		h.Encode(e)
		switch t {
		case OpDelete, OpCheck:
			continue
		}
		resp := res.Resp
		if resp == nil {
			resp, _ = newMultiResultResponse(t)
		}
		if resp != nil {
			resp.Encode(e)
		}
	}
	encodeMultiEnd(e)
}

// Decode implements Record. A result type Apache ZooKeeper never sends is an
// error wrapping ErrMalformed. The terminator's type and err are not checked.
func (r *MultiResponse) Decode(d *Decoder) error {
	r.Results = nil
	var h MultiHeader
	var results []MultiResult
	for i := 0; ; i++ {
		// Every result consumes at least a header, so the loop ends with the
		// input.
		if err := h.Decode(d); err != nil {
			return err
		}
		if h.Done {
			break
		}
		resp, ok := newMultiResultResponse(h.Type)
		if !ok {
			d.fail("multi response: result %d has invalid type %d", i, int32(h.Type))
			return d.Err()
		}
		res := MultiResult{Type: h.Type, Resp: resp}
		if h.Type == OpError {
			res.Err = Code(d.Int())
		} else if resp != nil {
			if err := resp.Decode(d); err != nil {
				return err
			}
		}
		if err := d.Err(); err != nil {
			return err
		}
		results = append(results, res)
	}
	r.Results = results
	return d.Err()
}
