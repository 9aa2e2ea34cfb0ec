package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy decides whether an operation that failed with a retryable
// error is tried again, and after how long. The Conn applies its policy
// around every operation, Curator's RetryLoop style: only ErrConnectionLoss,
// ErrOperationTimeout and ErrSessionMoved are retried (see IsRetryable);
// session expiry and application errors (ErrNoNode, ErrBadVersion, ...) are
// returned at once. Sleeps end early when the operation's context is done.
//
// Implementations must be safe for concurrent use.
type RetryPolicy interface {
	// Next is called after the retries-th retry (0 after the first attempt)
	// failed, elapsed after the first attempt started. It returns the pause
	// before the next attempt, or ok=false to give up.
	Next(retries int, elapsed time.Duration) (sleep time.Duration, ok bool)
}

// RetryFunc adapts a function to RetryPolicy.
type RetryFunc func(retries int, elapsed time.Duration) (time.Duration, bool)

// Next implements RetryPolicy.
func (f RetryFunc) Next(retries int, elapsed time.Duration) (time.Duration, bool) {
	return f(retries, elapsed)
}

// IsRetryable reports whether err is one a RetryPolicy applies to: a lost
// connection, an operation timeout or a session moved to another server.
func IsRetryable(err error) bool {
	return errors.Is(err, ErrConnectionLoss) || errors.Is(err, ErrOperationTimeout) ||
		errors.Is(err, ErrSessionMoved)
}

// maxExponentialRetries caps the retry count of the exponential policies so
// that the shift below cannot overflow (Curator's MAX_RETRIES_LIMIT).
const maxExponentialRetries = 29

type exponential struct {
	base, maxSleep time.Duration
	maxRetries     int
}

func (p exponential) Next(retries int, _ time.Duration) (time.Duration, bool) {
	if retries >= p.maxRetries {
		return 0, false
	}
	// base × random in [1, 2^(retries+1)), as Curator (from Hadoop) does.
	d := p.base * time.Duration(max(1, rand.IntN(1<<(retries+1))))
	if p.maxSleep > 0 && d > p.maxSleep {
		d = p.maxSleep
	}
	return d, true
}

// ExponentialBackoff retries up to maxRetries times (at most 29), sleeping
// base × a random number in [1, 2^(n+1)) before retry n (0-based), capped at
// maxSleep when maxSleep > 0 (Curator's ExponentialBackoffRetry).
func ExponentialBackoff(base time.Duration, maxRetries int, maxSleep time.Duration) RetryPolicy {
	return exponential{base: base, maxSleep: maxSleep, maxRetries: min(max(maxRetries, 0), maxExponentialRetries)}
}

// BoundedExponentialBackoff is ExponentialBackoff with a mandatory cap on a
// single sleep (Curator's BoundedExponentialBackoffRetry).
func BoundedExponentialBackoff(base, maxSleep time.Duration, maxRetries int) RetryPolicy {
	if maxSleep <= 0 {
		maxSleep = base
	}
	return ExponentialBackoff(base, maxRetries, maxSleep)
}

// NTimes retries up to n times, sleeping the same time before each retry
// (Curator's RetryNTimes).
func NTimes(n int, sleep time.Duration) RetryPolicy {
	return RetryFunc(func(retries int, _ time.Duration) (time.Duration, bool) {
		return sleep, retries < n
	})
}

// OneTime retries once after sleep (Curator's RetryOneTime).
func OneTime(sleep time.Duration) RetryPolicy { return NTimes(1, sleep) }

// Forever retries without limit, sleeping the same time before each retry
// (Curator's RetryForever). The operation's context still bounds it.
func Forever(sleep time.Duration) RetryPolicy {
	return RetryFunc(func(int, time.Duration) (time.Duration, bool) { return sleep, true })
}

// UntilElapsed retries while less than max has passed since the first
// attempt started, sleeping the same time before each retry (Curator's
// RetryUntilElapsed).
func UntilElapsed(max, sleep time.Duration) RetryPolicy {
	return RetryFunc(func(_ int, elapsed time.Duration) (time.Duration, bool) {
		return sleep, elapsed < max
	})
}

// NoRetry never retries.
func NoRetry() RetryPolicy { return NTimes(0, 0) }

// clock is the time source of retry loops; tests substitute a fake one.
type clock interface {
	Now() time.Time
	// Sleep pauses for d or until ctx is done, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
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

// retryLoop runs fn until it succeeds, fails with an error that is not
// retryable, or the policy gives up; fn receives the attempt number (0 for
// the first). The last error is returned; if ctx ends during a sleep, the
// result wraps both the last error and ctx's error.
func retryLoop(ctx context.Context, p RetryPolicy, clk clock, fn func(attempt int) error) error {
	start := clk.Now()
	for attempt := 0; ; attempt++ {
		err := fn(attempt)
		if err == nil || !IsRetryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		sleep, ok := p.Next(attempt, clk.Now().Sub(start))
		if !ok {
			return err
		}
		if cerr := clk.Sleep(ctx, sleep); cerr != nil {
			return fmt.Errorf("%w (retry abandoned: %w)", err, cerr)
		}
	}
}
