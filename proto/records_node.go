package proto

// CreateRequest creates a znode (ops create, create2 and createContainer).
type CreateRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
}

// Encode implements Record.
func (r *CreateRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int(int32(r.Flags))
}

// Decode implements Record.
func (r *CreateRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.Flags = CreateMode(d.Int())
	return d.Err()
}

// CreateTTLRequest creates a znode that the server removes once it has been
// unmodified and childless for TTL milliseconds (op createTTL).
type CreateTTLRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
	TTL   int64 // ms
}

// Encode implements Record.
func (r *CreateTTLRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int(int32(r.Flags))
	e.Long(r.TTL)
}

// Decode implements Record.
func (r *CreateTTLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.Flags = CreateMode(d.Int())
	r.TTL = d.Long()
	return d.Err()
}

// CreateResponse answers create with the created path, which differs from the
// requested one for sequential nodes.
type CreateResponse struct {
	Path string
}

// Encode implements Record.
func (r *CreateResponse) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *CreateResponse) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// Create2Response answers create2, createContainer and createTTL.
type Create2Response struct {
	Path string
	Stat Stat
}

// Encode implements Record.
func (r *Create2Response) Encode(e *Encoder) { e.String(r.Path); r.Stat.Encode(e) }

// Decode implements Record.
func (r *Create2Response) Decode(d *Decoder) error {
	r.Path = d.String()
	return r.Stat.Decode(d)
}

// DeleteRequest deletes a znode if its version matches (-1 matches any).
type DeleteRequest struct {
	Path    string
	Version int32
}

// Encode implements Record.
func (r *DeleteRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Version) }

// Decode implements Record.
func (r *DeleteRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Version = d.Int()
	return d.Err()
}

// ExistsRequest reads a znode's Stat, optionally leaving a watch that fires
// on create, delete or data change.
type ExistsRequest struct {
	Path  string
	Watch bool
}

// Encode implements Record.
func (r *ExistsRequest) Encode(e *Encoder) { e.String(r.Path); e.Bool(r.Watch) }

// Decode implements Record.
func (r *ExistsRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Watch = d.Bool()
	return d.Err()
}

// ExistsResponse answers exists.
type ExistsResponse struct {
	Stat Stat
}

// Encode implements Record.
func (r *ExistsResponse) Encode(e *Encoder) { r.Stat.Encode(e) }

// Decode implements Record.
func (r *ExistsResponse) Decode(d *Decoder) error { return r.Stat.Decode(d) }

// GetDataRequest reads a znode's data, optionally leaving a data watch.
type GetDataRequest struct {
	Path  string
	Watch bool
}

// Encode implements Record.
func (r *GetDataRequest) Encode(e *Encoder) { e.String(r.Path); e.Bool(r.Watch) }

// Decode implements Record.
func (r *GetDataRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Watch = d.Bool()
	return d.Err()
}

// GetDataResponse answers getData (and reconfig). Nil Data is sent as a null
// buffer.
type GetDataResponse struct {
	Data []byte
	Stat Stat
}

// Encode implements Record.
func (r *GetDataResponse) Encode(e *Encoder) { e.Buffer(r.Data); r.Stat.Encode(e) }

// Decode implements Record.
func (r *GetDataResponse) Decode(d *Decoder) error {
	r.Data = d.Buffer()
	return r.Stat.Decode(d)
}

// SetDataRequest replaces a znode's data if its version matches (-1 matches
// any).
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

// Encode implements Record.
func (r *SetDataRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	e.Int(r.Version)
}

// Decode implements Record.
func (r *SetDataRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.Version = d.Int()
	return d.Err()
}

// SetDataResponse answers setData, and also a standalone check.
type SetDataResponse struct {
	Stat Stat
}

// Encode implements Record.
func (r *SetDataResponse) Encode(e *Encoder) { r.Stat.Encode(e) }

// Decode implements Record.
func (r *SetDataResponse) Decode(d *Decoder) error { return r.Stat.Decode(d) }

// GetACLRequest reads a znode's ACL.
type GetACLRequest struct {
	Path string
}

// Encode implements Record.
func (r *GetACLRequest) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *GetACLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// GetACLResponse answers getACL.
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

// Encode implements Record.
func (r *GetACLResponse) Encode(e *Encoder) { EncodeACLs(e, r.ACL); r.Stat.Encode(e) }

// Decode implements Record.
func (r *GetACLResponse) Decode(d *Decoder) error {
	r.ACL = DecodeACLs(d)
	return r.Stat.Decode(d)
}

// SetACLRequest replaces a znode's ACL if its aversion matches (-1 matches
// any).
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

// Encode implements Record.
func (r *SetACLRequest) Encode(e *Encoder) {
	e.String(r.Path)
	EncodeACLs(e, r.ACL)
	e.Int(r.Version)
}

// Decode implements Record.
func (r *SetACLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.ACL = DecodeACLs(d)
	r.Version = d.Int()
	return d.Err()
}

// SetACLResponse answers setACL.
type SetACLResponse struct {
	Stat Stat
}

// Encode implements Record.
func (r *SetACLResponse) Encode(e *Encoder) { r.Stat.Encode(e) }

// Decode implements Record.
func (r *SetACLResponse) Decode(d *Decoder) error { return r.Stat.Decode(d) }

// GetChildrenRequest lists a znode's children, optionally leaving a child
// watch.
type GetChildrenRequest struct {
	Path  string
	Watch bool
}

// Encode implements Record.
func (r *GetChildrenRequest) Encode(e *Encoder) { e.String(r.Path); e.Bool(r.Watch) }

// Decode implements Record.
func (r *GetChildrenRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Watch = d.Bool()
	return d.Err()
}

// GetChildrenResponse answers getChildren with child names (not paths).
type GetChildrenResponse struct {
	Children []string
}

// Encode implements Record.
func (r *GetChildrenResponse) Encode(e *Encoder) { e.Strings(r.Children) }

// Decode implements Record.
func (r *GetChildrenResponse) Decode(d *Decoder) error {
	r.Children = d.Strings()
	return d.Err()
}

// GetChildren2Request is GetChildrenRequest whose answer includes the
// parent's Stat.
type GetChildren2Request struct {
	Path  string
	Watch bool
}

// Encode implements Record.
func (r *GetChildren2Request) Encode(e *Encoder) { e.String(r.Path); e.Bool(r.Watch) }

// Decode implements Record.
func (r *GetChildren2Request) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Watch = d.Bool()
	return d.Err()
}

// GetChildren2Response answers getChildren2.
type GetChildren2Response struct {
	Children []string
	Stat     Stat
}

// Encode implements Record.
func (r *GetChildren2Response) Encode(e *Encoder) { e.Strings(r.Children); r.Stat.Encode(e) }

// Decode implements Record.
func (r *GetChildren2Response) Decode(d *Decoder) error {
	r.Children = d.Strings()
	return r.Stat.Decode(d)
}

// SyncRequest asks the server to catch up with the leader before answering.
type SyncRequest struct {
	Path string
}

// Encode implements Record.
func (r *SyncRequest) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *SyncRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// SyncResponse answers sync by echoing the path.
type SyncResponse struct {
	Path string
}

// Encode implements Record.
func (r *SyncResponse) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *SyncResponse) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// CheckVersionRequest asserts a znode's version (op check, mostly inside
// multi).
type CheckVersionRequest struct {
	Path    string
	Version int32
}

// Encode implements Record.
func (r *CheckVersionRequest) Encode(e *Encoder) { e.String(r.Path); e.Int(r.Version) }

// Decode implements Record.
func (r *CheckVersionRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Version = d.Int()
	return d.Err()
}

// GetEphemeralsRequest lists the session's ephemeral znodes under a prefix.
type GetEphemeralsRequest struct {
	PrefixPath string
}

// Encode implements Record.
func (r *GetEphemeralsRequest) Encode(e *Encoder) { e.String(r.PrefixPath) }

// Decode implements Record.
func (r *GetEphemeralsRequest) Decode(d *Decoder) error {
	r.PrefixPath = d.String()
	return d.Err()
}

// GetEphemeralsResponse answers getEphemerals with full paths.
type GetEphemeralsResponse struct {
	Ephemerals []string
}

// Encode implements Record.
func (r *GetEphemeralsResponse) Encode(e *Encoder) { e.Strings(r.Ephemerals) }

// Decode implements Record.
func (r *GetEphemeralsResponse) Decode(d *Decoder) error {
	r.Ephemerals = d.Strings()
	return d.Err()
}

// GetAllChildrenNumberRequest counts all descendants of a znode.
type GetAllChildrenNumberRequest struct {
	Path string
}

// Encode implements Record.
func (r *GetAllChildrenNumberRequest) Encode(e *Encoder) { e.String(r.Path) }

// Decode implements Record.
func (r *GetAllChildrenNumberRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// GetAllChildrenNumberResponse answers getAllChildrenNumber.
type GetAllChildrenNumberResponse struct {
	TotalNumber int32
}

// Encode implements Record.
func (r *GetAllChildrenNumberResponse) Encode(e *Encoder) { e.Int(r.TotalNumber) }

// Decode implements Record.
func (r *GetAllChildrenNumberResponse) Decode(d *Decoder) error {
	r.TotalNumber = d.Int()
	return d.Err()
}
