package tree

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// qs is one step of a quota scenario: an operation, or with want set a
// check of a node's data (want "-" means the node is missing).
type qs struct {
	op   string // "c" create, "c0" with null data, "cx" unless it exists, "s" setData, "d" delete, "m" multi, "=" check
	path string
	data string
	ops  []Op // for "m"
	want string
	fail bool // the op must fail (multi only)
}

const (
	qStats = quotaDir + "/q/zookeeper_stats"
	qLimit = quotaDir + "/q/zookeeper_limits"
)

// runQuota plays steps on tr, zxid counting up from 100, and checks the
// tree's invariants after each.
func runQuota(t *testing.T, tr *Tree, steps []qs) {
	t.Helper()
	zxid := int64(100)
	for i, s := range steps {
		zxid++
		var err error
		switch s.op {
		case "c", "c0", "cx":
			if _, ok := tr.Get(s.path); ok && s.op == "cx" {
				continue
			}
			var data []byte
			if s.op != "c0" {
				data = []byte(s.data)
			}
			_, _, err = tr.Create(CreateOp{Path: s.path, Data: data, ACL: open}, zxid, zxid, nil)
		case "s":
			_, err = tr.SetData(s.path, []byte(s.data), -1, zxid, zxid, nil)
		case "d":
			err = tr.Delete(s.path, -1, zxid, nil)
		case "m":
			_, err = tr.Multi(s.ops, zxid, zxid, nil)
			if s.fail {
				if err == nil {
					t.Fatalf("step %d: multi succeeded", i)
				}
				err = nil
			}
		case "=":
			n, ok := tr.Get(s.path)
			got := "-"
			if ok {
				got = string(n.Data())
			}
			if got != s.want {
				t.Fatalf("step %d: %s holds %q, want %q", i, s.path, got, s.want)
			}
			continue
		default:
			t.Fatalf("step %d: unknown op %q", i, s.op)
		}
		if err != nil {
			t.Fatalf("step %d: %s %s: %v", i, s.op, s.path, err)
		}
		verify(t, tr)
	}
}

// quotaOn returns the steps that put a quota on path the way zkCli's
// setquota does: the quota parents, the limits node, then the stats node.
func quotaOn(path string) []qs {
	var steps []qs
	p := quotaDir
	for _, c := range strings.Split(path, "/")[1:] {
		p += "/" + c
		steps = append(steps, qs{op: "cx", path: p})
	}
	return append(steps, qs{op: "c", path: p + "/" + quotaLimitNode, data: "count=5,bytes=-1"},
		qs{op: "c", path: p + "/" + quotaStatNode, data: "count=0,bytes=0"})
}

func cat(parts ...[]qs) []qs { return slices.Concat(parts...) }

// TestQuotaMatchesApache replays scenarios whose expected stats data were
// recorded from Apache ZooKeeper 3.8.0 running the same operations.
func TestQuotaMatchesApache(t *testing.T) {
	stats := func(want string) qs { return qs{op: "=", path: qStats, want: want} }
	tests := []struct {
		name  string
		steps []qs
	}{
		{"setquota counts the subtree", cat(
			[]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "12345"}},
			quotaOn("/q"),
			[]qs{stats("count=2,bytes=5")})},
		{"create, setData, delete", cat(
			[]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "12345"}},
			quotaOn("/q"),
			[]qs{{op: "c", path: "/q/b", data: "xy"}, {op: "s", path: "/q/a", data: "1"}, stats("count=3,bytes=3"),
				{op: "d", path: "/q/b"}, stats("count=2,bytes=1"),
				{op: "c0", path: "/q/n"}, stats("count=3,bytes=1"),
				{op: "c", path: "/other", data: "zzz"}, stats("count=3,bytes=1"),
				{op: "d", path: "/q/n"}, {op: "d", path: "/q/a"}, {op: "d", path: "/q"}, stats("count=0,bytes=0")})},
		{"multi applies op by op, a failed one not at all", cat(
			[]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "1"}},
			quotaOn("/q"),
			[]qs{{op: "m", ops: []Op{
				{Type: proto.OpCreate, Create: CreateOp{Path: "/q/m1", Data: []byte("abc"), ACL: open}},
				{Type: proto.OpCreate, Create: CreateOp{Path: "/q/m1/m2", Data: []byte("z"), ACL: open}},
				setDataOp("/q/a", "4444", -1), deleteOp("/q/m1/m2", -1)}},
				stats("count=3,bytes=7"),
				{op: "m", fail: true, ops: []Op{
					{Type: proto.OpCreate, Create: CreateOp{Path: "/q/m3", Data: []byte("abc"), ACL: open}}, checkOp("/q/a", 99)}},
				stats("count=3,bytes=7")})},
		{"stats data written by a client is parsed and rewritten", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "s", path: qStats, data: "zeta=1;count=3,bytes=2,alpha==3,x==7;;"},
				{op: "c", path: "/q/c", data: "1"}, stats("count=4,bytes=3=;alpha=-1;x=-1;zeta=1"),
				{op: "s", path: qStats, data: ""}, {op: "c", path: "/q/d", data: "1"}, stats("count=0,bytes=0"),
				{op: "s", path: qStats, data: ",;,"}, {op: "c", path: "/q/e", data: "1"}, stats("count=0,bytes=0"),
				{op: "s", path: qStats, data: "count=+4,bytes=-0,=9"}, {op: "c", path: "/q/f", data: "1"}, stats("count=5,bytes=1=;=9"),
				// A setData that changes no length still rewrites the data.
				{op: "s", path: qStats, data: "bytes=1,count=5"}, {op: "s", path: "/q/f", data: "2"}, stats("count=5,bytes=1")})},
		{"the deepest quota takes the change", cat(
			[]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a"}}, quotaOn("/q"), quotaOn("/q/a"),
			[]qs{{op: "c", path: "/q/a/x", data: "123"}, stats("count=2,bytes=0"),
				{op: "=", path: quotaDir + "/q/a/zookeeper_stats", want: "count=2,bytes=3"},
				{op: "d", path: quotaDir + "/q/a/zookeeper_limits"},
				{op: "c", path: "/q/a/y", data: "123"}, stats("count=3,bytes=3"),
				{op: "=", path: quotaDir + "/q/a/zookeeper_stats", want: "count=2,bytes=3"}})},
		{"all-space components are ignored", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "c", path: "/q/ "}, {op: "c", path: "/q/ /s", data: "55"}, stats("count=3,bytes=2"),
				// "/zookeeper/quota/q/ " names /q again, so deleting its
				// limits node drops the quota on /q.
				{op: "c", path: quotaDir + "/q/ "}, {op: "c", path: quotaDir + "/q/ /zookeeper_limits"},
				{op: "c", path: "/q/ /t", data: "55"}, stats("count=4,bytes=4"),
				{op: "d", path: quotaDir + "/q/ /zookeeper_limits"},
				{op: "c", path: "/q/ /u", data: "55"}, stats("count=4,bytes=4")})},
		{"a quota node outside /zookeeper/quota/", []qs{
			{op: "c", path: "/zookeeper/quotaX"},
			{op: "c", path: "/zookeeper/quotaX/zookeeper_stats", data: "hello"},
			{op: "=", path: "/zookeeper/quotaX/zookeeper_stats", want: "count=0,bytes=0"},
			{op: "c", path: "/X"},
			{op: "c", path: "/zookeeper/quotaX/zookeeper_limits", data: "hello"}, // registers /X
			{op: "c", path: "/X/1", data: "1"},
			{op: "c", path: quotaDir + "/X"}, {op: "c", path: quotaDir + "/X/zookeeper_stats"},
			{op: "c", path: "/X/2", data: "1"},
			{op: "=", path: quotaDir + "/X/zookeeper_stats", want: "count=3,bytes=2"}}},
		{"a stats node created with null data", []qs{
			{op: "c", path: quotaDir + "/n"}, {op: "c", path: "/n", data: "abc"},
			{op: "c0", path: quotaDir + "/n/zookeeper_stats"},
			{op: "=", path: quotaDir + "/n/zookeeper_stats", want: "count=1,bytes=3"}}},
		{"a stats node for the whole tree", []qs{
			{op: "c", path: "/a", data: "12"},
			{op: "c", path: quotaDir + "/zookeeper_stats", data: "c"},
			// 6 nodes, counting its own client data.
			{op: "=", path: quotaDir + "/zookeeper_stats", want: "count=6,bytes=3"}}},
		{"quota on /zookeeper covers its own stats node", cat(
			[]qs{{op: "c", path: quotaDir + "/zookeeper"}, {op: "c", path: quotaDir + "/zookeeper/zookeeper_limits"},
				{op: "c", path: quotaDir + "/zookeeper/zookeeper_stats", data: "abcdef"},
				// Recounted (6 nodes, its own 6 bytes), then its create added.
				{op: "=", path: quotaDir + "/zookeeper/zookeeper_stats", want: "count=7,bytes=12"},
				// A client's write to it is added too: 15-16 bytes.
				{op: "s", path: quotaDir + "/zookeeper/zookeeper_stats", data: "count=1,bytes=1"},
				{op: "=", path: quotaDir + "/zookeeper/zookeeper_stats", want: "count=1,bytes=0"},
				{op: "c", path: "/zookeeper/z", data: "zz"},
				{op: "=", path: quotaDir + "/zookeeper/zookeeper_stats", want: "count=2,bytes=2"}})},
		{"deleting a limits node elsewhere strips 16 characters", cat(
			[]qs{{op: "c", path: "/gh"}}, quotaOn("/gh"),
			[]qs{{op: "c", path: "/zookeeperAB"}, {op: "c", path: "/zookeeperAB/cdegh"},
				{op: "c", path: "/zookeeperAB/cdegh/zookeeper_limits"},
				{op: "d", path: "/zookeeperAB/cdegh/zookeeper_limits"}, // unregisters /gh
				{op: "c", path: "/gh/f", data: "1"},
				{op: "=", path: quotaDir + "/gh/zookeeper_stats", want: "count=1,bytes=0"}})},
		{"registration inside a multi counts for its later ops", []qs{
			{op: "c", path: "/gh"}, {op: "c", path: "/gh/a", data: "1"},
			{op: "m", ops: []Op{
				{Type: proto.OpCreate, Create: CreateOp{Path: quotaDir + "/gh", ACL: open}},
				{Type: proto.OpCreate, Create: CreateOp{Path: quotaDir + "/gh/zookeeper_stats", Data: []byte("x"), ACL: open}},
				{Type: proto.OpCreate, Create: CreateOp{Path: quotaDir + "/gh/zookeeper_limits", Data: []byte("count=1"), ACL: open}},
				{Type: proto.OpCreate, Create: CreateOp{Path: "/gh/b", Data: []byte("22"), ACL: open}},
				setDataOp(quotaDir+"/gh/zookeeper_stats", "count=10,bytes=10", -1),
				{Type: proto.OpCreate, Create: CreateOp{Path: "/gh/c", Data: []byte("333"), ACL: open}}}},
			{op: "=", path: quotaDir + "/gh/zookeeper_stats", want: "count=11,bytes=13"},
			{op: "c", path: "/gh/z", data: "1"}, // the quota outlives the multi
			{op: "=", path: quotaDir + "/gh/zookeeper_stats", want: "count=12,bytes=14"},
			{op: "m", ops: []Op{deleteOp(quotaDir+"/gh/zookeeper_limits", -1),
				{Type: proto.OpCreate, Create: CreateOp{Path: "/gh/d", Data: []byte("4444"), ACL: open}}}},
			{op: "c", path: "/gh/y", data: "1"},
			{op: "=", path: quotaDir + "/gh/zookeeper_stats", want: "count=12,bytes=14"}}},
		{"a failed multi registers nothing", []qs{
			{op: "c", path: "/k"}, {op: "c", path: quotaDir + "/k"}, {op: "c", path: quotaDir + "/k/zookeeper_stats"},
			{op: "m", fail: true, ops: []Op{
				{Type: proto.OpCreate, Create: CreateOp{Path: quotaDir + "/k/zookeeper_limits", ACL: open}},
				{Type: proto.OpCreate, Create: CreateOp{Path: "/k/x", Data: []byte("1"), ACL: open}},
				checkOp("/k", 5)}},
			{op: "c", path: "/k/y", data: "1"},
			{op: "=", path: quotaDir + "/k/zookeeper_stats", want: "count=1,bytes=0"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runQuota(t, New(), tc.steps) })
	}
}

// TestQuotaEdges covers the cases where Apache ZooKeeper throws halfway
// through the bookkeeping (and, in 3.8, stops serving): the tree stops at
// the same point and the op succeeds.
func TestQuotaEdges(t *testing.T) {
	tests := []struct {
		name  string
		steps []qs
	}{
		{"limits node directly under /zookeeper/quota", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "c", path: quotaDir + "/zookeeper_limits"}, {op: "c", path: "/q/a", data: "1"},
				{op: "=", path: qStats, want: "count=2,bytes=1"}})},
		{"unparsable stats data is left alone", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "s", path: qStats, data: "count=1,bytes"}, {op: "c", path: "/q/a", data: "1"},
				{op: "=", path: qStats, want: "count=1,bytes"},
				{op: "s", path: qStats, data: "count=x,bytes=1"}, {op: "c", path: "/q/b", data: "1"},
				{op: "=", path: qStats, want: "count=x,bytes=1"},
				{op: "s", path: qStats, data: "count=99999999999999999999"}, {op: "c", path: "/q/c"},
				{op: "=", path: qStats, want: "count=99999999999999999999"}})},
		{"null stats data is left alone", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "m", ops: []Op{{Type: proto.OpSetData, Path: qStats}}}, {op: "c", path: "/q/a", data: "1"},
				{op: "=", path: qStats, want: ""}})},
		{"missing stats node", []qs{
			{op: "c", path: "/q"}, {op: "c", path: quotaDir + "/q"}, {op: "c", path: qLimit},
			{op: "c", path: "/q/a", data: "1"}, {op: "=", path: qStats, want: "-"}}},
		{"deleting a limits node under a short parent", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "c", path: "/zookeeperX"}, {op: "c", path: "/zookeeperX/zookeeper_limits"},
				{op: "d", path: "/zookeeperX/zookeeper_limits"}, {op: "c", path: "/q/a", data: "1"},
				{op: "=", path: qStats, want: "count=2,bytes=1"}})},
		{"deleting the stats node", cat(
			[]qs{{op: "c", path: "/q"}}, quotaOn("/q"),
			[]qs{{op: "d", path: qStats}, {op: "c", path: "/q/a", data: "1"}, {op: "=", path: qStats, want: "-"},
				{op: "c", path: qStats, data: "x"}, {op: "=", path: qStats, want: "count=2,bytes=1"}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runQuota(t, New(), tc.steps) })
	}
}

// TestQuotaRewriteStat checks that the server's rewrites change the stats
// node's data and nothing else of its Stat, that Create and SetData return
// the Stat from before the rewrite, and that, as in Apache, the rewrites are
// not counted in the approximate data size.
func TestQuotaRewriteStat(t *testing.T) {
	tr := New()
	runQuota(t, tr, cat([]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "12345"}, {op: "c", path: quotaDir + "/q"},
		{op: "c", path: qLimit, data: "count=5"}}))
	base := tr.ApproximateDataSize()
	_, st, err := tr.Create(CreateOp{Path: qStats, Data: []byte("count=0"), ACL: open}, 500, 5000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.DataLength != 7 || st.Version != 0 || st.Mzxid != 500 {
		t.Errorf("create returned %+v, want the client's 7 bytes", st)
	}
	created := mustStat(t, tr, qStats)
	if want := "count=2,bytes=5"; string(must(tr.Get(qStats)).Data()) != want {
		t.Fatalf("stats %q, want %q", must(tr.Get(qStats)).Data(), want)
	}
	if got := tr.ApproximateDataSize() - base; got != javaLen(qStats)+7 {
		t.Errorf("approximate size grew by %d, want path + 7 client bytes", got)
	}
	st, err = tr.SetData("/q/a", []byte("1234567890"), -1, 501, 5010, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.DataLength != 10 || st.Mzxid != 501 {
		t.Errorf("setData returned %+v", st)
	}
	after := mustStat(t, tr, qStats)
	if string(must(tr.Get(qStats)).Data()) != "count=2,bytes=10" {
		t.Fatalf("stats %q", must(tr.Get(qStats)).Data())
	}
	created.DataLength++ // "bytes=5" became "bytes=10"
	if after != created {
		t.Errorf("stats Stat after rewrite %+v, want %+v", after, created)
	}
	if got := tr.ApproximateDataSize() - base; got != javaLen(qStats)+7+5 {
		t.Errorf("approximate size grew by %d, want path + 7 client bytes + 5", got)
	}
	// A client write is counted; Apache subtracts the data it replaces,
	// rewritten or not, so the drift stays.
	if _, err := tr.SetData(qStats, []byte("count=2,bytes=10"), -1, 502, 5020, nil); err != nil {
		t.Fatal(err)
	}
	if got := tr.ApproximateDataSize() - base; got != javaLen(qStats)+7+5 {
		t.Errorf("approximate size grew by %d after the client's write", got)
	}
	if err := tr.Delete(qStats, -1, 503, nil); err != nil {
		t.Fatal(err)
	}
	if got := tr.ApproximateDataSize() - base; got != 5-(16-7) {
		t.Errorf("approximate size grew by %d after deleting the stats node, want %d", got, 5-(16-7))
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("missing")
	}
	return v
}

// TestQuotaMultiAtomic checks that a failed multi leaves the quota set,
// the stats nodes and the data size untouched, whatever quota work its
// ops did before the failure.
func TestQuotaMultiAtomic(t *testing.T) {
	build := func() *Tree {
		tr := New()
		runQuota(t, tr, cat([]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "1"}, {op: "c", path: "/r"}},
			quotaOn("/q"), []qs{{op: "c", path: quotaDir + "/r"}, {op: "c", path: quotaDir + "/r/zookeeper_stats"}}))
		return tr
	}
	create := func(p, d string) Op {
		return Op{Type: proto.OpCreate, Create: CreateOp{Path: p, Data: []byte(d), ACL: open}}
	}
	tests := []struct {
		name string
		ops  []Op
	}{
		{"stats updates", []Op{create("/q/b", "12"), setDataOp("/q/a", "xyz", -1), deleteOp("/q/b", -1)}},
		{"registration", []Op{create(quotaDir+"/r/zookeeper_limits", ""), create("/r/x", "1")}},
		{"unregistration", []Op{deleteOp(qLimit, -1), create("/q/x", "1")}},
		{"recount", []Op{create("/q/c", "123"), deleteOp(qStats, -1), create(qStats, "")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := build()
			before := quotaPrint(t, tr)
			ops := append(slices.Clone(tc.ops), checkOp("/q", 42))
			if _, err := tr.Multi(ops, 900, 900, nil); err == nil {
				t.Fatal("multi succeeded")
			}
			if after := quotaPrint(t, tr); after != before {
				t.Errorf("failed multi changed the tree:\n%s\nwas\n%s", after, before)
			}
			verify(t, tr)
			// The same ops without the failing check do change it.
			if _, err := tr.Multi(tc.ops, 900, 900, nil); err != nil {
				t.Fatal(err)
			}
			after := quotaPrint(t, tr)
			if after == before {
				t.Error("successful multi changed nothing")
			}
			verify(t, tr)
			// Apache applies a multi's ops as it applies single ones.
			seq := build()
			for _, op := range tc.ops {
				var err error
				switch op.Type {
				case proto.OpCreate:
					_, _, err = seq.Create(op.Create, 900, 900, nil)
				case proto.OpDelete:
					err = seq.Delete(op.Path, op.Version, 900, nil)
				case proto.OpSetData:
					_, err = seq.SetData(op.Path, op.Data, op.Version, 900, 900, nil)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := quotaPrint(t, seq); got != after {
				t.Errorf("ops one by one left\n%s\nthe multi\n%s", got, after)
			}
		})
	}
}

// quotaPrint is fingerprint plus the quota set and drift.
func quotaPrint(tb testing.TB, tr *Tree) string {
	var paths []string
	if tr.quotas != nil {
		for p := range tr.quotas.paths {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	return fmt.Sprintf("%s|%v|%d", fingerprint(tb, tr), paths, tr.quotaDrift)
}

// TestQuotaMultiRecountSeesEarlierOps checks that a stats node created in a
// multi counts the nodes the multi's earlier ops created, changed and
// deleted.
func TestQuotaMultiRecountSeesEarlierOps(t *testing.T) {
	tr := New()
	runQuota(t, tr, []qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "1"}, {op: "c", path: "/q/b", data: "22"},
		{op: "c", path: quotaDir + "/q"}, {op: "c", path: qLimit}})
	_, err := tr.Multi([]Op{
		{Type: proto.OpCreate, Create: CreateOp{Path: "/q/c", Data: []byte("333"), ACL: open}},
		setDataOp("/q/a", "4444", -1), deleteOp("/q/b", -1),
		{Type: proto.OpCreate, Create: CreateOp{Path: qStats, Data: []byte("x"), ACL: open}},
		{Type: proto.OpCreate, Create: CreateOp{Path: "/q/d", Data: []byte("55555"), ACL: open}},
	}, 900, 900, nil)
	if err != nil {
		t.Fatal(err)
	}
	// /q, /q/a (4), /q/c (3), then /q/d (5) added.
	if got := string(must(tr.Get(qStats)).Data()); got != "count=4,bytes=12" {
		t.Errorf("stats %q, want count=4,bytes=12", got)
	}
	verify(t, tr)
}

// TestQuotaSnapshotReload checks that ReadTree registers the quotas again
// and recounts their stats nodes as Apache's setupQuota does, and that the
// approximate data size then counts the data as loaded.
func TestQuotaSnapshotReload(t *testing.T) {
	tr := New()
	runQuota(t, tr, cat([]qs{{op: "c", path: "/q"}, {op: "c", path: "/q/a", data: "12345"}, {op: "c", path: "/r"}},
		quotaOn("/q"), quotaOn("/r"),
		[]qs{{op: "s", path: qStats, data: "count=100,bytes=100"}, // a client's write, recounted on load
			{op: "c", path: "/r/x", data: "1"},
			// A limits node with a child is not registered on load.
			{op: "c", path: quotaDir + "/r/zookeeper_limits/child"},
			// Neither is one outside /zookeeper/quota/.
			{op: "c", path: "/zookeeper/quotaY"}, {op: "c", path: "/Y"},
			{op: "c", path: "/zookeeper/quotaY/zookeeper_limits"},
			{op: "c", path: quotaDir + "/Y"}, {op: "c", path: quotaDir + "/Y/zookeeper_stats"},
			{op: "c", path: "/Y/1", data: "1"},
			{op: "=", path: quotaDir + "/Y/zookeeper_stats", want: "count=2,bytes=1"}}))
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	saved := bytes.Clone(buf.Bytes())
	loaded, err := ReadTree(&buf)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, loaded)
	runQuota(t, loaded, []qs{
		{op: "=", path: qStats, want: "count=2,bytes=5"},
		{op: "=", path: quotaDir + "/r/zookeeper_stats", want: "count=2,bytes=1"},
		{op: "c", path: "/q/b", data: "12"}, {op: "=", path: qStats, want: "count=3,bytes=7"},
		{op: "c", path: "/r/y", data: "12"}, {op: "=", path: quotaDir + "/r/zookeeper_stats", want: "count=2,bytes=1"},
		{op: "c", path: "/Y/2", data: "1"}, {op: "=", path: quotaDir + "/Y/zookeeper_stats", want: "count=2,bytes=1"},
	})
	// Apache sums the data as loaded; the load's own rewrite is not seen.
	ref, err := ReadTree(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ref.ApproximateDataSize(), tr.dataSize; got != want || ref.dataSize == want {
		t.Errorf("approximate size after load %d (real %d), want %d", got, ref.dataSize, want)
	}
}

// TestQuotaClone checks that a clone keeps the quotas it was taken with,
// independently of later changes to the original.
func TestQuotaClone(t *testing.T) {
	tr := New()
	runQuota(t, tr, cat([]qs{{op: "c", path: "/q"}, {op: "c", path: "/r"}}, quotaOn("/q"),
		[]qs{{op: "c", path: quotaDir + "/r"}, {op: "c", path: quotaDir + "/r/zookeeper_stats"}}))
	c := tr.Clone()
	runQuota(t, tr, []qs{{op: "d", path: qLimit}, {op: "c", path: quotaDir + "/r/zookeeper_limits"},
		{op: "c", path: "/q/a"}, {op: "c", path: "/r/a"},
		{op: "=", path: qStats, want: "count=1,bytes=0"},
		{op: "=", path: quotaDir + "/r/zookeeper_stats", want: "count=2,bytes=0"}})
	runQuota(t, c, []qs{{op: "c", path: "/q/a"}, {op: "c", path: "/r/a"},
		{op: "=", path: qStats, want: "count=2,bytes=0"},
		{op: "=", path: quotaDir + "/r/zookeeper_stats", want: "count=1,bytes=0"}})
}

func TestParseStats(t *testing.T) {
	tests := []struct {
		in, want string // want "!" when Java throws
	}{
		{"count=2,bytes=5", "count=2,bytes=5"},
		{"", "count=-1,bytes=-1"},
		{",;,", "count=-1,bytes=-1"},
		{"bytes=1;count=2", "count=2,bytes=1"},
		{"count=1,count=2", "count=2,bytes=-1"},
		{"count=4,bytes=5=;countHardLimit=10;byteHardLimit=7", "count=4,bytes=5=;byteHardLimit=7;countHardLimit=10"},
		{"x==7,count=+3,bytes=-0", "count=3,bytes=0=;x=-1"},
		{"=9", "count=-1,bytes=-1=;=9"},
		{"a=1=2", "count=-1,bytes=-1=;a=1"},
		{"count=1,,;;bytes=2,,", "count=1,bytes=2"},
		{"count=-9223372036854775808", "count=-9223372036854775808,bytes=-1"},
		// Java sorts by UTF-16 unit: U+1F600 (a surrogate pair) before U+FF21.
		{"\uff21=1,\U0001F600=2,b=3", "count=-1,bytes=-1=;b=3;\U0001F600=2;\uff21=1"},
		{"k\xff=1", "count=-1,bytes=-1=;k\ufffd=1"},
		{",count=1", "!"},
		{"count", "!"},
		{"count=", "!"},
		{"=", "!"},
		{"count=1 ", "!"},
		{"count=0x1", "!"},
		{"count=9223372036854775808", "!"},
	}
	for _, tc := range tests {
		st, ok := parseStats([]byte(tc.in))
		got := "!"
		if ok {
			got = string(st.appendTo(nil))
		}
		if got != tc.want {
			t.Errorf("parseStats(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuotaMaxPrefix(t *testing.T) {
	var q *quotaSet
	for _, p := range []string{"/a", "/a/b/c", "/x y"} {
		q = q.with(p)
	}
	tests := []struct{ path, want string }{
		{"/a", "/a"}, {"/a/b", "/a"}, {"/a/b/c", "/a/b/c"}, {"/a/b/c/d", "/a/b/c"},
		{"/ab", ""}, {"/", ""}, {"/b/a", ""}, {"/ /a/ /b/  /c", "/a/b/c"}, {"/x y/z", "/x y"},
	}
	for _, tc := range tests {
		got, ok := q.maxPrefix(tc.path)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("maxPrefix(%q) = %q, %v; want %q", tc.path, got, ok, tc.want)
		}
	}
	if q.without("/a/b/c").without("/a").without("/x y") != nil {
		t.Error("emptied set is not nil")
	}
	if q.len() != 3 {
		t.Error("without changed the set it was called on")
	}
}
