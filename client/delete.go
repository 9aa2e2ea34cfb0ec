package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/zkgo/zkgo/proto"
)

// DeleteRecursive deletes the node at path and all its descendants, children
// first (Curator's deletingChildrenIfNeeded). Nodes that vanish meanwhile are
// ignored; it fails with ErrNoNode only if path itself does not exist.
// Nodes created concurrently below path can make it fail with ErrNotEmpty
// after a few rounds.
func (c *Conn) DeleteRecursive(ctx context.Context, path string) error {
	sp, err := c.serverPath("delete", path)
	if err != nil {
		return err
	}
	if path == "/" {
		return opError("delete", path, ErrBadArguments)
	}
	return c.do(ctx, "delete", path, func(attempt int) error {
		for round := 0; ; round++ {
			err := c.deleteTree(ctx, sp)
			if errors.Is(err, ErrNoNode) && attempt > 0 {
				return nil // deleted by an attempt whose reply was lost
			}
			if !errors.Is(err, ErrNotEmpty) || round >= 3 {
				return err
			}
		}
	})
}

// deleteTree deletes sp's subtree depth first; ErrNoNode only for sp.
func (c *Conn) deleteTree(ctx context.Context, sp string) error {
	var resp proto.GetChildrenResponse
	if err := c.send(ctx, proto.OpGetChildren, &proto.GetChildrenRequest{Path: sp}, &resp, nil); err != nil {
		return err
	}
	for _, name := range resp.Children {
		if err := c.deleteTree(ctx, joinPath(sp, name)); err != nil && !errors.Is(err, ErrNoNode) {
			return err
		}
	}
	return c.send(ctx, proto.OpDelete, &proto.DeleteRequest{Path: sp, Version: -1}, nil, nil)
}

// DeleteGuaranteed deletes the node at path like Delete, but if the outcome
// cannot be confirmed (the connection was lost, the session expired or ctx
// ended) it keeps retrying in the background until the node is deleted or
// gone, as Curator's guaranteed() does: use it to release lock nodes. It
// returns nil once the node is deleted (or was deleted by an attempt whose
// reply was lost); otherwise the error of the foreground attempt. Background
// retries stop at Close.
func (c *Conn) DeleteGuaranteed(ctx context.Context, path string, version int32) error {
	sp, err := c.serverPath("delete", path)
	if err != nil {
		return err
	}
	uncertain := false
	err = c.do(ctx, "delete", path, func(attempt int) error {
		err := c.send(ctx, proto.OpDelete, &proto.DeleteRequest{Path: sp, Version: version}, nil, nil)
		if errors.Is(err, ErrNoNode) && uncertain {
			return nil
		}
		if IsRetryable(err) {
			uncertain = true
		}
		return err
	})
	if err != nil && (uncertain || IsRetryable(err) || errors.Is(err, ErrSessionExpired) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		c.deleter.add(deleteItem{path: sp, version: version})
	}
	return err
}

// deleteItem is a background delete: a node, or (protected set) the node
// under parent whose name starts with prefix.
type deleteItem struct {
	path      string
	version   int32
	protected bool
	prefix    string
}

// deleter retries deletes in the background (DeleteGuaranteed, and cleanup
// of protected creates that failed) on one goroutine owned by the Conn.
type deleter struct {
	mu    sync.Mutex
	items []deleteItem // guarded by mu
	wake  chan struct{}
}

func (d *deleter) init() { d.wake = make(chan struct{}, 1) }

func (d *deleter) add(it deleteItem) {
	d.mu.Lock()
	d.items = append(d.items, it)
	d.mu.Unlock()
	d.kick()
}

func (d *deleter) addProtected(parent, prefix string) {
	d.add(deleteItem{path: parent, protected: true, prefix: prefix, version: -1})
}

// kick makes the deleter try now (new item, or connected again).
func (d *deleter) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deleter) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.items)
}

// run is the deleter goroutine: it retries every item whenever kicked, and
// with a growing pause while items remain.
func (d *deleter) run(c *Conn) {
	defer c.netWG.Done()
	pause := 100 * time.Millisecond
	for {
		var timer <-chan time.Time
		var t *time.Timer
		if d.pending() > 0 {
			t = time.NewTimer(pause)
			timer = t.C
		}
		select {
		case <-c.lifetime.Done():
			if t != nil {
				t.Stop()
			}
			return
		case <-d.wake:
			pause = 100 * time.Millisecond
		case <-timer:
			pause = min(pause*2, 5*time.Second)
		}
		if t != nil {
			t.Stop()
		}
		d.mu.Lock()
		items := d.items
		d.items = nil
		d.mu.Unlock()
		var keep []deleteItem
		for _, it := range items {
			if c.lifetime.Err() != nil {
				return
			}
			if d.try(c, it) {
				continue
			}
			keep = append(keep, it)
		}
		if len(keep) > 0 {
			d.mu.Lock()
			d.items = append(keep, d.items...)
			d.mu.Unlock()
		}
	}
}

// try performs one background delete; it reports whether the item is done
// (deleted, gone, or failed for good).
func (d *deleter) try(c *Conn, it deleteItem) bool {
	ctx, cancel := context.WithTimeout(c.lifetime, c.cfg.connectTimeout)
	defer cancel()
	path := it.path
	if it.protected {
		p, _, err := c.findProtected(ctx, it.path, it.prefix)
		if errors.Is(err, ErrNoNode) || (err == nil && p == "") {
			return true
		}
		if err != nil {
			return false
		}
		path = p
	}
	err := c.send(ctx, proto.OpDelete, &proto.DeleteRequest{Path: path, Version: it.version}, nil, nil)
	switch {
	case err == nil, errors.Is(err, ErrNoNode):
		c.logger.Debug("zk: background delete done", "path", c.clientPath(path))
		return true
	case IsRetryable(err), errors.Is(err, ErrSessionExpired), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled):
		return false
	default:
		c.logger.Warn("zk: background delete failed", "path", c.clientPath(path), "err", err)
		return true
	}
}
