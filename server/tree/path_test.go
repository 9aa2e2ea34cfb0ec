package tree

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/a", true},
		{"/a/b/c", true},
		{"/...", true},
		{"/a.", true},
		{"/.a", true},
		{"/a/..b", true},
		{"/a/b..", true},
		{"/é", true},
		{"/日本", true},
		{"/\u00a0", true}, // just above the C1 range
		{"/\u007e", true}, // '~'
		{"/\uf900", true}, // just above the private-use range
		{"/\uffef", true}, // just below the specials
		{"/a b", true},    // space is fine
		{"/zookeeper", true},
		{"", false},
		{"a", false},
		{"a/b", false},
		{"//", false},
		{"/a/", false},
		{"/a//b", false},
		{"/.", false},
		{"/..", false},
		{"/a/.", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/a/..", false},
		{"/a\x00b", false},
		{"/\x00", false},
		{"/a\x01", false},
		{"/a\x1f", false},
		{"/a\x7f", false},
		{"/a\u0080", false},
		{"/a\u009f", false},
		{"/a\ud7ff", true}, // just below the surrogates
		{"/a\ue000", false},
		{"/a\uf8ff", false},
		{"/a\ufff0", false},
		{"/a\ufffd", false},
		{"/a\uffff", false},
		{"/a\U0001F600", false}, // a surrogate pair in Java
		{"/a\U00010000", false},
		{"/a\xff", false},         // invalid UTF-8 decodes to U+FFFD
		{"/a\xed\xa0\x80", false}, // an encoded surrogate
		{"/a\xc0\xaf", false},     // overlong '/'
	}
	for _, tc := range tests {
		err := ValidatePath(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("ValidatePath(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
		if err != nil && !errors.Is(err, proto.ErrBadArguments) {
			t.Errorf("ValidatePath(%q) = %v, does not wrap ErrBadArguments", tc.path, err)
		}
	}
}

func TestAppendSeq(t *testing.T) {
	for _, v := range []int32{0, 1, 9, 10, 123456789, 999999999, 1000000000, math.MaxInt32, -1, -5, -999999999, -1000000000, math.MinInt32} {
		want := fmt.Sprintf("%010d", v) // same as Java's String.format("%010d")
		if got := string(appendSeq([]byte("x"), v)); got != "x"+want {
			t.Errorf("appendSeq(%d) = %q, want %q", v, got, "x"+want)
		}
	}
}

func TestJavaLen(t *testing.T) {
	for s, want := range map[string]int64{"": 0, "/a": 2, "/é": 2, "/日本": 3, "/\U0001F600": 3} {
		if got := javaLen(s); got != want {
			t.Errorf("javaLen(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestItemOrder(t *testing.T) {
	// The order must equal the byte order of parent+"\x00"+name keys.
	paths := []string{"/", "/a", "/a/b", "/a/b/c", "/a-b", "/a/bc", "/ab", "/a!", "/b", "/a/b-", "/a0/x", "/a/b/c/d", "/z", "/a/\u00e9", "/a/b!/x"}
	key := func(p string) string {
		if p == "/" {
			return ""
		}
		s := strings.LastIndexByte(p, '/')
		return p[:s] + "\x00" + p[s+1:]
	}
	for _, a := range paths {
		for _, b := range paths {
			var ka, kb Node
			ka.setKey(a)
			kb.setKey(b)
			if got, want := nodeLess(&ka, &kb), key(a) < key(b); got != want {
				t.Errorf("nodeLess(%q, %q) = %v, key order says %v", a, b, got, want)
			}
		}
	}
}
