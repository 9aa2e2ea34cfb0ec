package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// CreateOption configures Create, CreateStat and Txn.Create.
type CreateOption func(*createOptions)

type createOptions struct {
	mode       CreateMode
	ttl        time.Duration
	acl        []ACL
	parents    bool
	containers bool
	protected  bool
}

// WithMode sets the kind of node (default Persistent).
func WithMode(m CreateMode) CreateOption { return func(o *createOptions) { o.mode = m } }

// WithTTL sets the time to live of a PersistentTTL or PersistentSequentialTTL
// node: the server deletes it once it has had no children and no change for
// that long. The server must run with zookeeper.extendedTypesEnabled=true.
func WithTTL(d time.Duration) CreateOption { return func(o *createOptions) { o.ttl = d } }

// WithACL sets the node's ACL (default OpenACL()).
func WithACL(acl ...ACL) CreateOption {
	// Keep an explicitly empty list non-nil: the server rejects it
	// (ErrInvalidACL) rather than it meaning "default".
	return func(o *createOptions) { o.acl = append([]ACL{}, acl...) }
}

// WithParents creates missing parent nodes first, as persistent nodes with
// OpenACL (Curator's creatingParentsIfNeeded). Not allowed in a Txn.
func WithParents() CreateOption { return func(o *createOptions) { o.parents = true } }

// WithParentsAsContainers is WithParents with the parents created as
// Container nodes, which the server deletes once they become empty
// (Curator's creatingParentContainersIfNeeded).
func WithParentsAsContainers() CreateOption {
	return func(o *createOptions) { o.parents, o.containers = true, true }
}

// WithProtection makes the create safe to retry after a connection loss, as
// Curator's withProtection: the node's name gets the prefix "_c_<uuid>-"
// (after its parent path), and before retrying, the client looks for a child
// of the parent carrying that prefix, which means the earlier attempt
// succeeded. Use it with sequential modes, whose names cannot be known in
// advance. If the create finally fails after a connection loss (or its
// context ends while waiting for the reply), a node such an attempt may have
// created is searched for and deleted in the background, as Curator does.
// Not allowed in a Txn.
func WithProtection() CreateOption { return func(o *createOptions) { o.protected = true } }

func buildCreateOptions(opts []CreateOption) (createOptions, error) {
	o := createOptions{mode: Persistent}
	for _, f := range opts {
		f(&o)
	}
	if !o.mode.Valid() {
		return o, fmt.Errorf("%w: create mode %d", ErrBadArguments, o.mode)
	}
	if o.mode.IsTTL() {
		if o.ttl < time.Millisecond || o.ttl.Milliseconds() > maxTTL {
			return o, fmt.Errorf("%w: TTL %v out of range (1ms to %dms)", ErrBadArguments, o.ttl, maxTTL)
		}
	} else if o.ttl != 0 {
		return o, fmt.Errorf("%w: TTL given for mode %d, which is not a TTL mode", ErrBadArguments, o.mode)
	}
	if o.acl == nil {
		o.acl = OpenACL()
	}
	return o, nil
}

// maxTTL is the largest TTL Apache ZooKeeper accepts (EphemeralType.MAX_TTL).
const maxTTL = 0xFFFFFFFFFF

// createRequest builds the wire request for a create. stat selects create2
// when the mode does not already imply it.
func createRequest(sp string, data []byte, o createOptions, stat bool) (proto.OpCode, proto.Record, proto.Record) {
	switch {
	case o.mode.IsTTL():
		return proto.OpCreateTTL, &proto.CreateTTLRequest{Path: sp, Data: data, ACL: o.acl, Flags: o.mode,
			TTL: o.ttl.Milliseconds()}, &proto.Create2Response{}
	case o.mode.IsContainer():
		return proto.OpCreateContainer, &proto.CreateRequest{Path: sp, Data: data, ACL: o.acl, Flags: o.mode},
			&proto.Create2Response{}
	case stat:
		return proto.OpCreate2, &proto.CreateRequest{Path: sp, Data: data, ACL: o.acl, Flags: o.mode},
			&proto.Create2Response{}
	}
	return proto.OpCreate, &proto.CreateRequest{Path: sp, Data: data, ACL: o.acl, Flags: o.mode},
		&proto.CreateResponse{}
}

// Create creates a node at path with data and returns its actual path (with
// the sequence suffix for sequential modes). Options select the mode, TTL,
// ACL, creation of parents and Curator-style protection.
func (c *Conn) Create(ctx context.Context, path string, data []byte, opts ...CreateOption) (string, error) {
	p, _, err := c.create(ctx, path, data, false, opts, nil)
	return p, err
}

// CreateStat is Create that also returns the new node's Stat (op create2).
func (c *Conn) CreateStat(ctx context.Context, path string, data []byte, opts ...CreateOption) (string, *Stat, error) {
	return c.create(ctx, path, data, true, opts, nil)
}

// CreateAndChildren is CreateStat followed by Children of the new node's
// parent, pipelined: the listing is sent right behind the create, without
// waiting for its reply, so the pair costs one round trip instead of two.
// The server applies a session's requests in order, so the list includes
// the new node (this is what lock and election recipes do on every
// acquisition: create a sequential node, then see who is ahead of it).
// children is nil, with a nil error, if the node was created but the
// pipelined listing failed (for example the connection was lost between the
// two replies, or the create was retried): call Children then.
func (c *Conn) CreateAndChildren(ctx context.Context, path string, data []byte, opts ...CreateOption) (created string, stat *Stat, children []string, err error) {
	created, stat, err = c.create(ctx, path, data, true, opts, &children)
	return created, stat, children, err
}

// create is Create; with list not nil, every attempt pipelines a listing
// of the parent behind the create and stores it there if both succeed.
func (c *Conn) create(ctx context.Context, path string, data []byte, wantStat bool, opts []CreateOption, list *[]string) (string, *Stat, error) {
	o, err := buildCreateOptions(opts)
	if err != nil {
		return "", nil, opError("create", path, err)
	}
	if err := validatePath(path, o.mode.IsSequential()); err != nil {
		return "", nil, opError("create", path, err)
	}
	if path == "/" && !o.mode.IsSequential() {
		return "", nil, opError("create", path, ErrNodeExists)
	}
	target := path
	var protPrefix string
	if o.protected {
		protPrefix = "_c_" + newUUID() + "-"
		target = joinPath(parentPath(path), protPrefix+baseName(path))
	}
	sp := joinPrefix(c.prefix, target)
	if target == "/" {
		// A sequential child of the chroot/namespace root: "/prefix/" + suffix.
		sp = c.prefix + "/"
	}
	var (
		created string
		stat    *Stat
		lost    bool // an attempt ended with the connection lost
	)
	err = c.do(ctx, "create", path, func(attempt int) error {
		if o.protected && lost {
			// The lost attempt may have succeeded: look for its node.
			p, st, err := c.findProtected(ctx, parentPath(sp), protPrefix)
			if err != nil && !errors.Is(err, ErrNoNode) {
				return err
			}
			if p != "" {
				created, stat = p, st
				return nil
			}
		}
		p, st, err := c.createOnce(ctx, sp, data, o, wantStat, list)
		if IsRetryable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// The request may have been applied without the reply arriving.
			lost = true
		}
		if err != nil {
			return err
		}
		created, stat = p, st
		return nil
	})
	if err != nil {
		if o.protected && lost {
			c.deleter.addProtected(parentPath(sp), protPrefix)
		}
		return "", nil, err
	}
	return c.clientPath(created), stat, nil
}

// createOnce sends one create, first creating missing parents if asked,
// and with list not nil a listing of the parent right behind it.
func (c *Conn) createOnce(ctx context.Context, sp string, data []byte, o createOptions, wantStat bool, list *[]string) (string, *Stat, error) {
	for tries := 0; ; tries++ {
		op, req, resp := createRequest(sp, data, o, wantStat)
		var err error
		if list == nil {
			err = c.send(ctx, op, req, resp, nil)
		} else {
			var kids proto.GetChildrenResponse
			errs := c.pipeline(ctx, false, newRequest(op, req, resp),
				newRequest(proto.OpGetChildren, &proto.GetChildrenRequest{Path: parentPath(sp)}, &kids))
			err = errs[0]
			if err == nil && errs[1] == nil {
				*list = kids.Children
			}
		}
		if err == nil {
			switch r := resp.(type) {
			case *proto.Create2Response:
				st := r.Stat
				return r.Path, &st, nil
			case *proto.CreateResponse:
				return r.Path, nil, nil
			}
		}
		// A parent is missing: create the chain, then try again. A few
		// rounds cover parents deleted concurrently (containers).
		if !errors.Is(err, ErrNoNode) || !o.parents || tries >= 3 {
			return "", nil, err
		}
		if err := c.createParents(ctx, parentPath(sp), o.containers); err != nil {
			return "", nil, err
		}
	}
}

// createParents creates every missing node of the server path sp below the
// chroot (which, as in Apache ZooKeeper, must exist), with empty (not null)
// data, as Curator's ZKPaths.mkdirs does.
func (c *Conn) createParents(ctx context.Context, sp string, containers bool) error {
	if sp == "/" || sp == c.chroot {
		return nil
	}
	rel := strings.TrimPrefix(sp, c.chroot)
	mode := Persistent
	if containers {
		mode = Container
	}
	p := c.chroot
	for _, seg := range strings.Split(rel[1:], "/") {
		p += "/" + seg
		o := createOptions{mode: mode, acl: OpenACL()}
		op, req, resp := createRequest(p, []byte{}, o, false)
		err := c.send(ctx, op, req, resp, nil)
		if err != nil && !errors.Is(err, ErrNodeExists) {
			return fmt.Errorf("create parent %s: %w", c.clientPath(p), err)
		}
	}
	return nil
}

// findProtected looks among the children of the server path parent for the
// node named with prefix, returning its server path and Stat ("" if none).
func (c *Conn) findProtected(ctx context.Context, parent, prefix string) (string, *Stat, error) {
	var resp proto.GetChildrenResponse
	if err := c.send(ctx, proto.OpGetChildren, &proto.GetChildrenRequest{Path: parent}, &resp, nil); err != nil {
		return "", nil, err
	}
	for _, name := range resp.Children {
		if strings.HasPrefix(name, prefix) {
			p := joinPath(parent, name)
			var er proto.ExistsResponse
			if err := c.send(ctx, proto.OpExists, &proto.ExistsRequest{Path: p}, &er, nil); err != nil {
				return "", nil, err
			}
			st := er.Stat
			return p, &st, nil
		}
	}
	return "", nil, nil
}

// newUUID returns a random (version 4) UUID in its text form, as
// java.util.UUID.randomUUID prints it.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
