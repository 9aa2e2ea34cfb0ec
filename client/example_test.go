package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/zkgo/zkgo/client"
)

// The examples run against the test suite's server; in your code the
// connect string is a list of your servers, e.g.
// "zk1:2181,zk2:2181,zk3:2181/myapp".
var exampleServer = client.ServerAddrForExamples

func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer(), client.WithSessionTimeout(10*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if _, err := c.Create(ctx, "/example/config", []byte("v1"), client.WithParents()); err != nil {
		log.Fatal(err)
	}
	data, stat, err := c.Get(ctx, "/example/config")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s version %d\n", data, stat.Version)

	// Conditional update: succeeds only if nobody changed the node meanwhile.
	if _, err := c.Set(ctx, "/example/config", []byte("v2"), stat.Version); err != nil {
		log.Fatal(err)
	}
	_, err = c.Set(ctx, "/example/config", []byte("v3"), stat.Version)
	fmt.Println(errors.Is(err, client.ErrBadVersion))

	if err := c.DeleteRecursive(ctx, "/example"); err != nil {
		log.Fatal(err)
	}
	_, _, err = c.Get(ctx, "/example/config")
	fmt.Println(errors.Is(err, client.ErrNoNode))
	// Output:
	// v1 version 0
	// true
	// true
}

func ExampleConn_GetW() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create(ctx, "/example-watch", []byte("a")); err != nil {
		log.Fatal(err)
	}
	defer c.Delete(ctx, "/example-watch", -1)

	_, _, changed, err := c.GetW(ctx, "/example-watch")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Set(ctx, "/example-watch", []byte("b"), -1); err != nil {
		log.Fatal(err)
	}
	e := <-changed // one event, then the channel is closed
	fmt.Println(e.Type, e.Path)
	_, more := <-changed
	fmt.Println(more)
	// Output:
	// NodeDataChanged /example-watch
	// false
}

func ExampleConn_AddWatch() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create(ctx, "/example-tree", nil); err != nil {
		log.Fatal(err)
	}
	defer c.DeleteRecursive(ctx, "/example-tree")

	// A persistent recursive watch reports every change below the path
	// until removed.
	w, err := c.AddWatch(ctx, "/example-tree", true)
	if err != nil {
		log.Fatal(err)
	}
	c.Create(ctx, "/example-tree/a", nil)
	c.Set(ctx, "/example-tree/a", []byte("x"), -1)
	c.Delete(ctx, "/example-tree/a", -1)
	for range 3 {
		e := <-w.C()
		fmt.Println(e.Type, e.Path)
	}
	w.Remove(ctx)
	// Output:
	// NodeCreated /example-tree/a
	// NodeDataChanged /example-tree/a
	// NodeDeleted /example-tree/a
}

func ExampleConn_Txn() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Create(ctx, "/example-txn", []byte("0"))
	defer c.DeleteRecursive(ctx, "/example-txn")

	// All or nothing: the check fails, so the create is not applied.
	_, err = c.Txn().
		Create("/example-txn/job", nil).
		Check("/example-txn", 7).
		Commit(ctx)
	var te *client.TxnError
	if errors.As(err, &te) {
		fmt.Println("failed op:", te.Index, errors.Is(err, client.ErrBadVersion))
	}
	results, err := c.Txn().
		Create("/example-txn/job", nil).
		Set("/example-txn", []byte("1"), 0).
		Commit(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(results[0].Path, results[1].Stat.Version)
	// Output:
	// failed op: 1 true
	// /example-txn/job 1
}

func ExampleWithNamespace() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app, err := client.Connect(ctx, exampleServer(), client.WithNamespace("example-ns/app"))
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	if _, err := app.Create(ctx, "/settings", []byte("on")); err != nil {
		log.Fatal(err)
	}

	root, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	data, _, err := root.Get(ctx, "/example-ns/app/settings")
	fmt.Println(string(data), err)
	root.DeleteRecursive(ctx, "/example-ns")
	// Output: on <nil>
}

func ExampleConn_Create_protected() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer(),
		client.WithRetryPolicy(client.ExponentialBackoff(100*time.Millisecond, 5, 5*time.Second)))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-locks")

	// Safe to retry after a connection loss: the client recognises its own
	// node by the _c_<uuid>- prefix, as Curator does.
	p, err := c.Create(ctx, "/example-locks/job/lock-", nil,
		client.WithMode(client.EphemeralSequential), client.WithProtection(), client.WithParentsAsContainers())
	if err != nil {
		log.Fatal(err)
	}
	name := p[strings.LastIndexByte(p, '/')+1:]
	fmt.Println(strings.HasPrefix(name, "_c_"), strings.Contains(name, "-lock-"))
	// Output: true true
}

func ExampleConn_States() {
	ctx := context.Background()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	go func() {
		for s := range c.States() { // closed by Close
			switch s {
			case client.Suspended:
				log.Print("connection lost; pausing work that needs the session")
			case client.Lost:
				log.Print("session gone: ephemeral nodes and locks are lost")
			case client.Reconnected:
				log.Print("connected again")
			}
		}
	}()
}
