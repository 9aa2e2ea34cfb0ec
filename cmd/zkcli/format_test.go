package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

func TestJavaDate(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no zoneinfo: %v", err)
	}
	for _, tc := range []struct {
		ms   int64
		loc  *time.Location
		want string
	}{
		{0, time.UTC, "Thu Jan 01 00:00:00 UTC 1970"},
		{1795305600000, time.UTC, "Sun Nov 22 00:00:00 UTC 2026"},
		{1795305600000 - 1, time.UTC, "Sat Nov 21 23:59:59 UTC 2026"},
		{1795305600000, ny, "Sat Nov 21 19:00:00 EST 2026"},
		{1783000000000, ny, "Thu Jul 02 09:46:40 EDT 2026"},
		// Zones without an abbreviation are written as Java does.
		{0, time.FixedZone("", 5*3600+1800), "Thu Jan 01 05:30:00 GMT+05:30 1970"},
		{0, time.FixedZone("", -3*3600), "Wed Dec 31 21:00:00 GMT-03:00 1969"},
	} {
		if got := javaDate(tc.ms, tc.loc); got != tc.want {
			t.Errorf("javaDate(%d, %v) = %q, want %q", tc.ms, tc.loc, got, tc.want)
		}
	}
}

func TestPrintStat(t *testing.T) {
	var b bytes.Buffer
	printStat(&b, &client.Stat{
		Czxid: 0x1a, Mzxid: 0x2b, Ctime: 1795305600000, Mtime: 1795305661000, Version: 3, Cversion: -2,
		Aversion: 1, EphemeralOwner: -0x100000000000000 /* TTL owner, printed unsigned */, DataLength: 5,
		NumChildren: 7, Pzxid: 0x100000003,
	}, time.UTC)
	want := `cZxid = 0x1a
ctime = Sun Nov 22 00:00:00 UTC 2026
mZxid = 0x2b
mtime = Sun Nov 22 00:01:01 UTC 2026
pZxid = 0x100000003
cversion = -2
dataVersion = 3
aclVersion = 1
ephemeralOwner = 0xff00000000000000
dataLength = 5
numChildren = 7
`
	if b.String() != want {
		t.Errorf("printStat:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestJavaListAndOrder(t *testing.T) {
	if got := javaList(nil); got != "[]" {
		t.Errorf("javaList(nil) = %q", got)
	}
	if got := javaList([]string{"a", "b c"}); got != "[a, b c]" {
		t.Errorf("javaList = %q", got)
	}
	// Java sorts by UTF-16 units: upper case first, and U+FFFD (BMP, above
	// the surrogates) after U+1F600 (a surrogate pair), unlike byte order.
	names := []string{"b", "\uFFFD", "B", "a", "\U0001F600", "ab"}
	sortJava(names)
	want := []string{"B", "a", "ab", "b", "\U0001F600", "\uFFFD"}
	if !slices.Equal(names, want) {
		t.Errorf("sortJava = %q, want %q", names, want)
	}
}

func TestPermAndIDStrings(t *testing.T) {
	if got := permString(client.PermAll); got != "cdrwa" {
		t.Errorf("permString(all) = %q", got)
	}
	if got := permString(client.PermRead | client.PermAdmin); got != "ra" {
		t.Errorf("permString(ra) = %q", got)
	}
	if got := permString(0); got != "" {
		t.Errorf("permString(0) = %q", got)
	}
	got := idString(client.ID{Scheme: "x", ID: "a,b%c}\n"})
	if want := "'x,'a%2Cb%25c%7D%0A\n"; got != want {
		t.Errorf("idString = %q, want %q", got, want)
	}
}

func TestEventString(t *testing.T) {
	for _, tc := range []struct {
		st   client.KeeperState
		typ  client.EventType
		path string
		want string
	}{
		{client.KeeperSyncConnected, client.EventNone, "", "WatchedEvent state:SyncConnected type:None path:null"},
		{client.KeeperSyncConnected, client.EventNodeDataChanged, "/a", "WatchedEvent state:SyncConnected type:NodeDataChanged path:/a"},
		{client.KeeperClosed, client.EventNone, "", "WatchedEvent state:Closed type:None path:null"},
		{client.KeeperExpired, client.EventNone, "", "WatchedEvent state:Expired type:None path:null"},
	} {
		if got := eventString(tc.st, tc.typ, tc.path); got != tc.want {
			t.Errorf("eventString = %q, want %q", got, tc.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		code proto.Code
		path string
		want string
	}{
		{proto.ErrNoNode, "/x", "Node does not exist: /x"},
		{proto.ErrNodeExists, "/x", "Node already exists: /x"},
		{proto.ErrNotEmpty, "/x", "Node not empty: /x"},
		{proto.ErrBadVersion, "/x", "version No is not valid : /x"},
		{proto.ErrNoAuth, "/x", "Insufficient permission : /x"},
		{proto.ErrInvalidACL, "", "Acl is not valid : null"},
		{proto.ErrNoChildrenForEphemerals, "/e/x", "Ephemerals cannot have children: /e/x"},
		{proto.ErrNoWatcher, "/x", "KeeperErrorCode = No such watcher for /x"},
		{proto.ErrConnectionLoss, "/", "KeeperErrorCode = ConnectionLoss for /"},
		{proto.ErrReconfigDisabled, "", "KeeperErrorCode = Reconfig is disabled"},
		{proto.ErrSessionExpired, "/x", "KeeperErrorCode = Session expired for /x"},
	} {
		if got := wrapperMessage(tc.code, tc.path); got != tc.want {
			t.Errorf("wrapperMessage(%v, %q) = %q, want %q", tc.code, tc.path, got, tc.want)
		}
	}
}

func TestValidatePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		seq  bool
		want string // "" for valid
	}{
		{"/", false, ""},
		{"/a/b", false, ""},
		{"/a/", true, ""}, // sequential: the suffix is appended first
		{"", false, "Path length must be > 0"},
		{"a", false, "Path must start with / character"},
		{"/a/", false, "Path must not end with / character"},
		{"/a//b", false, `Invalid path string "/a//b" caused by empty node name specified @3`},
		{"/a/./b", false, `Invalid path string "/a/./b" caused by relative paths not allowed @3`},
		{"/a/..", false, `Invalid path string "/a/.." caused by relative paths not allowed @4`},
		{"/a/..b", false, ""},
		{"/a\x01", false, `Invalid path string "/a` + "\x01" + `" caused by invalid character @2`},
		{"/\U0001F600/a\x00", false, `Invalid path string "/` + "\U0001F600" + `/a` + "\x00" + `" caused by invalid character @1`},
		{"/é/a\x00", false, `Invalid path string "/é/a` + "\x00" + `" caused by null character not allowed @4`},
	} {
		err := validatePath(tc.path, tc.seq)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("validatePath(%q, %v) = %q, want %q", tc.path, tc.seq, got, tc.want)
		}
	}
}

func TestStatsTrack(t *testing.T) {
	st, err := parseStatsTrack("count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=7")
	if err != nil {
		t.Fatal(err)
	}
	if st.get(stCount) != 5 || st.get(stBytes) != -1 || st.get(stCountHardLimit) != 7 || st.get("missing") != -1 {
		t.Errorf("parsed %v", st.vals)
	}
	if got, want := st.String(), "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=7"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	plain := statsTrack{}
	plain.set(stCount, 2)
	plain.set(stBytes, 19)
	if got := plain.String(); got != "count=2,bytes=19" {
		t.Errorf("String() = %q", got)
	}
	if _, err := parseStatsTrack("count=x"); err == nil {
		t.Error("parseStatsTrack accepted a bad number")
	}
}

func TestJavaString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"caf\xc3\xa9", "café"},
		{"a\xffb", "a\uFFFDb"},
		{"a\xe2\x82b", "a\uFFFDb"},                 // truncated 3-byte sequence: one U+FFFD
		{"a\xed\xa0\x80b", "a\uFFFD\uFFFD\uFFFDb"}, // surrogate: each byte
		{"\xf0\x9f\x98", "\uFFFD"},
	} {
		if got := javaString([]byte(tc.in)); got != tc.want {
			t.Errorf("javaString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUsageText(t *testing.T) {
	// zkCli.sh 3.8's usage, as it prints it for an unknown command.
	want := usageHeader + "\n" + strings.Join([]string{
		"\taddWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
		"\taddauth scheme auth",
		"\tclose ",
		"\tconfig [-c] [-w] [-s]",
		"\tconnect host:port",
		"\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]",
		"\tdelete [-v version] path",
		"\tdeleteall path [-b batch size]",
		"\tdelquota [-n|-b|-N|-B] path",
		"\tget [-s] [-w] path",
		"\tgetAcl [-s] path",
		"\tgetAllChildrenNumber path",
		"\tgetEphemerals path",
		"\thistory ",
		"\tlistquota path",
		"\tls [-s] [-w] [-R] path",
		"\tprintwatches on|off",
		"\tquit ",
		"\treconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
		"\tredo cmdno",
		"\tremovewatches path [-c|-d|-a] [-l]",
		"\tset [-s] [-v version] path data",
		"\tsetAcl [-s] [-v version] [-R] path acl",
		"\tsetquota -n|-b|-N|-B val path",
		"\tstat [-w] path",
		"\tsync path",
		"\tversion ",
		"\twhoami ",
	}, "\n") + "\n"
	if got := usageText(); got != want {
		t.Errorf("usage:\n%s\nwant:\n%s", got, want)
	}
}

func TestClientConfigString(t *testing.T) {
	cfg := "server.2=h2:2888:3888:participant;0.0.0.0:2182\nserver.1=h1:2888:3888:participant;h1:2181\n" +
		"server.3=h3:2888:3888:observer;2183\nversion=10000000a"
	if got, want := clientConfigString(cfg), "10000000a h1:2181,0.0.0.0:2182,0.0.0.0:2183"; got != want {
		t.Errorf("clientConfigString = %q, want %q", got, want)
	}
}
