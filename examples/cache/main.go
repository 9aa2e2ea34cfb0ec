// Command cache watches the subtree at -path with a cache of package
// recipes/cache and prints its events, one per line, until interrupted
// (or -timeout passes):
//
//	NODE_CREATED /app/config "v1"
//	INITIALIZED
//	NODE_CHANGED /app/config "v2"
//	NODE_DELETED /app/config
//	CONNECTION_SUSPENDED
//
// Data is printed as a Go string literal. -kind chooses the cache: curator
// (CuratorCache, the default), tree (TreeCache, with -depth), children
// (PathChildrenCache) or node (NodeCache).
//
//	go run ./examples/cache -server 127.0.0.1:2181 -path /app
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/cache"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cache:", err)
		os.Exit(1)
	}
}

// watcher is what every cache type offers.
type watcher interface {
	AddListener(func(cache.Event)) func()
	Start(context.Context) error
	Close() error
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cache", flag.ContinueOnError)
	server := fs.String("server", "", "ZooKeeper connect string, HOST:PORT[,HOST:PORT...]")
	path := fs.String("path", "", "path to watch")
	kind := fs.String("kind", "curator", "cache type: curator, tree, children or node")
	depth := fs.Int("depth", -1, "tree: maximum depth below -path (-1: none)")
	timeout := fs.Duration("timeout", 0, "exit after this long (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *path == "" {
		fs.Usage()
		return errors.New("-server and -path are required")
	}
	var newCache func(*client.Conn) watcher
	switch *kind {
	case "curator":
		newCache = func(c *client.Conn) watcher { return cache.NewCuratorCache(c, *path) }
	case "tree":
		var opts []cache.Option
		if *depth >= 0 {
			opts = append(opts, cache.WithMaxDepth(*depth))
		}
		newCache = func(c *client.Conn) watcher { return cache.NewTreeCache(c, *path, opts...) }
	case "children":
		newCache = func(c *client.Conn) watcher { return cache.NewPathChildrenCache(c, *path) }
	case "node":
		newCache = func(c *client.Conn) watcher { return cache.NewNodeCache(c, *path) }
	default:
		return fmt.Errorf("unknown -kind %q", *kind)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	c, err := client.Connect(ctx, *server)
	if err != nil {
		return err
	}
	defer c.Close()
	w := newCache(c)
	// The listener runs on the cache's goroutine, one event at a time, so
	// the lines come out in order.
	w.AddListener(func(ev cache.Event) { fmt.Fprintln(stdout, line(ev)) })
	if err := w.Start(ctx); err != nil {
		w.Close()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	<-ctx.Done()
	return w.Close()
}

// line formats one event.
func line(ev cache.Event) string {
	switch ev.Type {
	case cache.NodeCreated, cache.NodeChanged:
		return fmt.Sprintf("%s %s %q", ev.Type, ev.Path, ev.Node.Data)
	}
	return ev.String()
}
