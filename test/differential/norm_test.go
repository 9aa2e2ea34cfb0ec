package differential

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// anchor ties a zxid to the op whose successful, tree-changing write
// produced it on one server.
type anchor struct {
	zxid int64
	op   int
}

// labeler turns one server's zxids, session ids and times into values that
// can be compared with the other server's, and checks the relations that
// must hold within one server (ctime <= mtime, one time per zxid, monotonic
// zxids).
type labeler struct {
	anchors    []anchor
	owners     map[int64]string // session id -> logical label
	zxidTime   map[int64]int64  // zxid -> the ctime/mtime seen with it
	startMs    int64
	violations []string
}

func newLabeler() *labeler {
	return &labeler{
		owners:   make(map[int64]string),
		zxidTime: make(map[int64]int64),
		startMs:  time.Now().Add(-time.Minute).UnixMilli(),
	}
}

func (l *labeler) violate(format string, args ...any) {
	l.violations = append(l.violations, fmt.Sprintf(format, args...))
}

// anchor records that op produced zxid z.
func (l *labeler) anchor(z int64, op int) {
	if n := len(l.anchors); n > 0 && z <= l.anchors[n-1].zxid {
		l.violate("op #%d: write zxid %#x not above op #%d's %#x", op, z, l.anchors[n-1].op, l.anchors[n-1].zxid)
		return
	}
	l.anchors = append(l.anchors, anchor{zxid: z, op: op})
}

// floor returns the last anchor at or below z.
func (l *labeler) floor(z int64) (anchor, bool) {
	i := sort.Search(len(l.anchors), func(i int) bool { return l.anchors[i].zxid > z })
	if i == 0 {
		return anchor{}, false
	}
	return l.anchors[i-1], true
}

// zxid labels a zxid found in a Stat or event: "w17" is the zxid of op 17's
// write, "w17+" a zxid after it that no op produced (a container or TTL
// reap, a session creation), "pre" one before the first write.
func (l *labeler) zxid(z int64) string {
	if z <= 0 {
		return fmt.Sprint(z)
	}
	a, ok := l.floor(z)
	if !ok {
		return "pre"
	}
	if a.zxid == z {
		return fmt.Sprintf("w%d", a.op)
	}
	return fmt.Sprintf("w%d+", a.op)
}

// hdrZxid labels a ReplyHeader zxid: only the last write at or below it
// counts, since servers may or may not spend zxids on failed writes, checks
// and session creation.
func (l *labeler) hdrZxid(z int64) string {
	if z <= 0 {
		return fmt.Sprint(z)
	}
	a, ok := l.floor(z)
	if !ok {
		return "~pre"
	}
	return fmt.Sprintf("~w%d", a.op)
}

func (l *labeler) owner(id int64) string {
	if id == 0 {
		return "0"
	}
	if s, ok := l.owners[id]; ok {
		return s
	}
	return fmt.Sprintf("unknown(%#x)", id)
}

func (l *labeler) checkTime(what string, z, ms int64) {
	if z == 0 {
		return // system nodes created before any transaction
	}
	if ms < l.startMs || ms > time.Now().Add(time.Minute).UnixMilli() {
		l.violate("%s %d for zxid %#x is outside the test's run", what, ms, z)
	}
	if prev, ok := l.zxidTime[z]; ok && prev != ms {
		l.violate("zxid %#x seen with times %d and %d", z, prev, ms)
		return
	}
	l.zxidTime[z] = ms
}

// stat normalises a Stat. Times are only checked, not shown.
func (l *labeler) stat(st *proto.Stat) string {
	if st.Ctime > st.Mtime {
		l.violate("ctime %d > mtime %d (czxid %#x)", st.Ctime, st.Mtime, st.Czxid)
	}
	l.checkTime("ctime", st.Czxid, st.Ctime)
	l.checkTime("mtime", st.Mzxid, st.Mtime)
	return fmt.Sprintf("{cz=%s mz=%s pz=%s v=%d cv=%d av=%d eph=%s len=%d nch=%d}",
		l.zxid(st.Czxid), l.zxid(st.Mzxid), l.zxid(st.Pzxid), st.Version, st.Cversion, st.Aversion,
		l.owner(st.EphemeralOwner), st.DataLength, st.NumChildren)
}

// configPorts matches the ports in an ensemble's membership lines.
var configPorts = regexp.MustCompile(`:[0-9]+`)

func dataString(b []byte) string {
	if b == nil {
		return "null"
	}
	if bytes.HasPrefix(b, []byte("server.")) {
		// An ensemble's /zookeeper/config: the servers' ports differ
		// between the two sides, the rest must not.
		b = configPorts.ReplaceAll(b, []byte(":port"))
	}
	if len(b) <= 48 {
		return fmt.Sprintf("%q", b)
	}
	sum := sha256.Sum256(b)
	return fmt.Sprintf("len=%d sha256=%x", len(b), sum[:6])
}

func aclString(acls []proto.ACL) string {
	if acls == nil {
		return "null"
	}
	parts := make([]string, len(acls))
	for i, a := range acls {
		parts[i] = fmt.Sprintf("%d:%s:%s", a.Perms, a.ID.Scheme, a.ID.ID)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func setString(v []string) string {
	if v == nil {
		return "null"
	}
	s := slices.Clone(v)
	sort.Strings(s)
	return fmt.Sprintf("%q", s)
}

// body normalises a decoded response record.
func (l *labeler) body(rec proto.Record) string {
	switch r := rec.(type) {
	case nil:
		return ""
	case *proto.CreateResponse:
		return fmt.Sprintf("path=%q", r.Path)
	case *proto.Create2Response:
		return fmt.Sprintf("path=%q stat=%s", r.Path, l.stat(&r.Stat))
	case *proto.ExistsResponse:
		return "stat=" + l.stat(&r.Stat)
	case *proto.GetDataResponse:
		return fmt.Sprintf("data=%s stat=%s", dataString(r.Data), l.stat(&r.Stat))
	case *proto.SetDataResponse:
		return "stat=" + l.stat(&r.Stat)
	case *proto.GetACLResponse:
		return fmt.Sprintf("acl=%s stat=%s", aclString(r.ACL), l.stat(&r.Stat))
	case *proto.SetACLResponse:
		return "stat=" + l.stat(&r.Stat)
	case *proto.GetChildrenResponse:
		return "children=" + setString(r.Children)
	case *proto.GetChildren2Response:
		return fmt.Sprintf("children=%s stat=%s", setString(r.Children), l.stat(&r.Stat))
	case *proto.SyncResponse:
		return fmt.Sprintf("path=%q", r.Path)
	case *proto.GetEphemeralsResponse:
		// In order: both servers list a session's ephemerals in the order
		// of Java's HashSet copy (DataTree.getEphemerals), the order they
		// are deleted in when the session closes.
		return fmt.Sprintf("ephemerals=%q", r.Ephemerals)
	case *proto.GetAllChildrenNumberResponse:
		return fmt.Sprintf("total=%d", r.TotalNumber)
	case *proto.ErrorResponse:
		return fmt.Sprintf("err=%d", int32(r.Err))
	case *proto.WhoAmIResponse:
		ids := make([]string, len(r.ClientInfo))
		for i, c := range r.ClientInfo {
			ids[i] = c.AuthScheme + ":" + c.User
		}
		// In order: the identities of a connection are a ConcurrentHashMap
		// key set in Apache ZooKeeper, iterated in hash order.
		return fmt.Sprintf("whoami=%q", ids)
	case *proto.MultiResponse:
		parts := make([]string, len(r.Results))
		for i, res := range r.Results {
			s := fmt.Sprintf("[%d %v", i, res.Type)
			if res.Type == proto.OpError {
				s += " " + res.Err.Name()
			}
			if b := l.body(res.Resp); b != "" {
				s += " " + b
			}
			parts[i] = s + "]"
		}
		return fmt.Sprintf("results(%d) %s", len(r.Results), strings.Join(parts, " "))
	}
	return fmt.Sprintf("%T %+v", rec, rec)
}

func (l *labeler) event(prefix string, e event) string {
	return fmt.Sprintf("%s %v %q state=%v z=%s", prefix, e.ev.Type, e.ev.Path, e.ev.State, l.zxid(e.zxid))
}

// handshake normalises a connect response given the session id it resumed
// (0 for a new session).
func handshake(resp *proto.ConnectResponse, resumed int64) string {
	sid := "new"
	switch {
	case resp.SessionID == 0:
		sid = "0"
	case resumed != 0 && resp.SessionID == resumed:
		sid = "same"
	case resumed != 0:
		sid = "different"
	}
	return fmt.Sprintf("connect proto=%d timeout=%d session=%s passwd=%d readOnly=%v/%v",
		resp.ProtocolVersion, resp.TimeOut, sid, len(resp.Passwd), resp.ReadOnly, resp.HasReadOnly)
}

// truncated shortens long data for printing requests.
func truncated(b []byte) string {
	if b == nil {
		return "null"
	}
	if len(b) > 24 {
		return fmt.Sprintf("%q...(%d bytes)", b[:24], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// reqString prints a request record compactly.
func reqString(rec proto.Record) string {
	switch r := rec.(type) {
	case nil:
		return ""
	case *proto.CreateRequest:
		return fmt.Sprintf("path=%q data=%s acl=%s flags=%d", r.Path, truncated(r.Data), aclString(r.ACL), r.Flags)
	case *proto.CreateTTLRequest:
		return fmt.Sprintf("path=%q data=%s acl=%s flags=%d ttl=%d", r.Path, truncated(r.Data), aclString(r.ACL), r.Flags, r.TTL)
	case *proto.SetDataRequest:
		return fmt.Sprintf("path=%q data=%s version=%d", r.Path, truncated(r.Data), r.Version)
	case *proto.SetACLRequest:
		return fmt.Sprintf("path=%q acl=%s version=%d", r.Path, aclString(r.ACL), r.Version)
	case *proto.AuthPacket:
		return fmt.Sprintf("scheme=%q auth=%q", r.Scheme, r.Auth)
	case *proto.MultiRequest:
		parts := make([]string, len(r.Ops))
		for i, o := range r.Ops {
			parts[i] = fmt.Sprintf("{%v %s}", o.Type, reqString(o.Req))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return strings.TrimPrefix(fmt.Sprintf("%+v", rec), "&")
}

func (o op) String() string {
	s := fmt.Sprintf("#%d s%d ", o.index, o.sess)
	switch o.kind {
	case kindAuth:
		return s + "addauth " + reqString(o.req)
	case kindSetWatch:
		return s + o.code.String() + " " + reqString(o.req)
	case kindPing:
		return s + "ping"
	case kindReopen:
		return s + fmt.Sprintf("closeSession+reopen (readOnly byte %v)", o.hasRO)
	case kindReconnect:
		return s + fmt.Sprintf("drop connection+resume session (readOnly byte %v)", o.hasRO)
	case kindOversize:
		return s + "oversized " + o.code.String() + " " + reqString(o.req)
	}
	return s + o.code.String() + " " + reqString(o.req)
}
