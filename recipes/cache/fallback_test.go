package cache_test

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/zkgo/zkgo/internal/netproxy"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/recipes/cache"
	"github.com/zkgo/zkgo/recipes/internal/testserver"
)

// withoutAddWatch is a proxy Rewriter that makes the server look like one
// before Apache ZooKeeper 3.6: addWatch requests are sent on as an unknown
// op code, which servers answer with Unimplemented (then they close the
// connection).
func withoutAddWatch(dst io.Writer, src io.Reader) error {
	first := true // the connect request has no request header
	for {
		var n [4]byte
		if _, err := io.ReadFull(src, n[:]); err != nil {
			return err
		}
		frame := make([]byte, binary.BigEndian.Uint32(n[:]))
		if _, err := io.ReadFull(src, frame); err != nil {
			return err
		}
		if !first && len(frame) >= 8 && proto.OpCode(binary.BigEndian.Uint32(frame[4:8])) == proto.OpAddWatch {
			binary.BigEndian.PutUint32(frame[4:8], 9999)
		}
		first = false
		if _, err := dst.Write(append(n[:], frame...)); err != nil {
			return err
		}
	}
}

// TestCuratorCacheFallback: on a server that refuses addWatch, a
// CuratorCache works on one-shot watches.
func TestCuratorCacheFallback(t *testing.T) {
	px, err := netproxy.ListenRewrite(suite.Addr(t), withoutAddWatch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	w := connect(t)
	root := suite.Base(t) + "/cc"
	mustCreate(t, w, root+"/a", "a1")
	c := testserver.Connect(t, px.Addr())
	cc, r := start(t, cache.NewCuratorCache(c, root))
	if cc.Persistent() {
		t.Fatal("Persistent() after addWatch was refused")
	}
	// The refusal closed the connection: states may come between the
	// node events, which must be the tree's.
	var nodes []cache.Event
	for _, ev := range r.until(t, cache.Initialized) {
		if ev.Path != "" {
			nodes = append(nodes, ev)
		}
	}
	if got := format(nodes); got != "[NODE_CREATED "+root+" , NODE_CREATED "+root+"/a a1]" {
		t.Fatalf("initial events %s", got)
	}
	mustCreate(t, w, root+"/a/b", "b1")
	mustSet(t, w, root+"/a", "a2")
	want := serverView(t, w, root, true, -1)
	waitView(t, "events", func() map[string]string { return replay(t, r.all()) }, want)
}
