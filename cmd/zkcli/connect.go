package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// errBadAddress marks a connect string zkcli cannot use.
var errBadAddress = errors.New("bad address")

// defaultPort is the port of a server given without one, as in zkCli.sh.
const defaultPort = "2181"

// serverAddrs checks a connect string, "host[:port][,host[:port]...][/chroot]"
// (IPv6 hosts in brackets), and returns its servers as host:port. The
// client is lenient ("host:abc" would only fail when dialled, "[::1" is
// taken for "[::1]"); zkcli says at once what is wrong instead.
func serverAddrs(connect string) ([]string, error) {
	hosts, _, _ := strings.Cut(connect, "/")
	bad := func(entry, why string) error {
		return fmt.Errorf("%w %q: %s", errBadAddress, entry, why)
	}
	var addrs []string
	for _, entry := range strings.Split(hosts, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		host, port, err := net.SplitHostPort(entry)
		var ae *net.AddrError
		switch {
		case err == nil:
			if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 {
				return nil, bad(entry, fmt.Sprintf("port %q is not a number from 1 to 65535", port))
			}
		case errors.As(err, &ae) && ae.Err == "missing port in address":
			host, port = entry, defaultPort
			if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
				host = host[1 : len(host)-1]
			}
		case errors.As(err, &ae):
			return nil, bad(entry, ae.Err)
		default:
			return nil, bad(entry, err.Error())
		}
		if host == "" || strings.ContainsAny(host, "[]") {
			return nil, bad(entry, "no host name")
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	if len(addrs) == 0 {
		return nil, bad(connect, "no server")
	}
	return addrs, nil
}

// failFast is a dialer that ends the wait for a first session (by
// cancelling its context with the dial error as the cause) once every
// server has failed in a way waiting would not change: the connection
// was refused, the host does not exist or cannot be routed to. Time-outs
// are left to the connect timeout. After the first session, cancel is a
// no-op and failFast only dials.
type failFast struct {
	servers []string // distinct servers, in connect string order
	cancel  context.CancelCauseFunc

	mu     sync.Mutex
	failed map[string]error // guarded by mu: the definite failure of each server
	cause  error            // guarded by mu: set once every server has failed
}

func newFailFast(addrs []string, cancel context.CancelCauseFunc) *failFast {
	var distinct []string
	for _, a := range addrs {
		if !slices.Contains(distinct, a) {
			distinct = append(distinct, a)
		}
	}
	return &failFast{servers: distinct, cancel: cancel, failed: make(map[string]error)}
}

func (f *failFast) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err == nil || !definite(err) {
		return nc, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed[addr] = err
	if f.cause != nil {
		return nil, err
	}
	var all serverErrors
	for _, s := range f.servers {
		if f.failed[s] == nil {
			return nil, err // a server still to try, or to wait for
		}
		all = append(all, f.failed[s])
	}
	f.cause = all
	if len(all) == 1 {
		f.cause = all[0]
	}
	f.cancel(f.cause)
	return nil, err
}

// serverErrors are the dial errors of several servers.
type serverErrors []error

func (e serverErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e serverErrors) Unwrap() []error { return e }

// err returns the dial error that ended the wait, or nil.
func (f *failFast) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cause
}

// definite reports whether a dial error would recur at once if retried.
func definite(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsNotFound
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}
