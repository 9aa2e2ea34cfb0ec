package counter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/recipes/lock"
)

// AtomicValue is the outcome of an AtomicLong operation (Curator's
// AtomicValue and AtomicStats).
type AtomicValue struct {
	// Succeeded reports whether the operation changed the value (for
	// Get: whether it read it). An operation that returns an error did
	// not succeed, but CompareAndSet fails without an error when the value
	// differs from the expected one.
	Succeeded bool
	// PreValue is the value read before the (last) attempt; 0 for a node
	// that did not exist.
	PreValue int64
	// PostValue is the value written, if Succeeded.
	PostValue int64
	// OptimisticTries counts the optimistic attempts made, PromotedTries
	// the attempts made while holding the promoted lock.
	OptimisticTries, PromotedTries int
	// OptimisticTime and PromotedTime are the time spent in each mode.
	OptimisticTime, PromotedTime time.Duration
}

// AtomicOption configures an AtomicLong.
type AtomicOption func(*AtomicLong)

// WithRetryPolicy sets the policy that decides whether an optimistic
// attempt that lost a race against another writer is tried again, and after
// how long (default DefaultAtomicRetry). It is separate from the Conn's
// retry policy, which handles connection losses within each request.
func WithRetryPolicy(p client.RetryPolicy) AtomicOption {
	return func(a *AtomicLong) {
		if p != nil {
			a.retry = p
		}
	}
}

// WithPromotedLock turns on Curator's promoted-to-lock mode (PromotedToLock):
// when the optimistic attempts all lose, the operation takes a lock.Mutex
// at lockPath (Curator's InterProcessMutex layout) and tries again while
// holding it, as often as retry allows (nil: once, Curator's default
// RetryNTimes(0, 0)). A positive lockTimeout bounds the wait for the lock
// (Curator's timeout); the operation then fails with ErrContention.
func WithPromotedLock(lockPath string, retry client.RetryPolicy, lockTimeout time.Duration) AtomicOption {
	return func(a *AtomicLong) {
		if retry == nil {
			retry = client.NoRetry()
		}
		a.lockPath, a.lockRetry, a.lockTimeout = lockPath, retry, lockTimeout
	}
}

// DefaultAtomicRetry is the optimistic retry policy of an AtomicLong
// without WithRetryPolicy: up to 10 retries after exponential backoff
// from 10ms, each sleep at most 1s. (Curator has no default; it asks for
// a policy.)
func DefaultAtomicRetry() client.RetryPolicy {
	return client.BoundedExponentialBackoff(10*time.Millisecond, time.Second, 10)
}

// AtomicLong is a 64-bit counter in one znode, Curator's
// DistributedAtomicLong: the node holds the value as 8 bytes, big endian,
// and every change is a compare-and-set on the node's version, tried again
// under the retry policy when another writer got there first, and
// optionally under a lock (WithPromotedLock) when that keeps failing. A
// node that does not exist reads as 0 and is created by the first change
// (parents as containers). It starts no goroutine.
type AtomicLong struct {
	c           *client.Conn
	path        string
	retry       client.RetryPolicy
	lockPath    string
	lockRetry   client.RetryPolicy
	lockTimeout time.Duration
	mutex       *lock.Mutex // nil without WithPromotedLock
}

// NewAtomicLong returns the counter at path (Curator's
// DistributedAtomicLong(client, counterPath, retryPolicy[, promotedToLock])).
func NewAtomicLong(c *client.Conn, path string, opts ...AtomicOption) *AtomicLong {
	a := &AtomicLong{c: c, path: path, retry: DefaultAtomicRetry()}
	for _, o := range opts {
		o(a)
	}
	if a.lockPath != "" {
		a.mutex = lock.NewMutex(c, a.lockPath)
	}
	return a
}

func longBytes(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// longOf decodes a value as Curator does: no data is 0, otherwise the
// first 8 bytes, big endian; fewer than 8 bytes are corrupt.
func (a *AtomicLong) longOf(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if len(b) < 8 {
		return 0, fmt.Errorf("atomic long %s: %w: % x", a.path, ErrCorrupt, b)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// read returns the node's value and version; exists is false (value 0)
// if there is no node.
func (a *AtomicLong) read(ctx context.Context) (v int64, version int32, exists bool, err error) {
	data, st, err := a.c.Get(ctx, a.path)
	if errors.Is(err, client.ErrNoNode) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("atomic long %s: %w", a.path, err)
	}
	v, err = a.longOf(data)
	return v, st.Version, true, err
}

// Get returns the current value (0 if the node does not exist) as
// PreValue and PostValue.
func (a *AtomicLong) Get(ctx context.Context) (AtomicValue, error) {
	v, _, _, err := a.read(ctx)
	if err != nil {
		return AtomicValue{}, err
	}
	return AtomicValue{Succeeded: true, PreValue: v, PostValue: v}, nil
}

// ForceSet sets the value whatever it is, creating the node if needed,
// without any atomicity.
func (a *AtomicLong) ForceSet(ctx context.Context, v int64) error {
	b := longBytes(v)
	_, err := a.c.Set(ctx, a.path, b, -1)
	if errors.Is(err, client.ErrNoNode) {
		_, err = a.c.Create(ctx, a.path, b, client.WithParentsAsContainers())
		if errors.Is(err, client.ErrNodeExists) {
			_, err = a.c.Set(ctx, a.path, b, -1)
		}
	}
	if err != nil {
		return fmt.Errorf("atomic long %s: %w", a.path, err)
	}
	return nil
}

// Initialize creates the node with value v if it does not exist, and
// reports whether it did.
func (a *AtomicLong) Initialize(ctx context.Context, v int64) (bool, error) {
	_, err := a.c.Create(ctx, a.path, longBytes(v), client.WithParentsAsContainers())
	if errors.Is(err, client.ErrNodeExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("atomic long %s: %w", a.path, err)
	}
	return true, nil
}

// CompareAndSet sets the value to v if it is expected, in one attempt.
// It does not succeed, without an error, if the value differs, if the node
// does not exist, or if another writer changed it between the read and the
// write.
func (a *AtomicLong) CompareAndSet(ctx context.Context, expected, v int64) (AtomicValue, error) {
	data, st, err := a.c.Get(ctx, a.path)
	if errors.Is(err, client.ErrNoNode) {
		return AtomicValue{}, nil
	}
	if err != nil {
		return AtomicValue{}, fmt.Errorf("atomic long %s: %w", a.path, err)
	}
	pre, err := a.longOf(data)
	if err != nil {
		return AtomicValue{}, err
	}
	res := AtomicValue{PreValue: pre}
	// Curator compares the bytes: a value stored with trailing bytes
	// never matches.
	if len(data) != 8 || pre != expected {
		return res, nil
	}
	_, err = a.c.Set(ctx, a.path, longBytes(v), st.Version)
	switch {
	case err == nil:
		res.Succeeded, res.PostValue = true, v
	case errors.Is(err, client.ErrBadVersion), errors.Is(err, client.ErrNoNode):
	default:
		return res, fmt.Errorf("atomic long %s: %w", a.path, err)
	}
	return res, nil
}

// TrySet sets the value to v, atomically with respect to the other
// operations: an attempt fails only if another writer changed the node
// between its read and its write. When the retry policy (and the promoted
// lock, if any) gives up, it returns an error wrapping ErrContention.
func (a *AtomicLong) TrySet(ctx context.Context, v int64) (AtomicValue, error) {
	return a.apply(ctx, func(int64) int64 { return v })
}

// Add adds delta to the value (wrapping around on overflow, as Java's long
// does) and returns the value before and after. It retries as TrySet does.
func (a *AtomicLong) Add(ctx context.Context, delta int64) (AtomicValue, error) {
	return a.apply(ctx, func(pre int64) int64 { return pre + delta })
}

// Subtract subtracts delta from the value; see Add.
func (a *AtomicLong) Subtract(ctx context.Context, delta int64) (AtomicValue, error) {
	return a.Add(ctx, -delta)
}

// Increment adds 1 to the value; see Add.
func (a *AtomicLong) Increment(ctx context.Context) (AtomicValue, error) { return a.Add(ctx, 1) }

// Decrement subtracts 1 from the value; see Add.
func (a *AtomicLong) Decrement(ctx context.Context) (AtomicValue, error) { return a.Add(ctx, -1) }

// apply is Curator's DistributedAtomicValue.trySet(MakeValue): optimistic
// attempts under the retry policy, then, if configured, attempts while
// holding the promoted lock.
func (a *AtomicLong) apply(ctx context.Context, next func(int64) int64) (AtomicValue, error) {
	var res AtomicValue
	start := time.Now()
	ok, err := a.attempts(ctx, &res, &res.OptimisticTries, a.retry, next)
	res.OptimisticTime = time.Since(start)
	if err != nil || ok || a.mutex == nil {
		return a.result(res, ok, err)
	}
	start = time.Now()
	ok, err = a.promoted(ctx, &res, next)
	res.PromotedTime = time.Since(start)
	return a.result(res, ok, err)
}

func (a *AtomicLong) result(res AtomicValue, ok bool, err error) (AtomicValue, error) {
	if err != nil {
		return res, err
	}
	if !ok {
		return res, fmt.Errorf("atomic long %s: %w (%d optimistic, %d promoted tries)",
			a.path, ErrContention, res.OptimisticTries, res.PromotedTries)
	}
	res.Succeeded = true
	return res, nil
}

// promoted takes the promoted lock and makes attempts while holding it.
func (a *AtomicLong) promoted(ctx context.Context, res *AtomicValue, next func(int64) int64) (bool, error) {
	lctx := ctx
	if a.lockTimeout > 0 {
		var cancel context.CancelFunc
		lctx, cancel = context.WithTimeout(ctx, a.lockTimeout)
		defer cancel()
	}
	if err := a.mutex.Lock(lctx); err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return false, nil // the lock timeout passed: give up
		}
		return false, fmt.Errorf("atomic long %s: promoted lock: %w", a.path, err)
	}
	ok, err := a.attempts(ctx, res, &res.PromotedTries, a.lockRetry, next)
	if uerr := a.mutex.Unlock(context.WithoutCancel(ctx)); err == nil && uerr != nil && !ok {
		err = uerr
	}
	return ok, err
}

// attempts runs tryOnce until it succeeds or policy gives up, counting the
// tries in *tries.
func (a *AtomicLong) attempts(ctx context.Context, res *AtomicValue, tries *int, policy client.RetryPolicy, next func(int64) int64) (bool, error) {
	start := time.Now()
	for retries := 0; ; retries++ {
		*tries++
		ok, err := a.tryOnce(ctx, res, next)
		if err != nil || ok {
			return ok, err
		}
		sleep, again := policy.Next(retries, time.Since(start))
		if !again {
			return false, nil
		}
		if err := sleepCtx(ctx, sleep); err != nil {
			return false, fmt.Errorf("atomic long %s: %w", a.path, err)
		}
	}
}

// tryOnce reads the value and writes next(value) over the version read,
// creating the node if there was none. It reports false if another writer
// got there first.
func (a *AtomicLong) tryOnce(ctx context.Context, res *AtomicValue, next func(int64) int64) (bool, error) {
	pre, version, exists, err := a.read(ctx)
	if err != nil {
		return false, err
	}
	res.PreValue = pre
	post := next(pre)
	if exists {
		_, err = a.c.Set(ctx, a.path, longBytes(post), version)
	} else {
		_, err = a.c.Create(ctx, a.path, longBytes(post), client.WithParentsAsContainers())
	}
	switch {
	case err == nil:
		res.PostValue = post
		return true, nil
	case errors.Is(err, client.ErrBadVersion), errors.Is(err, client.ErrNodeExists), errors.Is(err, client.ErrNoNode):
		return false, nil
	}
	return false, fmt.Errorf("atomic long %s: %w", a.path, err)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
