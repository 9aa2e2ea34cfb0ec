package server

import (
	"strings"

	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/server/tree"
)

// execRead executes a read (or a local, non-replicated request) of c.
// db.mu (read or write) and c.mu are held. Reads see every write applied so
// far, which includes every earlier write of the same session.
func (s *Server) execRead(c *conn, cl *call) {
	cl.res.zxid = s.db.zxid
	if cl.op == proto.OpAuth || cl.op == proto.OpSASL {
		// Apache ZooKeeper answers authentication packets in
		// ZooKeeperServer.processPacket/processSasl with zxid 0.
		cl.res.zxid = 0
	}
	if cl.preErr != proto.OK {
		cl.res.err = cl.preErr
		if cl.preErr == proto.ErrUnimplemented {
			cl.res.zxid = -1 // as Apache ZooKeeper answers unknown ops
		}
		return
	}
	cl.res.resp, cl.res.err = s.read(c, cl.op, cl.req)
}

func (s *Server) read(c *conn, op proto.OpCode, req proto.Record) (proto.Record, proto.Code) {
	t := s.db.tree
	switch r := req.(type) {
	case nil:
		switch op {
		case proto.OpWhoAmI:
			return whoAmI(c.ids()), proto.OK
		}
		return nil, proto.OK // ping, auth
	case *proto.ExistsRequest:
		// FinalRequestProcessor refuses a NUL in an exists path, before it
		// sets the watch; the other reads just miss.
		if strings.IndexByte(r.Path, 0) >= 0 {
			return nil, proto.ErrBadArguments
		}
		if r.Watch {
			s.watches.add(watchData, r.Path, c)
		}
		n, ok := lookup(t, r.Path)
		if !ok {
			return nil, proto.ErrNoNode
		}
		return &proto.ExistsResponse{Stat: n.Stat()}, proto.OK
	case *proto.GetDataRequest:
		n, code := s.readable(c, t, r.Path, proto.PermRead)
		if code != proto.OK {
			return nil, code
		}
		if r.Watch {
			s.watches.add(watchData, r.Path, c)
		}
		return &proto.GetDataResponse{Data: n.Data(), Stat: n.Stat()}, proto.OK
	case *proto.GetChildrenRequest:
		children, _, code := s.children(c, t, r.Path, r.Watch)
		if code != proto.OK {
			return nil, code
		}
		return &proto.GetChildrenResponse{Children: children}, proto.OK
	case *proto.GetChildren2Request:
		children, stat, code := s.children(c, t, r.Path, r.Watch)
		if code != proto.OK {
			return nil, code
		}
		return &proto.GetChildren2Response{Children: children, Stat: stat}, proto.OK
	case *proto.GetACLRequest:
		n, code := s.readable(c, t, r.Path, proto.PermRead|proto.PermAdmin)
		if code != proto.OK {
			return nil, code
		}
		acl := n.ACL()
		if checkACL(acl, proto.PermAdmin, c.ids()) != nil {
			// Without ADMIN, digest passwords are masked.
			masked := make([]proto.ACL, len(acl))
			for i, a := range acl {
				if a.ID.Scheme == schemeDigest {
					if user, _, ok := strings.Cut(a.ID.ID, ":"); ok {
						a.ID.ID = user + ":x"
					}
				}
				masked[i] = a
			}
			acl = masked
		}
		return &proto.GetACLResponse{ACL: acl, Stat: n.Stat()}, proto.OK
	case *proto.SyncRequest:
		return &proto.SyncResponse{Path: r.Path}, proto.OK
	case *proto.GetAllChildrenNumberRequest:
		if _, code := s.readable(c, t, r.Path, proto.PermRead); code != proto.OK {
			return nil, code
		}
		return &proto.GetAllChildrenNumberResponse{TotalNumber: int32(t.AllChildrenNumber(r.Path))}, proto.OK
	case *proto.GetEphemeralsRequest:
		// In the order of Apache ZooKeeper's copy of the session's set of
		// ephemeral paths, which it lists as it iterates.
		all := ephemeralOrder(t, c.sessionID)
		prefix := strings.TrimSpace(r.PrefixPath)
		out := make([]string, 0, len(all))
		for _, p := range all {
			if prefix == "" || prefix == "/" || strings.HasPrefix(p, r.PrefixPath) {
				out = append(out, p)
			}
		}
		return &proto.GetEphemeralsResponse{Ephemerals: out}, proto.OK
	case *proto.AddWatchRequest:
		switch r.Mode {
		case proto.AddWatchPersistent:
			s.watches.add(watchPersistent, r.Path, c)
		case proto.AddWatchPersistentRecursive:
			s.watches.add(watchRecursive, r.Path, c)
		default:
			// Apache ZooKeeper's WatcherMode.fromZooDef throws an unchecked
			// exception, which FinalRequestProcessor answers with
			// MarshallingError.
			return nil, proto.ErrMarshallingError
		}
		return &proto.ErrorResponse{Err: proto.OK}, proto.OK
	case *proto.CheckWatchesRequest:
		if !knownWatcherType(r.Type) {
			return nil, proto.ErrMarshallingError
		}
		if !s.hasWatch(c, r.Path, r.Type) {
			return nil, proto.ErrNoWatcher
		}
		return nil, proto.OK
	case *proto.RemoveWatchesRequest:
		if !knownWatcherType(r.Type) {
			return nil, proto.ErrMarshallingError
		}
		if !s.removeWatch(c, r.Path, r.Type) {
			return nil, proto.ErrNoWatcher
		}
		return nil, proto.OK
	case *proto.SetWatches:
		s.setWatches(c, r.RelativeZxid, r.DataWatches, r.ExistWatches, r.ChildWatches, nil, nil)
		return nil, proto.OK
	case *proto.SetWatches2:
		s.setWatches(c, r.RelativeZxid, r.DataWatches, r.ExistWatches, r.ChildWatches, r.PersistentWatches, r.PersistentRecursiveWatches)
		return nil, proto.OK
	case *proto.MultiRequest:
		return s.multiRead(c, t, r), proto.OK
	}
	return nil, proto.ErrUnimplemented
}

// lookup finds a node; paths that cannot name a node simply miss, as in
// Apache ZooKeeper, whose reads do not validate paths. "" names the root:
// Apache's DataTree keeps the root under both "" and "/".
func lookup(t *tree.Tree, path string) (*tree.Node, bool) {
	if path != "" && (path[0] != '/' || strings.IndexByte(path, 0) >= 0) {
		return nil, false
	}
	return t.Get(path)
}

// readable looks a node up and checks perm on it: NoNode, then NoAuth.
func (s *Server) readable(c *conn, t *tree.Tree, path string, perm int32) (*tree.Node, proto.Code) {
	n, ok := lookup(t, path)
	if !ok {
		return nil, proto.ErrNoNode
	}
	if err := checkACL(n.ACL(), perm, c.ids()); err != nil {
		return nil, proto.ErrNoAuth
	}
	return n, proto.OK
}

func (s *Server) children(c *conn, t *tree.Tree, path string, watch bool) ([]string, proto.Stat, proto.Code) {
	n, code := s.readable(c, t, path, proto.PermRead)
	if code != proto.OK {
		return nil, proto.Stat{}, code
	}
	children, err := t.Children(path)
	if err != nil {
		return nil, proto.Stat{}, proto.AsCode(err)
	}
	if watch {
		s.watches.add(watchChild, path, c)
	}
	if children == nil {
		children = []string{}
	}
	return children, n.Stat(), proto.OK
}

func (s *Server) multiRead(c *conn, t *tree.Tree, m *proto.MultiRequest) *proto.MultiResponse {
	resp := &proto.MultiResponse{Results: make([]proto.MultiResult, len(m.Ops))}
	for i, op := range m.Ops {
		// The watch flag of a multiRead op is ignored: Apache ZooKeeper
		// rebuilds each op without it (Op.getData, Op.getChildren).
		req := op.Req
		switch r := req.(type) {
		case *proto.GetDataRequest:
			req = &proto.GetDataRequest{Path: r.Path}
		case *proto.GetChildrenRequest:
			req = &proto.GetChildrenRequest{Path: r.Path}
		}
		rec, code := s.read(c, op.Type, req)
		if code != proto.OK {
			resp.Results[i] = proto.MultiResult{Type: proto.OpError, Err: code}
			continue
		}
		switch r := rec.(type) {
		case *proto.GetDataResponse:
			resp.Results[i] = proto.MultiResult{Type: proto.OpGetData, Resp: r}
		case *proto.GetChildrenResponse:
			resp.Results[i] = proto.MultiResult{Type: proto.OpGetChildren, Resp: r}
		}
	}
	return resp
}

func whoAmI(ids []proto.Id) *proto.WhoAmIResponse {
	out := &proto.WhoAmIResponse{ClientInfo: make([]proto.ClientInfo, 0, len(ids))}
	for _, id := range ids {
		user := id.ID
		if id.Scheme == schemeDigest {
			// DigestAuthenticationProvider.getUserName: the part before ':'.
			user, _, _ = strings.Cut(user, ":")
		}
		out.ClientInfo = append(out.ClientInfo, proto.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return out
}

// watchKinds maps a checkWatches/removeWatches type to the watch tables it
// names; nil for a type Apache ZooKeeper's WatcherType.fromInt rejects
// (answered with MarshallingError).
func watchKinds(typ proto.WatcherType) []watchKind {
	switch typ {
	case proto.WatcherChildren:
		return []watchKind{watchChild}
	case proto.WatcherData:
		return []watchKind{watchData}
	case proto.WatcherPersistent:
		return []watchKind{watchPersistent}
	case proto.WatcherPersistentRecursive:
		return []watchKind{watchRecursive}
	case proto.WatcherAny:
		return []watchKind{watchData, watchChild, watchPersistent, watchRecursive}
	}
	return nil
}

// knownWatcherType reports whether typ names a watcher type.
func knownWatcherType(typ proto.WatcherType) bool { return watchKinds(typ) != nil }

// hasWatch reports whether c holds any watch of the kinds typ names on path.
func (s *Server) hasWatch(c *conn, path string, typ proto.WatcherType) bool {
	for _, k := range watchKinds(typ) {
		if s.watches.has(k, path, c) {
			return true
		}
	}
	return false
}

// removeWatch removes every watch of the kinds typ names that c holds on
// path, and reports whether there was one.
func (s *Server) removeWatch(c *conn, path string, typ proto.WatcherType) bool {
	removed := false
	for _, k := range watchKinds(typ) {
		if s.watches.remove(k, path, c) {
			removed = true
		}
	}
	return removed
}

// setWatches re-registers a reconnecting client's watches, firing at once
// those whose trigger it missed since relativeZxid (DataTree.setWatches).
func (s *Server) setWatches(c *conn, rel int64, data, exist, child, persistent, recursive []string) {
	t := s.db.tree
	send := func(typ proto.EventType, path string) {
		c.out = proto.AppendNotification(c.out, notificationZxid, proto.WatcherEvent{Type: typ, State: proto.StateSyncConnected, Path: path})
		c.sent++
	}
	for _, p := range data {
		n, ok := lookup(t, p)
		switch {
		case !ok:
			send(proto.EventNodeDeleted, p)
		case n.Stat().Mzxid > rel:
			send(proto.EventNodeDataChanged, p)
		default:
			s.watches.add(watchData, p, c)
		}
	}
	for _, p := range exist {
		if _, ok := lookup(t, p); ok {
			send(proto.EventNodeCreated, p)
		} else {
			s.watches.add(watchData, p, c)
		}
	}
	for _, p := range child {
		n, ok := lookup(t, p)
		switch {
		case !ok:
			send(proto.EventNodeDeleted, p)
		case n.Stat().Pzxid > rel:
			send(proto.EventNodeChildrenChanged, p)
		default:
			s.watches.add(watchChild, p, c)
		}
	}
	for _, p := range persistent {
		s.watches.add(watchPersistent, p, c)
	}
	for _, p := range recursive {
		s.watches.add(watchRecursive, p, c)
	}
}
