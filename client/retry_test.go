package client

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// fakeClock records sleeps and advances time by them instead of waiting.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
	// onSleep, if set, runs at each sleep (for example to cancel a context).
	onSleep func()
}

func (f *fakeClock) Now() time.Time { return f.now }

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.sleeps = append(f.sleeps, d)
	if f.onSleep != nil {
		f.onSleep()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.now = f.now.Add(d)
	return nil
}

func TestRetryableErrors(t *testing.T) {
	for _, err := range []error{ErrConnectionLoss, ErrOperationTimeout, ErrSessionMoved,
		&OpError{Op: "create", Path: "/a", Err: ErrConnectionLoss}} {
		if !IsRetryable(err) {
			t.Errorf("IsRetryable(%v) = false", err)
		}
	}
	for _, err := range []error{ErrSessionExpired, ErrNoNode, ErrNodeExists, ErrBadVersion, ErrNoAuth,
		ErrClosed, context.Canceled, errors.New("other")} {
		if IsRetryable(err) {
			t.Errorf("IsRetryable(%v) = true", err)
		}
	}
}

func TestRetryLoopRetriesOnlyRetryable(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		errs      []error // returned by successive attempts, then nil
		policy    RetryPolicy
		attempts  int
		wantErr   error
		wantSleep []time.Duration
	}{
		{"success", nil, NTimes(3, time.Second), 1, nil, nil},
		{"recovers", []error{ErrConnectionLoss, ErrOperationTimeout}, NTimes(3, time.Second), 3, nil,
			[]time.Duration{time.Second, time.Second}},
		{"gives up", []error{ErrConnectionLoss, ErrConnectionLoss, ErrConnectionLoss}, NTimes(2, 5*time.Millisecond),
			3, ErrConnectionLoss, []time.Duration{5 * time.Millisecond, 5 * time.Millisecond}},
		{"expiry not retried", []error{ErrSessionExpired}, Forever(time.Second), 1, ErrSessionExpired, nil},
		{"app error not retried", []error{ErrNoNode}, Forever(time.Second), 1, ErrNoNode, nil},
		{"session moved retried", []error{ErrSessionMoved}, OneTime(time.Second), 2, nil, []time.Duration{time.Second}},
		{"no retry", []error{ErrConnectionLoss}, NoRetry(), 1, ErrConnectionLoss, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1000, 0)}
			attempts := 0
			err := retryLoop(ctx, tt.policy, clk, func(attempt int) error {
				if attempt != attempts {
					t.Errorf("attempt number %d, want %d", attempt, attempts)
				}
				attempts++
				if attempt < len(tt.errs) {
					return fmt.Errorf("wrapped: %w", tt.errs[attempt])
				}
				return nil
			})
			if attempts != tt.attempts {
				t.Errorf("%d attempts, want %d", attempts, tt.attempts)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if fmt.Sprint(clk.sleeps) != fmt.Sprint(tt.wantSleep) {
				t.Errorf("sleeps = %v, want %v", clk.sleeps, tt.wantSleep)
			}
		})
	}
}

func TestRetryUntilElapsed(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	attempts := 0
	err := retryLoop(context.Background(), UntilElapsed(time.Second, 300*time.Millisecond), clk, func(int) error {
		attempts++
		return ErrConnectionLoss
	})
	// Attempts at 0, 300, 600, 900ms; at 1200ms elapsed >= 1s: give up.
	if attempts != 5 || !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("attempts = %d, err = %v; want 5, ErrConnectionLoss", attempts, err)
	}
}

func TestRetryLoopStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clk := &fakeClock{now: time.Unix(1000, 0), onSleep: cancel}
	attempts := 0
	err := retryLoop(ctx, Forever(time.Hour), clk, func(int) error {
		attempts++
		return ErrConnectionLoss
	})
	if attempts != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrConnectionLoss) {
		t.Errorf("attempts = %d, err = %v; want 1 attempt and an error matching both Canceled and ConnectionLoss", attempts, err)
	}
}

func TestExponentialBackoff(t *testing.T) {
	base := 10 * time.Millisecond
	p := ExponentialBackoff(base, 5, 0)
	for n := range 5 {
		seen := map[time.Duration]bool{}
		for range 2000 {
			d, ok := p.Next(n, 0)
			if !ok {
				t.Fatalf("Next(%d) gave up before maxRetries", n)
			}
			if d < base || d > base*time.Duration(1<<(n+1)-1) || d%base != 0 {
				t.Fatalf("Next(%d) = %v, outside base×[1, 2^(n+1))", n, d)
			}
			seen[d] = true
		}
		if n >= 2 && len(seen) < 3 {
			t.Errorf("Next(%d) shows no randomness: %v", n, seen)
		}
	}
	if _, ok := p.Next(5, 0); ok {
		t.Error("Next(maxRetries) allowed a retry")
	}
	capped := ExponentialBackoff(base, 10, 25*time.Millisecond)
	for range 1000 {
		if d, _ := capped.Next(9, 0); d > 25*time.Millisecond {
			t.Fatalf("capped sleep %v > 25ms", d)
		}
	}
	bounded := BoundedExponentialBackoff(base, 15*time.Millisecond, 3)
	for range 1000 {
		if d, _ := bounded.Next(2, 0); d > 15*time.Millisecond || d < base {
			t.Fatalf("bounded sleep %v outside [10ms, 15ms]", d)
		}
	}
	if _, ok := ExponentialBackoff(base, 100, 0).Next(29, 0); ok {
		t.Error("retries are not capped at 29")
	}
}

func TestSimplePolicies(t *testing.T) {
	check := func(name string, p RetryPolicy, n int, elapsed time.Duration, wantSleep time.Duration, wantOK bool) {
		t.Helper()
		d, ok := p.Next(n, elapsed)
		if ok != wantOK || (ok && d != wantSleep) {
			t.Errorf("%s.Next(%d, %v) = %v, %v; want %v, %v", name, n, elapsed, d, ok, wantSleep, wantOK)
		}
	}
	check("NTimes", NTimes(2, time.Second), 0, 0, time.Second, true)
	check("NTimes", NTimes(2, time.Second), 1, 0, time.Second, true)
	check("NTimes", NTimes(2, time.Second), 2, 0, 0, false)
	check("OneTime", OneTime(time.Second), 0, 0, time.Second, true)
	check("OneTime", OneTime(time.Second), 1, 0, 0, false)
	check("Forever", Forever(time.Second), 1000, time.Hour, time.Second, true)
	check("UntilElapsed", UntilElapsed(time.Minute, time.Second), 50, 59*time.Second, time.Second, true)
	check("UntilElapsed", UntilElapsed(time.Minute, time.Second), 0, time.Minute, 0, false)
	check("NoRetry", NoRetry(), 0, 0, 0, false)
}
