package server

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zkgo/zkgo/proto"
)

// txnVersion is the first int of every encoded txn, so the format can evolve
// without misreading old logs. Version 2 added flags; version 1 txns are
// still read (see decodeTxn).
const (
	txnVersion   = 2
	txnVersionV1 = 1
)

// txnFlags carry the proposing server's settings that change how a txn
// applies, so that every replica applies it alike whatever its own zoo.cfg
// says.
type txnFlags uint32

const (
	// txnExtendedTypes: the proposer has extendedTypesEnabled (TTL nodes).
	txnExtendedTypes txnFlags = 1 << iota
	// txnReapCheck: a deleteContainer txn carries the czxid of the node
	// the reaper chose, and applies only if that node is still there and
	// still due (see tree.ReapDue): between the reaper's choice and the
	// apply, a client may have deleted and re-created the node, or given
	// it a child or new data.
	txnReapCheck
)

// txn is one ZooKeeper transaction as proposed to the replicated log: the
// client's request plus everything needed to apply it deterministically on
// every replica (the leader's clock, the session, its auth identities).
type txn struct {
	origin    int64 // id of the server that proposed it: it holds the waiter
	reqID     int64 // waiter key on the origin server
	sessionID int64
	cxid      int32
	time      int64 // ms since the epoch, the leader's clock
	op        proto.OpCode
	flags     txnFlags

	timeout int32  // createSession
	passwd  []byte // createSession
	body    []byte // the client's request record, for ops that carry one
	auth    []proto.Id
	path    string // deleteContainer
	czxid   int64  // deleteContainer with txnReapCheck
}

// sizeHint is about the encoded size of t, so encoding allocates once.
func (t *txn) sizeHint() int {
	n := 76 + len(t.body) + len(t.passwd) + len(t.path)
	for _, id := range t.auth {
		n += 8 + len(id.Scheme) + len(id.ID)
	}
	return n
}

func (t *txn) encode(e *proto.Encoder) {
	e.Int(txnVersion)
	e.Long(t.origin)
	e.Long(t.reqID)
	e.Long(t.sessionID)
	e.Int(t.cxid)
	e.Long(t.time)
	e.Int(int32(t.op))
	e.Int(int32(t.flags))
	switch t.op {
	case proto.OpCreateSession:
		e.Int(t.timeout)
		e.Buffer(t.passwd)
	case proto.OpCloseSession:
	case proto.OpDeleteContainer:
		e.String(t.path)
		if t.flags&txnReapCheck != 0 {
			e.Long(t.czxid)
		}
	default:
		e.Buffer(t.body)
		e.Int(int32(len(t.auth)))
		for i := range t.auth {
			t.auth[i].Encode(e)
		}
	}
}

// txnTimeOffset is where the time sits in an encoded txn of the current
// version: after version, origin, reqID, sessionID and cxid.
const txnTimeOffset = 4 + 8 + 8 + 8 + 4

// stampTime overwrites the time of an encoded txn in place.
func stampTime(b []byte, ms int64) error {
	if len(b) < txnTimeOffset+8 || binary.BigEndian.Uint32(b) != txnVersion {
		return fmt.Errorf("server: forwarded txn of %d bytes is not a version %d txn", len(b), txnVersion)
	}
	binary.BigEndian.PutUint64(b[txnTimeOffset:], uint64(ms))
	return nil
}

// errUnknownTxnVersion is wrapped by decodeTxn's error for a txn written
// by a newer zkgo: this server cannot apply it, nor anything after it.
var errUnknownTxnVersion = errors.New("server: unknown txn version")

// decodeTxn decodes a txn from the log. Version 1 txns, written before
// settings travelled in the txn, take v1Flags: the settings of this server,
// which is what applied them when they were written.
func decodeTxn(b []byte, v1Flags txnFlags) (*txn, error) {
	d := proto.NewDecoder(b)
	d.MaxBuffer = len(b)
	v := d.Int()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("server: decoding txn: %w", err)
	}
	if v != txnVersion && v != txnVersionV1 {
		return nil, fmt.Errorf("%w %d (written by a newer zkgo?)", errUnknownTxnVersion, v)
	}
	t := &txn{
		origin:    d.Long(),
		reqID:     d.Long(),
		sessionID: d.Long(),
		cxid:      d.Int(),
		time:      d.Long(),
		op:        proto.OpCode(d.Int()),
		flags:     v1Flags,
	}
	if v >= 2 {
		t.flags = txnFlags(d.Int())
	}
	switch t.op {
	case proto.OpCreateSession:
		t.timeout = d.Int()
		t.passwd = d.Buffer()
	case proto.OpCloseSession:
	case proto.OpDeleteContainer:
		t.path = d.String()
		if t.flags&txnReapCheck != 0 {
			t.czxid = d.Long()
		}
	default:
		t.body = d.Buffer()
		n := d.Count("auth", 8)
		for i := 0; i < n; i++ {
			var id proto.Id
			if id.Decode(d) != nil {
				break
			}
			t.auth = append(t.auth, id)
		}
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("server: decoding txn: %w", err)
	}
	return t, nil
}
