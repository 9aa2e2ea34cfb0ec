package tree

import (
	"encoding/binary"
	"slices"
	"weak"

	"github.com/zkgo/zkgo/proto"
)

// aclList is an interned ACL list. Nodes hold a pointer to it, so equal
// lists cost one slice however many nodes use them.
type aclList struct {
	acls []proto.ACL
}

// aclTable interns ACL lists for one tree. It holds the lists weakly, so a
// list no node uses any more is collected and its entry swept later; the
// table never decides whether a list is live, the garbage collector does.
type aclTable struct {
	byKey   map[string]weak.Pointer[aclList]
	last    *aclList // the most recently interned list: the common case
	scratch []byte
	sweepAt int
}

func newACLTable() *aclTable {
	return &aclTable{byKey: make(map[string]weak.Pointer[aclList]), sweepAt: 1024}
}

// intern returns the shared list equal to acls, creating it if needed. hint
// is a list likely to be equal (the parent's), checked first. acls is copied,
// never retained.
func (a *aclTable) intern(acls []proto.ACL, hint *aclList) *aclList {
	if hint != nil && slices.Equal(hint.acls, acls) {
		return hint
	}
	if a.last != nil && slices.Equal(a.last.acls, acls) {
		return a.last
	}
	a.scratch = appendACLKey(a.scratch[:0], acls)
	if wp, ok := a.byKey[string(a.scratch)]; ok {
		if l := wp.Value(); l != nil {
			a.last = l
			return l
		}
	}
	l := &aclList{acls: slices.Clone(acls)}
	a.byKey[string(a.scratch)] = weak.Make(l)
	a.last = l
	if len(a.byKey) >= a.sweepAt {
		a.sweep()
	}
	return l
}

// sweep drops entries whose list was collected.
func (a *aclTable) sweep() {
	for k, wp := range a.byKey {
		if wp.Value() == nil {
			delete(a.byKey, k)
		}
	}
	a.sweepAt = max(1024, 2*len(a.byKey))
}

// appendACLKey appends an unambiguous encoding of acls.
func appendACLKey(dst []byte, acls []proto.ACL) []byte {
	for _, a := range acls {
		dst = binary.BigEndian.AppendUint32(dst, uint32(a.Perms))
		dst = binary.AppendUvarint(dst, uint64(len(a.ID.Scheme)))
		dst = append(dst, a.ID.Scheme...)
		dst = binary.AppendUvarint(dst, uint64(len(a.ID.ID)))
		dst = append(dst, a.ID.ID...)
	}
	return dst
}
