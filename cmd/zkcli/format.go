package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz yyyy".
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// javaDate formats ms (milliseconds since the epoch) as java.util.Date's
// toString does in the zone loc.
func javaDate(ms int64, loc *time.Location) string {
	t := time.UnixMilli(ms).In(loc)
	s := t.Format(javaDateLayout)
	// Zones without an abbreviation: Go writes "+0530", Java "GMT+05:30".
	name, off := t.Zone()
	if name == "" || name[0] == '+' || name[0] == '-' {
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		java := fmt.Sprintf("GMT%c%02d:%02d", sign, off/3600, off%3600/60)
		if off == 0 {
			java = "GMT"
		}
		s = t.Format("Mon Jan 02 15:04:05 ") + java + t.Format(" 2006")
	}
	return s
}

// hex formats v as Java's Long.toHexString: two's complement, no padding.
func hex(v int64) string { return strconv.FormatUint(uint64(v), 16) }

// printStat writes st as zkCli's StatPrinter does.
func printStat(w io.Writer, st *client.Stat, loc *time.Location) {
	fmt.Fprintf(w, "cZxid = 0x%s\n", hex(st.Czxid))
	fmt.Fprintf(w, "ctime = %s\n", javaDate(st.Ctime, loc))
	fmt.Fprintf(w, "mZxid = 0x%s\n", hex(st.Mzxid))
	fmt.Fprintf(w, "mtime = %s\n", javaDate(st.Mtime, loc))
	fmt.Fprintf(w, "pZxid = 0x%s\n", hex(st.Pzxid))
	fmt.Fprintf(w, "cversion = %d\n", st.Cversion)
	fmt.Fprintf(w, "dataVersion = %d\n", st.Version)
	fmt.Fprintf(w, "aclVersion = %d\n", st.Aversion)
	fmt.Fprintf(w, "ephemeralOwner = 0x%s\n", hex(st.EphemeralOwner))
	fmt.Fprintf(w, "dataLength = %d\n", st.DataLength)
	fmt.Fprintf(w, "numChildren = %d\n", st.NumChildren)
}

// javaList formats items as java.util.List's toString: "[a, b]".
func javaList(items []string) string {
	return "[" + strings.Join(items, ", ") + "]"
}

// javaCompare orders strings as Java's String.compareTo does: by UTF-16
// code units, which differs from byte order only between characters above
// U+FFFF and those in U+E000..U+FFFF.
func javaCompare(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return cmp.Compare(utf16Key(ra), utf16Key(rb))
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// utf16Key maps r to a number ordered as r's UTF-16 encoding.
func utf16Key(r rune) uint32 {
	if r < 0x10000 {
		return uint32(r) << 16
	}
	hi, lo := utf16.EncodeRune(r)
	return uint32(hi)<<16 | uint32(lo)
}

// permString formats ACL permission bits as ZKUtil.getPermString: "cdrwa".
func permString(perms int32) string {
	var b strings.Builder
	for _, p := range []struct {
		bit int32
		c   byte
	}{{client.PermCreate, 'c'}, {client.PermDelete, 'd'}, {client.PermRead, 'r'}, {client.PermWrite, 'w'}, {client.PermAdmin, 'a'}} {
		if perms&p.bit != 0 {
			b.WriteByte(p.c)
		}
	}
	return b.String()
}

// csvString escapes s as jute's CsvOutputArchive does for toString.
func csvString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case 0:
			b.WriteString("%00")
		case '\n':
			b.WriteString("%0A")
		case '\r':
			b.WriteString("%0D")
		case ',':
			b.WriteString("%2C")
		case '}':
			b.WriteString("%7D")
		case '%':
			b.WriteString("%25")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// idString formats an ACL identity as the jute Id record's toString, which
// getAcl prints: "'world,'anyone" followed by a newline.
func idString(id client.ID) string {
	return csvString(id.Scheme) + "," + csvString(id.ID) + "\n"
}

// eventString formats a watch event as WatchedEvent.toString.
func eventString(state client.KeeperState, typ client.EventType, path string) string {
	if path == "" && typ == client.EventNone {
		path = "null"
	}
	return "WatchedEvent state:" + state.String() + " type:" + typ.String() + " path:" + path
}

// codeMessage is KeeperException.getCodeMessage.
func codeMessage(c proto.Code) string {
	switch c {
	case proto.OK:
		return "ok"
	case proto.ErrNotEmpty:
		return "Directory not empty"
	case proto.ErrSessionExpired:
		return "Session expired"
	case proto.ErrInvalidCallback:
		return "Invalid callback"
	case proto.ErrSessionMoved:
		return "Session moved"
	case proto.ErrNotReadOnly:
		return "Not a read-only call"
	case proto.ErrEphemeralOnLocalSession:
		return "Ephemeral node on local session"
	case proto.ErrNoWatcher:
		return "No such watcher"
	case proto.ErrReconfigDisabled:
		return "Reconfig is disabled"
	case proto.ErrSessionClosedRequireSASL:
		return "Session closed because client failed to authenticate"
	case proto.ErrQuotaExceeded:
		return "Quota has exceeded"
	case proto.ErrThrottledOp:
		return "Op throttled due to high load"
	}
	if !c.Known() {
		return fmt.Sprintf("Unknown error %d", int32(c))
	}
	return c.Name()
}

// keeperMessage is KeeperException.getMessage for code c on path ("" for
// none).
func keeperMessage(c proto.Code, path string) string {
	if path == "" {
		return "KeeperErrorCode = " + codeMessage(c)
	}
	return "KeeperErrorCode = " + codeMessage(c) + " for " + path
}

// wrapperMessage is CliWrapperException's message for a server error on
// path: the friendlier zkCli wording where it has one.
func wrapperMessage(c proto.Code, path string) string {
	p := path
	if p == "" {
		p = "null"
	}
	switch c {
	case proto.ErrNoNode:
		return "Node does not exist: " + p
	case proto.ErrNoChildrenForEphemerals:
		return "Ephemerals cannot have children: " + p
	case proto.ErrNodeExists:
		return "Node already exists: " + p
	case proto.ErrNotEmpty:
		return "Node not empty: " + p
	case proto.ErrNotReadOnly:
		return "Not a read-only call: " + p
	case proto.ErrInvalidACL:
		return "Acl is not valid : " + p
	case proto.ErrNoAuth:
		return "Insufficient permission : " + p
	case proto.ErrBadArguments:
		return "Arguments are not valid : " + p
	case proto.ErrBadVersion:
		return "version No is not valid : " + p
	case proto.ErrReconfigInProgress:
		return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
	case proto.ErrNewConfigNoQuorum:
		return "No quorum of new config is connected and up-to-date with the leader of last commmitted " +
			"config - try invoking reconfiguration after new servers are connected and synced"
	case proto.ErrQuotaExceeded:
		return "Quota has exceeded : " + p
	}
	return keeperMessage(c, path)
}

// statsTrack is a quota node's content (Apache ZooKeeper's StatsTrack):
// "count=N,bytes=N" optionally followed by "=;key=value" pairs.
type statsTrack struct {
	vals map[string]int64
}

// Keys of statsTrack.
const (
	stCount          = "count"
	stBytes          = "bytes"
	stCountHardLimit = "countHardLimit"
	stByteHardLimit  = "byteHardLimit"
)

func parseStatsTrack(s string) (statsTrack, error) {
	st := statsTrack{vals: map[string]int64{}}
	if s == "" {
		return st, nil
	}
	for _, kv := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		parts := strings.Split(kv, "=")
		// Java's split drops trailing empty strings: "bytes=-1=" is two parts.
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 {
			continue
		}
		v := int64(-1)
		if len(parts) > 1 {
			n, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				return st, fmt.Errorf("quota value %q: %w", kv, err)
			}
			v = n
		}
		st.vals[parts[0]] = v
	}
	return st, nil
}

func (st statsTrack) get(k string) int64 {
	if v, ok := st.vals[k]; ok {
		return v
	}
	return -1
}

func (st *statsTrack) set(k string, v int64) {
	if st.vals == nil {
		st.vals = map[string]int64{}
	}
	st.vals[k] = v
}

// String formats st as StatsTrack.toString.
func (st statsTrack) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "count=%d,bytes=%d", st.get(stCount), st.get(stBytes))
	var keys []string
	for k := range st.vals {
		if k != stCount && k != stBytes {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		b.WriteByte('=')
		sortJava(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, ";%s=%d", k, st.vals[k])
		}
	}
	return b.String()
}

// sortJava sorts s in Java String order.
func sortJava(s []string) { slices.SortFunc(s, javaCompare) }

// javaString decodes b as Java's new String(b, UTF_8) does: each maximal
// ill-formed subsequence becomes one U+FFFD.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			sb.WriteRune(r)
			b = b[n:]
			continue
		}
		sb.WriteRune(utf8.RuneError)
		b = b[maximalSubpart(b):]
	}
	return sb.String()
}

// maximalSubpart returns the length of the ill-formed sequence at the start
// of b: a lead byte followed by as many valid continuation bytes as it could
// take (Unicode's "maximal subpart"), at least 1.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for i := 1; i <= need && i < len(b); i++ {
		if i == 1 && (b[i] < lo || b[i] > hi) || i > 1 && (b[i] < 0x80 || b[i] > 0xBF) {
			break
		}
		n++
	}
	return n
}
