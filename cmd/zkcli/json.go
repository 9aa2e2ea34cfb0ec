package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/zkgo/zkgo/client"
)

// JSON output of read commands ("-o json"): one object per command on one
// line. Zxids and session ids are hex strings as in the text output (they
// do not fit a JSON number's exact range); times are milliseconds since
// the epoch.

type jsonStat struct {
	Czxid          string `json:"cZxid"`
	Ctime          int64  `json:"ctime"`
	Mzxid          string `json:"mZxid"`
	Mtime          int64  `json:"mtime"`
	Pzxid          string `json:"pZxid"`
	Cversion       int32  `json:"cversion"`
	Version        int32  `json:"dataVersion"`
	Aversion       int32  `json:"aclVersion"`
	EphemeralOwner string `json:"ephemeralOwner"`
	DataLength     int32  `json:"dataLength"`
	NumChildren    int32  `json:"numChildren"`
}

func statJSON(st *client.Stat) *jsonStat {
	if st == nil {
		return nil
	}
	return &jsonStat{
		Czxid: "0x" + hex(st.Czxid), Ctime: st.Ctime, Mzxid: "0x" + hex(st.Mzxid), Mtime: st.Mtime,
		Pzxid: "0x" + hex(st.Pzxid), Cversion: st.Cversion, Version: st.Version, Aversion: st.Aversion,
		EphemeralOwner: "0x" + hex(st.EphemeralOwner), DataLength: st.DataLength, NumChildren: st.NumChildren,
	}
}

// jsonBytes is node data: a string if it is UTF-8, else base64.
type jsonBytes struct {
	Text   *string `json:"text,omitempty"`
	Base64 *string `json:"base64,omitempty"`
}

func jsonData(b []byte) *jsonBytes {
	if b == nil {
		return nil
	}
	if utf8.Valid(b) {
		s := string(b)
		return &jsonBytes{Text: &s}
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &jsonBytes{Base64: &s}
}

type jsonACL struct {
	Scheme string `json:"scheme"`
	ID     string `json:"id"`
	Perms  string `json:"perms"`
}

func aclJSON(acl []client.ACL) []jsonACL {
	out := []jsonACL{}
	for _, a := range acl {
		out = append(out, jsonACL{Scheme: a.ID.Scheme, ID: a.ID.ID, Perms: permString(a.Perms)})
	}
	return out
}

// jsonNode is the output of get and config. Data is null for a node whose
// data is null.
type jsonNode struct {
	Path string     `json:"path"`
	Data *jsonBytes `json:"data"`
	Stat *jsonStat  `json:"stat"`
}

// jsonACLs is the output of getAcl.
type jsonACLs struct {
	Path string    `json:"path"`
	ACL  []jsonACL `json:"acl"`
	Stat *jsonStat `json:"stat"`
}

// jsonList is the output of ls.
type jsonList struct {
	Path     string    `json:"path"`
	Children []string  `json:"children"`
	Stat     *jsonStat `json:"stat"`
}

// jsonTree is the output of ls -R.
type jsonTree struct {
	Paths []string `json:"paths"`
}

type jsonEphemerals struct {
	Ephemerals []string `json:"ephemerals"`
}

type jsonCount struct {
	Path  string `json:"path"`
	Count int    `json:"count"`
}

type jsonIdentity struct {
	Scheme string `json:"scheme"`
	User   string `json:"user"`
}

func whoamiJSON(infos []client.ClientInfo) map[string][]jsonIdentity {
	ids := []jsonIdentity{}
	for _, ci := range infos {
		ids = append(ids, jsonIdentity{Scheme: ci.AuthScheme, User: ci.User})
	}
	return map[string][]jsonIdentity{"identities": ids}
}

// nonNil makes an empty list print as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (sh *shell) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(fmt.Sprintf("encode JSON: %v", err))
	}
	fmt.Fprintf(sh.out, "%s\n", b)
	return nil
}
