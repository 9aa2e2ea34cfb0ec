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

// serverPath validates a client path and maps it under chroot and namespace.
func (c *Conn) serverPath(path string, sequential bool) (string, error) {
	if err := validatePath(path, sequential); err != nil {
		return "", err
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
		_, err := c.call(ctx, newRequest(proto.OpCreate,
			&proto.CreateRequest{Path: sp, ACL: OpenACL(), Flags: Persistent}, &proto.CreateResponse{}))
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
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, nil, nil, opError("getData", path, err)
	}
	return c.getData(ctx, "getData", path, sp, watch)
}

func (c *Conn) getData(ctx context.Context, op, path, sp string, watch bool) ([]byte, *Stat, <-chan Event, error) {
	var resp proto.GetDataResponse
	var ch chan Event
	err := c.do(ctx, op, path, func(int) error {
		resp = proto.GetDataResponse{}
		r := newRequest(proto.OpGetData, &proto.GetDataRequest{Path: sp, Watch: watch}, &resp)
		if watch {
			ch = make(chan Event, 1)
			r.onReply = func(code proto.Code) {
				if code == proto.OK {
					c.watches.addOneShot(watchData, sp, ch)
				}
			}
		}
		_, err := c.call(ctx, r)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	st := resp.Stat
	if ch == nil {
		return resp.Data, &st, nil, nil
	}
	return resp.Data, &st, ch, nil
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
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, nil, opError("exists", path, err)
	}
	var resp proto.ExistsResponse
	var ch chan Event
	var found bool
	err = c.do(ctx, "exists", path, func(int) error {
		resp = proto.ExistsResponse{}
		r := newRequest(proto.OpExists, &proto.ExistsRequest{Path: sp, Watch: watch}, &resp)
		if watch {
			ch = make(chan Event, 1)
			r.onReply = func(code proto.Code) {
				switch code {
				case proto.OK:
					c.watches.addOneShot(watchData, sp, ch)
				case proto.ErrNoNode:
					c.watches.addOneShot(watchExist, sp, ch)
				}
			}
		}
		_, err := c.call(ctx, r)
		found = err == nil
		if errors.Is(err, ErrNoNode) {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var st *Stat
	if found {
		s := resp.Stat
		st = &s
	}
	if ch == nil {
		return st, nil, nil
	}
	return st, ch, nil
}

// Set replaces the data of the node at path if its version is version (-1
// matches any) and returns the new Stat.
func (c *Conn) Set(ctx context.Context, path string, data []byte, version int32) (*Stat, error) {
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, opError("setData", path, err)
	}
	var resp proto.SetDataResponse
	err = c.do(ctx, "setData", path, func(int) error {
		_, err := c.call(ctx, newRequest(proto.OpSetData,
			&proto.SetDataRequest{Path: sp, Data: data, Version: version}, &resp))
		return err
	})
	if err != nil {
		return nil, err
	}
	st := resp.Stat
	return &st, nil
}

// Children returns the names of the children of the node at path, in the
// server's order (not sorted).
func (c *Conn) Children(ctx context.Context, path string) ([]string, error) {
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, opError("getChildren", path, err)
	}
	var resp proto.GetChildrenResponse
	err = c.do(ctx, "getChildren", path, func(int) error {
		resp = proto.GetChildrenResponse{}
		_, err := c.call(ctx, newRequest(proto.OpGetChildren, &proto.GetChildrenRequest{Path: sp}, &resp))
		return err
	})
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
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, nil, nil, opError("getChildren2", path, err)
	}
	var resp proto.GetChildren2Response
	var ch chan Event
	err = c.do(ctx, "getChildren2", path, func(int) error {
		resp = proto.GetChildren2Response{}
		r := newRequest(proto.OpGetChildren2, &proto.GetChildren2Request{Path: sp, Watch: watch}, &resp)
		if watch {
			ch = make(chan Event, 1)
			r.onReply = func(code proto.Code) {
				if code == proto.OK {
					c.watches.addOneShot(watchChild, sp, ch)
				}
			}
		}
		_, err := c.call(ctx, r)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	st := resp.Stat
	if ch == nil {
		return resp.Children, &st, nil, nil
	}
	return resp.Children, &st, ch, nil
}

// GetACL returns the ACL of the node at path and its Stat.
func (c *Conn) GetACL(ctx context.Context, path string) ([]ACL, *Stat, error) {
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, nil, opError("getACL", path, err)
	}
	var resp proto.GetACLResponse
	err = c.do(ctx, "getACL", path, func(int) error {
		resp = proto.GetACLResponse{}
		_, err := c.call(ctx, newRequest(proto.OpGetACL, &proto.GetACLRequest{Path: sp}, &resp))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	st := resp.Stat
	return resp.ACL, &st, nil
}

// SetACL replaces the ACL of the node at path if its ACL version (aversion)
// is version (-1 matches any) and returns the new Stat.
func (c *Conn) SetACL(ctx context.Context, path string, acl []ACL, version int32) (*Stat, error) {
	sp, err := c.serverPath(path, false)
	if err != nil {
		return nil, opError("setACL", path, err)
	}
	var resp proto.SetACLResponse
	err = c.do(ctx, "setACL", path, func(int) error {
		_, err := c.call(ctx, newRequest(proto.OpSetACL,
			&proto.SetACLRequest{Path: sp, ACL: acl, Version: version}, &resp))
		return err
	})
	if err != nil {
		return nil, err
	}
	st := resp.Stat
	return &st, nil
}

// Sync waits until the server this Conn is connected to has applied every
// write the leader had committed when the request arrived, so that reads
// issued after it see them.
func (c *Conn) Sync(ctx context.Context, path string) error {
	sp, err := c.serverPath(path, false)
	if err != nil {
		return opError("sync", path, err)
	}
	return c.do(ctx, "sync", path, func(int) error {
		_, err := c.call(ctx, newRequest(proto.OpSync, &proto.SyncRequest{Path: sp}, &proto.SyncResponse{}))
		return err
	})
}

// GetEphemerals returns the paths of the session's ephemeral nodes whose
// path starts with prefix ("/" for all), within the chroot and namespace.
func (c *Conn) GetEphemerals(ctx context.Context, prefix string) ([]string, error) {
	sp, err := c.serverPath(prefix, false)
	if err != nil {
		return nil, opError("getEphemerals", prefix, err)
	}
	var resp proto.GetEphemeralsResponse
	err = c.do(ctx, "getEphemerals", prefix, func(int) error {
		resp = proto.GetEphemeralsResponse{}
		_, err := c.call(ctx, newRequest(proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: sp}, &resp))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(resp.Ephemerals))
	for _, p := range resp.Ephemerals {
		// The server matches a string prefix: drop nodes outside the chroot.
		if underPrefix(c.prefix, p) {
			out = append(out, c.clientPath(p))
		}
	}
	return out, nil
}

// GetAllChildrenNumber returns the number of descendants of the node at path
// (not counting the node itself).
func (c *Conn) GetAllChildrenNumber(ctx context.Context, path string) (int, error) {
	sp, err := c.serverPath(path, false)
	if err != nil {
		return 0, opError("getAllChildrenNumber", path, err)
	}
	var resp proto.GetAllChildrenNumberResponse
	err = c.do(ctx, "getAllChildrenNumber", path, func(int) error {
		_, err := c.call(ctx, newRequest(proto.OpGetAllChildrenNumber,
			&proto.GetAllChildrenNumberRequest{Path: sp}, &resp))
		return err
	})
	return int(resp.TotalNumber), err
}

// WhoAmI returns the identities the server associates with the session
// (Apache ZooKeeper 3.7+).
func (c *Conn) WhoAmI(ctx context.Context) ([]ClientInfo, error) {
	var resp proto.WhoAmIResponse
	err := c.do(ctx, "whoAmI", "", func(int) error {
		resp = proto.WhoAmIResponse{}
		_, err := c.call(ctx, newRequest(proto.OpWhoAmI, nil, &resp))
		return err
	})
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
		_, err := c.call(ctx, newRequest(proto.OpAuth, &proto.AuthPacket{Scheme: a.scheme, Auth: a.auth}, nil))
		return err
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
	var resp proto.GetDataResponse
	req := &reconfigRequest{joining: joining, leaving: leaving, members: members, fromConfig: fromConfig}
	err := c.do(ctx, "reconfig", "", func(int) error {
		resp = proto.GetDataResponse{}
		_, err := c.call(ctx, newRequest(proto.OpReconfig, req, &resp))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	st := resp.Stat
	return resp.Data, &st, nil
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
	sp, err := c.serverPath(path, false)
	if err != nil {
		return opError("delete", path, err)
	}
	return c.do(ctx, "delete", path, func(int) error {
		_, err := c.call(ctx, newRequest(proto.OpDelete, &proto.DeleteRequest{Path: sp, Version: version}, nil))
		return err
	})
}
