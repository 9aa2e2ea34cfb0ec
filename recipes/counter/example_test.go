package counter_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/counter"
)

func ExampleAtomicLong() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-atomic")

	hits := counter.NewAtomicLong(c, "/example-atomic/hits",
		// Losers of a busy counter queue on a lock instead of spinning.
		counter.WithPromotedLock("/example-atomic/hits-lock", nil, 0))
	for range 3 {
		if _, err := hits.Increment(ctx); err != nil {
			log.Fatal(err)
		}
	}
	v, err := hits.Add(ctx, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.PreValue, "->", v.PostValue)
	// Output: 3 -> 13
}

func ExampleSharedCount() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-count")

	workers := counter.NewSharedCount(c, "/example-count/workers", 4)
	if err := workers.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer workers.Close()
	changed := make(chan int32, 1)
	workers.AddListener(func(n int32) { changed <- n })

	// Read-modify-write without losing a concurrent update: retry when
	// someone else changed the count first.
	for {
		cur := workers.VersionedCount()
		ok, err := workers.TrySetCount(ctx, cur, cur.Value*2)
		if err != nil {
			log.Fatal(err)
		}
		if ok {
			break
		}
	}
	fmt.Println("listener saw", <-changed)
	// Output: listener saw 8
}
