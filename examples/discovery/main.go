// Command discovery registers one instance of a service with
// recipes/discovery (Curator's service discovery layout under -base) and
// prints the service's instances as they change, until interrupted or
// until -for has passed; it then unregisters the instance and exits 0.
// Java programs using Curator's ServiceDiscovery on the same base path see
// its instance, and it sees theirs.
//
//	go run ./examples/discovery -server 127.0.0.1:2181 -base /services -name web -port 8080
//
// Output, one line each:
//
//	registered NAME ID@ADDRESS:PORT
//	instances ID@ADDRESS:PORT ...      (the current list, at start and after each change)
//	added|updated|removed ID@ADDRESS:PORT
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/discovery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "discovery:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("discovery", flag.ContinueOnError)
	server := fs.String("server", "", "ZooKeeper connect string, HOST:PORT[,HOST:PORT...]")
	base := fs.String("base", "/services", "base path of the registry (Curator's basePath)")
	name := fs.String("name", "", "service name")
	port := fs.Int("port", 0, "port of this instance")
	id := fs.String("id", "", "instance id (default: a random UUID)")
	address := fs.String("address", "", "address of this instance (default: this host's first address)")
	payload := fs.String("payload", "null", "payload of this instance, as JSON")
	runFor := fs.Duration("for", 0, "exit after this long (default: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *name == "" || *port <= 0 {
		fs.Usage()
		return errors.New("-server, -name and -port are required")
	}
	if !json.Valid([]byte(*payload)) {
		return fmt.Errorf("-payload %q is not JSON", *payload)
	}
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}

	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := client.Connect(cctx, *server)
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := discovery.New[json.RawMessage](c, *base)
	if err != nil {
		return err
	}
	// Close unregisters the instance: deferred after c.Close, so it runs
	// first.
	defer d.Close()

	inst := discovery.NewInstance(*name, json.RawMessage(*payload))
	if *id != "" {
		inst.ID = *id
	}
	if *address != "" {
		inst.Address = *address
	}
	inst.Port = new(*port)

	// The cache starts first, so that the list printed at start includes
	// this instance only once it is registered, as a change.
	cache, err := d.NewCache(cctx, *name)
	if err != nil {
		return err
	}
	defer cache.Close()
	changes := make(chan discovery.CacheEvent[json.RawMessage], 64)
	cache.AddListener(func(e discovery.CacheEvent[json.RawMessage]) {
		select {
		case changes <- e:
		case <-ctx.Done():
		}
	})
	fmt.Fprintln(stdout, list(cache.Instances()))
	if err := d.Register(cctx, inst); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registered %s %s\n", inst.Name, endpoint(inst))

	for {
		select {
		case e := <-changes:
			fmt.Fprintf(stdout, "%s %s\n", strings.ToLower(e.Type.String()), endpoint(e.Instance))
			fmt.Fprintln(stdout, list(cache.Instances()))
		case <-ctx.Done(): // interrupted, or -for has passed
			return nil
		}
	}
}

// endpoint is ID@ADDRESS:PORT.
func endpoint(i discovery.Instance[json.RawMessage]) string {
	port := ""
	if i.Port != nil {
		port = fmt.Sprint(*i.Port)
	}
	return fmt.Sprintf("%s@%s:%s", i.ID, i.Address, port)
}

func list(all []discovery.Instance[json.RawMessage]) string {
	parts := []string{"instances"}
	for _, i := range all {
		parts = append(parts, endpoint(i))
	}
	return strings.Join(parts, " ")
}
