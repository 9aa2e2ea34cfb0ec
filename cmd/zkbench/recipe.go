package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/client"
	"github.com/zkgo/zkgo/proto"
	"github.com/zkgo/zkgo/recipes/leader"
	"github.com/zkgo/zkgo/recipes/lock"
)

// The recipe workloads (lock, leader) measure what users run: one
// client.Conn per session and the recipes packages on top, each session a
// goroutine that loops until the measured window ends. A cycle counts if
// its acquisition (or leadership) began inside the window.

// releaseTimeout bounds an Unlock or Close that runs after the window ended.
const releaseTimeout = 30 * time.Second

// Variants of the lock workload.
const (
	variantContended   = "contended"
	variantUncontended = "uncontended"
)

// variant names what a recipe run measures: contended or uncontended for
// lock, the recipe for leader.
func variant(cfg *config) string {
	switch {
	case cfg.workload == workloadLeader:
		return cfg.leaderRecipe
	case cfg.uncontended:
		return variantUncontended
	}
	return variantContended
}

// errorPause keeps a worker whose recipe keeps failing (say, the server is
// gone) from spinning until the window ends.
const errorPause = 10 * time.Millisecond

// recipePlan is what every worker of a recipe benchmark shares.
type recipePlan struct {
	t0, t1 time.Time // the measured window
	start  time.Time // origin of lastRelease
	// holders counts the workers that hold the lock or lead right now: more
	// than one at once is an overlap, a broken recipe.
	holders  atomic.Int32
	overlaps atomic.Int64
	// lastRelease is when the last leader gave up leadership, in
	// nanoseconds since start (0: none yet).
	lastRelease atomic.Int64
	// lastToken is the highest fencing token a holder of the shared lock
	// has seen: a smaller one means the lock went to two holders out of
	// queue order.
	lastToken atomic.Int64
}

func (p *recipePlan) inWindow(t time.Time) bool { return !t.Before(p.t0) && t.Before(p.t1) }

// hold records that the caller now holds the one lock or leadership
// there is, with the fencing token of its hold (0: none), and counts an
// overlap if another holder was seen at the same time or a later hold
// before it.
func (p *recipePlan) hold(token int64) {
	if p.holders.Add(1) > 1 {
		p.overlaps.Add(1)
	}
	for prev := p.lastToken.Load(); token != 0; prev = p.lastToken.Load() {
		if token <= prev {
			p.overlaps.Add(1)
			return
		}
		if p.lastToken.CompareAndSwap(prev, token) {
			return
		}
	}
}

func (p *recipePlan) unhold() { p.holders.Add(-1) }

// recipeWorker is one session's measurements; only its goroutine writes
// them, and they are read once it has stopped.
type recipeWorker struct {
	ops     int64
	acquire histogram // lock: Lock latency; leader: handover latency
	release histogram // lock: Unlock latency
	errs    map[string]int64
	lastErr error
}

// fail counts err and pauses for errorPause or until ctx ends.
func (w *recipeWorker) fail(ctx context.Context, err error) {
	if w.errs == nil {
		w.errs = make(map[string]int64)
	}
	w.errs[errorKind(err)]++
	w.lastErr = err
	t := time.NewTimer(errorPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// errorKind names an error for the report: the ZooKeeper code it wraps, or
// the recipe or context sentinel.
func errorKind(err error) string {
	var code proto.Code
	switch {
	case errors.As(err, &code):
		return code.Name()
	case errors.Is(err, lock.ErrLockLost):
		return "LockLost"
	case errors.Is(err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	case errors.Is(err, client.ErrClosed):
		return "Closed"
	}
	return "Other"
}

// runRecipe runs the lock or leader workload.
func runRecipe(ctx context.Context, cfg *config) (*recipeResult, error) {
	conns := make([]*client.Conn, 0, cfg.sessions)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range cfg.sessions {
		c, err := client.Connect(ctx, cfg.servers[i%len(cfg.servers)])
		if err != nil {
			return nil, fmt.Errorf("zkbench: %w", err)
		}
		conns = append(conns, c)
	}
	res := &recipeResult{
		Mode: "bench", Workload: cfg.workload, Servers: cfg.servers, Sessions: cfg.sessions,
		Root: cfg.root, WarmupSec: cfg.warmup.Seconds(), DurationSec: cfg.duration.Seconds(),
	}
	setup := time.Now()
	dirs := ancestors(cfg.root)
	dirCreated, err := createDirs(ctx, conns[0], dirs)
	if err != nil {
		return nil, err
	}
	base := cfg.root + "/" + cfg.workload + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	res.Path = base
	res.SetupSec = time.Since(setup).Seconds()

	start := time.Now()
	plan := &recipePlan{start: start, t0: start.Add(cfg.warmup)}
	plan.t1 = plan.t0.Add(cfg.duration)
	res.Variant = variant(cfg)
	runCtx, cancel := context.WithDeadline(ctx, plan.t1)
	workers := make([]recipeWorker, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		w := &workers[i]
		id := "p" + strconv.Itoa(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch res.Variant {
			case variantUncontended:
				lockLoop(runCtx, plan, w, lock.NewMutex(c, base+"/"+id), false)
			case variantContended:
				lockLoop(runCtx, plan, w, lock.NewMutex(c, base), true)
			case recipeSelector:
				selectorLoop(runCtx, plan, w, c, base, id)
			default:
				latchLoop(runCtx, plan, w, c, base, id)
			}
		}()
	}
	wg.Wait()
	cancel()
	res.fill(workers, plan, cfg.duration)

	if cfg.cleanup && ctx.Err() == nil {
		cstart := time.Now()
		err = cleanupRecipe(ctx, conns[0], base, dirs, dirCreated)
		res.CleanupSec = time.Since(cstart).Seconds()
	}
	if err != nil {
		return nil, fmt.Errorf("%w (leftovers can be removed with -purge -root %s)", err, cfg.root)
	}
	return res, nil
}

// createDirs creates the given paths in order, persistent and empty, and
// reports which ones it created.
func createDirs(ctx context.Context, c *client.Conn, paths []string) ([]bool, error) {
	created := make([]bool, len(paths))
	for i, p := range paths {
		_, err := c.Create(ctx, p, nil)
		switch {
		case err == nil:
			created[i] = true
		case errors.Is(err, client.ErrNodeExists):
		default:
			return created, fmt.Errorf("zkbench: %w", err)
		}
	}
	return created, nil
}

// cleanupRecipe deletes the recipe's tree (its containers may be gone
// already) and the directories the run created, deepest first.
func cleanupRecipe(ctx context.Context, c *client.Conn, base string, dirs []string, created []bool) error {
	if err := c.DeleteRecursive(ctx, base); err != nil && !errors.Is(err, client.ErrNoNode) {
		return fmt.Errorf("zkbench: cleanup: %w", err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if !created[i] {
			continue
		}
		if err := c.Delete(ctx, dirs[i], -1); err != nil && !errors.Is(err, client.ErrNoNode) {
			return fmt.Errorf("zkbench: cleanup: %w", err)
		}
	}
	return nil
}

// lockLoop locks and unlocks m until ctx ends. shared says every worker
// contends for m (else it is this worker's alone).
func lockLoop(ctx context.Context, plan *recipePlan, w *recipeWorker, m *lock.Mutex, shared bool) {
	for ctx.Err() == nil {
		begin := time.Now()
		if err := m.Lock(ctx); err != nil {
			if ctx.Err() == nil {
				w.fail(ctx, err)
			}
			continue
		}
		acquired := time.Now()
		if shared {
			plan.hold(m.Token())
			plan.unhold()
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		err := m.Unlock(rctx)
		cancel()
		released := time.Now()
		if !plan.inWindow(begin) {
			continue
		}
		if err != nil {
			w.fail(ctx, err)
			continue
		}
		w.ops++
		w.acquire.record(acquired.Sub(begin).Microseconds())
		w.release.record(released.Sub(acquired).Microseconds())
	}
}

// led records a leadership that began at now: its handover latency is the
// time since the previous leader gave up. It returns after the caller is
// accounted as no longer leading, stamping the release.
func (p *recipePlan) led(w *recipeWorker, now time.Time) {
	p.hold(0)
	if prev := p.lastRelease.Load(); prev != 0 && p.inWindow(now) {
		w.ops++
		w.acquire.record(now.Sub(p.start.Add(time.Duration(prev))).Microseconds())
	}
	p.unhold()
	p.lastRelease.Store(max(int64(time.Since(p.start)), 1))
}

// latchLoop joins the election with a new Latch, waits for leadership,
// and closes the latch at once, until ctx ends.
func latchLoop(ctx context.Context, plan *recipePlan, w *recipeWorker, c *client.Conn, path, id string) {
	for ctx.Err() == nil {
		l := leader.NewLatch(c, path, id)
		if err := l.Start(); err != nil {
			w.fail(ctx, err)
			return
		}
		_, err := l.Await(ctx)
		if err == nil {
			plan.led(w, time.Now())
		}
		if cerr := l.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil && ctx.Err() == nil {
			w.fail(ctx, err)
		}
	}
}

// selectorLoop runs a Selector with auto-requeue whose lead function
// returns at once, until ctx ends.
func selectorLoop(ctx context.Context, plan *recipePlan, w *recipeWorker, c *client.Conn, path, id string) {
	s := leader.NewSelector(c, path, id, func(context.Context) error {
		plan.led(w, time.Now())
		return nil
	}, leader.WithAutoRequeue())
	if err := s.Start(); err != nil {
		w.fail(ctx, err)
		return
	}
	<-ctx.Done()
	// Close waits for lead to return, so w is written no more after it.
	if err := s.Close(); err != nil {
		w.fail(ctx, err)
	}
}
