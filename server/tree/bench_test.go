package tree

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// benchTree returns a tree with parents × children nodes of dataLen bytes
// ("/app/p0007/n000042") and their paths.
func benchTree(tb testing.TB, parents, children, dataLen int) (*Tree, []string) {
	tb.Helper()
	tr := New()
	data := bytes.Repeat([]byte{'d'}, dataLen)
	mustCreate(tb, tr, "/app", 1)
	paths := make([]string, 0, parents*children)
	zxid := int64(2)
	for p := range parents {
		parent := fmt.Sprintf("/app/p%04d", p)
		mustCreate(tb, tr, parent, zxid)
		zxid++
		for c := range children {
			path := fmt.Sprintf("%s/n%06d", parent, c)
			if _, _, err := tr.Create(CreateOp{Path: path, Data: data, ACL: open}, zxid, zxid, nil); err != nil {
				tb.Fatal(err)
			}
			zxid++
			paths = append(paths, path)
		}
	}
	return tr, paths
}

func BenchmarkCreate(b *testing.B) {
	tr, _ := benchTree(b, 1000, 0, 0)
	data := bytes.Repeat([]byte{'d'}, 100)
	paths := make([]string, b.N)
	for i := range paths {
		paths[i] = "/app/p" + strconv.Itoa(10000 + i%1000)[1:] + "/n" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := tr.Create(CreateOp{Path: paths[i], Data: data, ACL: open}, int64(i+10000), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateSequential(b *testing.B) {
	tr := New()
	mustCreate(b, tr, "/locks", 1)
	data := bytes.Repeat([]byte{'d'}, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := CreateOp{Path: "/locks/lock-", Data: data, ACL: open, Mode: proto.ModeEphemeralSequential, Owner: int64(i%100 + 1)}
		if _, _, err := tr.Create(op, int64(i+2), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	tr, paths := benchTree(b, 100, 1000, 100)
	r := rand.New(rand.NewPCG(1, 2))
	order := make([]int, 1<<16)
	for i := range order {
		order[i] = r.IntN(len(paths))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := tr.Get(paths[order[i&(len(order)-1)]]); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkSetData(b *testing.B) {
	tr, paths := benchTree(b, 100, 1000, 100)
	data := bytes.Repeat([]byte{'e'}, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.SetData(paths[i%len(paths)], data, -1, int64(i+1e6), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChildren(b *testing.B) {
	tr, _ := benchTree(b, 10, 1000, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ch, err := tr.Children("/app/p0003"); err != nil || len(ch) != 1000 {
			b.Fatal(len(ch), err)
		}
	}
}

func BenchmarkMulti(b *testing.B) {
	tr, _ := benchTree(b, 1, 0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := "/app/p0000/m" + strconv.Itoa(i)
		ops := []Op{
			{Type: proto.OpCreate, Create: CreateOp{Path: p, ACL: open}},
			{Type: proto.OpSetData, Path: p, Data: []byte("x"), Version: 0},
			{Type: proto.OpCheck, Path: "/app", Version: -1},
			{Type: proto.OpCreate, Create: CreateOp{Path: p + "/c", ACL: open}},
			{Type: proto.OpDelete, Path: p + "/c", Version: -1},
		}
		if _, err := tr.Multi(ops, int64(i+10), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCloneWrite measures a snapshot: an O(1) clone of a 100k-node tree
// serialised in full.
func BenchmarkCloneWrite(b *testing.B) {
	tr, _ := benchTree(b, 100, 1000, 100)
	n, err := tr.WriteTo(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Clone().WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClone measures Clone alone plus the copy-on-write cost the next
// write pays.
func BenchmarkClone(b *testing.B) {
	tr, paths := benchTree(b, 100, 1000, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tr.Clone()
		if _, err := tr.SetData(paths[i%len(paths)], nil, -1, int64(i+1e6), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadTree(b *testing.B) {
	tr, _ := benchTree(b, 100, 1000, 100)
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadTree(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemory1M builds a tree of 1M nodes with 100 bytes of data each
// (1000 parents × 1000 children, paths like /app/p0123/n000456) and reports
// live heap bytes per node and the process RSS.
func BenchmarkMemory1M(b *testing.B) {
	if testing.Short() {
		b.Skip("builds 1M nodes")
	}
	if invariants {
		b.Skip("race builds check invariants and inflate memory")
	}
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tr, _ := benchTree(b, 1000, 1000, 100) // the paths slice is garbage: only the tree's copies count
		runtime.GC()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&after)
		perNode := float64(after.HeapAlloc-before.HeapAlloc) / float64(tr.Len())
		b.ReportMetric(perNode, "heapB/node")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heapMB")
		b.ReportMetric(float64(after.HeapInuse)/1e6, "inuseMB")
		b.ReportMetric(float64(after.Sys-after.HeapReleased)/1e6, "sysMB")
		if rss := rssBytes(); rss > 0 {
			b.ReportMetric(float64(rss)/1e6, "rssMB")
		}
		if perNode > 350 {
			b.Errorf("%.0f heap bytes per node", perNode)
		}
		runtime.KeepAlive(tr)
	}
}

// rssBytes returns the resident set size from /proc, or 0 where there is none.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// BenchmarkSetDataUnderQuota is BenchmarkSetData's cost when the node is
// below a quota, whose stats node each write rewrites.
func BenchmarkSetDataUnderQuota(b *testing.B) {
	tr, paths := benchTree(b, 100, 1000, 100)
	for _, p := range []string{quotaDir + "/app", quotaDir + "/app/" + quotaLimitNode, quotaDir + "/app/" + quotaStatNode} {
		mustCreate(b, tr, p, 1)
	}
	data := bytes.Repeat([]byte{'e'}, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.SetData(paths[i%len(paths)], data, -1, int64(i+1), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}
