package proto

// ReconfigRequest changes the ensemble membership, either incrementally
// (JoiningServers/LeavingServers) or wholesale (NewMembers). CurConfigID -1
// skips the config version check. The answer is a GetDataResponse holding the
// new config.
type ReconfigRequest struct {
	JoiningServers string
	LeavingServers string
	NewMembers     string
	CurConfigID    int64
}

// Encode implements Record.
func (r *ReconfigRequest) Encode(e *Encoder) {
	e.String(r.JoiningServers)
	e.String(r.LeavingServers)
	e.String(r.NewMembers)
	e.Long(r.CurConfigID)
}

// Decode implements Record.
func (r *ReconfigRequest) Decode(d *Decoder) error {
	r.JoiningServers = d.String()
	r.LeavingServers = d.String()
	r.NewMembers = d.String()
	r.CurConfigID = d.Long()
	return d.Err()
}

// CheckWatchesRequest asks whether the session has watches of Type on Path.
// The reply is header-only (ErrNoWatcher if none).
type CheckWatchesRequest struct {
	Path string
	Type WatcherType
}

// Encode implements Record.
func (r *CheckWatchesRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(int32(r.Type)) }

// Decode implements Record.
func (r *CheckWatchesRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Type = WatcherType(d.Int())
	return d.Err()
}

// RemoveWatchesRequest removes the session's watches of Type on Path. The
// reply is header-only (ErrNoWatcher if none).
type RemoveWatchesRequest struct {
	Path string
	Type WatcherType
}

// Encode implements Record.
func (r *RemoveWatchesRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(int32(r.Type)) }

// Decode implements Record.
func (r *RemoveWatchesRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Type = WatcherType(d.Int())
	return d.Err()
}

// AuthPacket adds credentials to the session (op auth, xid -4), e.g. scheme
// "digest" with Auth "user:password". Type is always 0.
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// Encode implements Record.
func (r *AuthPacket) Encode(e *Encoder) {
	e.Int(r.Type)
	e.String(r.Scheme)
	e.Buffer(r.Auth)
}

// Decode implements Record.
func (r *AuthPacket) Decode(d *Decoder) error {
	r.Type = d.Int()
	r.Scheme = d.String()
	r.Auth = d.Buffer()
	return d.Err()
}

// SetWatches re-registers a reconnecting client's watches (op setWatches,
// xid -8). Watches whose node changed after RelativeZxid fire at once.
type SetWatches struct {
	RelativeZxid int64
	DataWatches  []string
	ExistWatches []string
	ChildWatches []string
}

// Encode implements Record.
func (r *SetWatches) Encode(e *Encoder) {
	e.Long(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
}

// Decode implements Record.
func (r *SetWatches) Decode(d *Decoder) error {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	return d.Err()
}

// SetWatches2 is SetWatches plus persistent watches (op setWatches2, xid -8).
type SetWatches2 struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
}

// Encode implements Record.
func (r *SetWatches2) Encode(e *Encoder) {
	e.Long(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
	e.Strings(r.PersistentWatches)
	e.Strings(r.PersistentRecursiveWatches)
}

// Decode implements Record.
func (r *SetWatches2) Decode(d *Decoder) error {
	r.RelativeZxid = d.Long()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	r.PersistentWatches = d.Strings()
	r.PersistentRecursiveWatches = d.Strings()
	return d.Err()
}

// GetSASLRequest carries a SASL token from the client (op sasl).
type GetSASLRequest struct {
	Token []byte
}

// Encode implements Record.
func (r *GetSASLRequest) Encode(e *Encoder) { e.Buffer(r.Token) }

// Decode implements Record.
func (r *GetSASLRequest) Decode(d *Decoder) error {
	r.Token = d.Buffer()
	return d.Err()
}

// SetSASLResponse carries the server's SASL challenge.
type SetSASLResponse struct {
	Token []byte
}

// Encode implements Record.
func (r *SetSASLResponse) Encode(e *Encoder) { e.Buffer(r.Token) }

// Decode implements Record.
func (r *SetSASLResponse) Decode(d *Decoder) error {
	r.Token = d.Buffer()
	return d.Err()
}

// AddWatchRequest sets a persistent (optionally recursive) watch. The answer
// is an ErrorResponse with Err 0.
type AddWatchRequest struct {
	Path string
	Mode AddWatchMode
}

// Encode implements Record.
func (r *AddWatchRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(int32(r.Mode)) }

// Decode implements Record.
func (r *AddWatchRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Mode = AddWatchMode(d.Int())
	return d.Err()
}

// ClientInfo is one identity of a session, as reported by whoAmI.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// Encode implements Record.
func (r *ClientInfo) Encode(e *Encoder) { e.String(r.AuthScheme); e.String(r.User) }

// Decode implements Record.
func (r *ClientInfo) Decode(d *Decoder) error {
	r.AuthScheme = d.String()
	r.User = d.String()
	return d.Err()
}

// WhoAmIResponse answers whoAmI with the session's identities.
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

// Encode implements Record. Nil ClientInfo is encoded as a null vector.
func (r *WhoAmIResponse) Encode(e *Encoder) {
	if r.ClientInfo == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(r.ClientInfo)))
	for i := range r.ClientInfo {
		r.ClientInfo[i].Encode(e)
	}
}

// Decode implements Record.
func (r *WhoAmIResponse) Decode(d *Decoder) error {
	r.ClientInfo = nil
	n := d.Count("vector<ClientInfo>", 8)
	if n < 0 {
		return d.Err()
	}
	r.ClientInfo = make([]ClientInfo, n)
	for i := range r.ClientInfo {
		if err := r.ClientInfo[i].Decode(d); err != nil {
			r.ClientInfo = nil
			return err
		}
	}
	return d.Err()
}

// ErrorResponse carries an error code in a multi result, and is the 4-byte
// body of a successful addWatch reply.
type ErrorResponse struct {
	Err Code
}

// Encode implements Record.
func (r *ErrorResponse) Encode(e *Encoder) { e.Int(int32(r.Err)) }

// Decode implements Record.
func (r *ErrorResponse) Decode(d *Decoder) error {
	r.Err = Code(d.Int())
	return d.Err()
}

// WatcherEvent is the body of a notification (xid -1). State is
// StateSyncConnected for node events.
type WatcherEvent struct {
	Type  EventType
	State KeeperState
	Path  string
}

// Encode implements Record.
func (r *WatcherEvent) Encode(e *Encoder) {
	e.Int(int32(r.Type))
	e.Int(int32(r.State))
	e.String(r.Path)
}

// Decode implements Record.
func (r *WatcherEvent) Decode(d *Decoder) error {
	r.Type = EventType(d.Int())
	r.State = KeeperState(d.Int())
	r.Path = d.String()
	return d.Err()
}
