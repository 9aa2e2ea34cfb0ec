package counter

import "errors"

// Errors of this package; wrapped errors are matched with errors.Is.
var (
	// ErrContention is returned by AtomicLong operations when every
	// attempt lost a race against another writer and the retry policy
	// (and the promoted lock, if any) gave up. The value was not changed.
	ErrContention = errors.New("counter: gave up after losing to other writers")
	// ErrCorrupt is returned when a node does not hold what the recipe
	// writes: fewer than 8 bytes for an AtomicLong, fewer than 4 for a
	// SharedCount.
	ErrCorrupt = errors.New("counter: corrupt value")
	// ErrNotStarted is returned by SharedValue and SharedCount methods
	// that write before Start or after Close.
	ErrNotStarted = errors.New("counter: not started")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("counter: already started")
	// ErrVersionOverflow is returned by TrySetValue and TrySetCount when
	// the node's version counter wrapped around to -1, which a versioned
	// write cannot name (Curator's IllegalTrySetVersionException).
	ErrVersionOverflow = errors.New("counter: node version overflowed")
)
