package jepsen

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// TestAnnounceVia checks the rewrite of Apache's election handshake: the
// election address server 1 announces to server 2 becomes the proxy
// through which server 2 reaches it, and the bytes after the handshake
// are left alone.
func TestAnnounceVia(t *testing.T) {
	links := newPeerLinks()
	defer links.close()
	const real = "127.0.0.1:1" // nothing is dialed: the rewrite happens before
	via, err := links.route(1, 0, real, nil)
	if err != nil {
		t.Fatal(err)
	}
	handshake := func(version int64, addrs string) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, version)
		binary.Write(&b, binary.BigEndian, int64(1)) // myid of server 1
		if version < 0 {
			binary.Write(&b, binary.BigEndian, int32(len(addrs)))
			b.WriteString(addrs)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name    string
		version int64
		in, out string
	}{
		{"v2 (3.6+)", -65535, real, via},
		{"v1 (3.5)", -65536, real, via},
		{"several addresses", -65535, real + "|127.0.0.1:2", via + "|127.0.0.1:2"},
		{"unknown address", -65535, "127.0.0.1:3", "127.0.0.1:3"},
		{"pre-3.5, no address", 1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := bytes.NewReader(append(handshake(tc.version, tc.in), "notification"...))
			var dst bytes.Buffer
			if err := announceVia(links, 0, 1)(&dst, src); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(src)
			if got, want := dst.String()+string(rest), string(handshake(tc.version, tc.out))+"notification"; got != want {
				t.Fatalf("rewritten stream = %q, want %q", got, want)
			}
		})
	}
}
