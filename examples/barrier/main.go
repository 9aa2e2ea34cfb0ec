// Command barrier joins a double barrier (Curator's
// DistributedDoubleBarrier layout: a member node per process under -path and
// PATH/ready once -members have entered) as participant -id: it prints
// "ID entered" when all -members processes have arrived, works for -work,
// prints "ID left" once every member has finished, and exits 0. Go and Java
// members can share one barrier.
//
//	go run ./examples/barrier -server 127.0.0.1:2181 -path /barriers/batch -members 3 -id worker-1
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
	"github.com/zkgo/zkgo/recipes/barrier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "barrier:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("barrier", flag.ContinueOnError)
	server := fs.String("server", "", "ZooKeeper connect string, HOST:PORT[,HOST:PORT...]")
	path := fs.String("path", "", "path of the double barrier")
	members := fs.Int("members", 2, "number of members the barrier waits for")
	id := fs.String("id", "", "this member's name, for the output")
	work := fs.Duration("work", 0, "time spent between entering and leaving")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *path == "" || *id == "" {
		fs.Usage()
		return errors.New("-server, -path and -id are required")
	}
	if *members < 1 {
		return errors.New("-members must be at least 1")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	c, err := client.Connect(ctx, *server)
	if err != nil {
		return err
	}
	defer c.Close()
	b := barrier.NewDoubleBarrier(c, *path, *members)
	if err := b.Enter(ctx); err != nil {
		return fmt.Errorf("enter: %w", err)
	}
	fmt.Fprintf(stdout, "%s entered\n", *id)
	select {
	case <-time.After(*work):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := b.Leave(ctx); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	fmt.Fprintf(stdout, "%s left\n", *id)
	return nil
}
