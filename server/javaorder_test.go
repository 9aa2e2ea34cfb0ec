package server

import (
	"slices"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// The expected orders below were printed by Java 17: paths added to a new
// java.util.HashSet in creation order (after `extra` other paths that are
// removed again, to raise the set's peak size), then the set cloned and the
// clone iterated, as Apache ZooKeeper does when it closes a session.
func TestEphemeralDeleteOrderMatchesJava(t *testing.T) {
	cases := []struct {
		name    string
		created []string // creation order
		extra   int      // ephemerals the session held and deleted before
		want    []string
	}{
		{"one", []string{"/a"}, 0, []string{"/a"}},
		{"small set", []string{"/e1", "/e2", "/e3", "/a/b", "/a/c"}, 0, []string{"/a/c", "/a/b", "/e1", "/e2", "/e3"}},
		{"copy table of 8", []string{"/x", "/y", "/z", "/w", "/v", "/u"}, 0, []string{"/u", "/v", "/w", "/x", "/y", "/z"}},
		{"equal hashes keep creation order", []string{"/BB", "/Aa"}, 0, []string{"/BB", "/Aa"}},
		{"equal hashes keep creation order, reversed", []string{"/Aa", "/BB"}, 0, []string{"/Aa", "/BB"}},
		{"collisions", []string{"/a/Aa", "/a/BB", "/b"}, 0, []string{"/b", "/a/Aa", "/a/BB"}},
		{"fourteen", []string{"/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j", "/k", "/l", "/m", "/n"}, 0,
			[]string{"/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j", "/k", "/l", "/m", "/n"}},
		{"grown original table", []string{"/p0", "/p1", "/p2", "/p3"}, 10, []string{"/p1", "/p2", "/p3", "/p0"}},
		{"larger history", []string{"/e1", "/e2", "/e3", "/a/b", "/a/c", "/b0000000001", "/zookeeper/config/q0000000000", "/c/q0000000012"}, 20,
			[]string{"/a/c", "/c/q0000000012", "/a/b", "/e1", "/e2", "/e3", "/b0000000001", "/zookeeper/config/q0000000000"}},
		{"same paths, no history", []string{"/e1", "/e2", "/e3", "/a/b", "/a/c", "/b0000000001", "/zookeeper/config/q0000000000", "/c/q0000000012"}, 0,
			[]string{"/a/c", "/a/b", "/c/q0000000012", "/e1", "/e2", "/e3", "/b0000000001", "/zookeeper/config/q0000000000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ephemeralDeleteOrder(c.created, len(c.created)+c.extra)
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestAuthSetOrderMatchesJava(t *testing.T) {
	ip := proto.Id{Scheme: "ip", ID: "127.0.0.1"}
	u1 := proto.Id{Scheme: "digest", ID: "u1:fpT/y03U+EjItKZOSLGvjnJlyng="}
	u2 := proto.Id{Scheme: "digest", ID: "u2:o9NxcCGDPOlcV7JVhmKHOf5ctVE="}
	sup := proto.Id{Scheme: "super", ID: ""}
	supDigest := proto.Id{Scheme: "digest", ID: "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}
	// Iteration order of a ConcurrentHashMap key set after adding, in
	// order: the connection's ip, then addauth u2, super and u1 (Java 17).
	got := authSetOrder([]proto.Id{ip, u2, sup, supDigest, u1})
	want := []proto.Id{u2, sup, u1, ip, supDigest}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if h := javaIDHash(proto.Id{Scheme: "digest", ID: "u1:abc"}); h != 1360559745 {
		t.Errorf("Id hashCode %d, Java says 1360559745", h)
	}
}

func TestJavaTableSizes(t *testing.T) {
	for _, c := range []struct {
		n          int
		orig, copy uint32
	}{{0, 16, 1}, {1, 16, 2}, {2, 16, 4}, {5, 16, 8}, {6, 16, 16}, {11, 16, 16}, {12, 16, 32}, {13, 32, 32}, {24, 32, 64}, {25, 64, 64}} {
		if got := javaHashSetCapacity(c.n); got != c.orig {
			t.Errorf("HashSet capacity after %d: %d, want %d", c.n, got, c.orig)
		}
		if got := javaCopyCapacity(c.n); got != c.copy {
			t.Errorf("capacity of a copy of %d: %d, want %d", c.n, got, c.copy)
		}
	}
}

// The expected orders were printed by Java 17 replaying ContainerManager's
// getCandidates: containers and TTL paths added in creation order to
// ConcurrentHashMap key sets, the due ones copied (containers first) into a
// new HashSet, which is iterated.
func TestReapOrderMatchesJava(t *testing.T) {
	cases := []struct {
		name              string
		containers, ttls  []string // all, in creation order
		dueConts, dueTTLs []string // due, in path order
		want              []string
	}{
		{"two containers", []string{"/c/q0000000056", "/c/a/a/q", "/x", "/y"}, []string{"/t1"},
			[]string{"/c/a/a/q", "/c/q0000000056"}, nil, []string{"/c/q0000000056", "/c/a/a/q"}},
		{"containers before TTL nodes in a shared bucket", []string{"/a", "/b", "/c", "/Aa", "/d"}, []string{"/BB", "/t"},
			[]string{"/Aa", "/a", "/b", "/c"}, []string{"/BB", "/t"}, []string{"/a", "/b", "/c", "/t", "/Aa", "/BB"}},
		{"larger set", []string{"/p0", "/p1", "/p2", "/p3", "/p4", "/p5", "/p6", "/p7", "/p8", "/p9", "/p10", "/p11", "/p12", "/p13"}, nil,
			[]string{"/p1", "/p11", "/p13", "/p3", "/p7"}, nil, []string{"/p1", "/p3", "/p13", "/p7", "/p11"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			created := func(p string) int64 {
				if i := slices.Index(c.containers, p); i >= 0 {
					return int64(i)
				}
				return int64(slices.Index(c.ttls, p))
			}
			got := reapOrder(c.dueConts, c.dueTTLs, len(c.containers), len(c.ttls), created)
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
