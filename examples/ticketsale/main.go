// Command ticketsale is the train-ticket sale of the Curator tutorials, in
// Go: N sellers, each with its own ZooKeeper session and its own
// lock.Mutex at -lock (Curator's InterProcessMutex layout), sell the
// tickets counted at -count (decimal text) until none are left. A seller
// loops: acquire the lock; read the count; if it is 0, release and stop;
// otherwise write count-1 (version -1: the lock is the only protection),
// print "seller-<i> sold ticket <count read>" and release. It exits 0 when
// the tickets are sold out. Run beside the same program written with Java
// Curator on the same paths, every ticket is sold exactly once.
//
//	go run ./examples/ticketsale -server 127.0.0.1:2181 -lock /tickets/lock -count /tickets/count -sellers 4
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/lock"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ticketsale:", err)
		os.Exit(1)
	}
}

// run parses args, runs the sellers and returns when the tickets are sold
// out (nil) or a seller failed.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ticketsale", flag.ContinueOnError)
	server := fs.String("server", "", "ZooKeeper connect string, HOST:PORT[,HOST:PORT...]")
	lockPath := fs.String("lock", "", "path of the sellers' mutex")
	countPath := fs.String("count", "", "path of the node holding the number of tickets left, as decimal text")
	sellers := fs.Int("sellers", 1, "number of sellers, each with its own session")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *lockPath == "" || *countPath == "" || *sellers < 1 {
		fs.Usage()
		return errors.New("-server, -lock, -count and -sellers >= 1 are required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	out := &lineWriter{w: stdout}
	errs := make(chan error, *sellers)
	var wg sync.WaitGroup
	for i := 1; i <= *sellers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sell(ctx, *server, *lockPath, *countPath, fmt.Sprintf("seller-%d", i), out); err != nil {
				errs <- fmt.Errorf("seller-%d: %w", i, err)
				cancel() // the others stop too
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs // the first failure, or nil
}

// sell is one seller: its own session, its own Mutex.
func sell(ctx context.Context, server, lockPath, countPath, name string, out *lineWriter) error {
	c, err := client.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer c.Close()
	m := lock.NewMutex(c, lockPath)
	for {
		if err := m.Lock(ctx); err != nil {
			return err
		}
		left, err := sellOne(ctx, c, countPath, name, out, m.Done())
		if uerr := m.Unlock(ctx); err == nil {
			err = uerr
		}
		if err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
	}
}

// sellOne sells a ticket under the lock and returns the count it read.
func sellOne(ctx context.Context, c *client.Conn, countPath, name string, out *lineWriter, lost <-chan struct{}) (int, error) {
	data, _, err := c.Get(ctx, countPath)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("count %s holds %q, want a number of tickets", countPath, data)
	}
	if n == 0 {
		return 0, nil
	}
	select {
	case <-lost:
		// Selling now could sell a ticket twice: the lock may be someone
		// else's already.
		return 0, errors.New("lock lost before the sale")
	default:
	}
	if _, err := c.Set(ctx, countPath, []byte(strconv.Itoa(n-1)), -1); err != nil {
		return 0, err
	}
	out.println(fmt.Sprintf("%s sold ticket %d", name, n))
	return n, nil
}

// lineWriter writes whole lines from several goroutines.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	io.WriteString(l.w, s+"\n")
}
