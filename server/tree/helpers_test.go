package tree

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/btree"

	"github.com/zkgo/zkgo/proto"
)

// worldAuth treats every ACL as if the requester were world:anyone: perm is
// granted when the first entry's perms include it. Tests give nodes
// world:anyone ACLs with fewer perms to make a check fail.
func worldAuth(acl []proto.ACL, perm int32) error {
	if len(acl) > 0 && acl[0].Perms&perm != 0 {
		return nil
	}
	return proto.ErrNoAuth
}

// perms returns a world:anyone ACL with the given perms.
func perms(p int32) []proto.ACL {
	return []proto.ACL{{Perms: p, ID: proto.Id{Scheme: "world", ID: "anyone"}}}
}

var open = proto.OpenACLUnsafe

// mustCreate creates a persistent node with open ACL and fails the test on
// error.
func mustCreate(tb testing.TB, tr *Tree, path string, zxid int64) string {
	tb.Helper()
	p, _, err := tr.Create(CreateOp{Path: path, ACL: open}, zxid, zxid*1000, nil)
	if err != nil {
		tb.Fatalf("create %q: %v", path, err)
	}
	return p
}

// verify checks every invariant of tr that can be recomputed from its nodes:
// order, parents, child counts, indexes and the data size.
func verify(tb testing.TB, tr *Tree) {
	tb.Helper()
	children := map[string]int32{}
	nodes := map[string]*Node{}
	var size int64
	var eph []ephItem
	var containers, ttls []string
	var prev *Node
	tr.nodes.Ascend(func(n *Node) bool {
		p := n.path()
		if prev != nil && !nodeLess(prev, n) {
			tb.Errorf("order: %q before %q", prev.path(), p)
		}
		prev = n
		if r := pathProblem(p); r != "" {
			tb.Errorf("stored invalid path %q: %s", p, r)
		}
		if int(n.slash) != strings.LastIndexByte(p, '/') {
			tb.Errorf("%q: slash %d", p, n.slash)
		}
		if got, ok := tr.Get(p); !ok || got != n {
			tb.Errorf("Get(%q) does not find the stored node", p)
		}
		nodes[p] = n
		if p != "/" {
			parent, _, _ := splitParent(p)
			if _, ok := nodes[parent]; !ok {
				tb.Errorf("%q: parent %q missing or after it", p, parent)
			}
			children[parent]++
		}
		size += javaLen(p) + int64(n.DataLength())
		switch n.mode {
		case ModeEphemeral:
			eph = append(eph, ephItem{owner: n.owner, path: p})
		case ModeContainer:
			containers = append(containers, p)
		case ModeTTL:
			ttls = append(ttls, p)
		}
		return true
	})
	for p, n := range nodes {
		if n.numChildren != children[p] {
			tb.Errorf("%q: numChildren %d, has %d", p, n.numChildren, children[p])
		}
	}
	if size != tr.dataSize {
		tb.Errorf("dataSize %d, recomputed %d", tr.dataSize, size)
	}
	var gotEph []ephItem
	tr.ephemerals.Ascend(func(e ephItem) bool {
		if e.seq == 0 || e.seq > tr.ephSeq {
			tb.Errorf("ephemeral %q: seq %d, %d insertions so far", e.path, e.seq, tr.ephSeq)
		}
		e.seq = 0
		gotEph = append(gotEph, e)
		return true
	})
	slices.SortFunc(eph, func(a, b ephItem) int {
		if ephLess(a, b) {
			return -1
		}
		if ephLess(b, a) {
			return 1
		}
		return 0
	})
	if !slices.Equal(eph, gotEph) {
		tb.Errorf("ephemeral index %v, nodes say %v", gotEph, eph)
	}
	owned := map[int64]int{}
	for _, e := range eph {
		owned[e.owner]++
	}
	tr.ephCounts.Ascend(func(c ephCount) bool {
		if c.n != owned[c.owner] || c.peak < c.n {
			tb.Errorf("session %d: counted %d ephemerals (peak %d), owns %d", c.owner, c.n, c.peak, owned[c.owner])
		}
		delete(owned, c.owner)
		return true
	})
	if len(owned) > 0 {
		tb.Errorf("sessions without an ephemeral count: %v", owned)
	}
	for name, pair := range map[string][2][]string{
		"containers": {collect(tr.containers.Ascend), sorted(containers)},
		"ttls":       {collect(tr.ttls.Ascend), sorted(ttls)},
	} {
		if !slices.Equal(pair[0], pair[1]) {
			tb.Errorf("%s index %v, nodes say %v", name, pair[0], pair[1])
		}
	}
}

func collect(ascend func(btree.ItemIteratorG[string])) []string {
	var out []string
	ascend(func(s string) bool { out = append(out, s); return true })
	return out
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// fingerprint captures the whole observable state of tr: its serialised
// nodes plus its indexes and counters.
func fingerprint(tb testing.TB, tr *Tree) string {
	tb.Helper()
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		tb.Fatal(err)
	}
	var eph []string
	for s, p := range tr.AllEphemerals() {
		eph = append(eph, fmt.Sprintf("%d:%s", s, p))
	}
	return fmt.Sprintf("%x|%v|%v|%v|%d|%d", b.Bytes(), eph, collect(tr.containers.Ascend),
		collect(tr.ttls.Ascend), tr.ApproximateDataSize(), tr.Len())
}

func mustStat(tb testing.TB, tr *Tree, path string) proto.Stat {
	tb.Helper()
	n, ok := tr.Get(path)
	if !ok {
		tb.Fatalf("%q missing", path)
	}
	return n.Stat()
}
