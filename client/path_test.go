package client

import (
	"errors"
	"slices"
	"testing"
)

func TestParseConnectString(t *testing.T) {
	tests := []struct {
		in     string
		hosts  []string
		chroot string
		bad    bool
	}{
		{in: "127.0.0.1:2181", hosts: []string{"127.0.0.1:2181"}},
		{in: "a:1,b:2", hosts: []string{"a:1", "b:2"}},
		{in: "a:1,b:2/app/x", hosts: []string{"a:1", "b:2"}, chroot: "/app/x"},
		{in: "a", hosts: []string{"a:2181"}},
		{in: "[::1]:2182,[::1]", hosts: []string{"[::1]:2182", "[::1]:2181"}},
		{in: "a:1/", hosts: []string{"a:1"}},
		{in: " a:1 , b:2 ", hosts: []string{"a:1", "b:2"}},
		{in: "", bad: true},
		{in: "/app", bad: true},
		{in: "a:1/app/", bad: true},
		{in: "a:1/app//x", bad: true},
	}
	for _, tt := range tests {
		hosts, chroot, err := parseConnectString(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseConnectString(%q) = %v, %q; want error", tt.in, hosts, chroot)
			}
			continue
		}
		if err != nil || !slices.Equal(hosts, tt.hosts) || chroot != tt.chroot {
			t.Errorf("parseConnectString(%q) = %v, %q, %v; want %v, %q", tt.in, hosts, chroot, err, tt.hosts, tt.chroot)
		}
	}
}

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path string
		seq  bool
		ok   bool
	}{
		{"/", false, true},
		{"/a", false, true},
		{"/a/b-c_d.e", false, true},
		{"/a/", true, true},
		{"/", true, true},
		{"/a/...", false, true},
		{"/a/.b", false, true},
		{"", false, false},
		{"a", false, false},
		{"/a/", false, false},
		{"//a", false, false},
		{"/a//b", false, false},
		{"/a//", true, false},
		{"/a/.", false, false},
		{"/a/./b", false, false},
		{"/a/..", false, false},
		{"/a/../b", false, false},
		{"/a\x00b", false, false},
		{"/a\x01b", false, false},
		{"/a\u0085", false, false},
		{"/a\ufff5", false, false},
		{"/a\U0001F600", false, false},
		{"/a\xff", false, false},
		{"/é/中", false, true},
	}
	for _, tt := range tests {
		err := validatePath(tt.path, tt.seq)
		if (err == nil) != tt.ok {
			t.Errorf("validatePath(%q, %v) = %v, want ok=%v", tt.path, tt.seq, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalidPath) || !errors.Is(err, ErrBadArguments)) {
			t.Errorf("validatePath(%q) error %v does not match ErrInvalidPath and ErrBadArguments", tt.path, err)
		}
	}
}

func TestPrefixMapping(t *testing.T) {
	tests := []struct{ prefix, client, server string }{
		{"", "/a", "/a"},
		{"", "/", "/"},
		{"/app", "/", "/app"},
		{"/app", "/a/b", "/app/a/b"},
	}
	for _, tt := range tests {
		if got := joinPrefix(tt.prefix, tt.client); got != tt.server {
			t.Errorf("joinPrefix(%q, %q) = %q, want %q", tt.prefix, tt.client, got, tt.server)
		}
		if got := stripPrefix(tt.prefix, tt.server); got != tt.client {
			t.Errorf("stripPrefix(%q, %q) = %q, want %q", tt.prefix, tt.server, got, tt.client)
		}
	}
	if stripPrefix("/app", "/apple") != "/apple" {
		t.Error("a sibling sharing a string prefix is treated as inside the chroot")
	}
	for in, want := range map[string]string{"": "", "/": "", "ns": "/ns", "/a/b/": "/a/b"} {
		if got, err := normalizeNamespace(in); err != nil || got != want {
			t.Errorf("normalizeNamespace(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := normalizeNamespace("a//b"); err == nil {
		t.Error("normalizeNamespace accepted an empty segment")
	}
}

func TestSplitSetWatches(t *testing.T) {
	var lists [5][]string
	total := 0
	for k := range lists {
		for i := range 100 {
			p := "/" + string(rune('a'+k)) + "/" + string(make([]byte, 0)) + "node-" + string(rune('0'+i%10)) + "-" + string(rune('a'+i%26))
			lists[k] = append(lists[k], p)
			total++
		}
	}
	frames := splitSetWatches(lists, 500)
	if len(frames) < 2 {
		t.Fatalf("got %d frames, want several", len(frames))
	}
	var got [5][]string
	for _, f := range frames {
		size := 0
		for k := range f {
			if f[k] == nil {
				t.Fatal("frame has a nil list")
			}
			for _, p := range f[k] {
				size += len(p)
			}
			got[k] = append(got[k], f[k]...)
		}
		if size > 500 {
			t.Errorf("frame carries %d path bytes, limit 500", size)
		}
	}
	for k := range lists {
		if !slices.Equal(got[k], lists[k]) {
			t.Errorf("list %d not preserved in order across frames", k)
		}
	}
	if len(splitSetWatches([5][]string{}, 500)) != 0 {
		t.Error("no watches should give no frames")
	}
}

func TestDigestID(t *testing.T) {
	// The superDigest the test server is started with is super:test.
	if got := DigestID("super", "test"); got != "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" {
		t.Errorf("DigestID(super, test) = %q", got)
	}
}

func TestNewUUID(t *testing.T) {
	u := newUUID()
	if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[14] != '4' || u[18] != '-' || u[23] != '-' {
		t.Errorf("newUUID() = %q, not a version 4 UUID", u)
	}
	if newUUID() == u {
		t.Error("two UUIDs are equal")
	}
}
