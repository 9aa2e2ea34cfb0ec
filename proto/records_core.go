package proto

// Id is an ACL identity: a scheme ("world", "digest", "ip", "auth", "super")
// and an id within it.
type Id struct {
	Scheme string
	ID     string
}

// Encode implements Record.
func (r *Id) Encode(e *Encoder) { e.String(r.Scheme); e.String(r.ID) }

// Decode implements Record.
func (r *Id) Decode(d *Decoder) error {
	r.Scheme = d.String()
	r.ID = d.String()
	return d.Err()
}

// ACL grants Perms (PermRead|...) to an identity.
type ACL struct {
	Perms int32
	ID    Id
}

// Encode implements Record.
func (r *ACL) Encode(e *Encoder) { e.Int(r.Perms); r.ID.Encode(e) }

// Decode implements Record.
func (r *ACL) Decode(d *Decoder) error {
	r.Perms = d.Int()
	return r.ID.Decode(d)
}

// Common ACL lists (ZooDefs.Ids).
var (
	// OpenACLUnsafe gives everyone every permission.
	OpenACLUnsafe = []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}
	// CreatorAllACL gives every permission to the creator's authenticated ids.
	CreatorAllACL = []ACL{{Perms: PermAll, ID: Id{Scheme: "auth", ID: ""}}}
	// ReadACLUnsafe gives everyone read permission.
	ReadACLUnsafe = []ACL{{Perms: PermRead, ID: Id{Scheme: "world", ID: "anyone"}}}
)

// EncodeACLs appends a vector of ACLs; nil is encoded as count -1.
func EncodeACLs(e *Encoder, acls []ACL) {
	if acls == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(acls)))
	for i := range acls {
		acls[i].Encode(e)
	}
}

// DecodeACLs reads a vector of ACLs; count -1 yields nil.
func DecodeACLs(d *Decoder) []ACL {
	n := d.Count("vector<ACL>", 12)
	if n < 0 {
		return nil
	}
	acls := make([]ACL, n)
	for i := range acls {
		if acls[i].Decode(d) != nil {
			return nil
		}
	}
	return acls
}

// Stat is a znode's metadata as clients see it (68 bytes on the wire).
type Stat struct {
	Czxid          int64 // zxid of the create
	Mzxid          int64 // zxid of the last data change
	Ctime          int64 // create time, ms since the epoch
	Mtime          int64 // last data change time, ms since the epoch
	Version        int32 // number of data changes
	Cversion       int32 // number of child creates and deletes
	Aversion       int32 // number of ACL changes
	EphemeralOwner int64 // owning session for ephemerals, else 0
	DataLength     int32
	NumChildren    int32
	Pzxid          int64 // zxid of the last child create or delete
}

// StatSize is the encoded size of a Stat.
const StatSize = 68

// Encode implements Record.
func (r *Stat) Encode(e *Encoder) {
	e.Long(r.Czxid)
	e.Long(r.Mzxid)
	e.Long(r.Ctime)
	e.Long(r.Mtime)
	e.Int(r.Version)
	e.Int(r.Cversion)
	e.Int(r.Aversion)
	e.Long(r.EphemeralOwner)
	e.Int(r.DataLength)
	e.Int(r.NumChildren)
	e.Long(r.Pzxid)
}

// Decode implements Record.
func (r *Stat) Decode(d *Decoder) error {
	r.Czxid = d.Long()
	r.Mzxid = d.Long()
	r.Ctime = d.Long()
	r.Mtime = d.Long()
	r.Version = d.Int()
	r.Cversion = d.Int()
	r.Aversion = d.Int()
	r.EphemeralOwner = d.Long()
	r.DataLength = d.Int()
	r.NumChildren = d.Int()
	r.Pzxid = d.Long()
	return d.Err()
}

// RequestHeader starts every client request after the handshake.
type RequestHeader struct {
	Xid  int32
	Type OpCode
}

// Encode implements Record.
func (r *RequestHeader) Encode(e *Encoder) { e.Int(r.Xid); e.Int(int32(r.Type)) }

// Decode implements Record.
func (r *RequestHeader) Decode(d *Decoder) error {
	r.Xid = d.Int()
	r.Type = OpCode(d.Int())
	return d.Err()
}

// ReplyHeader starts every server reply after the handshake.
type ReplyHeader struct {
	Xid  int32
	Zxid int64
	Err  Code
}

// ReplyHeaderSize is the encoded size of a ReplyHeader.
const ReplyHeaderSize = 16

// Encode implements Record.
func (r *ReplyHeader) Encode(e *Encoder) { e.Int(r.Xid); e.Long(r.Zxid); e.Int(int32(r.Err)) }

// Decode implements Record.
func (r *ReplyHeader) Decode(d *Decoder) error {
	r.Xid = d.Int()
	r.Zxid = d.Long()
	r.Err = Code(d.Int())
	return d.Err()
}
