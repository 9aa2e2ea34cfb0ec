package server

import (
	"cmp"
	"slices"

	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/tree"
)

// javaSpread is java.util.HashMap.hash: the high half of a hashCode (see
// javaStringHash in sys.go) folded into the low.
func javaSpread(h int32) uint32 {
	u := uint32(h)
	return u ^ u>>16
}

// javaHashSetCapacity returns the table size of a java.util.HashSet created
// empty (16 buckets) after it held at most peak elements at once: the table
// doubles whenever the size exceeds three quarters of it, and never shrinks.
func javaHashSetCapacity(peak int) uint32 {
	c := uint32(16)
	for peak > int(c/4*3) {
		c <<= 1
	}
	return c
}

// javaCopyCapacity returns the table size of a copy of a java.util.HashSet
// of n elements (HashMap.clone and putMapEntries size the new table for n).
func javaCopyCapacity(n int) uint32 {
	t := uint32(float32(n)/0.75 + 1)
	c := uint32(1)
	for c < t {
		c <<= 1
	}
	return c
}

// ephemeralOrder returns the paths of the ephemeral nodes of session in
// Apache ZooKeeper's order (see ephemeralDeleteOrder), which getEphemerals
// also lists them in.
func ephemeralOrder(t *tree.Tree, session int64) []string {
	return ephemeralDeleteOrder(t.EphemeralsByCreation(session), t.EphemeralPeak(session))
}

// ephemeralDeleteOrder orders the ephemeral nodes of a closing session,
// given in creation order, as Apache ZooKeeper deletes them, which is the
// order their watch events go out in. PrepRequestProcessor copies the
// session's HashSet of paths (DataTree.getEphemerals clones it), lists the
// copy in the CloseSessionTxn, and DataTree.killSession deletes in list
// order: the iteration order of the copy. That is by bucket of the copy's
// table, then by the order the copy met them iterating the original set: by
// bucket of the original table (its size follows the most ephemerals the
// session ever held, peak), then by insertion, which is creation order.
// Buckets that would overflow into Java's tree bins (8 or more colliding
// paths) are not modelled.
func ephemeralDeleteOrder(created []string, peak int) []string {
	type entry struct {
		path         string
		copyB, origB uint32
	}
	peak = max(peak, len(created))
	cmask := javaCopyCapacity(len(created)) - 1
	omask := javaHashSetCapacity(peak) - 1
	es := make([]entry, len(created))
	for i, p := range created {
		h := javaSpread(javaStringHash(p))
		es[i] = entry{path: p, copyB: h & cmask, origB: h & omask}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if c := cmp.Compare(a.copyB, b.copyB); c != 0 {
			return c
		}
		return cmp.Compare(a.origB, b.origB)
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.path
	}
	return out
}

// javaIDHash is the hashCode of Apache ZooKeeper's jute record Id.
func javaIDHash(id proto.Id) int32 {
	return 37*(37*17+javaStringHash(id.Scheme)) + javaStringHash(id.ID)
}

// authSetOrder returns ids, given in the order they were added, in the
// iteration order of the set Apache ZooKeeper keeps a connection's
// identities in (ServerCnxn.authInfo, a ConcurrentHashMap key set): by
// bucket of the map's table, then in order of addition. That order shows in
// the ACL an "auth" id expands to and in whoAmI. The table starts at 16
// buckets and doubles as the set reaches three quarters of it; the order
// changes Java's resizing makes within a bucket are not modelled (they need
// a dozen identities on one connection).
func authSetOrder(ids []proto.Id) []proto.Id {
	n := uint32(16)
	for len(ids) >= int(n/4*3) {
		n <<= 1
	}
	bucket := func(id proto.Id) uint32 { return javaSpread(javaIDHash(id)) & 0x7fffffff & (n - 1) }
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b proto.Id) int {
		x, y := bucket(a), bucket(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out
}

// javaConcurrentCapacity returns the table size of a
// java.util.concurrent.ConcurrentHashMap created empty (16 bins) that holds
// n entries: it doubles when the count reaches three quarters of it.
func javaConcurrentCapacity(n int) uint32 {
	c := uint32(16)
	for n >= int(c/4*3) {
		c <<= 1
	}
	return c
}

// reapOrder orders the nodes the reaper found due, containers and TTL nodes
// (nodeCount containers and ttlCount TTL nodes exist), as Apache ZooKeeper's
// ContainerManager deletes them, which is the order of the events their
// deletions fire. getCandidates adds them to a new java.util.HashSet,
// containers first, each kind in the iteration order of DataTree's
// ConcurrentHashMap key set of such paths, and checkContainers iterates that
// HashSet: by its buckets, then in the order of addition. The key sets are
// modelled at their present size (their tables only grow, so a set that once
// held many more paths may iterate differently) and their bins in creation
// order.
func reapOrder(containers, ttls []string, containerCount, ttlCount int, czxid func(string) int64) []string {
	type entry struct {
		path    string
		bucket  uint32 // in the candidates' HashSet
		kind    int    // 0 container, 1 TTL: the order of addition
		bin     uint32 // in DataTree's set of paths of that kind
		created int64
	}
	setMask := javaHashSetCapacity(len(containers)+len(ttls)) - 1
	es := make([]entry, 0, len(containers)+len(ttls))
	for kind, paths := range [][]string{containers, ttls} {
		binMask := javaConcurrentCapacity([]int{containerCount, ttlCount}[kind]) - 1
		for _, p := range paths {
			h := javaSpread(javaStringHash(p))
			es = append(es, entry{path: p, bucket: h & setMask, kind: kind, bin: h & 0x7fffffff & binMask, created: czxid(p)})
		}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.bucket, b.bucket), cmp.Compare(a.kind, b.kind),
			cmp.Compare(a.bin, b.bin), cmp.Compare(a.created, b.created))
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.path
	}
	return out
}
