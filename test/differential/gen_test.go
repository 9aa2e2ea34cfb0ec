package differential

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/zkgo/zkgo/proto"
)

// opKind says how an op is carried on the wire.
type opKind int

const (
	kindRequest   opKind = iota // numbered xid, code + req
	kindAuth                    // xid -4, req is *proto.AuthPacket
	kindSetWatch                // xid -8, req is *proto.SetWatches or *proto.SetWatches2; RelativeZxid filled per server
	kindPing                    // xid -2
	kindReopen                  // closeSession, wait for the server to close, open a new session
	kindReconnect               // drop the TCP connection, resume the session on a new one
	kindOversize                // a request frame above jute.maxbuffer
)

// op is one step of the sequence, addressed to a logical session.
type op struct {
	index int
	sess  int
	kind  opKind
	code  proto.OpCode
	req   proto.Record
	// hasRO selects a 45-byte (true) or 44-byte connect request for ops that
	// open a connection.
	hasRO bool
}

// shortTTL is the largest TTL the test treats as "expires at once" and
// waits for; longer TTLs never expire during a run.
const shortTTL = 100

// superCred is the superuser's "user:password" (see superDigest).
const superCred = "super:test"

// userCreds are the digest identities used in ACLs and addauth.
var userCreds = []string{"u1:p1", "u2:p2"}

// digestID returns the digest ACL id for "user:password".
func digestID(cred string) string {
	user, _, _ := strings.Cut(cred, ":")
	sum := sha1.Sum([]byte(cred))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// generator produces the op sequence. It is deterministic for a seed and
// learns from server A's results (sequential names, versions), which the
// comparison has proven equal to B's before they are used.
type generator struct {
	rng      *rand.Rand
	nSess    int
	count    int
	queue    []op
	seqPaths []string         // recently created sequential or container/TTL paths
	live     []string         // paths A last reported as existing, in a deterministic order
	liveAt   map[string]int   // index of a path in live
	versions map[string]int32 // last version seen per path
	aversion map[string]int32 // last aversion seen per path
	sweepN   int              // ping every session every sweepN ops
	watches  *watchModel
}

func newGenerator(seed int64, nSess int) *generator {
	return &generator{
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		nSess:    nSess,
		liveAt:   make(map[string]int),
		versions: make(map[string]int32),
		aversion: make(map[string]int32),
		sweepN:   500,
		watches:  newWatchModel(nSess),
	}
}

var names = []string{"a", "b", "c"}

// specialPaths are system nodes and the root.
var specialPaths = []string{"/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota", "/zookeeper/x"}

// invalidPaths break PathUtils.validatePath in various ways.
var invalidPaths = []string{
	"", "a", "a/b", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/zookeeper/",
	"/a\x00b", "/a\x01", "/a\x1f", "/a\u007f", "/a\u0090", "/a\uf8ff", "/a\ufff0", "/a\uffff",
	"/\U0001F600", "/a\xff", "/a/\xc3",
}

func (g *generator) pct(p int) bool { return g.rng.IntN(100) < p }

func (g *generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// plainPath returns a path of depth 1..3 over names.
func (g *generator) plainPath() string {
	depth := 1
	switch r := g.rng.IntN(100); {
	case r >= 75:
		depth = 3
	case r >= 40:
		depth = 2
	}
	var b strings.Builder
	for i := 0; i < depth; i++ {
		b.WriteString("/")
		b.WriteString(g.pick(names))
	}
	return b.String()
}

// setLive records whether A says path exists.
func (g *generator) setLive(path string, exists bool) {
	i, ok := g.liveAt[path]
	switch {
	case exists && !ok:
		g.liveAt[path] = len(g.live)
		g.live = append(g.live, path)
	case !exists && ok:
		last := g.live[len(g.live)-1]
		g.live[i] = last
		g.liveAt[last] = i
		g.live = g.live[:len(g.live)-1]
		delete(g.liveAt, path)
	}
}

// path returns a path drawn from the small namespace, sometimes one A
// reported as existing, a recently created sequential node, a system node or
// an invalid path.
func (g *generator) path() string {
	switch r := g.rng.IntN(100); {
	case r < 3:
		return g.pick(invalidPaths)
	case r < 6:
		return g.pick(specialPaths)
	case r < 30 && len(g.live) > 0:
		return g.pick(g.live)
	case r < 42 && len(g.seqPaths) > 0:
		p := g.pick(g.seqPaths)
		if g.pct(25) {
			p += "/" + g.pick(names)
		}
		return p
	}
	return g.plainPath()
}

// childOf returns a child path of p ("/x" for the root).
func (g *generator) childOf(p string) string {
	if p == "/" {
		return "/" + g.pick(names)
	}
	return p + "/" + g.pick(names)
}

func (g *generator) data() []byte {
	switch r := g.rng.IntN(100); {
	case r < 10:
		return nil
	case r < 20:
		return []byte{}
	case r < 90:
		return []byte(fmt.Sprintf("v%d", g.rng.IntN(1000)))
	case r < 98:
		b := make([]byte, g.rng.IntN(65))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return b
	}
	b := make([]byte, 3000+g.rng.IntN(2000))
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func (g *generator) version(path string, known map[string]int32) int32 {
	v, ok := known[path]
	switch r := g.rng.IntN(100); {
	case r < 50:
		return -1
	case r < 80 && ok:
		return v
	case r < 90 && ok:
		return v + 1
	}
	return int32(g.rng.IntN(4))
}

func acl(perms int32, scheme, id string) proto.ACL {
	return proto.ACL{Perms: perms, ID: proto.Id{Scheme: scheme, ID: id}}
}

// acls returns an ACL list: mostly open, sometimes restrictive (but with a
// digest user or ADMIN kept so that a later setACL can undo it), sometimes
// invalid.
func (g *generator) acls() []proto.ACL {
	switch r := g.rng.IntN(100); {
	case r < 65:
		return []proto.ACL{acl(proto.PermAll, "world", "anyone")}
	case r < 68:
		return []proto.ACL{acl(proto.PermRead, "world", "anyone"), acl(proto.PermAll, "digest", digestID(g.pick(userCreds)))}
	case r < 72:
		return []proto.ACL{acl(proto.PermAll, "auth", "")}
	case r < 75:
		return []proto.ACL{acl(proto.PermAll, "digest", digestID(g.pick(userCreds)))}
	case r < 79:
		return []proto.ACL{
			acl(proto.PermRead|proto.PermCreate|proto.PermAdmin, "world", "anyone"),
			acl(proto.PermAll, "digest", digestID(userCreds[1])),
		}
	case r < 84:
		return []proto.ACL{acl(int32(g.rng.IntN(32))|proto.PermAdmin, "world", "anyone")}
	case r < 87:
		return []proto.ACL{acl(proto.PermAll, "ip", "127.0.0.1")}
	case r < 89:
		return []proto.ACL{acl(proto.PermAll, "world", "anyone"), acl(proto.PermAll, "world", "anyone")}
	case r < 91:
		return []proto.ACL{}
	case r < 92:
		return nil
	case r < 94:
		return []proto.ACL{acl(proto.PermAll, "digest", "nocolon")}
	case r < 96:
		return []proto.ACL{acl(proto.PermAll, "world", "someone")}
	case r < 98:
		return []proto.ACL{acl(proto.PermAll, "nosuchscheme", "x")}
	}
	return []proto.ACL{acl(proto.PermAll, "ip", "10.0.0.0/8"), acl(proto.PermRead, "world", "anyone")}
}

// createReq returns a create-family op code and request.
func (g *generator) createReq() (proto.OpCode, proto.Record) {
	path := g.path()
	if g.pct(20) {
		// Sequential prefixes: a name prefix or a trailing slash.
		if g.pct(70) {
			path = strings.TrimSuffix(path, "/") + "/q"
		} else if !strings.HasSuffix(path, "/") {
			path += "/"
		}
	}
	data, acls := g.data(), g.acls()
	code := proto.OpCreate
	if g.pct(50) {
		code = proto.OpCreate2
	}
	var flags proto.CreateMode
	switch r := g.rng.IntN(100); {
	case r < 32:
		flags = proto.ModePersistent
	case r < 50:
		flags = proto.ModeEphemeral
	case r < 64:
		flags = proto.ModePersistentSequential
	case r < 76:
		flags = proto.ModeEphemeralSequential
	case r < 86:
		flags = proto.ModeContainer
		if g.pct(95) {
			code = proto.OpCreateContainer
		}
	case r < 96:
		flags = proto.ModePersistentWithTTL
		if g.pct(30) {
			flags = proto.ModePersistentSequentialWithTTL
		}
		if g.pct(92) {
			return proto.OpCreateTTL, &proto.CreateTTLRequest{Path: path, Data: data, ACL: acls, Flags: flags, TTL: g.ttl()}
		}
	case r < 98:
		flags = proto.CreateMode([]int32{-1, 7, 100}[g.rng.IntN(3)])
	default:
		// createTTL with a mode that is not a TTL mode and a TTL >= 0
		// (BadArguments). Not sent, because Apache ZooKeeper 3.8.0 mishandles
		// them: the same with a negative TTL passes validation and then
		// crashes the server when applied; createContainer with another mode
		// builds a node whose digest mismatches.
		return proto.OpCreateTTL, &proto.CreateTTLRequest{Path: path, Data: data, ACL: acls, Flags: proto.CreateMode(g.rng.IntN(5)), TTL: g.rng.Int64N(10)}
	}
	return code, &proto.CreateRequest{Path: path, Data: data, ACL: acls, Flags: flags}
}

func (g *generator) ttl() int64 {
	switch r := g.rng.IntN(100); {
	case r < 25:
		return 1 + g.rng.Int64N(5)
	case r < 85:
		return 3_600_000
	case r < 90:
		return 0
	case r < 95:
		return -1
	}
	return 0x10000000000 // above EphemeralType's 40-bit TTL limit
}

// multiOps returns 0..5 write ops, later ones often building on earlier ones.
func (g *generator) multiOps() []proto.MultiOp {
	if g.pct(50) {
		return g.coherentMulti()
	}
	n := 1 + g.rng.IntN(5)
	if g.pct(5) {
		n = 0
	}
	ops := make([]proto.MultiOp, 0, n)
	prev := ""
	for i := 0; i < n; i++ {
		path := g.path()
		if prev != "" && g.pct(35) {
			path = g.childOf(prev)
		} else if prev != "" && g.pct(15) {
			path = prev
		}
		version := int32(-1)
		if g.pct(40) {
			version = g.version(path, g.versions)
		}
		var mo proto.MultiOp
		switch r := g.rng.IntN(100); {
		case r < 40:
			code, req := g.createReq()
			switch q := req.(type) {
			case *proto.CreateRequest:
				q.Path = path
			case *proto.CreateTTLRequest:
				q.Path = path
			}
			mo = proto.MultiOp{Type: code, Req: req}
		case r < 60:
			mo = proto.MultiOp{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: path, Version: version}}
		case r < 82:
			mo = proto.MultiOp{Type: proto.OpSetData, Req: &proto.SetDataRequest{Path: path, Data: g.data(), Version: version}}
		default:
			mo = proto.MultiOp{Type: proto.OpCheck, Req: &proto.CheckVersionRequest{Path: path, Version: version}}
		}
		ops = append(ops, mo)
		prev = path
	}
	return ops
}

// coherentMulti returns 2..5 write ops on nodes A reported as existing, so
// that whole multis succeed more often than random ones.
func (g *generator) coherentMulti() []proto.MultiOp {
	n := 2 + g.rng.IntN(4)
	ops := make([]proto.MultiOp, 0, n)
	var made []string // non-sequential nodes created by this multi
	base := func() string {
		if len(g.live) > 0 && g.pct(70) {
			return g.pick(g.live)
		}
		return "/" + g.pick(names)
	}
	for i := 0; i < n; i++ {
		b := base()
		switch r := g.rng.IntN(100); {
		case r < 30:
			flags := proto.ModePersistentSequential
			if g.pct(40) {
				flags = proto.ModeEphemeralSequential
			}
			ops = append(ops, proto.MultiOp{Type: proto.OpCreate, Req: &proto.CreateRequest{Path: strings.TrimSuffix(b, "/") + "/q", Data: g.data(), ACL: proto.OpenACLUnsafe, Flags: flags}})
		case r < 45:
			p := g.childOf(b)
			code, flags := proto.OpCreate2, proto.ModePersistent
			if g.pct(40) {
				code, flags = proto.OpCreateContainer, proto.ModeContainer
			}
			ops = append(ops, proto.MultiOp{Type: code, Req: &proto.CreateRequest{Path: p, Data: g.data(), ACL: proto.OpenACLUnsafe, Flags: flags}})
			made = append(made, p)
		case r < 65:
			ops = append(ops, proto.MultiOp{Type: proto.OpSetData, Req: &proto.SetDataRequest{Path: b, Data: g.data(), Version: -1}})
		case r < 80:
			ops = append(ops, proto.MultiOp{Type: proto.OpCheck, Req: &proto.CheckVersionRequest{Path: b, Version: -1}})
		default:
			if len(made) > 0 {
				b = made[len(made)-1]
				made = made[:len(made)-1]
			}
			ops = append(ops, proto.MultiOp{Type: proto.OpDelete, Req: &proto.DeleteRequest{Path: b, Version: -1}})
		}
	}
	return ops
}

// watchType mostly picks Children, Data or Any, sometimes a value that is no
// watcher type (MarshallingError). The persistent types (4, 5) are not sent:
// Apache ZooKeeper 3.8.0 does not know them (WatcherType.fromInt throws,
// MarshallingError), while 3.9 and zkgo accept them.
func (g *generator) watchType() proto.WatcherType {
	if g.pct(4) {
		return proto.WatcherType([]int32{0, 6, -1}[g.rng.IntN(3)])
	}
	return proto.WatcherType(1 + g.rng.IntN(3))
}

func (g *generator) pathList() []string {
	v := make([]string, g.rng.IntN(4))
	for i := range v {
		v[i] = g.plainPath()
	}
	return v
}

// opWeights are the relative frequencies of the op choices. A standalone
// check (op 13 outside a multi) is not sent: Apache ZooKeeper 3.8.0 fails
// with a NullPointerException serialising its reply and never answers.
var opWeights = []struct {
	w    int
	name string
}{
	{200, "create"}, {85, "delete"}, {70, "exists"}, {70, "getData"}, {85, "setData"},
	{25, "getACL"}, {25, "setACL"}, {35, "getChildren"}, {35, "getChildren2"}, {15, "sync"},
	{70, "multi"}, {30, "multiRead"}, {15, "getEphemerals"}, {15, "getAllChildrenNumber"},
	{30, "addWatch"}, {20, "removeWatches"}, {20, "checkWatches"}, {5, "whoAmI"}, {14, "auth"},
	{12, "setWatches"}, {6, "ping"}, {6, "reopen"}, {5, "reconnect"}, {1, "oversize"}, {1, "bigData"},
	{1, "reconfig"},
}

// next returns the next op of the sequence.
func (g *generator) next() op {
	if len(g.queue) == 0 && g.count > 0 && g.count%g.sweepN == 0 {
		// A deterministic sweep: every session pings, which also collects
		// the events that piled up for quiet sessions.
		for s := 0; s < g.nSess; s++ {
			g.queue = append(g.queue, op{sess: s, kind: kindPing})
		}
	}
	var o op
	if len(g.queue) > 0 {
		o = g.queue[0]
		g.queue = g.queue[1:]
	} else {
		o = g.random()
		g.watches.steer(&o, g.path)
	}
	o.index = g.count
	g.count++
	return o
}

func (g *generator) random() op {
	o := op{sess: g.rng.IntN(g.nSess), kind: kindRequest}
	total := 0
	for _, c := range opWeights {
		total += c.w
	}
	w := g.rng.IntN(total)
	name := ""
	for _, c := range opWeights {
		if w < c.w {
			name = c.name
			break
		}
		w -= c.w
	}
	switch name {
	case "create":
		o.code, o.req = g.createReq()
	case "delete":
		p := g.path()
		o.code, o.req = proto.OpDelete, &proto.DeleteRequest{Path: p, Version: g.version(p, g.versions)}
	case "exists":
		o.code, o.req = proto.OpExists, &proto.ExistsRequest{Path: g.path(), Watch: g.pct(50)}
	case "getData":
		o.code, o.req = proto.OpGetData, &proto.GetDataRequest{Path: g.path(), Watch: g.pct(50)}
	case "setData":
		p := g.path()
		o.code, o.req = proto.OpSetData, &proto.SetDataRequest{Path: p, Data: g.data(), Version: g.version(p, g.versions)}
	case "getACL":
		o.code, o.req = proto.OpGetACL, &proto.GetACLRequest{Path: g.path()}
	case "setACL":
		p := g.path()
		o.code, o.req = proto.OpSetACL, &proto.SetACLRequest{Path: p, ACL: g.acls(), Version: g.version(p, g.aversion)}
	case "getChildren":
		o.code, o.req = proto.OpGetChildren, &proto.GetChildrenRequest{Path: g.path(), Watch: g.pct(50)}
	case "getChildren2":
		o.code, o.req = proto.OpGetChildren2, &proto.GetChildren2Request{Path: g.path(), Watch: g.pct(50)}
	case "sync":
		// sync echoes its path. Apache ZooKeeper sends back the Java string
		// it decoded (invalid UTF-8 replaced by U+FFFD) in jute's encoding,
		// which writes each UTF-16 unit on its own (a supplementary character
		// becomes two 3-byte surrogates); zkgo's proto package echoes the
		// bytes it got. That zkgo gap is left out until proto emulates Java
		// strings: only paths both write back the same way are sent.
		p := g.path()
		for !javaStringSafe(p) {
			p = g.path()
		}
		o.code, o.req = proto.OpSync, &proto.SyncRequest{Path: p}
	case "multi":
		o.code, o.req = proto.OpMulti, &proto.MultiRequest{Ops: g.multiOps()}
	case "multiRead":
		n := 1 + g.rng.IntN(4)
		ops := make([]proto.MultiOp, n)
		for i := range ops {
			if g.pct(50) {
				ops[i] = proto.MultiOp{Type: proto.OpGetData, Req: &proto.GetDataRequest{Path: g.path(), Watch: g.pct(30)}}
			} else {
				ops[i] = proto.MultiOp{Type: proto.OpGetChildren, Req: &proto.GetChildrenRequest{Path: g.path(), Watch: g.pct(30)}}
			}
		}
		o.code, o.req = proto.OpMultiRead, &proto.MultiRequest{Ops: ops}
	case "getEphemerals":
		prefix := g.pick([]string{"/", "", "/a", "/b/", "/a/b", "/c/c"})
		if g.pct(30) {
			prefix = g.path()
		}
		o.code, o.req = proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: prefix}
	case "getAllChildrenNumber":
		o.code, o.req = proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: g.path()}
	case "addWatch":
		mode := proto.AddWatchMode(g.rng.IntN(2))
		if g.pct(3) {
			mode = 2
		}
		o.code, o.req = proto.OpAddWatch, &proto.AddWatchRequest{Path: g.path(), Mode: mode}
	case "removeWatches":
		o.code, o.req = proto.OpRemoveWatches, &proto.RemoveWatchesRequest{Path: g.path(), Type: g.watchType()}
	case "checkWatches":
		o.code, o.req = proto.OpCheckWatches, &proto.CheckWatchesRequest{Path: g.path(), Type: g.watchType()}
	case "whoAmI":
		o.code = proto.OpWhoAmI
	case "auth":
		o.kind, o.code = kindAuth, proto.OpAuth
		cred := g.pick(userCreds)
		switch r := g.rng.IntN(100); {
		case r < 12:
			cred = superCred
		case r < 24:
			cred = "u1:wrong"
		case r < 30:
			o.req = &proto.AuthPacket{Scheme: "ip", Auth: []byte("127.0.0.1")}
			return o
		}
		o.req = &proto.AuthPacket{Scheme: "digest", Auth: []byte(cred)}
	case "setWatches":
		o.kind = kindSetWatch
		if g.pct(50) {
			o.code, o.req = proto.OpSetWatches, &proto.SetWatches{DataWatches: g.pathList(), ExistWatches: g.pathList(), ChildWatches: g.pathList()}
		} else {
			o.code, o.req = proto.OpSetWatches2, &proto.SetWatches2{
				DataWatches: g.pathList(), ExistWatches: g.pathList(), ChildWatches: g.pathList(),
				PersistentWatches: g.pathList(), PersistentRecursiveWatches: g.pathList(),
			}
		}
	case "ping":
		o.kind = kindPing
	case "reopen":
		o.kind, o.hasRO = kindReopen, g.pct(80)
	case "reconnect":
		o.kind, o.hasRO = kindReconnect, g.pct(80)
	case "oversize":
		o.kind = kindOversize
		big := make([]byte, proto.DefaultMaxBuffer+1+g.rng.IntN(1000))
		if g.pct(50) {
			o.code, o.req = proto.OpSetData, &proto.SetDataRequest{Path: g.plainPath(), Data: big, Version: -1}
		} else {
			o.code, o.req = proto.OpCreate, &proto.CreateRequest{Path: g.plainPath(), Data: big, ACL: proto.OpenACLUnsafe}
		}
	case "bigData":
		// Just under jute.maxbuffer once framed.
		big := make([]byte, proto.DefaultMaxBuffer-200)
		o.code, o.req = proto.OpSetData, &proto.SetDataRequest{Path: g.plainPath(), Data: big, Version: -1}
	case "reconfig":
		o.code, o.req = proto.OpReconfig, &proto.ReconfigRequest{JoiningServers: "server.5=127.0.0.1:1234:1235;1236", CurConfigID: -1}
	}
	return o
}

// observe learns from A's result for o (already proven equal to B's).
func (g *generator) observe(o op, r *result) {
	if r.err != nil {
		return
	}
	g.watches.observe(o, r)
	learnStat := func(path string, st *proto.Stat) {
		g.versions[path] = st.Version
		g.aversion[path] = st.Aversion
	}
	rememberSeq := func(path string) {
		g.setLive(path, true)
		g.seqPaths = append(g.seqPaths, path)
		if len(g.seqPaths) > 24 {
			g.seqPaths = g.seqPaths[1:]
		}
	}
	created := func(code proto.OpCode, req proto.Record, path string) {
		var flags proto.CreateMode
		switch q := req.(type) {
		case *proto.CreateRequest:
			flags = q.Flags
		case *proto.CreateTTLRequest:
			flags = q.Flags
		}
		if flags.IsSequential() || code == proto.OpCreateContainer || code == proto.OpCreateTTL {
			rememberSeq(path)
		}
	}
	if o.kind == kindReopen {
		// The session's ephemerals are gone; the live set does not know
		// which they were, and need not be exact.
		return
	}
	if path, ok := readPath(o.req); ok && o.kind == kindRequest {
		switch {
		case r.hdr.Err == proto.ErrNoNode:
			g.setLive(path, false)
		case r.hdr.Err == proto.OK && o.code == proto.OpDelete:
			g.setLive(path, false)
		case r.hdr.Err == proto.OK && o.code != proto.OpSync:
			g.setLive(path, true)
		}
	}
	if r.hdr.Err != proto.OK && o.code != proto.OpMulti {
		return
	}
	switch resp := r.resp.(type) {
	case *proto.CreateResponse:
		g.setLive(resp.Path, true)
		created(o.code, o.req, resp.Path)
	case *proto.Create2Response:
		g.setLive(resp.Path, true)
		created(o.code, o.req, resp.Path)
		learnStat(resp.Path, &resp.Stat)
	case *proto.ExistsResponse:
		learnStat(o.req.(*proto.ExistsRequest).Path, &resp.Stat)
	case *proto.GetDataResponse:
		learnStat(o.req.(*proto.GetDataRequest).Path, &resp.Stat)
	case *proto.SetDataResponse:
		switch q := o.req.(type) {
		case *proto.SetDataRequest:
			learnStat(q.Path, &resp.Stat)
		case *proto.CheckVersionRequest:
			learnStat(q.Path, &resp.Stat)
		}
	case *proto.GetACLResponse:
		learnStat(o.req.(*proto.GetACLRequest).Path, &resp.Stat)
	case *proto.SetACLResponse:
		learnStat(o.req.(*proto.SetACLRequest).Path, &resp.Stat)
	case *proto.GetChildren2Response:
		learnStat(o.req.(*proto.GetChildren2Request).Path, &resp.Stat)
	case *proto.MultiResponse:
		ops := o.req.(*proto.MultiRequest).Ops
		for i, res := range resp.Results {
			if i >= len(ops) {
				break
			}
			if res.Type == proto.OpDelete {
				g.setLive(ops[i].Req.(*proto.DeleteRequest).Path, false)
			}
			switch rr := res.Resp.(type) {
			case *proto.CreateResponse:
				g.setLive(rr.Path, true)
				created(ops[i].Type, ops[i].Req, rr.Path)
			case *proto.Create2Response:
				g.setLive(rr.Path, true)
				created(ops[i].Type, ops[i].Req, rr.Path)
				learnStat(rr.Path, &rr.Stat)
			case *proto.SetDataResponse:
				if q, ok := ops[i].Req.(*proto.SetDataRequest); ok {
					learnStat(q.Path, &rr.Stat)
				}
			case *proto.GetDataResponse:
				if q, ok := ops[i].Req.(*proto.GetDataRequest); ok {
					learnStat(q.Path, &rr.Stat)
				}
			}
		}
	}
}

// readPath returns the path of a single-node request whose NoNode or OK
// reply tells whether the node exists.
func readPath(rec proto.Record) (string, bool) {
	switch q := rec.(type) {
	case *proto.ExistsRequest:
		return q.Path, true
	case *proto.GetDataRequest:
		return q.Path, true
	case *proto.SetDataRequest:
		return q.Path, true
	case *proto.GetACLRequest:
		return q.Path, true
	case *proto.SetACLRequest:
		return q.Path, true
	case *proto.GetChildrenRequest:
		return q.Path, true
	case *proto.GetChildren2Request:
		return q.Path, true
	case *proto.DeleteRequest:
		return q.Path, true
	}
	return "", false
}

// javaStringSafe reports whether s survives a round trip through a Java
// string and jute's string encoding unchanged: valid UTF-8 without
// supplementary characters.
func javaStringSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r > 0xFFFF {
			return false
		}
	}
	return true
}
