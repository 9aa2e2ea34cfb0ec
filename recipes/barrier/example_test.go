package barrier_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/barrier"
)

func ExampleBarrier() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-barrier")

	// A coordinator holds workers back until the input is ready.
	gate := barrier.NewBarrier(c, "/example-barrier/input-ready")
	if err := gate.Set(ctx); err != nil {
		log.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A worker, usually in another process.
		if err := barrier.NewBarrier(c, "/example-barrier/input-ready").Wait(ctx); err != nil {
			log.Print(err)
			return
		}
		fmt.Println("worker: input is ready")
	}()
	if err := gate.Remove(ctx); err != nil {
		log.Fatal(err)
	}
	<-done
	// Output: worker: input is ready
}

func ExampleDoubleBarrier() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-double")

	// Three workers start a computation together and finish together.
	const workers = 3
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := barrier.NewDoubleBarrier(c, "/example-double/round", workers)
			if err := d.Enter(ctx); err != nil {
				log.Print(err)
				return
			}
			// ... compute ...
			if err := d.Leave(ctx); err != nil {
				log.Print(err)
			}
		}()
	}
	wg.Wait()
	fmt.Println("all workers done")
	// Output: all workers done
}
