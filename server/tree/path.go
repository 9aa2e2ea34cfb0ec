package tree

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zkgo/zkgo/proto"
)

// ValidatePath reports whether path is a valid znode path under Apache
// ZooKeeper's rules (PathUtils.validatePath): it starts with '/', does not end
// with '/' (unless it is "/"), has no empty, "." or ".." segment, and no
// character that Java sees as U+0000, U+0001-U+001F, U+007F-U+009F,
// U+D800-U+F8FF or U+FFF0-U+FFFF. Java strings are UTF-16, so every
// supplementary-plane character (a surrogate pair) and every invalid UTF-8
// sequence (decoded as U+FFFD) is refused. The error wraps
// proto.ErrBadArguments and names the reason.
func ValidatePath(path string) error {
	if reason := pathProblem(path); reason != "" {
		return fmt.Errorf("%w: invalid path %q: %s", proto.ErrBadArguments, path, reason)
	}
	return nil
}

// pathProblem returns why path is invalid, or "" if it is valid. It does not
// allocate for valid paths.
func pathProblem(path string) string {
	if len(path) == 0 {
		return "path length must be > 0"
	}
	if path[0] != '/' {
		return "path must start with / character"
	}
	if len(path) == 1 {
		return ""
	}
	if path[len(path)-1] == '/' {
		return "path must not end with / character"
	}
	last := rune('/')
	for i := 1; i < len(path); {
		c, size := rune(path[i]), 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRuneInString(path[i:])
		}
		end := i+1 == len(path) || path[i+1] == '/'
		switch {
		case c == 0:
			return "null character not allowed @" + strconv.Itoa(i)
		case c == '/' && last == '/':
			return "empty node name specified @" + strconv.Itoa(i)
		case c == '.' && last == '.':
			if path[i-2] == '/' && end {
				return "relative paths not allowed @" + strconv.Itoa(i)
			}
		case c == '.':
			if last == '/' && end {
				return "relative paths not allowed @" + strconv.Itoa(i)
			}
		case c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			return "invalid character @" + strconv.Itoa(i)
		}
		last = c
		i += size
	}
	return ""
}

// specialPath reports whether path is one of the nodes Apache ZooKeeper
// refuses to delete (DataTree.isSpecialPath).
func specialPath(path string) bool {
	switch path {
	case "/", "/zookeeper", "/zookeeper/quota", configPath:
		return true
	}
	return false
}

// splitParent returns the parent of path as the tree stores it ("/" for the
// children of the root) and the index of the last '/'; ok is false when path
// has no '/' or contains NUL, the cases Apache refuses before looking at the
// tree (validatePathForCreate, getParentPathAndValidate).
func splitParent(path string) (parent string, slash int, ok bool) {
	slash = strings.LastIndexByte(path, '/')
	if slash < 0 || strings.IndexByte(path, 0) >= 0 {
		return "", -1, false
	}
	if slash == 0 {
		return "/", 0, true
	}
	return path[:slash], slash, true
}

// appendSeq appends the sequential-node suffix for v as Java's
// String.format("%010d", v) prints it ("-000000001" for -1).
func appendSeq(dst []byte, v int32) []byte {
	var buf [11]byte
	n := int64(v)
	neg := n < 0
	if neg {
		n = -n
	}
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	width := 10
	if neg {
		width = 9
	}
	for len(buf)-i < width {
		i--
		buf[i] = '0'
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return append(dst, buf[i:]...)
}

// javaLen returns len(s) as Java's String.length counts it (UTF-16 units).
func javaLen(s string) int64 {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xffff {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return int64(n)
}
