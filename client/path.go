package client

import (
	"fmt"
	"net"
	"strings"
	"unicode/utf8"
)

// defaultPort is the port used for hosts of a connect string that give none.
const defaultPort = "2181"

// parseConnectString splits "h1:p1,h2:p2/chroot" into host:port addresses
// and a chroot ("" for none). IPv6 hosts are written in brackets.
func parseConnectString(s string) (hosts []string, chroot string, err error) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s, chroot = s[:i], s[i:]
		if err := validatePath(chroot, false); err != nil {
			return nil, "", fmt.Errorf("client: connect string chroot: %w", err)
		}
		if chroot == "/" {
			chroot = ""
		}
	}
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			// No port: the whole entry is the host (brackets allowed for IPv6).
			host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
		}
		if host == "" {
			return nil, "", fmt.Errorf("client: connect string %q: empty host", s)
		}
		hosts = append(hosts, net.JoinHostPort(host, port))
	}
	if len(hosts) == 0 {
		return nil, "", fmt.Errorf("client: connect string %q names no server", s)
	}
	return hosts, chroot, nil
}

// validatePath applies Apache ZooKeeper's client-side path rules
// (PathUtils.validatePath): absolute, no empty, "." or ".." segments, no
// trailing slash (except for a sequential create, where the server appends
// the suffix), and no control or non-BMP characters. The result wraps
// ErrInvalidPath.
func validatePath(p string, sequential bool) error {
	bad := func(reason string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidPath, p, reason)
	}
	if p == "" {
		return bad("empty")
	}
	if p[0] != '/' {
		return bad("must start with /")
	}
	if len(p) == 1 {
		return nil
	}
	if !utf8.ValidString(p) {
		return bad("not valid UTF-8")
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		switch seg {
		case "":
			if i == len(segs)-1 && sequential {
				// "/parent/" plus the server's sequence number is a valid name.
				continue
			}
			if i == len(segs)-1 {
				return bad("must not end with /")
			}
			return bad("empty segment")
		case ".", "..":
			return bad("relative segments not allowed")
		}
	}
	for _, r := range p {
		switch {
		case r == 0:
			return bad("null character")
		case r > 0 && r < 0x20, r >= 0x7f && r <= 0x9f,
			r >= 0xd800 && r <= 0xf8ff, r >= 0xfff0 && r <= 0xffff, r > 0xffff:
			return bad(fmt.Sprintf("invalid character %U", r))
		}
	}
	return nil
}

// joinPrefix prepends a server-side prefix ("" or "/a/b") to a client path.
func joinPrefix(prefix, p string) string {
	if prefix == "" {
		return p
	}
	if p == "/" {
		return prefix
	}
	return prefix + p
}

// stripPrefix maps a server path back to a client path; paths outside the
// prefix are returned unchanged.
func stripPrefix(prefix, p string) string {
	if prefix == "" {
		return p
	}
	if p == prefix {
		return "/"
	}
	if strings.HasPrefix(p, prefix) && len(p) > len(prefix) && p[len(prefix)] == '/' {
		return p[len(prefix):]
	}
	return p
}

// parentPath returns the parent of an absolute path ("/" for "/a").
func parentPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// baseName returns the last segment of an absolute path.
func baseName(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

// joinPath joins a parent path and a child name.
func joinPath(parent, child string) string {
	if parent == "/" {
		return "/" + child
	}
	return parent + "/" + child
}

// normalizeNamespace turns "app/prod", "/app/prod/" into "/app/prod" ("" for
// none) and validates it.
func normalizeNamespace(ns string) (string, error) {
	ns = strings.Trim(ns, "/")
	if ns == "" {
		return "", nil
	}
	ns = "/" + ns
	if err := validatePath(ns, false); err != nil {
		return "", fmt.Errorf("client: namespace: %w", err)
	}
	return ns, nil
}
