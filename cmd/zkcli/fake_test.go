package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
)

// fakeServer is an in-memory znode tree for unit tests, with ZooKeeper's
// stat bookkeeping; its sessions' watches fire synchronously, so every
// event of a change is ready when the change returns. One mutex guards the
// server and all its sessions.
type fakeServer struct {
	mu       sync.Mutex
	nodes    map[string]*fakeNode
	zxid     int64
	now      int64 // ms, advanced by 1000 per write
	nextID   int64
	sessions []*fakeSession
	dials    int
	refuse   bool // dials fail
}

// fakeSession is one session of a fakeServer.
type fakeSession struct {
	*fakeServer
	id      int64
	watches []*fakeWatch
	states  chan client.State
	closed  bool
	auths   []client.ClientInfo
}

type fakeNode struct {
	data []byte
	stat client.Stat
	acl  []client.ACL
}

type fakeWatch struct {
	kind watchKind
	path string
	ch   chan client.Event
}

func newFakeServer() *fakeServer {
	f := &fakeServer{
		nodes:  map[string]*fakeNode{},
		now:    1795305600000, // Sun Nov 22 2026 00:00:00 UTC
		nextID: 0x100000abcdef,
	}
	f.nodes["/"] = &fakeNode{acl: client.OpenACL()}
	f.nodes["/zookeeper"] = &fakeNode{acl: client.OpenACL()}
	f.nodes["/"].stat.NumChildren = 1
	return f
}

// dial is a dialer opening a new session, or failing if refuse is set.
func (f *fakeServer) dial(ctx context.Context, server string, o dialOptions) (session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	if f.refuse {
		return nil, errors.New("connection refused")
	}
	s := &fakeSession{
		fakeServer: f,
		id:         f.nextID,
		states:     make(chan client.State, 16),
		auths:      []client.ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}},
	}
	f.nextID++
	s.states <- client.Connected
	f.sessions = append(f.sessions, s)
	return s, nil
}

func parent(p string) string { return parentOf(p) }

func (f *fakeSession) node(path string) (*fakeNode, error) {
	if f.closed {
		return nil, client.ErrClosed
	}
	n := f.nodes[path]
	if n == nil {
		return nil, proto.ErrNoNode
	}
	return n, nil
}

// fire delivers an event to the watches of every session it triggers
// (one-shot ones are then removed).
func (f *fakeServer) fire(typ client.EventType, path string) {
	e := client.Event{Type: typ, State: client.KeeperSyncConnected, Path: path}
	for _, s := range f.sessions {
		var keep []*fakeWatch
		for _, w := range s.watches {
			src := watchSource{kind: w.kind, path: w.path}
			if !src.matches(typ, path) {
				keep = append(keep, w)
				continue
			}
			w.ch <- e
			if src.oneShot() {
				close(w.ch)
			} else {
				keep = append(keep, w)
			}
		}
		s.watches = keep
	}
}

func (f *fakeSession) watch(kind watchKind, path string) <-chan client.Event {
	size := 1
	if kind == watchPersistent || kind == watchRecursive {
		size = 64
	}
	w := &fakeWatch{kind: kind, path: path, ch: make(chan client.Event, size)}
	f.watches = append(f.watches, w)
	return w.ch
}

func (f *fakeServer) tick() (int64, int64) {
	f.zxid++
	f.now += 1000
	return f.zxid, f.now
}

func (f *fakeSession) Create(ctx context.Context, path string, data []byte, mode client.CreateMode, ttl time.Duration, acl []client.ACL) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	par, err := f.node(parent(path))
	if err != nil {
		return "", err
	}
	if par.stat.EphemeralOwner != 0 {
		return "", proto.ErrNoChildrenForEphemerals
	}
	if mode.IsSequential() {
		path += fmt.Sprintf("%010d", par.stat.Cversion)
	}
	if f.nodes[path] != nil {
		return "", proto.ErrNodeExists
	}
	zxid, now := f.tick()
	n := &fakeNode{data: data, acl: acl}
	n.stat = client.Stat{Czxid: zxid, Mzxid: zxid, Pzxid: zxid, Ctime: now, Mtime: now, DataLength: int32(len(data))}
	if mode.IsEphemeral() {
		n.stat.EphemeralOwner = f.id
	}
	f.nodes[path] = n
	par.stat.Cversion++
	par.stat.NumChildren++
	par.stat.Pzxid = zxid
	f.fire(client.EventNodeCreated, path)
	f.fire(client.EventNodeChildrenChanged, parent(path))
	return path, nil
}

func (f *fakeSession) Get(ctx context.Context, path string, watch bool) ([]byte, *client.Stat, <-chan client.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var ch <-chan client.Event
	if watch {
		ch = f.watch(watchData, path)
	}
	st := n.stat
	return n.data, &st, ch, nil
}

func (f *fakeSession) Exists(ctx context.Context, path string, watch bool) (*client.Stat, <-chan client.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, nil, client.ErrClosed
	}
	var ch <-chan client.Event
	if watch {
		ch = f.watch(watchData, path)
	}
	n := f.nodes[path]
	if n == nil {
		return nil, ch, nil
	}
	st := n.stat
	return &st, ch, nil
}

func (f *fakeSession) Set(ctx context.Context, path string, data []byte, version int32) (*client.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(path)
	if err != nil {
		return nil, err
	}
	if version != -1 && version != n.stat.Version {
		return nil, proto.ErrBadVersion
	}
	zxid, now := f.tick()
	n.data = data
	n.stat.Mzxid, n.stat.Mtime, n.stat.DataLength = zxid, now, int32(len(data))
	n.stat.Version++
	f.fire(client.EventNodeDataChanged, path)
	st := n.stat
	return &st, nil
}

func (f *fakeServer) children(path string) []string {
	var out []string
	for p := range f.nodes {
		if p != "/" && parent(p) == path {
			out = append(out, p[strings.LastIndexByte(p, '/')+1:])
		}
	}
	slices.Sort(out)
	return out
}

func (f *fakeSession) Delete(ctx context.Context, path string, version int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleteLocked(path, version)
}

func (f *fakeSession) deleteLocked(path string, version int32) error {
	n, err := f.node(path)
	if err != nil {
		return err
	}
	if version != -1 && version != n.stat.Version {
		return proto.ErrBadVersion
	}
	if len(f.children(path)) > 0 {
		return proto.ErrNotEmpty
	}
	zxid, _ := f.tick()
	delete(f.nodes, path)
	par := f.nodes[parent(path)]
	par.stat.Cversion++
	par.stat.NumChildren--
	par.stat.Pzxid = zxid
	f.fire(client.EventNodeDeleted, path)
	f.fire(client.EventNodeChildrenChanged, parent(path))
	return nil
}

func (f *fakeSession) DeleteAll(ctx context.Context, paths []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range paths {
		if err := f.deleteLocked(p, -1); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSession) Children(ctx context.Context, path string, watch bool) ([]string, *client.Stat, <-chan client.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var ch <-chan client.Event
	if watch {
		ch = f.watch(watchChild, path)
	}
	// Server order is not sorted: reverse it so that callers must sort.
	c := f.children(path)
	slices.Reverse(c)
	st := n.stat
	return c, &st, ch, nil
}

func (f *fakeSession) GetACL(ctx context.Context, path string) ([]client.ACL, *client.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(path)
	if err != nil {
		return nil, nil, err
	}
	st := n.stat
	return n.acl, &st, nil
}

func (f *fakeSession) SetACL(ctx context.Context, path string, acl []client.ACL, version int32) (*client.Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.node(path)
	if err != nil {
		return nil, err
	}
	if version != -1 && version != n.stat.Aversion {
		return nil, proto.ErrBadVersion
	}
	n.acl = acl
	n.stat.Aversion++
	st := n.stat
	return &st, nil
}

func (f *fakeSession) Sync(ctx context.Context, path string) error { return nil }

func (f *fakeSession) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p, n := range f.nodes {
		if n.stat.EphemeralOwner == f.id && strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeSession) GetAllChildrenNumber(ctx context.Context, path string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.node(path); err != nil {
		return 0, err
	}
	n := 0
	for p := range f.nodes {
		if p != path && isUnder(p, path) {
			n++
		}
	}
	return n, nil
}

func (f *fakeSession) WhoAmI(ctx context.Context) ([]client.ClientInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auths), nil
}

func (f *fakeSession) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if scheme != "digest" {
		return proto.ErrAuthFailed
	}
	user, _, _ := strings.Cut(string(auth), ":")
	f.auths = append(f.auths, client.ClientInfo{AuthScheme: scheme, User: user})
	return nil
}

func (f *fakeSession) GetConfig(ctx context.Context, watch bool) ([]byte, *client.Stat, <-chan client.Event, error) {
	return []byte("server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000000"),
		&client.Stat{Aversion: -1}, nil, nil
}

func (f *fakeSession) Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, *client.Stat, error) {
	return nil, nil, proto.ErrReconfigDisabled
}

func (f *fakeSession) AddWatch(ctx context.Context, path string, recursive bool) (<-chan client.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kind := watchPersistent
	if recursive {
		kind = watchRecursive
	}
	return f.watch(kind, path), nil
}

func (f *fakeSession) RemoveWatches(ctx context.Context, path string, t client.WatcherType) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keep []*fakeWatch
	found := false
	for _, w := range f.watches {
		var typ client.EventType
		switch {
		case w.path != path:
		case w.kind == watchData && t != client.WatcherChildren:
			typ = client.EventDataWatchRemoved
		case w.kind == watchChild && t != client.WatcherData:
			typ = client.EventChildWatchRemoved
		case (w.kind == watchPersistent || w.kind == watchRecursive) && t == client.WatcherAny:
			typ = client.EventPersistentWatchRemoved
		}
		if typ == 0 {
			keep = append(keep, w)
			continue
		}
		found = true
		w.ch <- client.Event{Type: typ, State: client.KeeperSyncConnected, Path: path}
		close(w.ch)
	}
	f.watches = keep
	if !found {
		return proto.ErrNoWatcher
	}
	return nil
}

func (f *fakeSession) States() <-chan client.State { return f.states }

func (f *fakeSession) State() client.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return client.Lost
	}
	return client.Connected
}

func (f *fakeSession) SessionID() int64 { return f.id }

func (f *fakeSession) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	var eph []string
	for p, n := range f.nodes {
		if n.stat.EphemeralOwner == f.id {
			eph = append(eph, p)
		}
	}
	slices.Sort(eph)
	for _, p := range eph {
		f.deleteLocked(p, -1)
	}
	f.closed = true
	for _, w := range f.watches {
		w.ch <- client.Event{Type: client.EventNone, State: client.KeeperClosed, Err: client.ErrClosed}
		close(w.ch)
	}
	f.watches = nil
	close(f.states)
	return nil
}
