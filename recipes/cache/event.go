package cache

import (
	"errors"
	"fmt"
	"slices"

	"github.com/zkgo/zkgo/client"
)

// Errors of this package.
var (
	// ErrClosed is returned by Start after Close, and by a second Close.
	ErrClosed = errors.New("cache: closed")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("cache: already started")
)

// EventType says what an Event reports.
type EventType int

// Event types. The node events carry the node; the others carry no path.
const (
	// NodeCreated: a node entered the cache (Curator's NODE_CREATED,
	// NODE_ADDED, CHILD_ADDED). The initial population is reported as
	// NodeCreated events, before Initialized.
	NodeCreated EventType = iota + 1
	// NodeChanged: a cached node's data changed (its mzxid moved; NODE_CHANGED,
	// NODE_UPDATED, CHILD_UPDATED).
	NodeChanged
	// NodeDeleted: a node left the cache (NODE_DELETED, NODE_REMOVED,
	// CHILD_REMOVED).
	NodeDeleted
	// Initialized: the initial population has been delivered (once per
	// cache, after its NodeCreated events).
	Initialized
	// ConnectionSuspended: the connection was lost; the cache keeps its
	// view but may miss changes until ConnectionReconnected.
	ConnectionSuspended
	// ConnectionReconnected: connected again; the differences between the
	// cached view and the server follow as node events.
	ConnectionReconnected
	// ConnectionLost: the session is gone; the view is kept and, once a new
	// session is established, ConnectionReconnected and the differences follow.
	ConnectionLost
)

// String returns the type's name, e.g. "NODE_CREATED".
func (t EventType) String() string {
	switch t {
	case NodeCreated:
		return "NODE_CREATED"
	case NodeChanged:
		return "NODE_CHANGED"
	case NodeDeleted:
		return "NODE_DELETED"
	case Initialized:
		return "INITIALIZED"
	case ConnectionSuspended:
		return "CONNECTION_SUSPENDED"
	case ConnectionReconnected:
		return "CONNECTION_RECONNECTED"
	case ConnectionLost:
		return "CONNECTION_LOST"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Node is a cached znode: its path, data and Stat (Curator's ChildData).
type Node struct {
	Path string
	Data []byte
	Stat client.Stat
}

// clone returns n with its own copy of the data, so that callers may keep
// or change what they are given.
func (n *Node) clone() *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Data = slices.Clone(n.Data)
	return &c
}

// Event is one change of a cache's view or of its connection.
type Event struct {
	Type EventType
	// Path is the node's path for node events, "" otherwise.
	Path string
	// Node is the node after the change (NodeCreated, NodeChanged); nil
	// for NodeDeleted and the other types.
	Node *Node
	// Old is the node before the change (NodeChanged, NodeDeleted); nil
	// otherwise.
	Old *Node
}

// String formats e as "TYPE path", for logs.
func (e Event) String() string {
	if e.Path == "" {
		return e.Type.String()
	}
	return e.Type.String() + " " + e.Path
}

// Option configures a cache. Options that do not apply to a cache type are
// ignored by it.
type Option func(*config)

type config struct {
	maxDepth   int
	oneShot    bool
	maxPending int
	onError    func(error)
}

// defaultMaxPending bounds the notifications a CuratorCache keeps pending.
const defaultMaxPending = 10000

// WithMaxDepth limits a TreeCache to the nodes at most depth levels below
// its root (0: the root alone). The default is no limit.
func WithMaxDepth(depth int) Option {
	return func(c *config) { c.maxDepth = max(depth, 0) }
}

// WithoutPersistentWatch makes a CuratorCache use one-shot watches, as it
// does on servers without persistent watches (before Apache ZooKeeper 3.6).
func WithoutPersistentWatch() Option {
	return func(c *config) { c.oneShot = true }
}

// WithMaxPending bounds the paths a CuratorCache on a persistent watch keeps
// waiting to be read while its listeners are busy (default 10000). Past the
// bound it forgets them and reads the whole tree again instead, so a slow
// listener costs time, never unbounded memory.
func WithMaxPending(n int) Option {
	return func(c *config) { c.maxPending = max(n, 1) }
}

// WithErrorHandler sets a function called, on the cache's goroutine, with
// each error the cache meets while reading (it retries by itself). By
// default errors are dropped.
func WithErrorHandler(fn func(error)) Option {
	return func(c *config) { c.onError = fn }
}
