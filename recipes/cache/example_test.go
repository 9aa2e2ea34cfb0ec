package cache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/cache"
)

func ExampleCuratorCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-config")
	c.Create(ctx, "/example-config/db/url", []byte("db1:5432"), client.WithParents())

	cc := cache.NewCuratorCache(c, "/example-config")
	// Listeners run on the cache's goroutine: hand events to a channel.
	events := make(chan cache.Event, 16)
	cc.AddListener(func(ev cache.Event) { events <- ev })
	if err := cc.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer cc.Close()
	for range 4 { // three nodes, then INITIALIZED
		fmt.Println(<-events)
	}

	c.Set(ctx, "/example-config/db/url", []byte("db2:5432"), -1)
	ev := <-events
	fmt.Printf("%s: %s -> %s\n", ev, ev.Old.Data, ev.Node.Data)
	n, _ := cc.Get("/example-config/db/url")
	fmt.Println("now", string(n.Data), "of", cc.Size(), "nodes")
	// Output:
	// NODE_CREATED /example-config
	// NODE_CREATED /example-config/db
	// NODE_CREATED /example-config/db/url
	// INITIALIZED
	// NODE_CHANGED /example-config/db/url: db1:5432 -> db2:5432
	// now db2:5432 of 3 nodes
}

func ExamplePathChildrenCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-workers")

	pc := cache.NewPathChildrenCache(c, "/example-workers")
	events := make(chan cache.Event, 16)
	pc.AddListener(func(ev cache.Event) { events <- ev })
	if err := pc.Start(ctx); err != nil { // the parent need not exist
		log.Fatal(err)
	}
	defer pc.Close()
	fmt.Println(<-events)
	c.Create(ctx, "/example-workers/w1", []byte("busy"), client.WithParents())
	fmt.Println(<-events)
	c.Delete(ctx, "/example-workers/w1", -1)
	fmt.Println(<-events)
	fmt.Println(len(pc.Current()), "workers")
	// Output:
	// INITIALIZED
	// NODE_CREATED /example-workers/w1
	// NODE_DELETED /example-workers/w1
	// 0 workers
}

func ExampleNodeCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.Delete(ctx, "/example-flag", -1)

	nc := cache.NewNodeCache(c, "/example-flag")
	changed := make(chan cache.Event, 16)
	nc.AddListener(func(ev cache.Event) { changed <- ev })
	if err := nc.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	<-changed // INITIALIZED
	_, exists := nc.Current()
	fmt.Println("exists:", exists)
	c.Create(ctx, "/example-flag", []byte("on"))
	<-changed
	n, exists := nc.Current()
	fmt.Println("exists:", exists, string(n.Data))
	// Output:
	// exists: false
	// exists: true on
}

func ExampleTreeCache() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-tree")
	c.Create(ctx, "/example-tree/a/deep", nil, client.WithParents())

	// The root and its children only.
	tc := cache.NewTreeCache(c, "/example-tree", cache.WithMaxDepth(1))
	if err := tc.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer tc.Close()
	for _, n := range tc.Current() {
		fmt.Println(n.Path)
	}
	// Output:
	// /example-tree
	// /example-tree/a
}
