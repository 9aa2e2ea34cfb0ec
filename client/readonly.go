package client

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bounds of the interval between two probes for a read-write server, and
// the time one probe may take, as in the Java client (ClientCnxn's
// minPingRwTimeout, maxPingRwTimeout and the "isro" timeout).
const (
	minSeekReadWrite = 100 * time.Millisecond
	maxSeekReadWrite = time.Minute
	isroTimeout      = time.Second
)

// seekReadWrite runs while w is a read-only connection: like the Java
// client's pingRwServer, it asks the servers of the connect string in turn,
// starting after w's, whether they are read-write ("isro" four-letter
// word), at intervals doubling from minSeekReadWrite to maxSeekReadWrite.
// When one answers "rw" it closes w, and the connection loop dials that
// server next. It returns when w shuts down.
func (w *wire) seekReadWrite() {
	c := w.c
	// ctx ends a probe at once when w shuts down or the Conn closes.
	ctx, cancel := context.WithCancel(c.lifetime)
	var watcher sync.WaitGroup
	defer watcher.Wait()
	defer cancel()
	watcher.Go(func() {
		select {
		case <-w.done:
			cancel()
		case <-ctx.Done():
		}
	})
	next := slices.Index(c.hosts, w.addr) + 1
	interval := minSeekReadWrite
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		addr := c.hosts[next%len(c.hosts)]
		next++
		if c.isReadWrite(ctx, addr) {
			c.mu.Lock()
			c.rwServer = addr
			c.mu.Unlock()
			c.logger.Info("zk: read-write server found; leaving the read-only one", "server", addr, "readOnly", w.addr)
			w.shutdown(fmt.Errorf("read-write server %s found: %w", addr, ErrConnectionLoss))
			return
		}
		interval = min(2*interval, maxSeekReadWrite)
		t.Reset(interval)
	}
}

// isReadWrite reports whether the server at addr answers "rw" to "isro".
func (c *Conn) isReadWrite(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, isroTimeout)
	defer cancel()
	nc, err := c.cfg.dial(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := nc.Write([]byte("isro")); err != nil {
		return false
	}
	answer, err := io.ReadAll(io.LimitReader(nc, 16))
	if err != nil {
		c.logger.Debug("zk: isro", "server", addr, "err", err)
		return false
	}
	return strings.TrimSpace(string(answer)) == "rw"
}
