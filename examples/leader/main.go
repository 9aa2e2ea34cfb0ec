// Command leader joins a leader election as one participant, with a
// leader.Latch (Curator's LeaderLatch layout) at -path: when it becomes
// leader it prints "NAME leader <unix nanoseconds>", keeps leadership for
// -hold, prints "NAME released <unix nanoseconds>", then closes the latch
// and exits 0. Go and Java latches on one path never lead at the same time.
// If leadership is lost before -hold has passed (the connection was lost),
// it prints the released line at once and exits 1.
//
//	go run ./examples/leader -server 127.0.0.1:2181 -path /election -id node-1 -hold 5s
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
	"github.com/zkgo/zkgo/recipes/leader"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "leader:", err)
		os.Exit(1)
	}
}

// errLost says leadership ended before -hold passed.
var errLost = errors.New("leadership lost before the hold time passed")

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("leader", flag.ContinueOnError)
	server := fs.String("server", "", "ZooKeeper connect string, HOST:PORT[,HOST:PORT...]")
	path := fs.String("path", "", "path of the election (Curator LeaderLatch layout)")
	id := fs.String("id", "", "participant name, stored in its latch node")
	hold := fs.Duration("hold", 5*time.Second, "how long to keep leadership")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *path == "" || *id == "" {
		fs.Usage()
		return errors.New("-server, -path and -id are required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	c, err := client.Connect(ctx, *server)
	if err != nil {
		return err
	}
	defer c.Close()
	l := leader.NewLatch(c, *path, *id)
	if err := l.Start(); err != nil {
		return err
	}
	defer l.Close()
	lost, err := l.Await(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s leader %d\n", *id, time.Now().UnixNano())
	t := time.NewTimer(*hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-lost:
		err = errLost
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Printed before the latch is closed, so that the printed interval
	// covers the whole leadership.
	fmt.Fprintf(stdout, "%s released %d\n", *id, time.Now().UnixNano())
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}
