package replication

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// FSM is the replicated state machine; the server implements it.
type FSM interface {
	// Apply applies one committed command. Calls come in log order on one
	// goroutine; index is the command's raft log index. Apply must be
	// deterministic and must neither keep nor modify cmd. It must not call
	// Node methods that wait for replication (Propose, Barrier, ...). Its
	// result is what ProposeWait returns on the node that proposed it.
	Apply(index uint64, cmd []byte) any
	// Snapshot captures a point-in-time view of the state. It runs on the
	// Apply goroutine, so it must be fast (O(1) for a persistent tree).
	Snapshot() (Snapshot, error)
	// Restore replaces the whole state with one read from r, written earlier
	// by Snapshot.Persist. It is never called concurrently with Apply.
	Restore(r io.Reader) error
}

// Snapshot is a view captured by FSM.Snapshot.
type Snapshot interface {
	// Persist writes the view to w. It runs concurrently with FSM.Apply.
	Persist(w io.Writer) error
	// Release is called once the snapshot is no longer needed, whether or
	// not Persist ran.
	Release()
}

// snapshotMagic starts every snapshot stream, followed by the index of the
// last command the snapshot contains. The index lets AppliedIndex stay exact
// after a restore, which FSM.Restore alone cannot tell.
const snapshotMagic = "zkgoRS01"

const snapshotHeaderLen = len(snapshotMagic) + 8

// fsmAdapter turns the server's FSM into a raft.BatchingFSM and keeps the
// index of the last entry applied.
type fsmAdapter struct {
	fsm     FSM
	applied atomic.Uint64
	waiters appliedWaiters
}

var _ raft.BatchingFSM = (*fsmAdapter)(nil)

// ApplyBatch is raft's entry point; raft sends only command and
// configuration entries, in log order.
func (a *fsmAdapter) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	for i, l := range logs {
		out[i] = a.apply(l)
	}
	if len(logs) > 0 {
		a.waiters.advance(logs[len(logs)-1].Index)
	}
	return out
}

// Apply applies one entry (raft uses ApplyBatch).
func (a *fsmAdapter) Apply(l *raft.Log) any {
	r := a.apply(l)
	a.waiters.advance(l.Index)
	return r
}

// apply applies one entry; configuration entries are raft's business and
// only advance the applied index.
func (a *fsmAdapter) apply(l *raft.Log) any {
	var r any
	if l.Type == raft.LogCommand {
		r = a.fsm.Apply(l.Index, l.Data)
	}
	a.applied.Store(l.Index)
	return r
}

func (a *fsmAdapter) Snapshot() (raft.FSMSnapshot, error) {
	s, err := a.fsm.Snapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{snap: s, index: a.applied.Load()}, nil
}

// Restore is called by raft when a leader installs a snapshot here.
func (a *fsmAdapter) Restore(rc io.ReadCloser) error {
	return a.restore(rc)
}

func (a *fsmAdapter) restore(r io.Reader) error {
	var hdr [snapshotHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("%w: snapshot header: %w", ErrCorrupt, err)
	}
	if string(hdr[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: snapshot header: bad magic %q", ErrCorrupt, hdr[:len(snapshotMagic)])
	}
	if err := a.fsm.Restore(r); err != nil {
		return fmt.Errorf("FSM.Restore: %w", err)
	}
	index := binary.BigEndian.Uint64(hdr[len(snapshotMagic):])
	a.applied.Store(index)
	a.waiters.advance(index)
	return nil
}

type fsmSnapshot struct {
	snap  Snapshot
	index uint64
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	var hdr [snapshotHeaderLen]byte
	copy(hdr[:], snapshotMagic)
	binary.BigEndian.PutUint64(hdr[len(snapshotMagic):], s.index)
	if _, err := sink.Write(hdr[:]); err != nil {
		_ = sink.Cancel()
		return err
	}
	if err := s.snap.Persist(sink); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.snap.Release() }
