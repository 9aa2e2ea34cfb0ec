package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zkgo/zkgo/proto"
)

// configPath is the node holding the ensemble configuration. It is read
// without chroot or namespace, as the Java client's getConfig does.
const configPath = "/zookeeper/config"

// serverPath validates a client path and maps it under chroot and namespace;
// a malformed path fails as op's error.
func (c *Conn) serverPath(op, path string) (string, error) {
	if err := validatePath(path, false); err != nil {
		return "", opError(op, path, err)
	}
	return joinPrefix(c.prefix, path), nil
}

// clientPath maps a server path back to the caller's view.
func (c *Conn) clientPath(sp string) string { return stripPrefix(c.prefix, sp) }

// do runs an operation under the retry policy, after making sure the
// namespace exists, and wraps its error with the op name and path.
func (c *Conn) do(ctx context.Context, op, path string, fn func(attempt int) error) error {
	err := retryLoop(ctx, c.cfg.retry, c.clk, func(attempt int) error {
		if err := c.ensureNamespace(ctx); err != nil {
			return err
		}
		return fn(attempt)
	})
	return opError(op, path, err)
}

// send sends one request and waits for its reply (see call), decoded into
// resp unless resp is nil; onReply, if not nil, runs as the reply arrives
// (see request.onReply).
func (c *Conn) send(ctx context.Context, code proto.OpCode, req, resp proto.Record, onReply func(proto.Code)) error {
	r := newRequest(code, req, resp)
	r.onReply = onReply
	_, err := c.call(ctx, r)
	return err
}

// exchange sends a request of type code under the retry policy, as op on
// path (see do), and returns the reply, decoded into a fresh R for every
// attempt; onReply is send's.
func exchange[R any, P interface {
	*R
	proto.Record
}](ctx context.Context, c *Conn, op, path string, code proto.OpCode, req proto.Record,
	onReply func(proto.Code)) (R, error) {
	var resp R
	err := c.do(ctx, op, path, func(int) error {
		resp = *new(R)
		return c.send(ctx, code, req, P(&resp), onReply)
	})
	return resp, err
}

// noWatch stands for no watch kind in oneShotWatch.
const noWatch = -1

// oneShotWatch returns, if watch, the channel of a one-shot watch on the
// server path sp and the onReply that registers it once the server has set
// it: as kind after an OK reply, and as missingKind (unless noWatch) after
// ErrNoNode, since exists watches a missing node too. One channel serves
// every attempt of a retried operation: only a reply that ends the retry
// loop can register it.
func (c *Conn) oneShotWatch(watch bool, sp string, kind, missingKind int) (chan Event, func(proto.Code)) {
	if !watch {
		return nil, nil
	}
	ch := make(chan Event, 1)
	return ch, func(code proto.Code) {
		switch {
		case code == proto.OK:
			c.watches.addOneShot(kind, sp, ch)
		case code == proto.ErrNoNode && missingKind != noWatch:
			c.watches.addOneShot(missingKind, sp, ch)
		}
	}
}

// ensureNamespace creates the namespace node and its parents (below the
// chroot) once, before the first operation that needs them.
func (c *Conn) ensureNamespace(ctx context.Context) error {
	if c.ns == "" || c.nsReady.Load() {
		return nil
	}
	select {
	case c.nsLock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.nsLock }()
	if c.nsReady.Load() {
		return nil
	}
	p := ""
	for _, seg := range strings.Split(c.ns[1:], "/") {
		p += "/" + seg
		sp := c.chroot + p
		err := c.send(ctx, proto.OpCreate, &proto.CreateRequest{Path: sp, ACL: OpenACL(), Flags: Persistent},
			&proto.CreateResponse{}, nil)
		if err != nil && !errors.Is(err, ErrNodeExists) {
			return fmt.Errorf("create namespace node %s: %w", p, err)
		}
	}
	c.nsReady.Store(true)
	return nil
}

// Get returns the data and Stat of the node at path. Data stored as null
// (for example by Create with nil data) is returned as nil.
func (c *Conn) Get(ctx context.Context, path string) ([]byte, *Stat, error) {
	data, st, _, err := c.get(ctx, path, false)
	return data, st, err
}

// GetW is Get plus a one-shot watch: the channel receives the next
// NodeDataChanged or NodeDeleted of the node, then is closed. If the session
// ends first, it receives an EventNone event with Err set instead. Watches
// survive reconnects: changes made while disconnected are reported once the
// session is resumed.
func (c *Conn) GetW(ctx context.Context, path string) ([]byte, *Stat, <-chan Event, error) {
	return c.get(ctx, path, true)
}

func (c *Conn) get(ctx context.Context, path string, watch bool) ([]byte, *Stat, <-chan Event, error) {
	sp, err := c.serverPath("getData", path)
	if err != nil {
		return nil, nil, nil, err
	}
	return c.getData(ctx, "getData", path, sp, watch)
}

func (c *Conn) getData(ctx context.Context, op, path, sp string, watch bool) ([]byte, *Stat, <-chan Event, error) {
	ch, onReply := c.oneShotWatch(watch, sp, watchData, noWatch)
	resp, err := exchange[proto.GetDataResponse](ctx, c, op, path, proto.OpGetData,
		&proto.GetDataRequest{Path: sp, Watch: watch}, onReply)
	if err != nil {
		return nil, nil, nil, err
	}
	return resp.Data, &resp.Stat, ch, nil
}

// Exists returns the Stat of the node at path, or nil (and no error) if there
// is no such node.
func (c *Conn) Exists(ctx context.Context, path string) (*Stat, error) {
	st, _, err := c.exists(ctx, path, false)
	return st, err
}

// ExistsW is Exists plus a one-shot watch, set whether or not the node
// exists: the channel receives the next NodeCreated, NodeDataChanged or
// NodeDeleted of the node, then is closed (see GetW for session ends).
func (c *Conn) ExistsW(ctx context.Context, path string) (*Stat, <-chan Event, error) {
	return c.exists(ctx, path, true)
}

func (c *Conn) exists(ctx context.Context, path string, watch bool) (*Stat, <-chan Event, error) {
	sp, err := c.serverPath("exists", path)
	if err != nil {
		return nil, nil, err
	}
	ch, onReply := c.oneShotWatch(watch, sp, watchData, watchExist)
	var resp proto.ExistsResponse
	var found bool
	err = c.do(ctx, "exists", path, func(int) error {
		resp = proto.ExistsResponse{}
		err := c.send(ctx, proto.OpExists, &proto.ExistsRequest{Path: sp, Watch: watch}, &resp, onReply)
		found = err == nil
		if errors.Is(err, ErrNoNode) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, ch, nil
	}
	return &resp.Stat, ch, nil
}

// Set replaces the data of the node at path if its version is version (-1
// matches any) and returns the new Stat.
func (c *Conn) Set(ctx context.Context, path string, data []byte, version int32) (*Stat, error) {
	sp, err := c.serverPath("setData", path)
	if err != nil {
		return nil, err
	}
	resp, err := exchange[proto.SetDataResponse](ctx, c, "setData", path, proto.OpSetData,
		&proto.SetDataRequest{Path: sp, Data: data, Version: version}, nil)
	if err != nil {
		return nil, err
	}
	return &resp.Stat, nil
}

// Children returns the names of the children of the node at path, in the
// server's order (not sorted).
func (c *Conn) Children(ctx context.Context, path string) ([]string, error) {
	sp, err := c.serverPath("getChildren", path)
	if err != nil {
		return nil, err
	}
	resp, err := exchange[proto.GetChildrenResponse](ctx, c, "getChildren", path, proto.OpGetChildren,
		&proto.GetChildrenRequest{Path: sp}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Children, nil
}

// ChildrenStat returns the children of the node at path and its Stat.
func (c *Conn) ChildrenStat(ctx context.Context, path string) ([]string, *Stat, error) {
	children, st, _, err := c.children2(ctx, path, false)
	return children, st, err
}

// ChildrenW is ChildrenStat plus a one-shot watch: the channel receives the
// next NodeChildrenChanged or NodeDeleted of the node, then is closed (see
// GetW for session ends).
func (c *Conn) ChildrenW(ctx context.Context, path string) ([]string, *Stat, <-chan Event, error) {
	return c.children2(ctx, path, true)
}

func (c *Conn) children2(ctx context.Context, path string, watch bool) ([]string, *Stat, <-chan Event, error) {
	sp, err := c.serverPath("getChildren2", path)
	if err != nil {
		return nil, nil, nil, err
	}
	ch, onReply := c.oneShotWatch(watch, sp, watchChild, noWatch)
	resp, err := exchange[proto.GetChildren2Response](ctx, c, "getChildren2", path, proto.OpGetChildren2,
		&proto.GetChildren2Request{Path: sp, Watch: watch}, onReply)
	if err != nil {
		return nil, nil, nil, err
	}
	return resp.Children, &resp.Stat, ch, nil
}

// GetACL returns the ACL of the node at path and its Stat.
func (c *Conn) GetACL(ctx context.Context, path string) ([]ACL, *Stat, error) {
	sp, err := c.serverPath("getACL", path)
	if err != nil {
		return nil, nil, err
	}
	resp, err := exchange[proto.GetACLResponse](ctx, c, "getACL", path, proto.OpGetACL,
		&proto.GetACLRequest{Path: sp}, nil)
	if err != nil {
		return nil, nil, err
	}
	return resp.ACL, &resp.Stat, nil
}

// SetACL replaces the ACL of the node at path if its ACL version (aversion)
// is version (-1 matches any) and returns the new Stat.
func (c *Conn) SetACL(ctx context.Context, path string, acl []ACL, version int32) (*Stat, error) {
	sp, err := c.serverPath("setACL", path)
	if err != nil {
		return nil, err
	}
	resp, err := exchange[proto.SetACLResponse](ctx, c, "setACL", path, proto.OpSetACL,
		&proto.SetACLRequest{Path: sp, ACL: acl, Version: version}, nil)
	if err != nil {
		return nil, err
	}
	return &resp.Stat, nil
}

// Sync waits until the server this Conn is connected to has applied every
// write the leader had committed when the request arrived, so that reads
// issued after it see them.
func (c *Conn) Sync(ctx context.Context, path string) error {
	sp, err := c.serverPath("sync", path)
	if err != nil {
		return err
	}
	_, err = exchange[proto.SyncResponse](ctx, c, "sync", path, proto.OpSync, &proto.SyncRequest{Path: sp}, nil)
	return err
}

// GetEphemerals returns the paths of the session's ephemeral nodes whose
// path starts with prefix ("/" for all; a string prefix, so "/a" matches
// "/ab"). Like the Java client's getEphemerals, and unlike every other
// method, it ignores the chroot and the namespace: prefix and the returned
// paths are the server's full paths (under a chroot "/app", the node
// created as "/e" is returned as "/app/e", and prefix "/e" matches nothing).
func (c *Conn) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	if err := validatePath(prefix, false); err != nil {
		return nil, opError("getEphemerals", prefix, err)
	}
	resp, err := exchange[proto.GetEphemeralsResponse](ctx, c, "getEphemerals", prefix, proto.OpGetEphemerals,
		&proto.GetEphemeralsRequest{PrefixPath: prefix}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Ephemerals, nil
}

// GetAllChildrenNumber returns the number of descendants of the node at path
// (not counting the node itself).
func (c *Conn) GetAllChildrenNumber(ctx context.Context, path string) (int, error) {
	sp, err := c.serverPath("getAllChildrenNumber", path)
	if err != nil {
		return 0, err
	}
	resp, err := exchange[proto.GetAllChildrenNumberResponse](ctx, c, "getAllChildrenNumber", path,
		proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: sp}, nil)
	return int(resp.TotalNumber), err
}

// WhoAmI returns the identities the server associates with the session
// (Apache ZooKeeper 3.7+).
func (c *Conn) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	resp, err := exchange[proto.WhoAmIResponse](ctx, c, "whoAmI", "", proto.OpWhoAmI, nil, nil)
	return resp.ClientInfo, err
}

// AddAuth adds credentials to the session (for example scheme "digest", auth
// "user:password") and remembers them for later connections. The server
// answers bad credentials by closing the connection; the Conn then fails
// with ErrAuthFailed, as the Java client does.
func (c *Conn) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	a := authInfo{scheme: scheme, auth: append([]byte(nil), auth...)}
	c.mu.Lock()
	c.auths = append(c.auths, a)
	c.mu.Unlock()
	err := retryLoop(ctx, c.cfg.retry, c.clk, func(int) error {
		return c.send(ctx, proto.OpAuth, &proto.AuthPacket{Scheme: a.scheme, Auth: a.auth}, nil, nil)
	})
	return opError("auth", "", err)
}

// GetConfig returns the ensemble configuration (the data of
// /zookeeper/config, read outside any chroot or namespace) and its Stat.
func (c *Conn) GetConfig(ctx context.Context) ([]byte, *Stat, error) {
	data, st, _, err := c.getData(ctx, "getConfig", configPath, configPath, false)
	return data, st, err
}

// GetConfigW is GetConfig plus a one-shot watch on the configuration.
// Event paths are "/zookeeper/config" whatever the chroot.
func (c *Conn) GetConfigW(ctx context.Context) ([]byte, *Stat, <-chan Event, error) {
	return c.getData(ctx, "getConfig", configPath, configPath, true)
}

// Reconfig changes the ensemble membership and returns the new
// configuration. Give joining and/or leaving ("server.N=host:p1:p2;cport"
// entries, comma-separated, and server ids) for an incremental change, or
// members for a complete new membership; empty strings are sent as absent.
// fromConfig is the expected current config version, -1 for any. Servers
// answer ErrReconfigDisabled unless reconfigEnabled=true, and require an
// authorized (for example super) identity.
func (c *Conn) Reconfig(ctx context.Context, joining, leaving, members string, fromConfig int64) ([]byte, *Stat, error) {
	req := &reconfigRequest{joining: joining, leaving: leaving, members: members, fromConfig: fromConfig}
	resp, err := exchange[proto.GetDataResponse](ctx, c, "reconfig", "", proto.OpReconfig, req, nil)
	if err != nil {
		return nil, nil, err
	}
	return resp.Data, &resp.Stat, nil
}

// reconfigRequest encodes ReconfigRequest with empty strings as null
// (length -1): the server tells incremental from complete changes by which
// fields are null, and proto.ReconfigRequest always writes strings.
type reconfigRequest struct {
	joining, leaving, members string
	fromConfig                int64
}

func (r *reconfigRequest) Encode(e *proto.Encoder) {
	for _, s := range []string{r.joining, r.leaving, r.members} {
		if s == "" {
			e.Int(-1)
		} else {
			e.String(s)
		}
	}
	e.Long(r.fromConfig)
}

func (r *reconfigRequest) Decode(d *proto.Decoder) error {
	r.joining, r.leaving, r.members = d.String(), d.String(), d.String()
	r.fromConfig = d.Long()
	return d.Err()
}

// Delete deletes the node at path if its version is version (-1 matches
// any). It fails with ErrNotEmpty if the node has children.
func (c *Conn) Delete(ctx context.Context, path string, version int32) error {
	sp, err := c.serverPath("delete", path)
	if err != nil {
		return err
	}
	return c.do(ctx, "delete", path, func(int) error {
		return c.send(ctx, proto.OpDelete, &proto.DeleteRequest{Path: sp, Version: version}, nil, nil)
	})
}
