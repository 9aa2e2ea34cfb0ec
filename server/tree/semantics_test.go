package tree

import (
	"slices"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// The expectations in this file were read off Apache ZooKeeper 3.8.0
// (Debian package, standalone) with kazoo, and match PROTOCOL.md.

// PROTOCOL.md §1.10: "/zookeeper" and "/zookeeper/config" always exist.
// Observed: the Stat, data and ACL of the four initial nodes, mntr
// zk_znode_count 5 and zk_approximate_data_size 44.
func TestInitialTreeMatchesApache(t *testing.T) {
	tr := New()
	tests := []struct {
		path string
		stat proto.Stat
		acl  []proto.ACL
	}{
		{"/", proto.Stat{Cversion: -1, NumChildren: 1}, proto.OpenACLUnsafe},
		{"/zookeeper", proto.Stat{Cversion: -2, NumChildren: 2}, proto.OpenACLUnsafe},
		{"/zookeeper/quota", proto.Stat{}, proto.OpenACLUnsafe},
		{"/zookeeper/config", proto.Stat{Aversion: -1}, proto.ReadACLUnsafe},
	}
	for _, tc := range tests {
		n, ok := tr.Get(tc.path)
		if !ok {
			t.Fatalf("%q missing", tc.path)
		}
		if n.Stat() != tc.stat {
			t.Errorf("%q: stat %+v, want %+v", tc.path, n.Stat(), tc.stat)
		}
		if !slices.Equal(n.ACL(), tc.acl) {
			t.Errorf("%q: ACL %v", tc.path, n.ACL())
		}
		if d := n.Data(); d == nil || len(d) != 0 {
			t.Errorf("%q: data %#v, want empty (not null)", tc.path, d)
		}
	}
	if tr.NodeCount() != 5 || tr.ApproximateDataSize() != 44 || tr.EphemeralCount() != 0 {
		t.Errorf("NodeCount %d, ApproximateDataSize %d", tr.NodeCount(), tr.ApproximateDataSize())
	}
	if n := tr.AllChildrenNumber("/"); n != 3 {
		t.Errorf("AllChildrenNumber(/) = %d", n)
	}
	verify(t, tr)
}

// PROTOCOL.md §1.6 and §5: the parent's cversion seen by clients goes up on
// every child create and delete, while the sequential suffix is the count of
// creates only (Apache keeps creates in StatPersisted.cversion and reports
// cversion*2-numChildren). Observed zxid by zxid on Apache 3.8.0.
func TestSequentialNamingAfterDeletesMatchesApache(t *testing.T) {
	tr := New()
	type parentStat struct {
		cversion, numChildren int32
		pzxid                 int64
	}
	steps := []struct {
		zxid     int64
		create   string // or
		del      string
		seq      bool
		wantPath string
		want     parentStat
	}{
		{zxid: 3, create: "/p", wantPath: "/p", want: parentStat{0, 0, 3}},
		{zxid: 4, create: "/p/a", wantPath: "/p/a", want: parentStat{1, 1, 4}},
		{zxid: 5, del: "/p/a", want: parentStat{2, 0, 5}},
		{zxid: 6, create: "/p/s-", seq: true, wantPath: "/p/s-0000000001", want: parentStat{3, 1, 6}},
		{zxid: 7, create: "/p/b", wantPath: "/p/b", want: parentStat{4, 2, 7}},
		{zxid: 8, create: "/p/c", wantPath: "/p/c", want: parentStat{5, 3, 8}},
		{zxid: 9, del: "/p/b", want: parentStat{6, 2, 9}},
		{zxid: 10, create: "/p/s-", seq: true, wantPath: "/p/s-0000000004", want: parentStat{7, 3, 10}},
	}
	for _, s := range steps {
		if s.del != "" {
			if err := tr.Delete(s.del, -1, s.zxid, nil); err != nil {
				t.Fatalf("delete %q: %v", s.del, err)
			}
		} else {
			mode := proto.ModePersistent
			if s.seq {
				mode = proto.ModePersistentSequential
			}
			p, st, err := tr.Create(CreateOp{Path: s.create, ACL: open, Mode: mode}, s.zxid, 1, nil)
			if err != nil || p != s.wantPath {
				t.Fatalf("create %q: %q %v", s.create, p, err)
			}
			if st.Czxid != s.zxid || st.Pzxid != s.zxid || st.Mzxid != s.zxid {
				t.Errorf("create %q: stat %+v", p, st)
			}
		}
		st := mustStat(t, tr, "/p")
		got := parentStat{st.Cversion, st.NumChildren, st.Pzxid}
		if got != s.want {
			t.Errorf("zxid %d: /p %+v, want %+v", s.zxid, got, s.want)
		}
	}
	verify(t, tr)
}

// PROTOCOL.md §1.10 and observed: a sequential create validates the path
// with its suffix, so a trailing "/" or a "." last segment is fine.
func TestSequentialSuffixMakesPathValid(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/q", 1)
	for i, tc := range []struct{ path, want string }{
		{"/q/", "/q/0000000000"},
		{"/q/.", "/q/.0000000001"},
		{"/q/..", "/q/..0000000002"},
		{"/", "/0000000001"},
	} {
		p, _, err := tr.Create(CreateOp{Path: tc.path, ACL: open, Mode: proto.ModePersistentSequential}, int64(i+2), 1, nil)
		if err != nil || p != tc.want {
			t.Errorf("create seq %q = %q, %v; want %q", tc.path, p, err, tc.want)
		}
	}
	verify(t, tr)
}

// PROTOCOL.md §5: "Container and TTL nodes show ephemeralOwner = 0 to
// clients."
func TestContainerAndTTLOwnerHidden(t *testing.T) {
	tr := New()
	for _, c := range []CreateOp{
		{Path: "/c", ACL: open, Mode: proto.ModeContainer, Owner: 99},
		{Path: "/t", ACL: open, Mode: proto.ModePersistentWithTTL, TTL: 100, Owner: 99},
	} {
		_, st, err := tr.Create(c, 1, 1, nil)
		if err != nil || st.EphemeralOwner != 0 {
			t.Errorf("%q: %+v %v", c.Path, st, err)
		}
	}
}
