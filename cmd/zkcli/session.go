package main

import (
	"context"
	"time"

	"github.com/zkgo/zkgo/client"
)

// session is every server call zkcli makes: one ZooKeeper session. Paths
// are as the user typed them (below any chroot). Errors carry the server's
// code (errors.Is(err, client.ErrNoNode)). Watch channels deliver one event
// (then close) for one-shot watches, every event for persistent ones;
// events with type EventNone (session ends) are ignored, since session
// states come from States.
type session interface {
	Create(ctx context.Context, path string, data []byte, mode client.CreateMode, ttl time.Duration, acl []client.ACL) (string, error)
	Get(ctx context.Context, path string, watch bool) ([]byte, *client.Stat, <-chan client.Event, error)
	// Exists returns a nil Stat and no error for a missing node.
	Exists(ctx context.Context, path string, watch bool) (*client.Stat, <-chan client.Event, error)
	Set(ctx context.Context, path string, data []byte, version int32) (*client.Stat, error)
	Delete(ctx context.Context, path string, version int32) error
	// DeleteAll deletes paths in one multi transaction, in the order given.
	DeleteAll(ctx context.Context, paths []string) error
	Children(ctx context.Context, path string, watch bool) ([]string, *client.Stat, <-chan client.Event, error)
	GetACL(ctx context.Context, path string) ([]client.ACL, *client.Stat, error)
	SetACL(ctx context.Context, path string, acl []client.ACL, version int32) (*client.Stat, error)
	Sync(ctx context.Context, path string) error
	GetEphemerals(ctx context.Context, prefix string) ([]string, error)
	GetAllChildrenNumber(ctx context.Context, path string) (int, error)
	WhoAmI(ctx context.Context) ([]client.ClientInfo, error)
	AddAuth(ctx context.Context, scheme string, auth []byte) error
	GetConfig(ctx context.Context, watch bool) ([]byte, *client.Stat, <-chan client.Event, error)
	Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, *client.Stat, error)
	AddWatch(ctx context.Context, path string, recursive bool) (<-chan client.Event, error)
	RemoveWatches(ctx context.Context, path string, t client.WatcherType) error
	// States delivers every connection state change, starting with
	// Connected, and is closed by Close.
	States() <-chan client.State
	// State is the current connection state.
	State() client.State
	// SessionID is the current session id (0 while there is none).
	SessionID() int64
	// Close ends the session; its ephemeral nodes go at once.
	Close() error
}

// dialer opens a session to the servers of a connect string
// ("host:port[,host:port][/chroot]").
type dialer func(ctx context.Context, server string, o dialOptions) (session, error)

// dialOptions are the connection settings of the command line.
type dialOptions struct {
	sessionTimeout time.Duration
	connectTimeout time.Duration
	readOnly       bool
}

// dialConn is the dialer of the real client. It fails at once, with the
// reason, on a malformed connect string (errBadAddress) and when every
// server refused the connection or does not exist (see failFast), and
// otherwise after o.connectTimeout.
func dialConn(ctx context.Context, server string, o dialOptions) (session, error) {
	addrs, err := serverAddrs(server)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ff := newFailFast(addrs, cancel)
	c, err := client.Connect(ctx, server,
		client.WithSessionTimeout(o.sessionTimeout),
		client.WithConnectTimeout(o.connectTimeout),
		client.WithReadOnly(o.readOnly),
		client.WithDialer(ff.dial),
		// zkCli never retries: a retried create could report NodeExists for
		// its own node.
		client.WithRetryPolicy(client.NoRetry()))
	if err != nil {
		if cause := ff.err(); cause != nil {
			return nil, cause
		}
		return nil, err
	}
	return &connSession{c: c}, nil
}

// connSession adapts *client.Conn to session.
type connSession struct {
	c *client.Conn
}

func (s *connSession) Create(ctx context.Context, path string, data []byte, mode client.CreateMode, ttl time.Duration, acl []client.ACL) (string, error) {
	opts := []client.CreateOption{client.WithMode(mode), client.WithACL(acl...)}
	if ttl != 0 {
		opts = append(opts, client.WithTTL(ttl))
	}
	return s.c.Create(ctx, path, data, opts...)
}

func (s *connSession) Get(ctx context.Context, path string, watch bool) ([]byte, *client.Stat, <-chan client.Event, error) {
	if watch {
		return s.c.GetW(ctx, path)
	}
	data, st, err := s.c.Get(ctx, path)
	return data, st, nil, err
}

func (s *connSession) Exists(ctx context.Context, path string, watch bool) (*client.Stat, <-chan client.Event, error) {
	if watch {
		return s.c.ExistsW(ctx, path)
	}
	st, err := s.c.Exists(ctx, path)
	return st, nil, err
}

func (s *connSession) Set(ctx context.Context, path string, data []byte, version int32) (*client.Stat, error) {
	return s.c.Set(ctx, path, data, version)
}

func (s *connSession) Delete(ctx context.Context, path string, version int32) error {
	return s.c.Delete(ctx, path, version)
}

func (s *connSession) DeleteAll(ctx context.Context, paths []string) error {
	txn := s.c.Txn()
	for _, p := range paths {
		txn.Delete(p, -1)
	}
	_, err := txn.Commit(ctx)
	return err
}

func (s *connSession) Children(ctx context.Context, path string, watch bool) ([]string, *client.Stat, <-chan client.Event, error) {
	if watch {
		return s.c.ChildrenW(ctx, path)
	}
	children, st, err := s.c.ChildrenStat(ctx, path)
	return children, st, nil, err
}

func (s *connSession) GetACL(ctx context.Context, path string) ([]client.ACL, *client.Stat, error) {
	return s.c.GetACL(ctx, path)
}

func (s *connSession) SetACL(ctx context.Context, path string, acl []client.ACL, version int32) (*client.Stat, error) {
	return s.c.SetACL(ctx, path, acl, version)
}

func (s *connSession) Sync(ctx context.Context, path string) error { return s.c.Sync(ctx, path) }

func (s *connSession) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	return s.c.GetEphemerals(ctx, prefix)
}

func (s *connSession) GetAllChildrenNumber(ctx context.Context, path string) (int, error) {
	return s.c.GetAllChildrenNumber(ctx, path)
}

func (s *connSession) WhoAmI(ctx context.Context) ([]client.ClientInfo, error) {
	return s.c.WhoAmI(ctx)
}

func (s *connSession) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	return s.c.AddAuth(ctx, scheme, auth)
}

func (s *connSession) GetConfig(ctx context.Context, watch bool) ([]byte, *client.Stat, <-chan client.Event, error) {
	if watch {
		return s.c.GetConfigW(ctx)
	}
	data, st, err := s.c.GetConfig(ctx)
	return data, st, nil, err
}

func (s *connSession) Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, *client.Stat, error) {
	return s.c.Reconfig(ctx, joining, leaving, members, fromConfig)
}

func (s *connSession) AddWatch(ctx context.Context, path string, recursive bool) (<-chan client.Event, error) {
	w, err := s.c.AddWatch(ctx, path, recursive)
	if err != nil {
		return nil, err
	}
	return w.C(), nil
}

func (s *connSession) RemoveWatches(ctx context.Context, path string, t client.WatcherType) error {
	return s.c.RemoveWatches(ctx, path, t)
}

func (s *connSession) States() <-chan client.State { return s.c.States() }
func (s *connSession) State() client.State         { return s.c.State() }
func (s *connSession) SessionID() int64            { return s.c.SessionID() }
func (s *connSession) Close() error                { return s.c.Close() }
