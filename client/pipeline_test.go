package client_test

import (
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkgo/zkgo/client"
)

func TestCreateAndChildren(t *testing.T) {
	c := connect(t)
	other := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	lockPath := b + "/locks/l"
	opts := []client.CreateOption{client.WithMode(client.EphemeralSequential), client.WithProtection(),
		client.WithParentsAsContainers()}

	// The parents are missing: they are created and the pair is sent again.
	p1, st, kids, err := c.CreateAndChildren(ctx, lockPath+"/lock-", []byte("a"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil || st.EphemeralOwner != c.SessionID() || st.DataLength != 1 {
		t.Errorf("stat %+v, want an ephemeral of this session with 1 byte", st)
	}
	if want := []string{path.Base(p1)}; !slices.Equal(kids, want) {
		t.Errorf("children %v, want %v", kids, want)
	}
	if _, err := other.Create(ctx, lockPath+"/x", nil, client.WithMode(client.Ephemeral)); err != nil {
		t.Fatal(err)
	}
	p2, _, kids, err := c.CreateAndChildren(ctx, lockPath+"/lock-", nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(kids)
	want := []string{path.Base(p1), path.Base(p2), "x"}
	slices.Sort(want)
	if !slices.Equal(kids, want) {
		t.Errorf("children %v, want %v", kids, want)
	}

	// Under a chroot the path is the caller's, the names are names.
	cr := connectTo(t, client.ServerForTest(t)+b)
	p3, _, kids, err := cr.CreateAndChildren(ctx, "/locks/l/lock-", nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if path.Dir(p3) != "/locks/l" || !slices.Contains(kids, path.Base(p3)) || len(kids) != 4 {
		t.Errorf("chroot: created %q, children %v", p3, kids)
	}
}

// TestCreateAndChildrenOrder checks that the listing is sent behind the
// create, whatever else the Conn is sending: every list holds the node just
// created.
func TestCreateAndChildrenOrder(t *testing.T) {
	c := connect(t)
	ctx := ctxFor(t)
	b := base(t, c)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 { // other traffic on the same Conn, interleaved with the pairs
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Children(ctx, b); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)
	for i := range 200 {
		p, _, kids, err := c.CreateAndChildren(ctx, b+"/n-", nil, client.WithMode(client.EphemeralSequential))
		if err != nil {
			t.Fatal(err)
		}
		if len(kids) != i+1 || !slices.Contains(kids, path.Base(p)) {
			t.Fatalf("pair %d: created %s, listed %d children without it or with others: %v", i, p, len(kids), kids)
		}
	}
}

// TestCreateAndChildrenAfterLostReply loses the replies to a protected pair
// the server executed: the retry finds the node rather than making a second
// one, and the children are then left for the caller to list.
func TestCreateAndChildrenAfterLostReply(t *testing.T) {
	addr := client.ServerForTest(t)
	observer := connect(t)
	b := base(t, observer)
	px := newProxy(t, addr)
	c := connectTo(t, px.addr(), client.WithRetryPolicy(client.Forever(50*time.Millisecond)))
	ctx := ctxFor(t)

	px.dropReplies()
	type result struct {
		path string
		kids []string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		p, _, kids, err := c.CreateAndChildren(ctx, b+"/n-", nil, client.WithProtection(),
			client.WithMode(client.EphemeralSequential))
		done <- result{p, kids, err}
	}()
	waitFor(t, "the create to reach the server", func() bool {
		kids, err := observer.Children(ctx, b)
		return err == nil && len(kids) == 1
	})
	px.cut(false) // the client reconnects and retries
	r := <-done
	if r.err != nil {
		t.Fatalf("protected create: %v", r.err)
	}
	kids, err := observer.Children(ctx, b)
	if err != nil || len(kids) != 1 || b+"/"+kids[0] != r.path {
		t.Errorf("children %v (err %v), create returned %q: want exactly the one node", kids, err, r.path)
	}
	if r.kids != nil && !slices.Equal(r.kids, kids) {
		t.Errorf("listing %v, want nil or %v", r.kids, kids)
	}
}
