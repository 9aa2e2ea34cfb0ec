package client

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// Defaults for the connection options. They follow Apache Curator's
// CuratorFrameworkFactory defaults.
const (
	DefaultSessionTimeout = 60 * time.Second
	DefaultConnectTimeout = 15 * time.Second
)

// DefaultRetryPolicy is the policy used when WithRetryPolicy is not given:
// exponential backoff from 100ms, at most 3 retries, sleeps capped at 2s.
func DefaultRetryPolicy() RetryPolicy {
	return ExponentialBackoff(100*time.Millisecond, 3, 2*time.Second)
}

// Option configures Connect.
type Option func(*config)

// DialFunc opens a network connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

type authInfo struct {
	scheme string
	auth   []byte
}

type config struct {
	sessionTimeout time.Duration
	connectTimeout time.Duration
	auths          []authInfo
	readOnly       bool
	logger         *slog.Logger
	namespace      string
	retry          RetryPolicy
	maxBuffer      int
	dial           DialFunc
}

func defaultConfig() config {
	var d net.Dialer
	return config{
		sessionTimeout: DefaultSessionTimeout,
		connectTimeout: DefaultConnectTimeout,
		logger:         slog.New(slog.DiscardHandler),
		retry:          DefaultRetryPolicy(),
		maxBuffer:      proto.DefaultMaxBuffer,
		dial:           d.DialContext,
	}
}

// WithSessionTimeout sets the requested session timeout. The server clamps
// it to its [minSessionTimeout, maxSessionTimeout] range (by default 2 to 20
// ticks); SessionTimeout reports the negotiated value.
func WithSessionTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.sessionTimeout = d
		}
	}
}

// WithConnectTimeout bounds how long Connect waits for the first session and
// how long an operation waits for a connection before it fails with
// ErrConnectionLoss (and the retry policy decides what happens next), as
// Curator's connectionTimeoutMs does.
func WithConnectTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.connectTimeout = d
		}
	}
}

// WithAuth adds credentials (for example scheme "digest", auth
// "user:password") sent after every handshake, before any operation. May be
// given several times.
func WithAuth(scheme string, auth []byte) Option {
	return func(c *config) {
		c.auths = append(c.auths, authInfo{scheme: scheme, auth: append([]byte(nil), auth...)})
	}
}

// WithReadOnly allows connecting to a server in read-only mode (one cut off
// from its quorum, with readonlymode.enabled). Such a connection is reported
// as state ReadOnly and writes on it fail with ErrNotReadOnly. Meanwhile, as
// the Java client does, the Conn asks the servers of the connect string in
// turn whether they are read-write ("isro"), at intervals growing from
// 100ms to a minute, and moves to the first that is: Suspended, then
// Connected (Reconnected if it was connected read-write before). A session
// only read-only servers have seen is local to its server, so the move
// starts a new session (see SessionID); its watches are carried over, and
// no Lost is reported, since such a session could not write.
func WithReadOnly(ok bool) Option {
	return func(c *config) { c.readOnly = ok }
}

// WithLogger sets the logger for connection events. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithNamespace makes every path relative to /ns (below any chroot of the
// connect string), like Curator's namespace. The namespace node and its
// parents are created as persistent nodes before the first operation that
// needs them. A namespace may contain slashes ("app/prod"); leading and
// trailing slashes are ignored.
func WithNamespace(ns string) Option {
	return func(c *config) { c.namespace = ns }
}

// WithRetryPolicy sets the policy applied around every operation (see
// RetryPolicy for which errors are retried). Use NoRetry to disable retries.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) {
		if p != nil {
			c.retry = p
		}
	}
}

// WithMaxBufferSize sets the largest frame the client sends or accepts, the
// equivalent of jute.maxbuffer (default proto.DefaultMaxBuffer, 1 MB - 1).
// It must not exceed the server's limit for requests to get through.
func WithMaxBufferSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBuffer = n
		}
	}
}

// WithDialer replaces the function used to open connections to servers,
// for example to add TLS or go through a proxy.
func WithDialer(d DialFunc) Option {
	return func(c *config) {
		if d != nil {
			c.dial = d
		}
	}
}
