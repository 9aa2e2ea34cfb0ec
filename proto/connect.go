package proto

// ConnectRequest opens or resumes a session. It is the first frame a client
// sends and has no RequestHeader. Clients older than 3.4 omit the trailing
// readOnly byte (44 bytes with a 16-byte password instead of 45); HasReadOnly
// records whether it was present so that the server can answer in kind.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32 // requested session timeout, ms
	SessionID       int64 // 0 for a new session
	Passwd          []byte
	ReadOnly        bool // client accepts a read-only server
	HasReadOnly     bool // the readOnly byte is on the wire
}

// Encode implements Record. The readOnly byte is written only when
// HasReadOnly is set.
func (r *ConnectRequest) Encode(e *Encoder) {
	e.Int(r.ProtocolVersion)
	e.Long(r.LastZxidSeen)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode implements Record. The readOnly byte is read if any input remains
// after the password, so r must be the last record in d.
func (r *ConnectRequest) Decode(d *Decoder) error {
	r.ProtocolVersion = d.Int()
	r.LastZxidSeen = d.Long()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.ReadOnly, r.HasReadOnly = decodeOptionalBool(d)
	return d.Err()
}

// ConnectResponse answers a ConnectRequest, without a ReplyHeader. A
// sessionID of 0 with TimeOut 0 tells the client its session has expired.
// As for the request, the readOnly byte is optional on the wire.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32 // negotiated session timeout, ms
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool // the server is in read-only mode
	HasReadOnly     bool // the readOnly byte is on the wire
}

// Encode implements Record. The readOnly byte is written only when
// HasReadOnly is set.
func (r *ConnectResponse) Encode(e *Encoder) {
	e.Int(r.ProtocolVersion)
	e.Int(r.TimeOut)
	e.Long(r.SessionID)
	e.Buffer(r.Passwd)
	if r.HasReadOnly {
		e.Bool(r.ReadOnly)
	}
}

// Decode implements Record. The readOnly byte is read if any input remains
// after the password, so r must be the last record in d.
func (r *ConnectResponse) Decode(d *Decoder) error {
	r.ProtocolVersion = d.Int()
	r.TimeOut = d.Int()
	r.SessionID = d.Long()
	r.Passwd = d.Buffer()
	r.ReadOnly, r.HasReadOnly = decodeOptionalBool(d)
	return d.Err()
}

// decodeOptionalBool reads a trailing boolean if the input has one left.
func decodeOptionalBool(d *Decoder) (v, present bool) {
	if d.Err() != nil || d.Remaining() == 0 {
		return false, false
	}
	return d.Bool(), true
}
