package zktest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zkgo/zkgo/zktest"
)

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func TestEnsembleFailover(t *testing.T) {
	e := zktest.StartEnsemble(t, 3)
	c, _, err := zk.Connect(strings.Split(e.ConnectString(), ","), 2*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Create("/before", []byte("1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	old := e.Leader()
	e.Stop(old)
	e.WaitServing()
	if l := e.Leader(); l == old || l < 0 {
		t.Fatalf("leader after stopping server %d: %d", old+1, l+1)
	}
	// The client moves to a serving server and keeps its session; writes go
	// on through the new leader. A write in flight at the change may fail
	// with ConnectionLoss: retry it (NodeExists then means it went through).
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.Create("/after", nil, 0, zk.WorldACL(zk.PermAll))
		if err == nil || errors.Is(err, zk.ErrNodeExists) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create after failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.Start(old)
	e.WaitServing()
	if l := e.Leader(); l == old {
		t.Fatalf("returning server %d took over the leadership", old+1)
	}
	if _, err := c.Sync("/"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/before", "/after"} {
		if ok, _, err := c.Exists(p); err != nil || !ok {
			t.Fatalf("%s: %v %v", p, ok, err)
		}
	}
}

func TestEnsemblePartition(t *testing.T) {
	e := zktest.StartEnsemble(t, 3)
	old := e.Leader()
	e.Partition(old)
	// The majority elects a leader among itself and takes a write; the
	// cut-off server stops serving.
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := e.Leader()
		if l >= 0 && l != old && !e.Server(old).Server().Serving() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after partitioning server %d: leader %d, it serves %v", old+1, l+1, e.Server(old).Server().Serving())
		}
		time.Sleep(10 * time.Millisecond)
	}
	other := (old + 1) % 3
	c, _, err := zk.Connect([]string{e.Server(other).Addr()}, 4*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		_, err := c.Create("/during", nil, 0, zk.WorldACL(zk.PermAll))
		if err == nil || errors.Is(err, zk.ErrNodeExists) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create during the partition: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.Heal(old)
	e.WaitServing()
	oc, _, err := zk.Connect([]string{e.Server(old).Addr()}, 4*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	for {
		if _, err := oc.Sync("/"); err == nil {
			if ok, _, err := oc.Exists("/during"); err == nil && ok {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the healed server never showed the write made during the partition")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
