package tree

import (
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// TestReapDue checks the apply-time test of a reaper's choice: the node the
// reaper chose is still due, a node deleted and re-created at the same
// path since (another czxid) is not, nor one that got a child or, for a TTL
// node, new data.
func TestReapDue(t *testing.T) {
	tr := New()
	create := func(path string, mode proto.CreateMode, zxid int64) {
		t.Helper()
		if _, _, err := tr.Create(CreateOp{Path: path, ACL: open, Mode: mode, TTL: 100}, zxid, zxid, nil); err != nil {
			t.Fatalf("create %s: %v", path, err)
		}
	}
	create("/c", proto.ModeContainer, 1)
	if tr.ReapDue("/c", 1, 1000) {
		t.Errorf("a container that never had a child is due")
	}
	create("/c/x", proto.ModePersistent, 2)
	if tr.ReapDue("/c", 1, 1000) {
		t.Errorf("a container with a child is due")
	}
	if err := tr.Delete("/c/x", -1, 3, nil); err != nil {
		t.Fatal(err)
	}
	if !tr.ReapDue("/c", 1, 1000) {
		t.Errorf("an emptied container is not due")
	}
	if tr.ReapDue("/c", 7, 1000) {
		t.Errorf("due with another node's czxid")
	}
	// Deleted and re-created since the reaper chose it.
	if err := tr.Delete("/c", -1, 4, nil); err != nil {
		t.Fatal(err)
	}
	create("/c", proto.ModeContainer, 5)
	if tr.ReapDue("/c", 1, 1000) {
		t.Errorf("a re-created container is due under the old czxid")
	}

	create("/t", proto.ModePersistentWithTTL, 6) // mtime 6, ttl 100
	if tr.ReapDue("/t", 6, 100) || !tr.ReapDue("/t", 6, 107) {
		t.Errorf("TTL node due at 100 or not due at 107 (mtime 6, ttl 100)")
	}
	if _, err := tr.SetData("/t", []byte("x"), -1, 7, 50, nil); err != nil {
		t.Fatal(err)
	}
	if tr.ReapDue("/t", 6, 107) {
		t.Errorf("TTL node due at 107 after its data changed at 50")
	}
	if tr.ReapDue("/missing", 1, 1000) {
		t.Errorf("a missing node is due")
	}
	create("/p", proto.ModePersistent, 8)
	if tr.ReapDue("/p", 8, 1000) {
		t.Errorf("a persistent node is due")
	}
}

// TestSetConfigNode checks that the membership goes into /zookeeper/config
// as Apache ZooKeeper's initConfigInZKDatabase puts it: version -1, mzxid
// the config version, czxid 0, the given mtime.
func TestSetConfigNode(t *testing.T) {
	tr := New()
	data := []byte("server.1=127.0.0.1:2888:3888:participant\nversion=0")
	tr.SetConfigNode(data, 0, 1234)
	n, ok := tr.Get("/zookeeper/config")
	if !ok {
		t.Fatal("no /zookeeper/config")
	}
	st := n.Stat()
	if string(n.Data()) != string(data) || st.Version != -1 || st.Mtime != 1234 || st.Mzxid != 0 || st.Czxid != 0 || st.Aversion != -1 {
		t.Errorf("config node = %q %+v", n.Data(), st)
	}
	verify(t, tr)
}
