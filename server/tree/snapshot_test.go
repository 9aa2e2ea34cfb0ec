package tree

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"slices"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// richTree has every kind of node, null and empty data, several ACL lists,
// non-ASCII paths and changed versions.
func richTree(tb testing.TB) *Tree {
	tb.Helper()
	tr := New()
	populate(tb, tr, 60)
	digest := []proto.ACL{{Perms: proto.PermRead | proto.PermWrite, ID: proto.Id{Scheme: "digest", ID: "u:hash="}}, {Perms: proto.PermAdmin, ID: proto.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}
	for i, c := range []CreateOp{
		{Path: "/ttl", ACL: open, Mode: proto.ModePersistentWithTTL, TTL: 12345, Data: []byte{}},
		{Path: "/ttl/child", ACL: digest, Data: bytes.Repeat([]byte{0, 1, 2}, 1000)},
		{Path: "/日本/é", ACL: open}, // parent missing: created below first
	} {
		if i == 2 {
			mustCreate(tb, tr, "/日本", 100)
		}
		if _, _, err := tr.Create(c, int64(101+i), 5000, nil); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := tr.SetData("/app", []byte("data"), -1, 200, 6000, nil); err != nil {
		tb.Fatal(err)
	}
	if _, err := tr.SetACL("/app/data", digest, -1, 201, nil); err != nil {
		tb.Fatal(err)
	}
	for _, p := range []string{"/app/data/n00003", "/app/data/n00008"} {
		if err := tr.Delete(p, -1, 202, nil); err != nil {
			tb.Fatal(err)
		}
	}
	verify(tb, tr)
	return tr
}

func snapshotBytes(tb testing.TB, tr *Tree) []byte {
	tb.Helper()
	var b bytes.Buffer
	n, err := tr.WriteTo(&b)
	if err != nil {
		tb.Fatal(err)
	}
	if n != int64(b.Len()) {
		tb.Fatalf("WriteTo returned %d, wrote %d", n, b.Len())
	}
	return b.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	tr := richTree(t)
	data := snapshotBytes(t, tr)
	got, err := ReadTree(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	verify(t, got)
	type view struct {
		path  string
		stat  proto.Stat
		data  []byte
		acl   []proto.ACL
		mode  Mode
		owner int64
		ttl   int64
	}
	all := func(tr *Tree) []view {
		var out []view
		tr.Walk(func(p string, n *Node) bool {
			out = append(out, view{p, n.Stat(), n.Data(), n.ACL(), n.Mode(), n.Owner(), n.TTL()})
			return true
		})
		return out
	}
	a, b := all(tr), all(got)
	if len(a) != len(b) {
		t.Fatalf("%d nodes, read back %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.path != y.path || x.stat != y.stat || !bytes.Equal(x.data, y.data) || (x.data == nil) != (y.data == nil) ||
			!slices.Equal(x.acl, y.acl) || x.mode != y.mode || x.owner != y.owner || x.ttl != y.ttl {
			t.Errorf("node %d: wrote %+v, read %+v", i, x, y)
		}
	}
	if fingerprint(t, tr) != fingerprint(t, got) {
		t.Error("indexes or counters differ after a round trip")
	}
	if tr.NodeCount() != got.NodeCount() || !slices.Equal(tr.Ephemerals(3), got.Ephemerals(3)) ||
		!slices.Equal(tr.ExpiredTTLs(1e9), got.ExpiredTTLs(1e9)) {
		t.Error("queries differ after a round trip")
	}
	// Interning survives: equal ACLs share one list again.
	x, _ := got.Get("/app/data")
	y, _ := got.Get("/ttl/child")
	if x.acl != y.acl {
		t.Error("ACL lists not shared after a round trip")
	}
	// The read tree is fully usable.
	if _, _, err := got.Create(CreateOp{Path: "/app/data/s", ACL: open, Mode: proto.ModePersistentSequential}, 300, 1, nil); err != nil {
		t.Error(err)
	}
	verify(t, got)
}

func TestSnapshotReadsExactly(t *testing.T) {
	tr := New()
	var b bytes.Buffer
	if _, err := tr.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	b.WriteString("TAIL")
	// bytes.Buffer is an io.ByteReader: ReadTree must stop at the trailer.
	if _, err := ReadTree(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != "TAIL" {
		t.Errorf("left %q after the snapshot", b.String())
	}
}

func TestSnapshotTruncated(t *testing.T) {
	data := snapshotBytes(t, richTree(t))
	for n := 0; n < len(data); n += 1 + n/50 {
		_, err := ReadTree(bytes.NewReader(data[:n]))
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d of %d: %v", n, len(data), err)
		}
	}
}

func TestSnapshotCorrupted(t *testing.T) {
	data := snapshotBytes(t, richTree(t))
	for i := 0; i < len(data); i += 1 + i/100 {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			_, err := ReadTree(bytes.NewReader(bad))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: %v", i, mask, err)
			}
		}
	}
}

// TestSnapshotStructureChecked feeds streams whose checksum is right but
// whose content is not a tree.
func TestSnapshotStructureChecked(t *testing.T) {
	head := func() []byte {
		b := []byte(snapMagic)
		return binary.BigEndian.AppendUint32(b, snapVersion)
	}
	aclRec := func(b []byte) []byte {
		r := []byte{tagACL, 0, 1}
		r = binary.AppendVarint(r, 31)
		r = append(r, 5)
		r = append(r, "world"...)
		r = append(r, 6)
		r = append(r, "anyone"...)
		b = binary.AppendUvarint(b, uint64(len(r)))
		return append(b, r...)
	}
	nodeRec := func(b []byte, path string, acl uint64, mode byte) []byte {
		r := []byte{tagNode}
		r = binary.AppendUvarint(r, uint64(len(path)))
		r = append(r, path...)
		r = binary.AppendVarint(r, -1)
		r = binary.AppendUvarint(r, acl)
		for range 8 {
			r = binary.AppendVarint(r, 0)
		}
		r = append(r, mode)
		r = binary.AppendVarint(r, 0)
		b = binary.AppendUvarint(b, uint64(len(r)))
		return append(b, r...)
	}
	finish := func(b []byte, count uint64) []byte {
		b = binary.AppendUvarint(b, 0)
		b = binary.AppendUvarint(b, count)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"minimal", finish(nodeRec(aclRec(head()), "/", 0, 0), 1), true},
		{"empty", finish(head(), 0), false},
		{"first not root", finish(nodeRec(aclRec(head()), "/a", 0, 0), 1), false},
		{"orphan", finish(nodeRec(nodeRec(aclRec(head()), "/", 0, 0), "/a/b", 0, 0), 2), false},
		{"out of order", finish(nodeRec(nodeRec(nodeRec(aclRec(head()), "/", 0, 0), "/b", 0, 0), "/a", 0, 0), 3), false},
		{"duplicate", finish(nodeRec(nodeRec(nodeRec(aclRec(head()), "/", 0, 0), "/a", 0, 0), "/a", 0, 0), 3), false},
		{"invalid path", finish(nodeRec(nodeRec(aclRec(head()), "/", 0, 0), "/.", 0, 0), 2), false},
		{"unknown ACL", finish(nodeRec(aclRec(head()), "/", 1, 0), 1), false},
		{"bad mode", finish(nodeRec(aclRec(head()), "/", 0, 9), 1), false},
		{"TTL without TTL", finish(nodeRec(aclRec(head()), "/", 0, byte(ModeTTL)), 1), false},
		{"count mismatch", finish(nodeRec(aclRec(head()), "/", 0, 0), 2), false},
		{"unknown record", finish(append(nodeRec(aclRec(head()), "/", 0, 0), 1, 'Z'), 1), false},
		{"bad version", finish(nodeRec(aclRec(binary.BigEndian.AppendUint32([]byte(snapMagic), 2)), "/", 0, 0), 1), false},
		{"bad magic", finish(nodeRec(aclRec(binary.BigEndian.AppendUint32([]byte("zkgotref"), 1)), "/", 0, 0), 1), false},
	}
	for _, tc := range tests {
		tr, err := ReadTree(bytes.NewReader(tc.data))
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else {
				verify(t, tr)
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", tc.name, err)
		}
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		n := w.after
		w.after = 0
		return n, io.ErrClosedPipe
	}
	w.after -= len(p)
	return len(p), nil
}

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

func TestSnapshotIOErrors(t *testing.T) {
	tr := richTree(t)
	if _, err := tr.WriteTo(&failWriter{after: 1000}); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("WriteTo to a failing writer: %v", err)
	}
	_, err := ReadTree(failReader{io.ErrClosedPipe})
	if !errors.Is(err, io.ErrClosedPipe) || errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadTree from a failing reader: %v", err)
	}
}

func FuzzReadTree(f *testing.F) {
	f.Add(snapshotBytes(f, New()))
	tr := New()
	populate(f, tr, 10)
	f.Add(snapshotBytes(f, tr))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadTree(bytes.NewReader(data))
		if err != nil {
			return
		}
		verify(t, tr)
		if _, err := ReadTree(bytes.NewReader(snapshotBytes(t, tr))); err != nil {
			t.Errorf("a tree read from a stream does not read back: %v", err)
		}
	})
}
