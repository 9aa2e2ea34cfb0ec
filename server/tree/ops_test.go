package tree

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// fixture builds the tree the error-order cases run against (ACLs are
// world:anyone with the perms shown; see worldAuth):
//
//	/q (all)   /q/a
//	/ro (read) /ro/c
//	/noread (all but read)
//	/e  ephemeral of session 7
//	/full  /full/x
func fixture(tb testing.TB) *Tree {
	tb.Helper()
	tr := New()
	for _, c := range []CreateOp{
		{Path: "/q", ACL: open},
		{Path: "/q/a", ACL: open},
		{Path: "/ro", ACL: perms(proto.PermRead)},
		{Path: "/ro/c", ACL: open},
		{Path: "/noread", ACL: perms(proto.PermAll &^ proto.PermRead)},
		{Path: "/e", ACL: open, Mode: proto.ModeEphemeral, Owner: 7},
		{Path: "/full", ACL: open},
		{Path: "/full/x", ACL: open},
	} {
		if _, _, err := tr.Create(c, 1, 1, nil); err != nil {
			tb.Fatalf("fixture %q: %v", c.Path, err)
		}
	}
	return tr
}

func TestErrorOrder(t *testing.T) {
	create := func(path string, mode proto.CreateMode, acl []proto.ACL) func(*Tree) error {
		return func(tr *Tree) error {
			_, _, err := tr.Create(CreateOp{Path: path, ACL: acl, Mode: mode, Owner: 9, TTL: 1000}, 2, 2, worldAuth)
			return err
		}
	}
	del := func(path string, version int32) func(*Tree) error {
		return func(tr *Tree) error { return tr.Delete(path, version, 2, worldAuth) }
	}
	set := func(path string, version int32) func(*Tree) error {
		return func(tr *Tree) error {
			_, err := tr.SetData(path, []byte("x"), version, 2, 2, worldAuth)
			return err
		}
	}
	setACL := func(path string, acl []proto.ACL, version int32) func(*Tree) error {
		return func(tr *Tree) error {
			_, err := tr.SetACL(path, acl, version, 2, worldAuth)
			return err
		}
	}
	check := func(path string, version int32) func(*Tree) error {
		return func(tr *Tree) error { return tr.Check(path, version, worldAuth) }
	}
	delContainer := func(path string) func(*Tree) error {
		return func(tr *Tree) error { return tr.DeleteContainer(path, 2) }
	}
	const P, S = proto.ModePersistent, proto.ModePersistentSequential
	tests := []struct {
		name string
		op   func(*Tree) error
		want proto.Code
	}{
		// create: mode, TTL, path shape, ACL, parent, CREATE, full path,
		// exists, ephemeral parent (PrepRequestProcessor.pRequest2TxnCreate).
		{"create bad mode", create("/nope/x", 9, open), proto.ErrBadArguments},
		{"create ttl", create("/q/t", proto.ModePersistentWithTTL, open), proto.OK},
		{"create no slash before ACL", create("abc", P, nil), proto.ErrBadArguments},
		{"create NUL before ACL", create("/q/a\x00", P, nil), proto.ErrBadArguments},
		{"create empty ACL before parent", create("/nope/x", P, nil), proto.ErrInvalidACL},
		{"create no parent", create("/nope/x", P, open), proto.ErrNoNode},
		{"create relative without leading slash", create("a/b", P, open), proto.ErrNoNode},
		{"create empty segment means no parent", create("/q//b", P, open), proto.ErrNoNode},
		{"create dot parent", create("/nope/.", P, open), proto.ErrNoNode},
		{"create NoAuth before bad path", create("/ro/.", P, open), proto.ErrNoAuth},
		{"create NoAuth before exists", create("/ro/c", P, open), proto.ErrNoAuth},
		{"create NoAuth in ephemeral-free parent", create("/ro/new", P, open), proto.ErrNoAuth},
		{"create bad last segment", create("/q/.", P, open), proto.ErrBadArguments},
		{"create trailing slash", create("/q/", P, open), proto.ErrBadArguments},
		{"create bad char", create("/q/a\x01", P, open), proto.ErrBadArguments},
		{"create bad char missing parent", create("/nope/a\x01", P, open), proto.ErrNoNode},
		{"create supplementary char", create("/q/\U0001F600", P, open), proto.ErrBadArguments},
		{"create root exists", create("/", P, open), proto.ErrNodeExists},
		{"create exists", create("/q/a", P, open), proto.ErrNodeExists},
		{"create exists under ephemeral check order", create("/e", P, open), proto.ErrNodeExists},
		{"create under ephemeral", create("/e/x", P, open), proto.ErrNoChildrenForEphemerals},
		{"create bad path under ephemeral", create("/e/.", P, open), proto.ErrBadArguments},
		{"create seq under ephemeral", create("/e/", S, open), proto.ErrNoChildrenForEphemerals},
		{"create seq trailing slash ok", create("/q/", S, open), proto.OK},
		{"create seq dot ok", create("/q/.", S, open), proto.OK},
		{"create seq dotdot ok", create("/q/..", S, open), proto.OK},
		{"create seq root ok", create("/", S, open), proto.OK},
		{"create seq bad char", create("/q/\x01", S, open), proto.ErrBadArguments},
		{"create ephemeral", create("/q/eph", proto.ModeEphemeral, open), proto.OK},
		{"create container", create("/q/c", proto.ModeContainer, open), proto.OK},

		// delete: shape/special, parent, DELETE, node, version, children.
		{"delete root", del("/", -1), proto.ErrBadArguments},
		{"delete /zookeeper", del("/zookeeper", -1), proto.ErrBadArguments},
		{"delete /zookeeper/quota", del("/zookeeper/quota", -1), proto.ErrBadArguments},
		{"delete /zookeeper/config", del("/zookeeper/config", -1), proto.ErrBadArguments},
		{"delete no slash", del("abc", -1), proto.ErrBadArguments},
		{"delete NUL", del("/q\x00", -1), proto.ErrBadArguments},
		{"delete trailing slash", del("/q/", -1), proto.ErrNoNode},
		{"delete no parent", del("/nope/x", -1), proto.ErrNoNode},
		{"delete NoAuth before NoNode", del("/ro/none", -1), proto.ErrNoAuth},
		{"delete NoAuth", del("/ro/c", -1), proto.ErrNoAuth},
		{"delete missing", del("/q/none", 5), proto.ErrNoNode},
		{"delete BadVersion before NotEmpty", del("/full", 3), proto.ErrBadVersion},
		{"delete NotEmpty", del("/full", 0), proto.ErrNotEmpty},
		{"delete version matches", del("/q/a", 0), proto.OK},
		{"delete leaf", del("/full/x", -1), proto.OK},

		// setData: path, node, WRITE, version.
		{"set trailing slash", set("/q/", -1), proto.ErrBadArguments},
		{"set no slash", set("abc", -1), proto.ErrBadArguments},
		{"set missing any version", set("/nope", 5), proto.ErrNoNode},
		{"set NoAuth before BadVersion", set("/ro", 5), proto.ErrNoAuth},
		{"set config needs WRITE", set("/zookeeper/config", -1), proto.ErrNoAuth},
		{"set BadVersion", set("/q", 5), proto.ErrBadVersion},
		{"set root", set("/", 0), proto.OK},
		{"set quota node", set("/zookeeper/quota", -1), proto.OK},

		// setACL: path, ACL, node, ADMIN, aversion.
		{"setACL bad path before empty ACL", setACL("/q/", nil, -1), proto.ErrBadArguments},
		{"setACL empty ACL before NoNode", setACL("/nope", nil, -1), proto.ErrInvalidACL},
		{"setACL missing", setACL("/nope", open, 3), proto.ErrNoNode},
		{"setACL NoAuth before BadVersion", setACL("/ro", open, 3), proto.ErrNoAuth},
		{"setACL BadVersion", setACL("/q", open, 3), proto.ErrBadVersion},
		{"setACL ok", setACL("/q", open, 0), proto.OK},

		// check: path, node, READ, version.
		{"check bad path", check("/q/", 0), proto.ErrBadArguments},
		{"check missing", check("/nope", 0), proto.ErrNoNode},
		{"check NoAuth before BadVersion", check("/noread", 7), proto.ErrNoAuth},
		{"check BadVersion", check("/q", 7), proto.ErrBadVersion},
		{"check ok", check("/q", 0), proto.OK},
		{"check any", check("/q", -1), proto.OK},

		// deleteContainer: shape/special, node, children, kind, parent.
		{"deleteContainer special", delContainer("/zookeeper"), proto.ErrBadArguments},
		{"deleteContainer missing", delContainer("/q/none"), proto.ErrNoNode},
		{"deleteContainer NotEmpty before kind", delContainer("/full"), proto.ErrNotEmpty},
		{"deleteContainer persistent", delContainer("/q/a"), proto.ErrBadVersion},
		{"deleteContainer ephemeral", delContainer("/e"), proto.ErrBadVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := fingerprint(t, tr)
			err := tc.op(tr)
			if got := proto.AsCode(err); got != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				if _, plain := err.(proto.Code); !plain {
					t.Errorf("error %v is not a plain proto.Code", err)
				}
				if after := fingerprint(t, tr); after != before {
					t.Errorf("failed op changed the tree")
				}
			}
			verify(t, tr)
		})
	}
}

func TestTTLValidation(t *testing.T) {
	for _, tc := range []struct {
		ttl  int64
		want proto.Code
	}{{0, proto.ErrBadArguments}, {-1, proto.ErrBadArguments}, {1, proto.OK}, {MaxTTL, proto.OK}, {MaxTTL + 1, proto.ErrBadArguments}} {
		tr := New()
		_, _, err := tr.Create(CreateOp{Path: "/nope/t", ACL: open, Mode: proto.ModePersistentWithTTL, TTL: tc.ttl}, 1, 1, nil)
		// TTL validation precedes the parent lookup.
		want := tc.want
		if want == proto.OK {
			want = proto.ErrNoNode
		}
		if proto.AsCode(err) != want {
			t.Errorf("ttl %d: got %v, want %v", tc.ttl, err, want)
		}
	}
}

func TestCreateStat(t *testing.T) {
	tr := New()
	path, st, err := tr.Create(CreateOp{Path: "/p", Data: []byte("hello"), ACL: open}, 10, 1000, nil)
	if err != nil || path != "/p" {
		t.Fatalf("create: %q %v", path, err)
	}
	want := proto.Stat{Czxid: 10, Mzxid: 10, Ctime: 1000, Mtime: 1000, DataLength: 5, Pzxid: 10}
	if st != want {
		t.Errorf("stat %+v, want %+v", st, want)
	}
	root := mustStat(t, tr, "/")
	// The root starts with cversion -1 (0 creates, 1 child); one create more.
	if root.Cversion != 0 || root.NumChildren != 2 || root.Pzxid != 10 || root.Mzxid != 0 {
		t.Errorf("root stat %+v", root)
	}
	verify(t, tr)
}

func TestDataNullAndEmpty(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/null", 1)
	if _, _, err := tr.Create(CreateOp{Path: "/empty", Data: []byte{}, ACL: open}, 2, 2, nil); err != nil {
		t.Fatal(err)
	}
	n, _ := tr.Get("/null")
	if n.Data() != nil || n.Stat().DataLength != 0 {
		t.Errorf("null data: %v", n.Data())
	}
	e, _ := tr.Get("/empty")
	if e.Data() == nil || len(e.Data()) != 0 {
		t.Errorf("empty data: %#v", e.Data())
	}
	if _, err := tr.SetData("/empty", nil, -1, 3, 3, nil); err != nil {
		t.Fatal(err)
	}
	if e, _ := tr.Get("/empty"); e.Data() != nil {
		t.Errorf("setData nil: %#v", e.Data())
	}
	// Data is copied: changing the caller's buffer changes nothing.
	buf := []byte("abc")
	if _, err := tr.SetData("/null", buf, -1, 4, 4, nil); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	if n, _ := tr.Get("/null"); string(n.Data()) != "abc" {
		t.Errorf("data aliased the caller's buffer: %q", n.Data())
	}
}

func TestSetDataAndSetACLStat(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/p", 5)
	mustCreate(t, tr, "/p/c", 6)
	st, err := tr.SetData("/p", []byte("xyz"), 0, 7, 7000, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Stat{Czxid: 5, Mzxid: 7, Ctime: 5000, Mtime: 7000, Version: 1, Cversion: 1, DataLength: 3, NumChildren: 1, Pzxid: 6}
	if st != want {
		t.Errorf("setData stat %+v, want %+v", st, want)
	}
	st, err = tr.SetACL("/p", perms(proto.PermRead), 0, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	want.Aversion = 1
	if st != want {
		t.Errorf("setACL stat %+v, want %+v", st, want)
	}
	if n, _ := tr.Get("/p"); n.ACL()[0].Perms != proto.PermRead {
		t.Errorf("ACL not replaced: %v", n.ACL())
	}
	if _, err := tr.SetACL("/p", open, 0, 9, nil); !errors.Is(err, proto.ErrBadVersion) {
		t.Errorf("setACL with stale aversion: %v", err)
	}
}

func TestVersionWraps(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/v", 1)
	old, _ := tr.Get("/v")
	n := *old
	n.version, n.aversion = math.MaxInt32, math.MaxInt32
	tr.store(old, &n)
	st, err := tr.SetData("/v", nil, math.MaxInt32, 2, 2, nil)
	if err != nil || st.Version != math.MinInt32 {
		t.Errorf("setData at MaxInt32: %+v %v", st, err)
	}
	st, err = tr.SetACL("/v", open, math.MaxInt32, 3, nil)
	if err != nil || st.Aversion != math.MinInt32 {
		t.Errorf("setACL at MaxInt32: %+v %v", st, err)
	}
}

func TestCversionWraps(t *testing.T) {
	// Apache computes the suffix from the parent's create count but only
	// stores a larger one, so at the wrap the count (and pzxid) stop moving
	// and the next sequential create collides.
	tr := New()
	mustCreate(t, tr, "/w", 1)
	old, _ := tr.Get("/w")
	n := *old
	n.cversion = math.MaxInt32
	tr.store(old, &n)
	p, _, err := tr.Create(CreateOp{Path: "/w/s", ACL: open, Mode: proto.ModePersistentSequential}, 2, 2, nil)
	if err != nil || p != "/w/s2147483647" {
		t.Fatalf("create at wrap: %q %v", p, err)
	}
	if nn, _ := tr.Get("/w"); nn.cversion != math.MaxInt32 || nn.pzxid != 1 || nn.numChildren != 1 {
		t.Errorf("parent after wrap: cversion %d pzxid %d children %d", nn.cversion, nn.pzxid, nn.numChildren)
	}
	if _, _, err := tr.Create(CreateOp{Path: "/w/s", ACL: open, Mode: proto.ModePersistentSequential}, 3, 3, nil); !errors.Is(err, proto.ErrNodeExists) {
		t.Errorf("second create at wrap: %v", err)
	}
	verify(t, tr)
}

func TestEphemeralOwnerZeroIsPersistent(t *testing.T) {
	tr := New()
	if _, _, err := tr.Create(CreateOp{Path: "/e", ACL: open, Mode: proto.ModeEphemeral}, 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := tr.Get("/e"); n.Mode() != ModePersistent || tr.EphemeralCount() != 0 {
		t.Errorf("mode %v, ephemerals %d", n.Mode(), tr.EphemeralCount())
	}
}

func TestModesAndOwners(t *testing.T) {
	tr := New()
	for _, c := range []CreateOp{
		{Path: "/eph", Mode: proto.ModeEphemeral, Owner: 0x1234},
		{Path: "/ephseq-", Mode: proto.ModeEphemeralSequential, Owner: 0x1234},
		{Path: "/con", Mode: proto.ModeContainer, Owner: 0x1234},
		{Path: "/ttl", Mode: proto.ModePersistentWithTTL, TTL: 5000, Owner: 0x1234},
		{Path: "/ttlseq-", Mode: proto.ModePersistentSequentialWithTTL, TTL: 6000},
		{Path: "/per", Mode: proto.ModePersistent, Owner: 0x1234},
	} {
		c.ACL = open
		if _, _, err := tr.Create(c, 1, 1, nil); err != nil {
			t.Fatalf("%q: %v", c.Path, err)
		}
	}
	tests := []struct {
		path         string
		mode         Mode
		owner, ttl   int64
		ephemeralOwn int64
	}{
		{"/eph", ModeEphemeral, 0x1234, 0, 0x1234},
		{"/ephseq-0000000001", ModeEphemeral, 0x1234, 0, 0x1234},
		{"/con", ModeContainer, 0, 0, 0},
		{"/ttl", ModeTTL, 0, 5000, 0},
		{"/ttlseq-0000000004", ModeTTL, 0, 6000, 0},
		{"/per", ModePersistent, 0, 0, 0},
	}
	for _, tc := range tests {
		n, ok := tr.Get(tc.path)
		if !ok {
			t.Errorf("%q missing", tc.path)
			continue
		}
		if n.Mode() != tc.mode || n.Owner() != tc.owner || n.TTL() != tc.ttl || n.Stat().EphemeralOwner != tc.ephemeralOwn {
			t.Errorf("%q: mode %v owner %d ttl %d stat owner %d", tc.path, n.Mode(), n.Owner(), n.TTL(), n.Stat().EphemeralOwner)
		}
	}
	verify(t, tr)
}

func TestChildrenAndCounts(t *testing.T) {
	tr := New()
	for i, p := range []string{"/a", "/a/b", "/a/b/c", "/a/bc", "/a-b", "/ab", "/a/b/c/d", "/a/b-", "/a/b-/x"} {
		mustCreate(t, tr, p, int64(i+1))
	}
	tests := []struct {
		path     string
		children []string
		all      int
	}{
		{"/", []string{"a", "a-b", "ab", "zookeeper"}, 12},
		{"/a", []string{"b", "b-", "bc"}, 6},
		{"/a/b", []string{"c"}, 2},
		{"/a/b/c/d", []string{}, 0},
		{"/zookeeper", []string{"config", "quota"}, 2},
	}
	for _, tc := range tests {
		got, err := tr.Children(tc.path)
		if err != nil || !slices.Equal(got, tc.children) {
			t.Errorf("Children(%q) = %v, %v; want %v", tc.path, got, err, tc.children)
		}
		if n := tr.AllChildrenNumber(tc.path); n != tc.all {
			t.Errorf("AllChildrenNumber(%q) = %d, want %d", tc.path, n, tc.all)
		}
	}
	if _, err := tr.Children("/nope"); !errors.Is(err, proto.ErrNoNode) {
		t.Errorf("Children of missing node: %v", err)
	}
	if n := tr.AllChildrenNumber("/nope"); n != 0 {
		t.Errorf("AllChildrenNumber of missing node = %d", n)
	}
	if tr.Len() != 13 || tr.NodeCount() != 14 {
		t.Errorf("Len %d NodeCount %d", tr.Len(), tr.NodeCount())
	}
	if root, ok := tr.Get(""); !ok || root.NumChildren() != 4 {
		t.Errorf(`Get("") should alias the root`)
	}
	for _, p := range []string{"a", "a/b", "/a/", "/a//b", "//", "/a\x00"} {
		if _, ok := tr.Get(p); ok {
			t.Errorf("Get(%q) found a node", p)
		}
	}
	var walked []string
	tr.Walk(func(p string, _ *Node) bool { walked = append(walked, p); return true })
	if len(walked) != tr.Len() || walked[0] != "/" {
		t.Errorf("Walk: %v", walked)
	}
}

func TestEphemeralIndex(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/s", 1)
	for i, c := range []struct {
		path    string
		session int64
	}{{"/s/b", 2}, {"/s/a", 2}, {"/x", 2}, {"/s/c", 1}, {"/s/d", 3}} {
		if _, _, err := tr.Create(CreateOp{Path: c.path, ACL: open, Mode: proto.ModeEphemeral, Owner: c.session}, int64(i+2), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := tr.Ephemerals(2); !slices.Equal(got, []string{"/s/a", "/s/b", "/x"}) {
		t.Errorf("Ephemerals(2) = %v", got)
	}
	if got := tr.Ephemerals(4); len(got) != 0 {
		t.Errorf("Ephemerals(4) = %v", got)
	}
	if tr.EphemeralCount() != 5 {
		t.Errorf("EphemeralCount = %d", tr.EphemeralCount())
	}
	if err := tr.Delete("/s/a", -1, 10, nil); err != nil {
		t.Fatal(err)
	}
	// setData keeps the node in the index.
	if _, err := tr.SetData("/x", []byte("d"), -1, 11, 11, nil); err != nil {
		t.Fatal(err)
	}
	var all []string
	for s, p := range tr.AllEphemerals() {
		all = append(all, string(rune('0'+s))+p)
	}
	if !slices.Equal(all, []string{"1/s/c", "2/s/b", "2/x", "3/s/d"}) {
		t.Errorf("AllEphemerals = %v", all)
	}
	verify(t, tr)
}

func TestContainersAndTTLs(t *testing.T) {
	tr := New()
	create := func(c CreateOp, zxid, now int64) {
		t.Helper()
		c.ACL = open
		if _, _, err := tr.Create(c, zxid, now, nil); err != nil {
			t.Fatalf("%q: %v", c.Path, err)
		}
	}
	create(CreateOp{Path: "/c", Mode: proto.ModeContainer}, 1, 100)
	create(CreateOp{Path: "/t", Mode: proto.ModePersistentWithTTL, TTL: 1000}, 2, 100)
	if got := tr.EmptyContainers(); len(got) != 0 {
		t.Errorf("new container is a candidate: %v", got)
	}
	create(CreateOp{Path: "/c/x"}, 3, 100)
	if got := tr.EmptyContainers(); len(got) != 0 {
		t.Errorf("non-empty container is a candidate: %v", got)
	}
	if err := tr.DeleteContainer("/c", 4); !errors.Is(err, proto.ErrNotEmpty) {
		t.Errorf("DeleteContainer non-empty: %v", err)
	}
	if err := tr.Delete("/c/x", -1, 5, nil); err != nil {
		t.Fatal(err)
	}
	if got := tr.EmptyContainers(); !slices.Equal(got, []string{"/c"}) {
		t.Errorf("EmptyContainers = %v", got)
	}
	if got := tr.ExpiredTTLs(1100); len(got) != 0 {
		t.Errorf("TTL expired at exactly ttl: %v", got)
	}
	if got := tr.ExpiredTTLs(1101); !slices.Equal(got, []string{"/t"}) {
		t.Errorf("ExpiredTTLs(1101) = %v", got)
	}
	// A write refreshes mtime; a child keeps it alive.
	if _, err := tr.SetData("/t", []byte("x"), -1, 6, 1050, nil); err != nil {
		t.Fatal(err)
	}
	if got := tr.ExpiredTTLs(1101); len(got) != 0 {
		t.Errorf("TTL expired after setData: %v", got)
	}
	create(CreateOp{Path: "/t/child"}, 7, 1060)
	if got := tr.ExpiredTTLs(1e9); len(got) != 0 {
		t.Errorf("TTL with child expired: %v", got)
	}
	if err := tr.Delete("/t/child", -1, 8, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.DeleteContainer("/c", 9); err != nil {
		t.Fatal(err)
	}
	if err := tr.DeleteContainer("/t", 10); err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Get("/c"); ok {
		t.Error("/c still there")
	}
	if root := mustStat(t, tr, "/"); root.Pzxid != 10 || root.NumChildren != 1 {
		t.Errorf("root after reaping: %+v", root)
	}
	if len(tr.EmptyContainers())+len(tr.ExpiredTTLs(1e12)) != 0 {
		t.Error("indexes keep reaped nodes")
	}
	verify(t, tr)
}

func TestNodeIsImmutable(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/p", 1)
	before, _ := tr.Get("/p")
	st := before.Stat()
	if _, err := tr.SetData("/p", []byte("new"), -1, 2, 2, nil); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, tr, "/p/c", 3)
	if before.Data() != nil || before.Stat() != st {
		t.Errorf("a Node changed after later writes: %+v", before.Stat())
	}
}

func TestACLInterning(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/a", 1)
	acl := []proto.ACL{{Perms: proto.PermRead, ID: proto.Id{Scheme: "digest", ID: "u:x"}}}
	for _, p := range []string{"/b", "/c"} {
		if _, _, err := tr.Create(CreateOp{Path: p, ACL: append([]proto.ACL(nil), acl...)}, 2, 2, nil); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(t, tr, "/d", 3)
	a, _ := tr.Get("/a")
	b, _ := tr.Get("/b")
	c, _ := tr.Get("/c")
	d, _ := tr.Get("/d")
	if a.acl != d.acl || b.acl != c.acl || a.acl == b.acl {
		t.Error("equal ACL lists are not shared")
	}
	acl[0].Perms = proto.PermAll
	if b.ACL()[0].Perms != proto.PermRead {
		t.Error("interned ACL aliases the caller's slice")
	}
	root, _ := tr.Get("/")
	if a.acl != root.acl {
		t.Error("root and /a do not share the open ACL")
	}
}

func TestACLTableSweep(t *testing.T) {
	// Lists that no node uses any more are dropped from the table eventually.
	tr := New()
	mustCreate(t, tr, "/x", 1)
	for i := range 3000 {
		acl := []proto.ACL{{Perms: proto.PermAll, ID: proto.Id{Scheme: "digest", ID: string(rune('a'+i%26)) + string(rune(i))}}}
		if _, err := tr.SetACL("/x", acl, -1, int64(i+2), nil); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	tr.acls.sweep()
	// Left: the open and read lists of the initial nodes and /x's list.
	if n := len(tr.acls.byKey); n > 3 {
		t.Errorf("table keeps %d entries after a sweep", n)
	}
	n, _ := tr.Get("/x")
	if got := tr.acls.intern(n.ACL(), nil); got != n.acl {
		t.Error("live ACL list lost from the table")
	}
}

func TestEphemeralPeak(t *testing.T) {
	// Each step creates (+path) or deletes (-path) an ephemeral of session 7,
	// or (!) forgets the session's count; want is EphemeralPeak(7) after it.
	steps := []struct {
		do   string
		want int
	}{
		{"+/a", 1}, {"+/b", 2}, {"+/c", 3}, {"-/a", 3}, {"-/b", 3}, {"+/d", 3}, {"+/e", 3}, {"+/f", 4},
		{"-/c", 4}, {"-/d", 4}, {"-/e", 4}, {"-/f", 4},
		{"!", 0}, {"+/g", 1},
		// Forgetting a session that still owns nodes keeps its count.
		{"!", 1},
	}
	tr := New()
	for i, s := range steps {
		zxid := int64(i + 1)
		switch s.do[0] {
		case '+':
			if _, _, err := tr.Create(CreateOp{Path: s.do[1:], ACL: open, Mode: proto.ModeEphemeral, Owner: 7}, zxid, zxid, nil); err != nil {
				t.Fatal(err)
			}
		case '-':
			if err := tr.Delete(s.do[1:], -1, zxid, nil); err != nil {
				t.Fatal(err)
			}
		case '!':
			tr.ForgetOwner(7)
		}
		if got := tr.EphemeralPeak(7); got != s.want {
			t.Errorf("step %d (%s): peak %d, want %d", i, s.do, got, s.want)
		}
		verify(t, tr)
	}
	if got := tr.EphemeralPeak(8); got != 0 {
		t.Errorf("peak of a session without ephemerals: %d", got)
	}
	// A multi that fails changes no count; one that succeeds counts each node.
	ops := []Op{
		{Type: proto.OpCreate, Create: CreateOp{Path: "/m1", ACL: open, Mode: proto.ModeEphemeral, Owner: 9}},
		{Type: proto.OpCreate, Create: CreateOp{Path: "/m1", ACL: open, Mode: proto.ModeEphemeral, Owner: 9}},
	}
	if _, err := tr.Multi(ops, 100, 100, nil); err == nil {
		t.Fatal("multi creating a node twice succeeded")
	}
	if got := tr.EphemeralPeak(9); got != 0 {
		t.Errorf("peak after a failed multi: %d", got)
	}
	ops[1].Create.Path = "/m2"
	if _, err := tr.Multi(ops, 101, 101, nil); err != nil {
		t.Fatal(err)
	}
	if got := tr.EphemeralPeak(9); got != 2 {
		t.Errorf("peak after a multi creating two: %d", got)
	}
	// The count survives a clone, and a tree read back from a snapshot
	// starts over from what the sessions own.
	if got := tr.Clone().EphemeralPeak(9); got != 2 {
		t.Errorf("peak in a clone: %d", got)
	}
	if err := tr.Delete("/m2", -1, 102, nil); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	back, err := ReadTree(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.EphemeralPeak(9); got != 1 {
		t.Errorf("peak after a snapshot round trip: %d, want the 1 node owned", got)
	}
	verify(t, back)
}

func TestEphemeralsByCreation(t *testing.T) {
	tr := New()
	mustCreate(t, tr, "/m", 1)
	eph := func(path string) CreateOp {
		return CreateOp{Path: path, ACL: open, Mode: proto.ModeEphemeral, Owner: 5}
	}
	for i, p := range []string{"/z", "/a"} {
		if _, _, err := tr.Create(eph(p), int64(i+2), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A multi's creates count in op order, though they share a zxid.
	if _, err := tr.Multi([]Op{{Type: proto.OpCreate, Create: eph("/m/y")}, {Type: proto.OpCreate, Create: eph("/m/b")}}, 4, 1, nil); err != nil {
		t.Fatal(err)
	}
	// Deleted and created again: last.
	if err := tr.Delete("/z", -1, 5, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Create(eph("/z"), 6, 1, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.Create(CreateOp{Path: "/other", ACL: open, Mode: proto.ModeEphemeral, Owner: 6}, 7, 1, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"/a", "/m/y", "/m/b", "/z"}
	if got := tr.EphemeralsByCreation(5); !slices.Equal(got, want) {
		t.Errorf("EphemeralsByCreation = %v, want %v", got, want)
	}
	if got := tr.Clone().EphemeralsByCreation(5); !slices.Equal(got, want) {
		t.Errorf("in a clone: %v, want %v", got, want)
	}
	verify(t, tr)
}
