package server

import (
	"crypto/sha1"
	"encoding/base64"
	"net"
	"strconv"
	"strings"

	"github.com/zkgo/zkgo/proto"
)

// Auth schemes known to the server.
const (
	schemeWorld  = "world"
	schemeDigest = "digest"
	schemeIP     = "ip"
	schemeAuth   = "auth"
	schemeSuper  = "super"
)

// digestOf returns the digest-scheme id of "user:password": user followed by
// the base64 SHA-1 of the whole string, as DigestAuthenticationProvider does.
func digestOf(userPass string) string {
	user, _, _ := strings.Cut(userPass, ":")
	sum := sha1.Sum([]byte(userPass))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// authenticate turns an auth packet into the identities it grants. superDigest
// is the configured "super:<digest>" (or ""); clientIP is the connection's
// address. Unknown schemes fail with ErrAuthFailed.
func authenticate(scheme string, auth []byte, superDigest, clientIP string) ([]proto.Id, error) {
	switch scheme {
	case schemeIP:
		// IPAuthenticationProvider: the identity is the client's address,
		// whatever the auth data says.
		return []proto.Id{{Scheme: schemeIP, ID: clientIP}}, nil
	case schemeDigest:
		id := digestOf(string(auth))
		ids := []proto.Id{{Scheme: schemeDigest, ID: id}}
		if superDigest != "" && id == superDigest {
			ids = append([]proto.Id{{Scheme: schemeSuper, ID: ""}}, ids...)
		}
		return ids, nil
	}
	return nil, proto.ErrAuthFailed
}

// checkACL reports whether identities ids hold perm on a node with acl, per
// ZooKeeperServer.checkACL: super passes everything, an empty ACL allows all.
func checkACL(acl []proto.ACL, perm int32, ids []proto.Id) error {
	if len(acl) == 0 {
		return nil
	}
	for _, id := range ids {
		if id.Scheme == schemeSuper {
			return nil
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == schemeWorld && a.ID.ID == "anyone" {
			return nil
		}
		for _, id := range ids {
			if id.Scheme != a.ID.Scheme {
				continue
			}
			switch a.ID.Scheme {
			case schemeIP:
				if ipMatches(id.ID, a.ID.ID) {
					return nil
				}
			default:
				if id.ID == a.ID.ID {
					return nil
				}
			}
		}
	}
	return proto.ErrNoAuth
}

// ipMatches reports whether client address addr matches an ip ACL id, which
// is an address or address/bits.
func ipMatches(addr, aclID string) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	if strings.Contains(aclID, "/") {
		_, n, err := net.ParseCIDR(aclID)
		return err == nil && n.Contains(ip)
	}
	want := net.ParseIP(aclID)
	return want != nil && want.Equal(ip)
}

// validIPACL reports whether id is a valid ip-scheme ACL id.
func validIPACL(id string) bool {
	if addr, bits, ok := strings.Cut(id, "/"); ok {
		ip := net.ParseIP(addr)
		n, err := strconv.Atoi(bits)
		if ip == nil || err != nil || n < 0 {
			return false
		}
		max := 128
		if ip.To4() != nil {
			max = 32
		}
		return n <= max
	}
	return net.ParseIP(id) != nil
}

// fixupACL validates a create/setACL ACL list and expands the "auth" scheme
// into the session's authenticated identities, as PrepRequestProcessor does.
// Duplicates are removed. An empty list, an unknown scheme, a malformed id, or
// an "auth" entry on a session with no authenticated identity give
// ErrInvalidACL.
func fixupACL(acl []proto.ACL, ids []proto.Id) ([]proto.ACL, error) {
	uniq := make([]proto.ACL, 0, len(acl))
	for _, a := range acl {
		dup := false
		for _, x := range uniq {
			if x == a {
				dup = true
				break
			}
		}
		if !dup {
			uniq = append(uniq, a)
		}
	}
	if len(uniq) == 0 {
		return nil, proto.ErrInvalidACL
	}
	out := make([]proto.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch {
		case a.ID.Scheme == schemeWorld && a.ID.ID == "anyone":
			out = append(out, a)
		case a.ID.Scheme == schemeAuth:
			found := false
			for _, id := range ids {
				// Only identities of authenticating providers count: digest
				// yes; ip and super have no such provider.
				if id.Scheme == schemeDigest {
					out = append(out, proto.ACL{Perms: a.Perms, ID: id})
					found = true
				}
			}
			if !found {
				return nil, proto.ErrInvalidACL
			}
		case a.ID.Scheme == schemeDigest && validDigestID(a.ID.ID):
			out = append(out, a)
		case a.ID.Scheme == schemeIP && validIPACL(a.ID.ID):
			out = append(out, a)
		default:
			return nil, proto.ErrInvalidACL
		}
	}
	return out, nil
}

// validDigestID mirrors DigestAuthenticationProvider.isValid: exactly two
// ':'-separated parts, trailing empty parts dropped as Java's split does.
func validDigestID(id string) bool {
	parts := strings.Split(id, ":")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return len(parts) == 2
}
