// Command counter adds N to a distributed counter at -path, a
// counter.AtomicLong (Curator's DistributedAtomicLong layout: 8 bytes, big
// endian), and prints the counter's new value. Go and Java processes
// adding to one path concurrently never lose an addition. With -lock, an
// addition that keeps losing the optimistic race waits for a mutex at that
// path instead (Curator's promoted-to-lock mode).
//
//	go run ./examples/counter -server 127.0.0.1:2181 -path /counters/visits -add 1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/counter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("counter", flag.ContinueOnError)
	server := fs.String("server", "", "ZooKeeper connect string, HOST:PORT[,HOST:PORT...]")
	path := fs.String("path", "", "path of the counter (Curator DistributedAtomicLong layout)")
	add := fs.Int64("add", 1, "amount to add (negative to subtract)")
	lockPath := fs.String("lock", "", "path of the promoted lock (optional)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *path == "" {
		fs.Usage()
		return errors.New("-server and -path are required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	c, err := client.Connect(ctx, *server)
	if err != nil {
		return err
	}
	defer c.Close()
	// Retry until -timeout: a busy counter only delays the addition.
	opts := []counter.AtomicOption{counter.WithRetryPolicy(client.Forever(10 * time.Millisecond))}
	if *lockPath != "" {
		opts = []counter.AtomicOption{counter.WithPromotedLock(*lockPath, client.Forever(10*time.Millisecond), 0)}
	}
	v, err := counter.NewAtomicLong(c, *path, opts...).Add(ctx, *add)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, v.PostValue)
	return nil
}
