package discovery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/discovery"
)

// Payload is what the example's instances carry.
type Payload struct {
	Zone string `json:"zone"`
}

func ExampleDiscovery() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-services")

	d, err := discovery.New[Payload](c, "/example-services")
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close() // unregisters the instance

	inst := discovery.NewInstance("web", Payload{Zone: "east"})
	inst.ID = "web-1"
	inst.Address = "10.0.0.5"
	inst.Port = new(8080)
	if err := d.Register(ctx, inst); err != nil {
		log.Fatal(err)
	}

	names, err := d.QueryForNames(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("services:", names)
	found, err := d.QueryForInstances(ctx, "web")
	if err != nil {
		log.Fatal(err)
	}
	for _, i := range found {
		fmt.Println(i.ID, i.Address, *i.Port, i.Payload.Zone)
	}
	// Output:
	// services: [web]
	// web-1 10.0.0.5 8080 east
}

func ExampleProvider() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-provider")

	d, err := discovery.New[json.RawMessage](c, "/example-provider")
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	for _, id := range []string{"a", "b"} {
		inst := discovery.NewInstance[json.RawMessage]("api", nil)
		inst.ID, inst.Port = id, new(9000)
		if err := d.Register(ctx, inst); err != nil {
			log.Fatal(err)
		}
	}

	p, err := d.NewProvider(ctx, "api", discovery.WithStrategy(discovery.RoundRobin()))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	for range 3 {
		inst, err := p.Instance()
		if err != nil {
			log.Fatal(err)
		}
		// Call the instance; on failure, p.NoteError(inst) counts
		// towards taking it as down.
		fmt.Println("calling", inst.ID)
	}
	// Output:
	// calling a
	// calling b
	// calling a
}

func ExampleCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-cache")

	d, err := discovery.New[json.RawMessage](c, "/example-cache")
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	cache, err := d.NewCache(ctx, "worker")
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()
	events := make(chan discovery.CacheEvent[json.RawMessage], 16)
	cache.AddListener(func(e discovery.CacheEvent[json.RawMessage]) { events <- e })

	inst := discovery.NewInstance("worker", json.RawMessage(`{"slots":4}`))
	inst.ID = "w1"
	if err := d.Register(ctx, inst); err != nil {
		log.Fatal(err)
	}
	e := <-events
	fmt.Println(e.Type, e.Node, string(e.Instance.Payload))
	// A cache reports states it reads, not every change: an instance
	// added and removed at once may never show up.
	if err := d.Unregister(ctx, inst); err != nil {
		log.Fatal(err)
	}
	e = <-events
	fmt.Println(e.Type, e.Node, string(e.Instance.Payload))
	// Output:
	// ADDED w1 {"slots":4}
	// REMOVED w1 {"slots":4}
}
