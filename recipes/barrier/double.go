package barrier

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/internal/curator"
)

// readyNode is the name of the node that releases the members in Enter
// (Curator's READY_NODE).
const readyNode = "ready"

// DoubleBarrier is a double barrier at a path, Curator's
// DistributedDoubleBarrier: Enter waits until the threshold of members have
// entered, Leave until every member has left. The DoubleBarrier value is
// one member, with one node name for its whole life (so it can enter again
// after leaving).
type DoubleBarrier struct {
	c       *client.Conn
	path    string
	members int
	node    string // PATH/<uuid>
	ready   string // PATH/ready
	data    []byte

	// sem serializes Enter and Leave without blocking a cancelled caller:
	// send to take it, receive to give it back.
	sem     chan struct{}
	entered bool  // guarded by sem: Enter succeeded and Leave has not run
	session int64 // guarded by sem: the session that created node, 0 if none
}

// NewDoubleBarrier returns a member of the double barrier at path for a
// threshold of members (Curator's DistributedDoubleBarrier(client,
// barrierPath, memberQty)). More members than that may enter: the
// threshold is when Enter lets them through, not a limit. Nothing is sent
// until Enter.
func NewDoubleBarrier(c *client.Conn, path string, members int, opts ...Option) *DoubleBarrier {
	return &DoubleBarrier{
		c:       c,
		path:    path,
		members: members,
		node:    path + "/" + curator.NewUUID(),
		ready:   path + "/" + readyNode,
		data:    buildOptions(opts).data,
		sem:     make(chan struct{}, 1),
	}
}

// Node returns the path of the member's node, PATH/<uuid>, which exists
// from Enter to Leave.
func (d *DoubleBarrier) Node() string { return d.node }

func (d *DoubleBarrier) take(ctx context.Context) error {
	select {
	case d.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("barrier %s: %w", d.path, ctx.Err())
	}
}

func (d *DoubleBarrier) give() { <-d.sem }

// Enter creates the member's node and waits until the threshold of members
// have entered (or had entered, for a member arriving late), or ctx ends.
// If it fails, the member's node is deleted. Enter on a member that has
// entered and not left returns nil at once.
func (d *DoubleBarrier) Enter(ctx context.Context) error {
	if d.members <= 0 {
		return fmt.Errorf("barrier %s: member threshold %d: %w", d.path, d.members, client.ErrBadArguments)
	}
	if err := d.take(ctx); err != nil {
		return err
	}
	defer d.give()
	if d.entered {
		return nil
	}
	if err := d.enter(ctx); err != nil {
		d.deleteNode(ctx)
		return fmt.Errorf("barrier %s: enter: %w", d.path, err)
	}
	d.entered = true
	return nil
}

func (d *DoubleBarrier) enter(ctx context.Context) error {
	for expiries := 0; ; {
		err := d.enterStep(ctx)
		if errors.Is(err, errWait) {
			continue
		}
		if sessionRetry(ctx, err, &expiries) {
			continue
		}
		return err
	}
}

// errWait asks enter to look again after a watch fired.
var errWait = errors.New("wait again")

// enterStep makes one pass of Enter: nil when through, errWait after
// waiting for the ready node.
func (d *DoubleBarrier) enterStep(ctx context.Context) error {
	// Watch the ready node before counting, so that a member that counts
	// enough after our count cannot release us unseen.
	st, readyCh, err := d.c.ExistsW(ctx, d.ready)
	if err != nil {
		return err
	}
	if err := d.ensureNode(ctx); err != nil {
		return err
	}
	if st != nil {
		return nil
	}
	children, err := d.c.Children(ctx, d.path)
	if err != nil {
		return err
	}
	if countMembers(children) >= d.members {
		_, err := d.c.Create(ctx, d.ready, d.data)
		if err != nil && !errors.Is(err, client.ErrNodeExists) {
			return err
		}
		return nil
	}
	if err := waitEvent(ctx, readyCh); err != nil {
		return err
	}
	return errWait
}

// ensureNode creates the member's node unless this session created it
// already. After a session loss the node is gone and is created again.
func (d *DoubleBarrier) ensureNode(ctx context.Context) error {
	sid := d.c.SessionID()
	if d.session != 0 && d.session == sid {
		return nil
	}
	_, err := d.c.Create(ctx, d.node, d.data, client.WithMode(client.Ephemeral), client.WithParentsAsContainers())
	if errors.Is(err, client.ErrNodeExists) {
		// A create retried after a connection loss may have been
		// applied: the node is ours if our session owns it.
		st, serr := d.c.Exists(ctx, d.node)
		if serr != nil {
			return serr
		}
		if st == nil || st.EphemeralOwner != d.c.SessionID() {
			return fmt.Errorf("member node %s: %w (owned by another session)", d.node, err)
		}
		err = nil
	}
	if err != nil {
		return err
	}
	d.session = sid
	return nil
}

// deleteNode removes the member's node after a failed Enter, with a
// deadline of its own when ctx has ended.
func (d *DoubleBarrier) deleteNode(ctx context.Context) {
	if d.session == 0 {
		return
	}
	d.session = 0
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.c.SessionTimeout())
	defer cancel()
	d.c.DeleteGuaranteed(dctx, d.node, -1)
}

// countMembers counts the member nodes among a barrier's children.
func countMembers(children []string) int {
	n := 0
	for _, c := range children {
		if c != readyNode {
			n++
		}
	}
	return n
}

// Leave deletes the member's node and waits until every member node is
// gone, or ctx ends; then it deletes the ready node. It fails with
// ErrNotEntered if the member has not entered, and with ErrMemberLost if
// its node vanished before it deleted it. Whatever the outcome, the member
// counts as having left: call Enter to take part again.
func (d *DoubleBarrier) Leave(ctx context.Context) error {
	if err := d.take(ctx); err != nil {
		return err
	}
	defer d.give()
	if !d.entered {
		return fmt.Errorf("barrier %s: leave: %w", d.path, ErrNotEntered)
	}
	d.entered = false
	err := d.leave(ctx)
	if err != nil {
		d.deleteNode(ctx)
		return fmt.Errorf("barrier %s: leave: %w", d.path, err)
	}
	d.session = 0
	err = d.c.Delete(ctx, d.ready, -1)
	if err != nil && !errors.Is(err, client.ErrNoNode) {
		return fmt.Errorf("barrier %s: leave: %w", d.path, err)
	}
	return nil
}

// leave is the ZooKeeper recipe's leave loop, on the member nodes sorted by
// name: the lowest waits for the highest to go and deletes itself last; the
// others delete themselves and wait for the lowest to go.
func (d *DoubleBarrier) leave(ctx context.Context) error {
	ours := d.node[len(d.path)+1:]
	mine := true // our node should exist: we have not deleted it
	for expiries := 0; ; {
		children, err := d.c.Children(ctx, d.path)
		if sessionRetry(ctx, err, &expiries) {
			continue
		}
		if err != nil && !errors.Is(err, client.ErrNoNode) {
			return err
		}
		children = slices.DeleteFunc(children, func(s string) bool { return s == readyNode })
		if len(children) == 0 {
			return nil
		}
		slices.Sort(children)
		i := slices.Index(children, ours)
		if i < 0 && mine {
			return ErrMemberLost
		}
		if len(children) == 1 && i == 0 {
			return d.deleteOwn(ctx)
		}
		var watch string
		if i == 0 {
			watch = children[len(children)-1]
		} else {
			watch = children[0]
			if mine {
				if err := d.deleteOwn(ctx); err != nil {
					return err
				}
				mine = false
			}
		}
		st, changed, err := d.c.ExistsW(ctx, d.path+"/"+watch)
		if sessionRetry(ctx, err, &expiries) {
			continue
		}
		if err != nil {
			return err
		}
		if st == nil {
			continue
		}
		if err := waitEvent(ctx, changed); err != nil {
			return err
		}
	}
}

// deleteOwn deletes the member's node in Leave.
func (d *DoubleBarrier) deleteOwn(ctx context.Context) error {
	err := d.c.Delete(ctx, d.node, -1)
	if errors.Is(err, client.ErrNoNode) {
		// Gone before we deleted it: unless a delete of ours that was
		// retried after a connection loss went through, the session
		// expired and others may have seen us leave early.
		if d.session == d.c.SessionID() {
			return nil
		}
		return ErrMemberLost
	}
	return err
}
