package queue_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/queue"
)

func ExampleSimple() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-queue")

	jobs := queue.NewSimple(c, "/example-queue/jobs")
	for _, job := range []string{"resize photo-1", "resize photo-2"} {
		if err := jobs.Offer(ctx, []byte(job)); err != nil {
			log.Fatal(err)
		}
	}
	// A worker, usually in another process, takes jobs as they come.
	for range 2 {
		job, err := jobs.Take(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(job))
	}
	// Output:
	// resize photo-1
	// resize photo-2
}
