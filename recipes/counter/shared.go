package counter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/zkgo/zkgo/client"
)

// Versioned is a value with the version and modification zxid of the node
// it was read from or written to (Curator's VersionedValue). TrySetValue
// and TrySetCount take one to say which value they expect to replace.
type Versioned[T any] struct {
	Value   T
	Version int32 // the node's data version
	Zxid    int64 // the node's mzxid: later changes have larger ones
}

// SharedValue is a value in one znode that processes share, Curator's
// SharedValue: each keeps a copy that a watch brings up to date, and may
// set the value unconditionally or only over the version it has seen.
//
// Start creates the node with the seed value if it does not exist and
// starts one goroutine that follows the node; Close stops it.
type SharedValue struct {
	c    *client.Conn
	path string
	seed []byte

	mu        sync.Mutex
	cur       Versioned[[]byte]    // guarded by mu
	notified  int64                // guarded by mu: zxid of the value last given to listeners
	state     int                  // guarded by mu: latent, started, closed
	listeners map[int]func([]byte) // guarded by mu
	order     []int                // guarded by mu: listener ids in registration order
	nextID    int                  // guarded by mu

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const (
	latent = iota
	started
	closed
)

// NewSharedValue returns the shared value at path, seeded with seed if the
// node does not exist when Start creates it (Curator's SharedValue(client,
// path, seedValue)).
func NewSharedValue(c *client.Conn, path string, seed []byte) *SharedValue {
	seed = nonNil(seed)
	return &SharedValue{c: c, path: path, seed: seed, cur: Versioned[[]byte]{Value: seed, Version: -1, Zxid: -1}}
}

// nonNil returns b, or an empty slice for nil: Curator writes empty
// values as empty, never as null.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return bytes.Clone(b)
}

// Start creates the node with the seed value (and missing parents as
// containers) unless it exists, reads the value and starts following it.
// It fails with ErrStarted if called twice.
func (s *SharedValue) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.state != latent {
		s.mu.Unlock()
		return fmt.Errorf("shared value %s: %w", s.path, ErrStarted)
	}
	s.state = started
	s.mu.Unlock()
	_, err := s.c.Create(ctx, s.path, s.seed, client.WithParentsAsContainers())
	if err != nil && !errors.Is(err, client.ErrNodeExists) {
		s.stop()
		return fmt.Errorf("shared value %s: %w", s.path, err)
	}
	data, st, changed, err := s.c.GetW(ctx, s.path)
	if err != nil {
		s.stop()
		return fmt.Errorf("shared value %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.updateLocked(st.Mzxid, st.Version, data)
	s.notified = s.cur.Zxid
	s.mu.Unlock()
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.follow(wctx, changed)
	return nil
}

// stop marks a failed Start: the value is closed.
func (s *SharedValue) stop() {
	s.mu.Lock()
	s.state = closed
	s.mu.Unlock()
}

// Close stops following the node and drops the listeners. The value keeps
// its last copy, but cannot be set any more.
func (s *SharedValue) Close() error {
	s.mu.Lock()
	s.state = closed
	s.listeners, s.order = nil, nil
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		s.wg.Wait()
	}
	return nil
}

// Value returns a copy of the value as last seen.
func (s *SharedValue) Value() []byte { return s.Versioned().Value }

// Versioned returns the value as last seen with its version, to pass to
// TrySetValue.
func (s *SharedValue) Versioned() Versioned[[]byte] {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.cur
	v.Value = bytes.Clone(v.Value)
	return v
}

func (s *SharedValue) checkStarted() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != started {
		return fmt.Errorf("shared value %s: %w", s.path, ErrNotStarted)
	}
	return nil
}

// SetValue sets the value whatever it is now. The node must exist.
func (s *SharedValue) SetValue(ctx context.Context, v []byte) error {
	if err := s.checkStarted(); err != nil {
		return err
	}
	v = nonNil(v)
	st, err := s.c.Set(ctx, s.path, v, -1)
	if err != nil {
		return fmt.Errorf("shared value %s: %w", s.path, err)
	}
	s.update(st.Mzxid, st.Version, v)
	return nil
}

// TrySetValue sets the value to v only if the node still holds prev, the
// value this SharedValue last saw (from Versioned). It reports false,
// without an error, if prev is not the latest value seen or if the node
// changed since; the latest value is then read, for Versioned to return.
// If prev's version is -1 (the version counter of the node wrapped around)
// it fails with ErrVersionOverflow.
func (s *SharedValue) TrySetValue(ctx context.Context, prev Versioned[[]byte], v []byte) (bool, error) {
	if err := s.checkStarted(); err != nil {
		return false, err
	}
	cur := s.Versioned()
	if prev.Zxid != cur.Zxid || !bytes.Equal(prev.Value, cur.Value) {
		return false, nil
	}
	if prev.Version == -1 {
		return false, fmt.Errorf("shared value %s: %w", s.path, ErrVersionOverflow)
	}
	v = nonNil(v)
	st, err := s.c.Set(ctx, s.path, v, prev.Version)
	if err == nil {
		s.update(st.Mzxid, st.Version, v)
		return true, nil
	}
	if !errors.Is(err, client.ErrBadVersion) {
		return false, fmt.Errorf("shared value %s: %w", s.path, err)
	}
	data, st, err := s.c.Get(ctx, s.path)
	if err != nil {
		return false, fmt.Errorf("shared value %s: %w", s.path, err)
	}
	s.update(st.Mzxid, st.Version, data)
	return false, nil
}

// AddListener registers fn to be called with each new value seen: changes
// by anyone (this process included), reported in order on the
// SharedValue's goroutine. A quick succession of changes may be reported
// as its last value only. fn must not block for long; it may call the
// SharedValue's methods. The returned function unregisters fn.
func (s *SharedValue) AddListener(fn func(value []byte)) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listeners == nil {
		s.listeners = make(map[int]func([]byte))
	}
	id := s.nextID
	s.nextID++
	s.listeners[id] = fn
	s.order = append(s.order, id)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.listeners, id)
		if i := slices.Index(s.order, id); i >= 0 {
			s.order = slices.Delete(s.order, i, i+1)
		}
	}
}

// update keeps a value if it is newer than the one held (Curator's
// updateValue: by modification zxid, so that an older read never
// replaces a newer write).
func (s *SharedValue) update(zxid int64, version int32, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateLocked(zxid, version, data)
}

func (s *SharedValue) updateLocked(zxid int64, version int32, data []byte) {
	if zxid > s.cur.Zxid {
		s.cur = Versioned[[]byte]{Value: nonNil(data), Version: version, Zxid: zxid}
	}
}

// follow is the SharedValue's goroutine: it reads the node again after each
// change and tells the listeners about values they have not seen. If the
// node is deleted it waits for it to be created again; if the session is
// lost it reads again on the new one.
func (s *SharedValue) follow(ctx context.Context, changed <-chan client.Event) {
	defer s.wg.Done()
	kick := make(chan struct{}, 1)
	remove := s.c.AddListener(func(st client.State) {
		if st.IsConnected() {
			select {
			case kick <- struct{}{}:
			default:
			}
		}
	})
	defer remove()
	for {
		if changed != nil {
			select {
			case e := <-changed:
				if errors.Is(e.Err, client.ErrClosed) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
		data, st, ch, err := s.c.GetW(ctx, s.path)
		if errors.Is(err, client.ErrNoNode) {
			// getData sets no watch on a missing node: wait for it to
			// be created.
			var est *client.Stat
			est, ch, err = s.c.ExistsW(ctx, s.path)
			if err == nil && est != nil {
				changed = nil // created meanwhile: read it at once
				continue
			}
		}
		switch {
		case ctx.Err() != nil || errors.Is(err, client.ErrClosed):
			return
		case err != nil:
			// Still no connection after the Conn's retries: try again
			// once it is connected.
			select {
			case <-kick:
				changed = nil
				continue
			case <-ctx.Done():
				return
			}
		}
		changed = ch
		if st != nil {
			s.update(st.Mzxid, st.Version, data)
			s.notify()
		}
	}
}

// notify calls the listeners with the current value if they have not seen
// it.
func (s *SharedValue) notify() {
	s.mu.Lock()
	if s.cur.Zxid <= s.notified || s.state != started {
		s.mu.Unlock()
		return
	}
	s.notified = s.cur.Zxid
	v := s.cur.Value
	ids := slices.Clone(s.order)
	s.mu.Unlock()
	for _, id := range ids {
		s.mu.Lock()
		fn := s.listeners[id]
		s.mu.Unlock()
		if fn != nil {
			fn(bytes.Clone(v))
		}
	}
}

// SharedCount is a 32-bit integer that processes share, Curator's
// SharedCount: a SharedValue whose node holds the count as 4 bytes, big
// endian. Start and Close it as a SharedValue.
type SharedCount struct {
	v *SharedValue
}

// NewSharedCount returns the shared count at path, seeded with seed if the
// node does not exist when Start creates it (Curator's SharedCount(client,
// path, seedValue)).
func NewSharedCount(c *client.Conn, path string, seed int32) *SharedCount {
	return &SharedCount{v: NewSharedValue(c, path, countBytes(seed))}
}

func countBytes(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// countOf decodes a count as Curator does (ByteBuffer.getInt: the first 4
// bytes, big endian); data shorter than that reads as 0.
func countOf(b []byte) int32 {
	if len(b) < 4 {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Start creates the node with the seed count unless it exists, reads the
// count and starts following it. It fails with an error wrapping
// ErrCorrupt if the node holds fewer than 4 bytes.
func (s *SharedCount) Start(ctx context.Context) error {
	if err := s.v.Start(ctx); err != nil {
		return err
	}
	if b := s.v.Value(); len(b) < 4 {
		s.v.Close()
		return fmt.Errorf("shared count %s: %w: % x", s.v.path, ErrCorrupt, b)
	}
	return nil
}

// Close stops following the node.
func (s *SharedCount) Close() error { return s.v.Close() }

// Count returns the count as last seen.
func (s *SharedCount) Count() int32 { return countOf(s.v.Value()) }

// VersionedCount returns the count as last seen with its version, to pass
// to TrySetCount.
func (s *SharedCount) VersionedCount() Versioned[int32] {
	v := s.v.Versioned()
	return Versioned[int32]{Value: countOf(v.Value), Version: v.Version, Zxid: v.Zxid}
}

// SetCount sets the count whatever it is now.
func (s *SharedCount) SetCount(ctx context.Context, n int32) error {
	return s.v.SetValue(ctx, countBytes(n))
}

// TrySetCount sets the count to n only if the node still holds prev (see
// SharedValue.TrySetValue). It reports false if the count changed; call
// VersionedCount for the latest and try again.
func (s *SharedCount) TrySetCount(ctx context.Context, prev Versioned[int32], n int32) (bool, error) {
	p := Versioned[[]byte]{Value: countBytes(prev.Value), Version: prev.Version, Zxid: prev.Zxid}
	return s.v.TrySetValue(ctx, p, countBytes(n))
}

// AddListener registers fn to be called with each new count seen (see
// SharedValue.AddListener). The returned function unregisters fn.
func (s *SharedCount) AddListener(fn func(count int32)) (remove func()) {
	return s.v.AddListener(func(b []byte) { fn(countOf(b)) })
}
