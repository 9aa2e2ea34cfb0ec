package jepsen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"
)

// keyPath is the znode of key k.
func keyPath(k int) string { return "/jepsen/k" + strconv.Itoa(k) }

// keySpace hands out keys by time, as Jepsen's independent keys do: in each
// period of life the workload uses perPeriod fresh keys. The checker's work
// grows steeply with the number of operations on one key, above all with
// operations whose outcome is unknown (they stay open to the end of the
// history); fresh keys bound both, whatever the run's length.
type keySpace struct {
	start     time.Time
	life      time.Duration
	perPeriod int
	periods   int // keys [0, perPeriod*periods) exist; the last period lasts to the end
}

// total returns the number of keys.
func (ks keySpace) total() int { return ks.perPeriod * ks.periods }

// pick returns one of the current period's keys.
func (ks keySpace) pick(rng *rand.Rand) int {
	period := min(int(time.Since(ks.start)/ks.life), ks.periods-1)
	return period*ks.perPeriod + rng.IntN(ks.perPeriod)
}

// recorder collects the history of every client. Its methods are safe for
// concurrent use.
type recorder struct {
	start time.Time

	mu      sync.Mutex
	ops     []porcupine.Operation // guarded by mu
	clients int                   // porcupine client ids handed out; guarded by mu
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

// now returns the time since the recording started, from the monotonic
// clock, in nanoseconds.
func (r *recorder) now() int64 { return int64(time.Since(r.start)) }

// newClient returns a fresh porcupine client id. A worker takes a new one
// after an operation with an unknown outcome, which stays open to the end
// of the history, as Jepsen gives a crashed process a new identity.
func (r *recorder) newClient() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients++
	return r.clients - 1
}

// add records an operation that returned at ret, or unknownReturn.
func (r *recorder) add(client int, call, ret int64, in input, out output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// history returns a copy of the operations recorded so far.
func (r *recorder) history() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]porcupine.Operation(nil), r.ops...)
}

// stats counts a history's operations by kind and outcome.
type stats struct {
	reads, writes, cas  int // acknowledged (for CAS: applied)
	casRefused, unknown int
	ackedWrites         int // writes and CAS applied with an acknowledgement
}

func statsOf(history []porcupine.Operation) stats {
	var s stats
	for _, op := range history {
		in, out := op.Input.(input), op.Output.(output)
		switch {
		case out.unknown:
			s.unknown++
		case in.kind == opRead:
			s.reads++
		case in.kind == opWrite:
			s.writes++
		case out.badVersion:
			s.casRefused++
		default:
			s.cas++
		}
	}
	s.ackedWrites = s.writes + s.cas
	return s
}

func (s stats) String() string {
	return fmt.Sprintf("%d reads, %d writes, %d CAS applied, %d CAS refused, %d unknown outcomes",
		s.reads, s.writes, s.cas, s.casRefused, s.unknown)
}

// errUnexpected marks a server reply the workload never provokes (e.g. a
// key that does not exist): a bug, not a fault.
var errUnexpected = errors.New("unexpected reply")

// worker is one client session issuing operations one at a time.
type worker struct {
	id     int
	conn   *zk.Conn
	rng    *rand.Rand
	rec    *recorder
	keys   keySpace
	client int // porcupine client id
	seq    int // values written so far
}

// run issues operations until stop is closed, and returns the first
// unexpected reply, if any. Closing the connection ends a blocked
// operation with an unknown outcome.
func (w *worker) run(stop <-chan struct{}) error {
	w.client = w.rec.newClient()
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := w.step(); err != nil {
			return err
		}
	}
}

// step issues one random operation on a random key.
func (w *worker) step() error {
	k := w.keys.pick(w.rng)
	path := keyPath(k)
	switch r := w.rng.IntN(10); {
	case r < 4:
		// A read is linearizable only after sync on the same session.
		// A read that fails had no effect: it is not recorded.
		// A read that straddles a new session (go-zookeeper opens one
		// after an expiry) is not after a sync on its session either.
		session := w.conn.SessionID()
		call := w.rec.now()
		if _, err := w.conn.Sync(path); err != nil {
			return w.unexpected(err)
		}
		data, st, err := w.conn.Get(path)
		if err != nil {
			return w.unexpected(err)
		}
		if w.conn.SessionID() != session {
			return nil
		}
		v, err := strconv.Atoi(string(data))
		if err != nil {
			return fmt.Errorf("%w: %s holds %q", errUnexpected, path, data)
		}
		w.rec.add(w.client, call, w.rec.now(), input{kind: opRead, key: k}, output{value: v, version: st.Version})
	case r < 7:
		in := input{kind: opWrite, key: k, value: w.nextValue()}
		call := w.rec.now()
		st, err := w.conn.Set(path, []byte(strconv.Itoa(in.value)), -1)
		return w.record(call, in, st, err)
	default:
		// Expect the version this session last saw: concurrent writers
		// make some of these CAS fail, as they should.
		_, st, err := w.conn.Get(path)
		if err != nil {
			return w.unexpected(err)
		}
		in := input{kind: opCAS, key: k, version: st.Version, value: w.nextValue()}
		call := w.rec.now()
		st, err = w.conn.Set(path, []byte(strconv.Itoa(in.value)), in.version)
		return w.record(call, in, st, err)
	}
	return nil
}

// nextValue returns a value no other operation writes.
func (w *worker) nextValue() int {
	w.seq++
	return w.id*1_000_000 + w.seq
}

// record records a setData's outcome.
func (w *worker) record(call int64, in input, st *zk.Stat, err error) error {
	switch {
	case err == nil:
		w.rec.add(w.client, call, w.rec.now(), in, output{version: st.Version})
	case errors.Is(err, zk.ErrBadVersion) && in.kind == opCAS:
		w.rec.add(w.client, call, w.rec.now(), in, output{badVersion: true})
	default:
		if uerr := w.unexpected(err); uerr != nil {
			return uerr
		}
		// The request may have been applied before the connection was
		// lost: its outcome stays open to the end of the history.
		w.rec.add(w.client, call, unknownReturn, in, output{unknown: true})
		w.client = w.rec.newClient()
	}
	return nil
}

// unexpected returns err wrapped in errUnexpected if it is a server reply
// that faults cannot explain, and nil for connection and session failures.
func (w *worker) unexpected(err error) error {
	switch {
	case err == nil,
		errors.Is(err, zk.ErrConnectionClosed), errors.Is(err, zk.ErrSessionExpired),
		errors.Is(err, zk.ErrClosing), errors.Is(err, zk.ErrNoServer),
		errors.Is(err, zk.ErrSessionMoved):
		return nil
	}
	return fmt.Errorf("%w: client %d: %w", errUnexpected, w.id, err)
}

// rotated is a zk.HostProvider that tries the servers in address order
// from the start-th, so that clients can be spread over every server
// (go-zookeeper's default provider shuffles them).
type rotated struct {
	start int

	mu      sync.Mutex
	servers []string // guarded by mu
	next    int      // guarded by mu
	tried   int      // servers tried since the last connection; guarded by mu
}

// Init implements zk.HostProvider.
func (r *rotated) Init(servers []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.servers = append([]string(nil), servers...)
	sort.Strings(r.servers)
	r.next = r.start % len(r.servers)
	return nil
}

// Len implements zk.HostProvider.
func (r *rotated) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.servers)
}

// Next implements zk.HostProvider.
func (r *rotated) Next() (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.servers[r.next]
	r.next = (r.next + 1) % len(r.servers)
	r.tried++
	retryStart := r.tried >= len(r.servers)
	if retryStart {
		r.tried = 0
	}
	return s, retryStart
}

// Connected implements zk.HostProvider.
func (r *rotated) Connected() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tried = 0
}

// nopLogger silences go-zookeeper, which logs every reconnection.
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
