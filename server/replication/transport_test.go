package replication

import (
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// recordingTransport is an inner transport that records whether a heartbeat
// handler reached it; every other method panics (nil embedded interface).
type recordingTransport struct {
	raftTransport
	handlers int
}

func (r *recordingTransport) SetHeartbeatHandler(func(raft.RPC)) { r.handlers++ }
func (r *recordingTransport) LocalAddr() raft.ServerAddress      { return "inner" }

func TestNoHeartbeatFastPathDropsHandler(t *testing.T) {
	inner := &recordingTransport{}
	var tr raft.Transport = noHeartbeatFastPath{raftTransport: inner}
	tr.SetHeartbeatHandler(func(raft.RPC) { t.Error("fast-path heartbeat handler called") })
	if inner.handlers != 0 {
		t.Fatal("SetHeartbeatHandler reached the inner transport: the #695 fast path is enabled")
	}
	if tr.LocalAddr() != "inner" {
		t.Fatal("other methods must reach the inner transport")
	}
	if _, ok := tr.(raft.WithPreVote); !ok {
		t.Fatal("wrapper hides pre-vote support")
	}
	if _, ok := tr.(raft.WithClose); !ok {
		t.Fatal("wrapper hides Close: raft would not close the transport")
	}
}

// TestHeartbeatFastPathDisabled checks the transports Open really runs: both
// are wrapped, and raft's handler never reached the TCP transport (raft
// installs it in NewRaft).
func TestHeartbeatFastPathDisabled(t *testing.T) {
	standalone := open(t, standaloneConfig(t), &listFSM{})
	if _, ok := standalone.trans.raftTransport.(*raft.InmemTransport); !ok {
		t.Fatalf("standalone transport is %T, want a wrapped *raft.InmemTransport", standalone.trans.raftTransport)
	}

	cfg := standaloneConfig(t)
	cfg.Listener = listen(t)
	networked := open(t, cfg, &listFSM{})
	waitReady(t, networked)
	nt, ok := networked.trans.raftTransport.(*raft.NetworkTransport)
	if !ok {
		t.Fatalf("networked transport is %T, want a wrapped *raft.NetworkTransport", networked.trans.raftTransport)
	}
	fn := reflect.ValueOf(nt).Elem().FieldByName("heartbeatFn")
	if !fn.IsValid() {
		t.Fatal("raft.NetworkTransport has no heartbeatFn field any more: re-check hashicorp/raft#695 and this test")
	}
	if !fn.IsNil() {
		t.Fatal("raft installed a heartbeat fast-path handler on the TCP transport (hashicorp/raft#695)")
	}
	if networked.Address() != cfg.Listener.Addr().String() {
		t.Fatalf("Address = %s, want %s", networked.Address(), cfg.Listener.Addr())
	}
}

// TestNoPipelinedReplication checks that the TCP transport Open builds
// refuses pipelines, so that raft replicates with one request at a time
// (see newTransport).
func TestNoPipelinedReplication(t *testing.T) {
	cfg := Config{ID: "1", DataDir: t.TempDir(), Listener: listen(t), Logger: testLogger(t)}
	if err := cfg.setDefaults(); err != nil {
		t.Fatal(err)
	}
	tr, _, err := newTransport(&cfg, newHclogAdapter(cfg.Logger))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.AppendEntriesPipeline("2", "127.0.0.1:1"); !errors.Is(err, raft.ErrPipelineReplicationNotSupported) {
		t.Fatalf("AppendEntriesPipeline: %v, want ErrPipelineReplicationNotSupported", err)
	}
}

// TestDialWaitsForARestartingPeer checks that a dial to a peer that refuses
// connections keeps trying until the peer listens (so that raft's backoff
// after failed RPCs does not delay a restarted follower), and that
// stopDialing ends such a dial at once.
func TestDialWaitsForARestartingPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the peer is down: connections are refused

	s := &tcpStream{quit: make(chan struct{})}
	dialed := make(chan error, 1)
	go func() {
		c, err := s.Dial(raft.ServerAddress(addr), time.Minute)
		if err == nil {
			c.Close()
		}
		dialed <- err
	}()
	// The peer comes back on the same port.
	var back net.Listener
	for deadline := time.Now().Add(10 * time.Second); back == nil; {
		if back, err = net.Listen("tcp", addr); err != nil {
			if time.Now().After(deadline) {
				t.Skipf("port %s not free again: %v", addr, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	defer back.Close()
	select {
	case err := <-dialed:
		if err != nil {
			t.Fatalf("dial to the restarted peer: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dial did not connect once the peer listened again")
	}

	back.Close()
	go func() {
		_, err := s.Dial(raft.ServerAddress(addr), time.Minute)
		dialed <- err
	}()
	noHeartbeatFastPath{stream: s}.stopDialing()
	select {
	case err := <-dialed:
		if err == nil {
			t.Fatal("dial to a down peer succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stopDialing did not end a dial waiting for a down peer")
	}
}
