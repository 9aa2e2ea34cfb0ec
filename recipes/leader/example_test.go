package leader_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/leader"
)

func ExampleLatch() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-election")

	l := leader.NewLatch(c, "/example-election", "node-1")
	if err := l.Start(); err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	lost, err := l.Await(ctx)
	if err != nil {
		log.Fatal(err)
	}
	select {
	case <-lost:
		log.Print("leadership lost: stop leading")
	default:
		fmt.Println("leading:", l.HasLeadership())
	}
	// Output: leading: true
}

func ExampleSelector() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-selector")

	done := make(chan struct{})
	s := leader.NewSelector(c, "/example-selector", "node-1", func(ctx context.Context) error {
		// Lead until the work is done or ctx ends (connection lost,
		// Interrupt, Close); returning gives leadership up.
		fmt.Println("leading")
		close(done)
		return nil
	})
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	<-done
	s.Close()
	// Output: leading
}
