package proto

import (
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

// sampleRecords holds one populated value of every record type.
func sampleRecords() map[string]Record {
	st := testStat
	return map[string]Record{
		"Id":                           &Id{Scheme: "digest", ID: "bob:x"},
		"ACL":                          &ACL{Perms: PermRead | PermAdmin, ID: Id{Scheme: "ip", ID: "10.1.2.3"}},
		"Stat":                         &st,
		"RequestHeader":                &RequestHeader{Xid: 12, Type: OpMulti},
		"ReplyHeader":                  &ReplyHeader{Xid: 12, Zxid: 99, Err: ErrBadVersion},
		"ConnectRequest":               &ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 5, TimeOut: 6000, SessionID: 7, Passwd: testPW},
		"ConnectRequestRO":             &ConnectRequest{TimeOut: 6000, Passwd: testPW, ReadOnly: true, HasReadOnly: true},
		"ConnectResponse":              &ConnectResponse{TimeOut: 6000, SessionID: 7, Passwd: testPW},
		"ConnectResponseRO":            &ConnectResponse{TimeOut: 6000, SessionID: 7, Passwd: testPW, HasReadOnly: true},
		"CreateRequest":                &CreateRequest{Path: "/a", Data: []byte("d"), ACL: testTwo, Flags: ModeEphemeral},
		"CreateTTLRequest":             &CreateTTLRequest{Path: "/a", Data: []byte{}, ACL: testOpen, Flags: ModePersistentSequentialWithTTL, TTL: 1},
		"CreateResponse":               &CreateResponse{Path: "/a0000000001"},
		"Create2Response":              &Create2Response{Path: "/a", Stat: testStat},
		"DeleteRequest":                &DeleteRequest{Path: "/a", Version: 3},
		"ExistsRequest":                &ExistsRequest{Path: "/a", Watch: true},
		"ExistsResponse":               &ExistsResponse{Stat: testStat},
		"GetDataRequest":               &GetDataRequest{Path: "/a", Watch: true},
		"GetDataResponse":              &GetDataResponse{Data: []byte("xyz"), Stat: testStat},
		"SetDataRequest":               &SetDataRequest{Path: "/a", Data: []byte("v"), Version: -1},
		"SetDataResponse":              &SetDataResponse{Stat: testStat},
		"GetACLRequest":                &GetACLRequest{Path: "/a"},
		"GetACLResponse":               &GetACLResponse{ACL: testTwo, Stat: testStat},
		"SetACLRequest":                &SetACLRequest{Path: "/a", ACL: testOpen, Version: 1},
		"SetACLResponse":               &SetACLResponse{Stat: testStat},
		"GetChildrenRequest":           &GetChildrenRequest{Path: "/", Watch: true},
		"GetChildrenResponse":          &GetChildrenResponse{Children: []string{"a", "b"}},
		"GetChildren2Request":          &GetChildren2Request{Path: "/", Watch: true},
		"GetChildren2Response":         &GetChildren2Response{Children: []string{"c"}, Stat: testStat},
		"SyncRequest":                  &SyncRequest{Path: "/s"},
		"SyncResponse":                 &SyncResponse{Path: "/s"},
		"CheckVersionRequest":          &CheckVersionRequest{Path: "/c", Version: 4},
		"ReconfigRequest":              &ReconfigRequest{JoiningServers: "j", LeavingServers: "l", NewMembers: "n", CurConfigID: 8},
		"CheckWatchesRequest":          &CheckWatchesRequest{Path: "/w", Type: WatcherChildren},
		"RemoveWatchesRequest":         &RemoveWatchesRequest{Path: "/w", Type: WatcherPersistentRecursive},
		"AuthPacket":                   &AuthPacket{Scheme: "digest", Auth: []byte("u:p")},
		"SetWatches":                   &SetWatches{RelativeZxid: 3, DataWatches: []string{"/d"}, ExistWatches: []string{"/e"}, ChildWatches: []string{"/c"}},
		"SetWatches2":                  &SetWatches2{RelativeZxid: 3, DataWatches: []string{"/d"}, PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r"}},
		"GetSASLRequest":               &GetSASLRequest{Token: []byte("t")},
		"SetSASLResponse":              &SetSASLResponse{Token: []byte("t")},
		"GetEphemeralsRequest":         &GetEphemeralsRequest{PrefixPath: "/e"},
		"GetEphemeralsResponse":        &GetEphemeralsResponse{Ephemerals: []string{"/e/1"}},
		"GetAllChildrenNumberRequest":  &GetAllChildrenNumberRequest{Path: "/"},
		"GetAllChildrenNumberResponse": &GetAllChildrenNumberResponse{TotalNumber: 7},
		"AddWatchRequest":              &AddWatchRequest{Path: "/", Mode: AddWatchPersistentRecursive},
		"ClientInfo":                   &ClientInfo{AuthScheme: "ip", User: "127.0.0.1"},
		"WhoAmIResponse":               &WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "::1"}}},
		"ErrorResponse":                &ErrorResponse{Err: ErrNoWatcher},
		"WatcherEvent":                 &WatcherEvent{Type: EventNodeCreated, State: StateSyncConnected, Path: "/n"},
		"MultiHeader":                  &MultiHeader{Type: OpCheck, Done: false, Err: -1},
		"MultiRequest": &MultiRequest{Ops: []MultiOp{
			{Type: OpCreate2, Req: &CreateRequest{Path: "/x", ACL: testOpen}},
			{Type: OpCreateTTL, Req: &CreateTTLRequest{Path: "/y", ACL: testOpen, Flags: ModePersistentWithTTL, TTL: 9}},
			{Type: OpCheck, Req: &CheckVersionRequest{Path: "/x", Version: 0}},
		}},
		"MultiResponse": &MultiResponse{Results: []MultiResult{
			{Type: OpCreate2, Resp: &Create2Response{Path: "/x", Stat: testStat}},
			{Type: OpGetData, Resp: &GetDataResponse{Stat: testStat}},
			{Type: OpError, Err: ErrNodeExists},
		}},
	}
}

func TestRoundTrip(t *testing.T) {
	for name, rec := range sampleRecords() {
		b := Encode(rec)
		got := newLike(rec)
		if err := Decode(b, got); err != nil {
			t.Errorf("%s: decode: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, got, rec)
		}
	}
}

// TestSampleCoverage keeps sampleRecords complete: every record that
// NewRequest or NewResponse can return must have a sample.
func TestSampleCoverage(t *testing.T) {
	have := map[reflect.Type]bool{}
	for _, r := range sampleRecords() {
		have[reflect.TypeOf(r)] = true
	}
	for op := OpCode(-20); op < 200; op++ {
		for _, r := range []Record{NewRequest(op), NewResponse(op)} {
			if r != nil && !have[reflect.TypeOf(r)] {
				t.Errorf("no sample record of type %T (op %v)", r, op)
			}
		}
	}
}

func TestTruncated(t *testing.T) {
	for name, rec := range sampleRecords() {
		b := Encode(rec)
		for n := 0; n < len(b); n++ {
			err := Decode(b[:n], newLike(rec))
			optional := n == len(b)-1
			switch rec := rec.(type) {
			case *ConnectRequest:
				optional = optional && rec.HasReadOnly
			case *ConnectResponse:
				optional = optional && rec.HasReadOnly
			default:
				optional = false
			}
			if optional {
				if err != nil {
					t.Errorf("%s: without readOnly byte: %v", name, err)
				}
				continue
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %d of %d bytes: err = %v, want ErrMalformed", name, n, len(b), err)
			}
		}
		if err := Decode(append(b, 0, 0), newLike(rec)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: trailing bytes: err = %v, want ErrMalformed", name, err)
		}
	}
}

// be builds test input from int32s and raw byte strings.
func be(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = binary.BigEndian.AppendUint32(b, uint32(int32(v)))
		case int32:
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		case int64:
			b = binary.BigEndian.AppendUint64(b, uint64(v))
		case string:
			b = append(b, v...)
		case byte:
			b = append(b, v)
		default:
			panic(p)
		}
	}
	return b
}

// TestNullsAccepted decodes -1 lengths where Apache ZooKeeper or kazoo may
// send them.
func TestNullsAccepted(t *testing.T) {
	stat := Encode(&Stat{})
	tests := []struct {
		name string
		in   []byte
		want Record
	}{
		{"create null path data acl", be(-1, -1, -1, 0), &CreateRequest{}},
		{"children with null name", be(2, -1, 1, "a"), &GetChildrenResponse{Children: []string{"", "a"}}},
		{"null children", be(-1), &GetChildrenResponse{}},
		{"null acl", append(be(-1), stat...), &GetACLResponse{}},
		{"null whoami", be(-1), &WhoAmIResponse{}},
		{"whoami null fields", be(1, -1, -1), &WhoAmIResponse{ClientInfo: []ClientInfo{{}}}},
		{"auth null", be(0, -1, -1), &AuthPacket{}},
		{"connect null passwd", be(0, int64(0), 0, int64(0), -1), &ConnectRequest{}},
		{"connect response null passwd ro", be(0, 0, int64(0), -1, byte(1)),
			&ConnectResponse{ReadOnly: true, HasReadOnly: true}},
		{"setwatches2 nulls", be(int64(1), -1, -1, -1, -1, -1), &SetWatches2{RelativeZxid: 1}},
		{"multi null path", be(int(OpDelete), byte(0), -1, -1, 3, -1, byte(1), -1),
			&MultiRequest{Ops: []MultiOp{{Type: OpDelete, Req: &DeleteRequest{Version: 3}}}}},
		{"event null path", be(-1, 3, -1), &WatcherEvent{Type: EventNone, State: StateSyncConnected}},
	}
	for _, tt := range tests {
		got := newLike(tt.want)
		if err := Decode(tt.in, got); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tt.name, got, tt.want)
		}
	}
}

// allocBytes returns the bytes allocated per call of f.
func allocBytes(f func()) uint64 {
	const runs = 20
	f()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

func TestHugeLengthsRejectedCheaply(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		rec  func() Record
	}{
		{"children count", be(0x7fffffff, 1, "a"), func() Record { return &GetChildrenResponse{} }},
		{"children count near limit", be(200000, 1, "a"), func() Record { return &GetChildrenResponse{} }},
		{"acl count", append(be(0x10000000), make([]byte, 100)...), func() Record { return &GetACLResponse{} }},
		{"whoami count", be(0x7ffffff0, 1, "a"), func() Record { return &WhoAmIResponse{} }},
		{"data length", be(1, "/", 0x7fffffff, "abc"), func() Record { return &SetDataRequest{} }},
		{"data length under max", be(1, "/", DefaultMaxBuffer-10, "abc"), func() Record { return &SetDataRequest{} }},
		{"path length", be(0x40000000, "abc"), func() Record { return &SyncRequest{} }},
		{"negative length", be(-2, "abc"), func() Record { return &SyncRequest{} }},
		{"negative count", be(-5), func() Record { return &GetEphemeralsResponse{} }},
		{"passwd length", be(0, int64(0), 0, int64(0), DefaultMaxBuffer), func() Record { return &ConnectRequest{} }},
		{"setwatches count", be(int64(0), 0x7fffffff), func() Record { return &SetWatches{} }},
		{"multi op data length", be(int(OpSetData), byte(0), -1, 1, "/", 0x7fffffff),
			func() Record { return &MultiRequest{} }},
	}
	for _, tt := range tests {
		if err := Decode(tt.in, tt.rec()); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tt.name, err)
			continue
		}
		if n := allocBytes(func() { _ = Decode(tt.in, tt.rec()) }); n > 4096 {
			t.Errorf("%s: %d bytes allocated to reject %d bytes of input", tt.name, n, len(tt.in))
		}
	}
}

func TestNewRequestResponse(t *testing.T) {
	reqs := map[OpCode]Record{
		OpCreateContainer: &CreateRequest{}, OpCreateTTL: &CreateTTLRequest{}, OpMultiRead: &MultiRequest{},
	}
	for op, want := range reqs {
		if got := NewRequest(op); reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("NewRequest(%v) = %T, want %T", op, got, want)
		}
	}
	for _, op := range []OpCode{OpPing, OpCloseSession, OpWhoAmI, OpNotification, OpCreateSession,
		OpDeleteContainer, OpError, 10, 23, 999, -99} {
		if got := NewRequest(op); got != nil {
			t.Errorf("NewRequest(%v) = %T, want nil", op, got)
		}
	}
	resps := map[OpCode]Record{
		OpCreateContainer: &Create2Response{}, OpCreateTTL: &Create2Response{},
		OpReconfig: &GetDataResponse{}, OpCheck: &SetDataResponse{}, OpAddWatch: &ErrorResponse{},
	}
	for op, want := range resps {
		if got := NewResponse(op); reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("NewResponse(%v) = %T, want %T", op, got, want)
		}
	}
	for _, op := range []OpCode{OpDelete, OpCheckWatches, OpRemoveWatches, OpAuth, OpSetWatches,
		OpSetWatches2, OpPing, OpCloseSession, OpCreateSession, OpError, 10, 999} {
		if got := NewResponse(op); got != nil {
			t.Errorf("NewResponse(%v) = %T, want nil", op, got)
		}
	}
	// Each call returns a fresh record.
	if NewRequest(OpCreate) == NewRequest(OpCreate) {
		t.Error("NewRequest returned a shared record")
	}
}
