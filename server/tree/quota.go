package tree

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Quota bookkeeping, as Apache ZooKeeper 3.8's DataTree keeps it. A quota
// on path P is the pair of nodes /zookeeper/quota/P/zookeeper_limits (the
// limits, written by clients) and /zookeeper/quota/P/zookeeper_stats (the
// usage, "count=N,bytes=M", rewritten by the tree). Creating a limits node
// registers P; creating a stats node recounts P's subtree into it; every
// create, delete and setData under a registered path then adds its change
// to the stats node of the longest registered prefix. Limits are not
// enforced: Apache enforces them only with zookeeper.enforceQuota=true,
// which is off by default, and checks them before the tree is touched.
//
// The rewrite changes the stats node's data only: no version, zxid or time,
// and it fires no watch. Create, SetData and Multi report a node's Stat from
// before any rewrite of it, as Apache copies the Stat first. Apache does not
// count the rewrite in its approximate data size either, which therefore
// drifts from the real sum (Tree.quotaDrift).
//
// Apache's code has quirks that are kept: the registration takes the
// limits node's parent minus its first 16 characters whatever it is (so
// /zookeeper/quotaX/zookeeper_limits registers /X), paths are compared as
// component lists ignoring components made only of spaces, and the
// recount uses the parent as it is. Where Apache throws an unchecked
// exception halfway through (an empty path, a parent shorter than 16
// characters, stats data that is null or does not parse), the tree stops
// the bookkeeping at the same point but the operation still succeeds.
const (
	quotaDir       = "/zookeeper/quota"
	quotaLimitNode = "zookeeper_limits"
	quotaStatNode  = "zookeeper_stats"
	quotaTrimLen   = len(quotaDir) // Quotas.trimQuotaPath strips 16 characters
)

// quotaSet is the set of paths with a quota, each in normal form ("/a/b":
// no empty or all-space component). It is immutable once built, so trees
// and their clones share it; a change builds a new set.
type quotaSet struct {
	paths map[string]struct{}
}

// with returns q plus p (q may be nil).
func (q *quotaSet) with(p string) *quotaSet {
	if q.has(p) {
		return q
	}
	n := &quotaSet{paths: make(map[string]struct{}, q.len()+1)}
	if q != nil {
		for k := range q.paths {
			n.paths[k] = struct{}{}
		}
	}
	n.paths[p] = struct{}{}
	return n
}

// without returns q minus p, nil when that leaves it empty.
func (q *quotaSet) without(p string) *quotaSet {
	if !q.has(p) {
		return q
	}
	if q.len() == 1 {
		return nil
	}
	n := &quotaSet{paths: make(map[string]struct{}, q.len()-1)}
	for k := range q.paths {
		if k != p {
			n.paths[k] = struct{}{}
		}
	}
	return n
}

func (q *quotaSet) has(p string) bool {
	if q == nil {
		return false
	}
	_, ok := q.paths[p]
	return ok
}

func (q *quotaSet) len() int {
	if q == nil {
		return 0
	}
	return len(q.paths)
}

// maxPrefix returns the longest path of q that is a prefix of path, compared
// component by component (PathTrie.findMaxPrefix), and false if there is
// none.
func (q *quotaSet) maxPrefix(path string) (string, bool) {
	norm, ok := normalQuotaPath(path)
	if !ok {
		return "", false
	}
	for end := len(norm); end > 0; end = strings.LastIndexByte(norm[:end], '/') {
		if q.has(norm[:end]) {
			return norm[:end], true
		}
	}
	return "", false
}

// blankComponent reports whether a path component is one PathTrie skips:
// empty after Java's String.trim, which drops characters <= ' '.
func blankComponent(c string) bool {
	for i := 0; i < len(c); i++ {
		if c[i] > ' ' {
			return false
		}
	}
	return true
}

// normalQuotaPath returns p as PathTrie sees it, "/" followed by its
// non-blank components joined by '/', and false if it has none. It does not
// allocate when p is already in that form, as every znode path without an
// all-space component is.
func normalQuotaPath(p string) (string, bool) {
	clean := len(p) > 1 && p[0] == '/'
	for i := 0; clean && i < len(p); {
		j := strings.IndexByte(p[i+1:], '/') + i + 1
		if j == i {
			j = len(p)
		}
		clean = !blankComponent(p[i+1 : j])
		i = j
	}
	if clean {
		return p, true
	}
	var b strings.Builder
	for _, c := range strings.Split(p, "/") {
		if !blankComponent(c) {
			b.WriteByte('/')
			b.WriteString(c)
		}
	}
	return b.String(), b.Len() > 0
}

// quotas returns the quota set as the ops so far left it.
func (x *txn) quotas() *quotaSet {
	if x.quotasSet {
		return x.qs
	}
	return x.t.quotas
}

func (x *txn) setQuotas(q *quotaSet) {
	if x.multi {
		x.qs, x.quotasSet = q, true
		return
	}
	x.t.quotas = q
}

// created does the quota bookkeeping of DataTree.createNode for the node
// just created at path under parent with dataLen bytes of data.
func (x *txn) created(parent, path string, dataLen int) {
	if strings.HasPrefix(parent, quotaDir) {
		raw := parent[quotaTrimLen:]
		switch path[len(parent)+1:] {
		case quotaLimitNode:
			if raw == "" {
				return // PathTrie.addPath throws
			}
			if norm, ok := normalQuotaPath(raw); ok {
				x.setQuotas(x.quotas().with(strings.Clone(norm)))
			}
		case quotaStatNode:
			x.recount(raw)
		}
	}
	if q := x.quotas(); q != nil {
		if p, ok := q.maxPrefix(path); ok {
			x.addUsage(p, int64(dataLen), 1)
		}
	}
}

// removed does the quota bookkeeping of DataTree.deleteNode for the node
// just deleted at path under parent, which had dataLen bytes of data.
func (x *txn) removed(parent, path string, dataLen int) {
	// Apache tests the parent against "/zookeeper", not the quota node, and
	// then strips 16 characters (runes: paths hold no surrogate pairs).
	if strings.HasPrefix(parent, "/zookeeper") && path[len(parent)+1:] == quotaLimitNode {
		raw, ok := skipRunes(parent, quotaTrimLen)
		if !ok || raw == "" {
			return // substring or PathTrie.deletePath throws
		}
		norm, ok := normalQuotaPath(raw)
		if !ok {
			return // PathTrie.deletePath dereferences the root's null parent
		}
		x.setQuotas(x.quotas().without(norm))
	}
	if q := x.quotas(); q != nil {
		if p, ok := q.maxPrefix(path); ok {
			x.addUsage(p, -int64(dataLen), -1)
		}
	}
}

// dataChanged does the quota bookkeeping of DataTree.setData.
func (x *txn) dataChanged(path string, oldLen, newLen int) {
	if q := x.quotas(); q != nil {
		if p, ok := q.maxPrefix(path); ok {
			x.addUsage(p, int64(newLen-oldLen), 0)
		}
	}
}

// skipRunes returns s without its first n runes, false if s is shorter.
func skipRunes(s string, n int) (string, bool) {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[i:], n == 0
}

// addUsage adds to the stats node of the quota on p
// (DataTree.updateQuotaStat). A missing stats node, or one whose data does
// not parse, is left alone.
func (x *txn) addUsage(p string, bytes, count int64) {
	n, ok := x.get(quotaDir + p + "/" + quotaStatNode)
	if !ok || n.dlen < 0 {
		return
	}
	st, ok := parseStats(n.Data())
	if !ok {
		return
	}
	st.set(statCount, st.get(statCount)+count)
	st.set(statBytes, st.get(statBytes)+bytes)
	x.rewrite(n, st.appendTo(nil))
}

// recount sets the stats node of raw, a path as Apache's
// updateQuotaForPath receives it, to the node count and data bytes of
// raw's subtree ("" is the whole tree; a string naming no node counts 0).
func (x *txn) recount(raw string) {
	n, ok := x.get(quotaDir + raw + "/" + quotaStatNode)
	if !ok {
		return
	}
	count, bytes := x.usage(raw)
	st := stats{{statCount, count}, {statBytes, bytes}}
	x.rewrite(n, st.appendTo(nil))
}

// usage returns the number of nodes and data bytes of raw's subtree, raw
// included, as the ops so far left it.
func (x *txn) usage(raw string) (count, bytes int64) {
	count, bytes = x.t.usage(raw)
	for _, c := range x.changes {
		if !inSubtree(c.path, raw) {
			continue
		}
		if c.old != nil {
			count, bytes = count-1, bytes-int64(c.old.DataLength())
		}
		if c.cur != nil {
			count, bytes = count+1, bytes+int64(c.cur.DataLength())
		}
	}
	return count, bytes
}

// inSubtree reports whether the stored path p is raw or below it, raw
// being looked up as Apache's node map would ("" is the root).
func inSubtree(p, raw string) bool {
	if raw == "" || raw == "/" {
		return true
	}
	return strings.HasPrefix(p, raw) && (len(p) == len(raw) || p[len(raw)] == '/')
}

// usage returns the number of nodes and data bytes of raw's subtree in t
// (DataTree.getCounts).
func (t *Tree) usage(raw string) (count, bytes int64) {
	root, ok := t.find(raw)
	if !ok {
		return 0, 0
	}
	add := func(n *Node) bool {
		count, bytes = count+1, bytes+int64(n.DataLength())
		return true
	}
	p := root.path()
	if p == "/" {
		t.nodes.Ascend(add)
		return count, bytes
	}
	add(root)
	t.descendants(p, add)
	return count, bytes
}

// descendants calls fn for every node below path, a stored path other
// than "/", until fn returns false: first the block of its children, then
// the blocks whose parent starts with path+"/", contiguous because parents
// are compared as strings.
func (t *Tree) descendants(path string, fn func(*Node) bool) {
	more := true
	t.children(path, func(c *Node) bool { more = fn(c); return more })
	if !more {
		return
	}
	pfx := path + "/"
	t.nodes.AscendGreaterOrEqual(blockStart(pfx), func(c *Node) bool {
		return strings.HasPrefix(c.path()[:c.slash], pfx) && fn(c)
	})
}

// rewrite replaces the data of the stats node n as the server does: the
// Stat is unchanged and Apache's data size does not see the change.
func (x *txn) rewrite(n *Node, data []byte) {
	x.set(n, n.withData(data))
	d := int64(len(data) - n.DataLength())
	if x.multi {
		x.drift += d
	} else {
		x.t.quotaDrift += d
	}
}

// rebuildQuotas registers the quotas of a tree read from a snapshot and
// recounts their stats nodes (DataTree.setupQuota): every childless node
// below /zookeeper/quota whose path ends in /zookeeper_limits. Apache
// visits them in hash order; this visits them in key order.
func (t *Tree) rebuildQuotas() {
	if _, ok := t.find(quotaDir); !ok {
		return
	}
	var limits []string
	t.descendants(quotaDir, func(n *Node) bool {
		if p := n.path(); n.numChildren == 0 && strings.HasSuffix(p, "/"+quotaLimitNode) {
			limits = append(limits, p)
		}
		return true
	})
	x := txn{t: t}
	for _, p := range limits {
		raw := p[quotaTrimLen:strings.Index(p, "/"+quotaLimitNode)]
		x.recount(raw)
		if raw == "" {
			continue // PathTrie.addPath throws (and Apache fails to load)
		}
		if norm, ok := normalQuotaPath(raw); ok {
			t.quotas = t.quotas.with(strings.Clone(norm))
		}
	}
}

// Keys of a StatsTrack that Apache writes first.
const (
	statCount = "count"
	statBytes = "bytes"
)

// stats is a parsed StatsTrack: key/value pairs, each key once.
type stats []statPair

type statPair struct {
	key string
	val int64
}

// get returns the value of key, -1 if absent (StatsTrack.getValue).
func (s stats) get(key string) int64 {
	for _, p := range s {
		if p.key == key {
			return p.val
		}
	}
	return -1
}

func (s *stats) set(key string, v int64) {
	for i := range *s {
		if (*s)[i].key == key {
			(*s)[i].val = v
			return
		}
	}
	*s = append(*s, statPair{key, v})
}

// parseStats parses data as StatsTrack(byte[]) does and reports false
// where Java would throw: pairs separated by runs of ',' or ';', each
// split on '=' with trailing empty fields dropped, needing a key and a
// value; an empty value means -1; a later key overrides an earlier one.
func parseStats(data []byte) (stats, bool) {
	s := javaString(data)
	var st stats
	if s == "" {
		return st, true
	}
	pairs := splitRuns(s)
	for _, pair := range pairs {
		kv := strings.Split(pair, "=")
		for len(kv) > 0 && kv[len(kv)-1] == "" {
			kv = kv[:len(kv)-1]
		}
		if len(kv) < 2 {
			return nil, false
		}
		v := int64(-1)
		if kv[1] != "" {
			var err error
			if v, err = strconv.ParseInt(kv[1], 10, 64); err != nil {
				return nil, false
			}
		}
		st.set(kv[0], v)
	}
	return st, true
}

// splitRuns splits s around runs of ',' and ';' as Java's
// String.split("[,;]+"): a leading separator yields an empty first field,
// trailing empty fields are dropped (all of them when s is only
// separators).
func splitRuns(s string) []string {
	sep := func(r rune) bool { return r == ',' || r == ';' }
	fields := strings.FieldsFunc(s, sep)
	if len(fields) > 0 && sep(rune(s[0])) {
		fields = append([]string{""}, fields...)
	}
	return fields
}

// javaString returns data as Java decodes UTF-8 into a String and back:
// each invalid byte becomes U+FFFD.
func javaString(data []byte) string {
	if utf8.Valid(data) {
		return string(data)
	}
	var b strings.Builder
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		b.WriteRune(r)
		data = data[size:]
	}
	return b.String()
}

// appendTo appends the text of s as StatsTrack.toString writes it: count
// and bytes first, then, after an extra '=', the other keys in Java string
// order, each as ";key=value".
func (s stats) appendTo(b []byte) []byte {
	b = append(b, statCount+"="...)
	b = strconv.AppendInt(b, s.get(statCount), 10)
	b = append(b, ","+statBytes+"="...)
	b = strconv.AppendInt(b, s.get(statBytes), 10)
	var rest stats
	for _, p := range s {
		if p.key != statCount && p.key != statBytes {
			rest = append(rest, p)
		}
	}
	if len(rest) == 0 {
		return b
	}
	sortPairs(rest)
	b = append(b, '=')
	for _, p := range rest {
		b = append(b, ';')
		b = append(b, p.key...)
		b = append(b, '=')
		b = strconv.AppendInt(b, p.val, 10)
	}
	return b
}

func sortPairs(s stats) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && javaLess(s[j].key, s[j-1].key); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// javaLess orders valid UTF-8 strings as Java's String.compareTo orders
// their UTF-16 forms: by code point, except that supplementary characters
// (surrogate pairs) sort before U+E000..U+FFFF.
func javaLess(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return utf16Key(ra) < utf16Key(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b != ""
}

// utf16Key maps a rune to a value whose order is that of its first UTF-16
// unit, refined by the rune for supplementary characters.
func utf16Key(r rune) int64 {
	if r < 0x10000 {
		return int64(r) << 21
	}
	hi := 0xd800 + (r-0x10000)>>10
	return int64(hi)<<21 | int64(r)
}
