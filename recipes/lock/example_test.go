package lock_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/lock"
)

func ExampleMutex() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-locks")

	m := lock.NewMutex(c, "/example-locks/inventory")
	if err := m.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	// Give the token to every external system the critical section
	// writes to, so that a holder that lost the lock cannot overwrite a
	// later holder's work.
	token := m.Token()
	select {
	case <-m.Done():
		log.Print("lock lost: stop the critical section")
	default:
		fmt.Println("holding with a token:", token > 0)
	}
	if err := m.Unlock(ctx); err != nil {
		log.Fatal(err)
	}
	// Output: holding with a token: true
}

func ExampleMutex_TryLock() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-trylock")

	a := lock.NewMutex(c, "/example-trylock/job")
	b := lock.NewMutex(c, "/example-trylock/job") // another owner
	a.Lock(ctx)
	err = b.TryLock(ctx)
	fmt.Println(errors.Is(err, lock.ErrLocked))
	a.Unlock(ctx)
	// Output: true
}

func ExampleRWMutex() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-rw")

	rw := lock.NewRWMutex(c, "/example-rw/config")
	if err := rw.WriteLock().Lock(ctx); err != nil {
		log.Fatal(err)
	}
	// The writer may also read, and keep reading after it stops writing.
	if err := rw.ReadLock().Lock(ctx); err != nil {
		log.Fatal(err)
	}
	rw.WriteLock().Unlock(ctx)
	fmt.Println(rw.ReadLock().Held(), rw.WriteLock().Held())
	rw.ReadLock().Unlock(ctx)
	// Output: true false
}

func ExampleSemaphore() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, exampleServer())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	defer c.DeleteRecursive(ctx, "/example-sem")

	// At most two workers at a time.
	s := lock.NewSemaphore(c, "/example-sem/workers", 2)
	leases, err := s.AcquireN(ctx, 2)
	if err != nil {
		log.Fatal(err)
	}
	_, err = s.TryAcquire(ctx)
	fmt.Println(errors.Is(err, lock.ErrLocked))
	for _, l := range leases {
		l.Release(ctx)
	}
	// Output: true
}
