package lockorder

import (
	"strings"
	"testing"
)

var (
	outer = &Rank{Level: 1, Name: "outer"}
	inner = &Rank{Level: 2, Name: "inner"}
)

func TestInOrderIsFine(t *testing.T) {
	c := NewChecker()
	var a RWMutex
	var b Mutex
	a.Init(c, outer)
	b.Init(c, inner)
	a.RLock()
	b.Lock()
	b.Unlock()
	a.RUnlock()
	b.Lock() // alone, after the outer lock went
	b.Unlock()
}

func TestReversedOrderPanics(t *testing.T) {
	if !Enabled {
		t.Skip("lock order is checked in race builds only (go test -race)")
	}
	c := NewChecker()
	var a, b Mutex
	a.Init(c, outer)
	b.Init(c, inner)
	b.Lock()
	defer b.Unlock()
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.Contains(msg, "taking outer") || !strings.Contains(msg, "holding inner") {
			t.Fatalf("recovered %v, want a lock order panic naming both locks", r)
		}
	}()
	a.Lock()
	t.Fatal("taking a lower-ranked lock did not panic")
}

func TestSameRankPanics(t *testing.T) {
	if !Enabled {
		t.Skip("lock order is checked in race builds only (go test -race)")
	}
	c := NewChecker()
	var a, b Mutex
	a.Init(c, inner)
	b.Init(c, inner)
	a.Lock()
	defer a.Unlock()
	defer func() {
		if recover() == nil {
			t.Fatal("two locks of one rank nested without a panic")
		}
	}()
	b.Lock()
}

func TestOtherGoroutinesAreIndependent(t *testing.T) {
	c := NewChecker()
	var a, b Mutex
	a.Init(c, outer)
	b.Init(c, inner)
	b.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Lock() // this goroutine holds nothing
		a.Unlock()
	}()
	<-done
	b.Unlock()
}
