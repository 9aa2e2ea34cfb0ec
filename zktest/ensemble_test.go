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
