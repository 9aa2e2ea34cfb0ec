package tree

import (
	"fmt"
	"slices"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

func createOp(path string, mode proto.CreateMode) Op {
	typ := proto.OpCreate
	if mode.IsContainer() {
		typ = proto.OpCreateContainer
	}
	return Op{Type: typ, Create: CreateOp{Path: path, ACL: open, Mode: mode, Owner: 42}}
}

func deleteOp(path string, version int32) Op {
	return Op{Type: proto.OpDelete, Path: path, Version: version}
}

func setDataOp(path, data string, version int32) Op {
	return Op{Type: proto.OpSetData, Path: path, Data: []byte(data), Version: version}
}

func checkOp(path string, version int32) Op {
	return Op{Type: proto.OpCheck, Path: path, Version: version}
}

func TestMultiFailureIsAtomic(t *testing.T) {
	const P, E, C, S = proto.ModePersistent, proto.ModeEphemeral, proto.ModeContainer, proto.ModePersistentSequential
	many := make([]Op, 0, 41)
	for i := range 40 {
		many = append(many, createOp(fmt.Sprintf("/many%02d", i), E))
	}
	many = append(many, checkOp("/q", 9))
	tests := []struct {
		name  string
		ops   []Op
		codes []proto.Code // per result; all results have Type OpError
	}{
		{"first fails", []Op{createOp("/nope/x", P), createOp("/m", P)},
			[]proto.Code{proto.ErrNoNode, proto.ErrRuntimeInconsistency}},
		{"middle fails", []Op{createOp("/m1", P), createOp("/nope/x", P), createOp("/m2", P), checkOp("/q", 7)},
			[]proto.Code{proto.OK, proto.ErrNoNode, proto.ErrRuntimeInconsistency, proto.ErrRuntimeInconsistency}},
		{"last fails after every kind of change", []Op{
			createOp("/m", P), createOp("/m/e", E), createOp("/c", C), createOp("/m/s", S),
			setDataOp("/q", "x", 0), deleteOp("/q/a", -1), deleteOp("/e", -1), createOp("/e", C),
			{Type: proto.OpCreateTTL, Create: CreateOp{Path: "/t", ACL: open, Mode: proto.ModePersistentWithTTL, TTL: 10}},
			checkOp("/q", 0)},
			[]proto.Code{0, 0, 0, 0, 0, 0, 0, 0, 0, proto.ErrBadVersion}},
		{"earlier op decides a later one", []Op{deleteOp("/full/x", -1), deleteOp("/full", -1), createOp("/full/y", P)},
			[]proto.Code{0, 0, proto.ErrNoNode}},
		{"create then create again", []Op{createOp("/d", P), createOp("/d", P)},
			[]proto.Code{0, proto.ErrNodeExists}},
		{"pre-check error at its position", []Op{createOp("/ok", P), {Type: proto.OpCreate, Err: proto.ErrInvalidACL}, deleteOp("/nope", -1)},
			[]proto.Code{0, proto.ErrInvalidACL, proto.ErrRuntimeInconsistency}},
		{"tree error before a pre-check error", []Op{deleteOp("/nope", -1), {Type: proto.OpCreate, Err: proto.ErrInvalidACL}},
			[]proto.Code{proto.ErrNoNode, proto.ErrRuntimeInconsistency}},
		{"auth failure", []Op{setDataOp("/q", "x", -1), setDataOp("/ro", "x", -1)},
			[]proto.Code{0, proto.ErrNoAuth}},
		{"unknown op type", []Op{createOp("/u", P), {Type: proto.OpGetData, Path: "/q"}},
			[]proto.Code{0, proto.ErrBadArguments}},
		{"many ops use the overlay map", many, append(make([]proto.Code, 40), proto.ErrBadVersion)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := fixture(t)
			before := fingerprint(t, tr)
			res, err := tr.Multi(tc.ops, 50, 5000, worldAuth)
			var want proto.Code
			for _, c := range tc.codes {
				if c != proto.OK {
					want = c
					break
				}
			}
			if proto.AsCode(err) != want {
				t.Fatalf("error %v, want %v", err, want)
			}
			if _, plain := err.(proto.Code); !plain {
				t.Errorf("error %v is not a plain proto.Code", err)
			}
			if len(res) != len(tc.ops) {
				t.Fatalf("%d results for %d ops", len(res), len(tc.ops))
			}
			for i, r := range res {
				if r.Type != proto.OpError || r.Err != tc.codes[i] {
					t.Errorf("result %d: %+v, want error %v", i, r, tc.codes[i])
				}
			}
			if after := fingerprint(t, tr); after != before {
				t.Error("failed multi changed the tree")
			}
			verify(t, tr)
		})
	}
}

func TestMultiSuccess(t *testing.T) {
	// The sequence of the multi test run against Apache ZooKeeper 3.8.0
	// (PROTOCOL.md §1.9): the results and the final Stat match what it gave.
	tr := New()
	ops := []Op{
		createOp("/m1", proto.ModePersistent),
		createOp("/m1/s", proto.ModePersistentSequential),
		createOp("/m1/s", proto.ModePersistentSequential),
		deleteOp("/m1/s0000000000", -1),
		setDataOp("/m1", "zz", -1),
		checkOp("/m1", 1),
	}
	res, err := tr.Multi(ops, 38, 3800, worldAuth)
	if err != nil {
		t.Fatal(err)
	}
	wantPaths := []string{"/m1", "/m1/s0000000000", "/m1/s0000000001", "/m1/s0000000000", "/m1", "/m1"}
	for i, r := range res {
		if r.Type != ops[i].Type || r.Err != proto.OK || r.Path != wantPaths[i] {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	wantSet := proto.Stat{Czxid: 38, Mzxid: 38, Ctime: 3800, Mtime: 3800, Version: 1, Cversion: 3, DataLength: 2, NumChildren: 1, Pzxid: 38}
	if res[4].Stat != wantSet {
		t.Errorf("setData result stat %+v, want %+v", res[4].Stat, wantSet)
	}
	// The create result carries the Stat at the time of the create.
	if res[0].Stat != (proto.Stat{Czxid: 38, Mzxid: 38, Ctime: 3800, Mtime: 3800, Pzxid: 38}) {
		t.Errorf("create result stat %+v", res[0].Stat)
	}
	if st := mustStat(t, tr, "/m1"); st != wantSet {
		t.Errorf("final stat %+v", st)
	}
	if ch, err := tr.Children("/m1"); err != nil || !slices.Equal(ch, []string{"s0000000001"}) {
		t.Errorf("children %v", ch)
	}
	verify(t, tr)
}

func TestMultiReplaceChangesIndexes(t *testing.T) {
	tr := New()
	if _, _, err := tr.Create(CreateOp{Path: "/x", ACL: open, Mode: proto.ModeEphemeral, Owner: 5}, 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	ops := []Op{deleteOp("/x", -1), createOp("/x", proto.ModeContainer), createOp("/y", proto.ModeEphemeral), deleteOp("/y", -1), createOp("/y", proto.ModeEphemeral)}
	if _, err := tr.Multi(ops, 2, 2, nil); err != nil {
		t.Fatal(err)
	}
	if got := tr.Ephemerals(5); len(got) != 0 {
		t.Errorf("session 5 still owns %v", got)
	}
	if got := tr.Ephemerals(42); !slices.Equal(got, []string{"/y"}) {
		t.Errorf("session 42 owns %v", got)
	}
	if n, _ := tr.Get("/x"); n.Mode() != ModeContainer {
		t.Errorf("/x mode %v", n.Mode())
	}
	// The root saw 4 creates and 2 deletes in one zxid.
	if st := mustStat(t, tr, "/"); st.Pzxid != 2 || st.NumChildren != 3 {
		t.Errorf("root %+v", st)
	}
	verify(t, tr)
}

func TestMultiManyOpsSucceed(t *testing.T) {
	tr := New()
	var ops []Op
	for i := range 100 {
		p := fmt.Sprintf("/n%03d", i)
		ops = append(ops, createOp(p, proto.ModePersistent), setDataOp(p, "v", 0))
		if i%2 == 0 {
			ops = append(ops, deleteOp(p, 1))
		}
	}
	res, err := tr.Multi(ops, 9, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ops) || tr.Len() != 4+50 {
		t.Errorf("%d results, %d nodes", len(res), tr.Len())
	}
	verify(t, tr)
}

func TestMultiEmpty(t *testing.T) {
	tr := New()
	res, err := tr.Multi(nil, 1, 1, nil)
	if err != nil || len(res) != 0 {
		t.Errorf("empty multi: %v %v", res, err)
	}
}
