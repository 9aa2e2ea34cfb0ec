package tree

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/zkgo/zkgo/proto"
)

// populate adds n nodes in a few subtrees, some ephemeral, some containers.
func populate(tb testing.TB, tr *Tree, n int) {
	tb.Helper()
	for _, p := range []string{"/app", "/app/locks", "/app/data"} {
		mustCreate(tb, tr, p, 1)
	}
	for i := range n {
		c := CreateOp{Path: fmt.Sprintf("/app/data/n%05d", i), Data: []byte(fmt.Sprintf("value %d", i)), ACL: open}
		switch i % 5 {
		case 1:
			c.Path, c.Mode, c.Owner = "/app/locks/lock-", proto.ModeEphemeralSequential, int64(i%7+1)
		case 2:
			c.Mode = proto.ModeContainer
		}
		if _, _, err := tr.Create(c, int64(i+2), int64(i), nil); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestCloneIsolation(t *testing.T) {
	tr := New()
	populate(t, tr, 200)
	clone := tr.Clone()
	snap := fingerprint(t, clone)
	old, _ := clone.Get("/app/data/n00000")

	// Mutate the original every way there is.
	mustCreate(t, tr, "/new", 1000)
	if _, err := tr.SetData("/app/data/n00000", []byte("changed"), -1, 1001, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Delete("/app/data/n00003", -1, 1002, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range tr.Ephemerals(2) {
		if err := tr.Delete(p, -1, 1003, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tr.SetACL("/app", perms(proto.PermRead), -1, 1004, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Multi([]Op{createOp("/m", proto.ModeContainer), deleteOp("/app/data/n00005", -1)}, 1005, 1, nil); err != nil {
		t.Fatal(err)
	}

	if got := fingerprint(t, clone); got != snap {
		t.Error("clone changed when the original was mutated")
	}
	if n, _ := clone.Get("/app/data/n00000"); n != old || string(n.Data()) != "value 0" {
		t.Error("clone's node replaced")
	}
	verify(t, clone)
	verify(t, tr)

	// And the other way round: writing the clone leaves the original alone.
	orig := fingerprint(t, tr)
	mustCreate(t, clone, "/fromclone", 2000)
	if err := clone.Delete("/app/data/n00010", -1, 2001, nil); err != nil {
		t.Fatal(err)
	}
	if got := fingerprint(t, tr); got != orig {
		t.Error("original changed when the clone was mutated")
	}
	verify(t, clone)
}

// TestCloneConcurrentRead serialises and reads a clone on other goroutines
// while the original is mutated; run with -race.
func TestCloneConcurrentRead(t *testing.T) {
	tr := New()
	populate(t, tr, 2000)
	clone := tr.Clone()
	var want bytes.Buffer
	if _, err := clone.WriteTo(&want); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				var b bytes.Buffer
				if _, err := clone.WriteTo(&b); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(b.Bytes(), want.Bytes()) {
					errs <- fmt.Errorf("reader %d: clone's serialisation changed", g)
					return
				}
				if ch, err := clone.Children("/app/data"); err != nil || len(ch) < 1000 {
					errs <- fmt.Errorf("reader %d: children %d %v", g, len(ch), err)
					return
				}
				for s, p := range clone.AllEphemerals() {
					if n, ok := clone.Get(p); !ok || n.Owner() != s {
						errs <- fmt.Errorf("reader %d: ephemeral %q", g, p)
						return
					}
				}
			}
		}()
	}
	// Writer: the original changes under the readers' feet.
	for i := range 3000 {
		p := fmt.Sprintf("/app/data/n%05d", i%2000)
		switch i % 3 {
		case 0:
			tr.SetData(p, []byte("x"), -1, int64(10000+i), 1, nil)
		case 1:
			tr.Delete(p, -1, int64(10000+i), nil)
		case 2:
			tr.Create(CreateOp{Path: p + "-new", ACL: open, Mode: proto.ModeEphemeral, Owner: 3}, int64(10000+i), 1, nil)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	verify(t, tr)
	verify(t, clone)
}

func TestCloneWriteToDiscard(t *testing.T) {
	tr := New()
	populate(t, tr, 100)
	n, err := tr.Clone().WriteTo(io.Discard)
	if err != nil || n <= 0 {
		t.Errorf("WriteTo: %d %v", n, err)
	}
}

// TestCloneWithReaders takes clones while other goroutines read the tree, as
// a server does when it snapshots under a read lock; run with -race.
func TestCloneWithReaders(t *testing.T) {
	tr := New()
	populate(t, tr, 500)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, ok := tr.Get("/app/data/n00000"); !ok {
					t.Error("node missing")
					return
				}
				if _, err := tr.Children("/app/locks"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var clones []*Tree
	for range 50 {
		clones = append(clones, tr.Clone())
	}
	close(stop)
	wg.Wait()
	// Each clone is independent of the later mutations of the original.
	want := fingerprint(t, clones[0])
	mustCreate(t, tr, "/after", 9999)
	for _, c := range clones {
		if fingerprint(t, c) != want {
			t.Fatal("clones differ")
		}
	}
}
