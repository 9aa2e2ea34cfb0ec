package discovery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Strategy picks the instance a Provider hands out (Curator's
// ProviderStrategy). It must be safe for concurrent use.
type Strategy interface {
	// Choose returns the index of the instance to use among n > 0
	// available instances, sorted by node name.
	Choose(n int) int
}

// RoundRobin returns a strategy that hands out the instances in turn
// (Curator's RoundRobinStrategy, the default).
func RoundRobin() Strategy { return new(roundRobin) }

type roundRobin struct{ next atomic.Uint64 }

func (r *roundRobin) Choose(n int) int { return int((r.next.Add(1) - 1) % uint64(n)) }

// Random returns a strategy that picks an instance at random (Curator's
// RandomStrategy).
func Random() Strategy { return randomStrategy{} }

type randomStrategy struct{}

func (randomStrategy) Choose(n int) int { return rand.IntN(n) }

// DownInstancePolicy says when a Provider takes an instance as down
// (Curator's DownInstancePolicy): after ErrorThreshold calls of NoteError
// for it, until Timeout has passed since the first of them.
type DownInstancePolicy struct {
	Timeout        time.Duration
	ErrorThreshold int
}

// DefaultDownInstancePolicy returns Curator's default policy: two errors,
// 30 seconds.
func DefaultDownInstancePolicy() DownInstancePolicy {
	return DownInstancePolicy{Timeout: 30 * time.Second, ErrorThreshold: 2}
}

// ProviderOption configures a Provider.
type ProviderOption func(*providerOptions)

type providerOptions struct {
	strategy Strategy
	down     DownInstancePolicy
	filters  []any // func(Instance[T]) bool, checked by NewProvider
}

// WithStrategy sets the provider's strategy (default RoundRobin).
func WithStrategy(s Strategy) ProviderOption { return func(o *providerOptions) { o.strategy = s } }

// WithDownInstancePolicy sets when NoteError makes an instance down
// (default DefaultDownInstancePolicy()).
func WithDownInstancePolicy(p DownInstancePolicy) ProviderOption {
	return func(o *providerOptions) { o.down = p }
}

// WithFilter adds a filter (Curator's InstanceFilter): the provider hands
// out only instances for which every filter returns true. T must be the
// payload type of the Discovery.
func WithFilter[T any](keep func(Instance[T]) bool) ProviderOption {
	return func(o *providerOptions) { o.filters = append(o.filters, keep) }
}

// Provider hands out instances of one service (Curator's ServiceProvider):
// it keeps a Cache and picks among the instances that are enabled, not
// down (see NoteError) and kept by the filters. It is safe for concurrent
// use; Close stops its Cache.
type Provider[T any] struct {
	cache    *Cache[T]
	strategy Strategy
	filters  []func(Instance[T]) bool
	policy   DownInstancePolicy

	mu   sync.Mutex
	down map[string]*downStatus // guarded by mu, by name + "/" + id
}

type downStatus struct {
	since  time.Time
	errors int
}

// NewProvider returns a provider of service name's instances.
func (d *Discovery[T]) NewProvider(ctx context.Context, name string, opts ...ProviderOption) (*Provider[T], error) {
	o := providerOptions{strategy: RoundRobin(), down: DefaultDownInstancePolicy()}
	for _, opt := range opts {
		opt(&o)
	}
	p := &Provider[T]{strategy: o.strategy, policy: o.down, down: make(map[string]*downStatus)}
	for _, f := range o.filters {
		keep, ok := f.(func(Instance[T]) bool)
		if !ok {
			return nil, fmt.Errorf("discovery: filter %T does not take Instance[%T]", f, *new(T))
		}
		p.filters = append(p.filters, keep)
	}
	c, err := d.NewCache(ctx, name)
	if err != nil {
		return nil, err
	}
	p.cache = c
	return p, nil
}

// Instances returns every instance the provider may hand out, sorted by
// node name (Curator's getAllInstances).
func (p *Provider[T]) Instances() []Instance[T] {
	all := p.cache.Instances()
	out := all[:0]
	now := time.Now()
	p.mu.Lock()
	p.purgeLocked(now)
	for _, inst := range all {
		if p.keep(inst) {
			out = append(out, inst)
		}
	}
	p.mu.Unlock()
	return out
}

// keep applies the filters; p.mu is held.
func (p *Provider[T]) keep(inst Instance[T]) bool {
	if inst.Disabled {
		return false
	}
	if s, ok := p.down[inst.Name+"/"+inst.ID]; ok && s.errors >= p.policy.ErrorThreshold {
		return false
	}
	for _, f := range p.filters {
		if !f(inst) {
			return false
		}
	}
	return true
}

// Instance returns an instance to use for one call, chosen by the
// strategy; it fails with ErrNoInstances if none is available. Do not keep
// it: ask again for the next call.
func (p *Provider[T]) Instance() (Instance[T], error) {
	all := p.Instances()
	if len(all) == 0 {
		return Instance[T]{}, fmt.Errorf("%w: %s", ErrNoInstances, p.cache.name)
	}
	return all[p.strategy.Choose(len(all))], nil
}

// NoteError reports that a call to inst failed (Curator's noteError):
// after the policy's threshold of errors, inst is not handed out until the
// policy's timeout has passed since the first of them.
func (p *Provider[T]) NoteError(inst Instance[T]) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.purgeLocked(now)
	key := inst.Name + "/" + inst.ID
	s, ok := p.down[key]
	if !ok {
		s = &downStatus{since: now}
		p.down[key] = s
	}
	s.errors++
}

// purgeLocked forgets the errors of instances whose timeout has passed.
func (p *Provider[T]) purgeLocked(now time.Time) {
	for k, s := range p.down {
		if now.Sub(s.since) >= p.policy.Timeout {
			delete(p.down, k)
		}
	}
}

// Cache returns the provider's cache.
func (p *Provider[T]) Cache() *Cache[T] { return p.cache }

// Close stops the provider's Cache.
func (p *Provider[T]) Close() error { return p.cache.Close() }
