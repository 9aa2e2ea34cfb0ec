package discovery

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkgo/zkgo/client"
)

// Errors of this package; wrapped errors are matched with errors.Is.
var (
	// ErrNotFound is returned by QueryForInstance when the instance is not
	// registered.
	ErrNotFound = errors.New("discovery: instance not found")
	// ErrNotRegistered is returned by Update and Unregister for an instance
	// this Discovery did not register.
	ErrNotRegistered = errors.New("discovery: instance not registered here")
	// ErrNoInstances is returned by Provider.Instance when no instance is
	// available.
	ErrNoInstances = errors.New("discovery: no instances available")
	// ErrInvalidInstance is returned for an instance that cannot be
	// registered (empty or malformed name or id, ...).
	ErrInvalidInstance = errors.New("discovery: invalid instance")
	// ErrInvalidRecord is wrapped by errors for a node whose data is not an
	// instance record.
	ErrInvalidRecord = errors.New("discovery: invalid instance record")
	// ErrClosed is returned by a Discovery, Cache or Provider after Close.
	ErrClosed = errors.New("discovery: closed")
)

// retryPause is how long background work waits before it tries again after
// an error that is not a connection problem (connection problems are
// waited out through the connection states).
const retryPause = time.Second

// Option configures a Discovery.
type Option func(*options)

type options struct {
	enabledField bool
}

// WithEnabledField makes the Discovery write the "enabled" field of its
// records, as Curator's JsonInstanceSerializer(payloadClass, false) does.
// Without it records are written as Curator's default serializer writes
// them, without the field (readers then take the instance as enabled), and
// Register refuses a Disabled instance, whose state would be lost.
func WithEnabledField() Option { return func(o *options) { o.enabledField = true } }

// Discovery is a service registry under a base path (Curator's
// ServiceDiscovery). It registers instances of this process and queries
// every instance; NewCache and NewProvider follow one service.
//
// A Discovery runs one goroutine, from New until Close, that registers its
// instances again after the connection comes back (see the package
// documentation).
type Discovery[T any] struct {
	c        *client.Conn
	base     string
	opts     options
	ctx      context.Context // ends at Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	kick     chan struct{} // capacity 1: re-register all
	unlisten func()
	passes   atomic.Int64 // re-registration passes done (for tests)

	mu      sync.Mutex
	entries map[string]*entry[T] // guarded by mu, by name + "/" + id
	closed  bool                 // guarded by mu
}

// entry is one instance registered by this Discovery.
type entry[T any] struct {
	mu      sync.Mutex  // serializes the writes of this instance
	inst    Instance[T] // guarded by mu
	path    string      // guarded by mu: the node as created, "" if none yet
	removed bool        // guarded by mu: unregistered, write nothing more
}

// New returns a registry under basePath (Curator's
// ServiceDiscoveryBuilder.basePath), where each service has a node
// basePath/NAME holding one node per instance. It starts the goroutine
// that re-registers instances after reconnections; Close stops it.
func New[T any](c *client.Conn, basePath string, opts ...Option) (*Discovery[T], error) {
	if err := validBase(basePath); err != nil {
		return nil, err
	}
	d := &Discovery[T]{
		c:       c,
		base:    basePath,
		kick:    make(chan struct{}, 1),
		entries: make(map[string]*entry[T]),
	}
	for _, o := range opts {
		o(&d.opts)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.unlisten = c.AddListener(func(s client.State) {
		// Curator re-registers on CONNECTED and RECONNECTED: after a
		// lost session the nodes are gone, and after a suspension the
		// session may have been replaced.
		if s == client.Connected || s == client.Reconnected {
			d.wake()
		}
	})
	d.wg.Add(1)
	go d.run()
	return d, nil
}

func validBase(p string) error {
	if p == "" || p[0] != '/' || (len(p) > 1 && p[len(p)-1] == '/') {
		return fmt.Errorf("%w: base path %q", ErrInvalidInstance, p)
	}
	return nil
}

// BasePath returns the registry's base path.
func (d *Discovery[T]) BasePath() string { return d.base }

// servicePath is the node of service name.
func (d *Discovery[T]) servicePath(name string) string {
	if d.base == "/" {
		return "/" + name
	}
	return d.base + "/" + name
}

// instancePath is the node of instance id of service name (without the
// sequential suffix of a DynamicSequential instance).
func (d *Discovery[T]) instancePath(name, id string) string {
	return d.servicePath(name) + "/" + id
}

func (d *Discovery[T]) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// encode writes inst's record as this Discovery is configured to.
func (d *Discovery[T]) encode(inst Instance[T]) ([]byte, error) {
	return inst.encode(d.opts.enabledField)
}

func (d *Discovery[T]) check(inst Instance[T]) error {
	if err := validName("service name", inst.Name); err != nil {
		return err
	}
	if err := validName("instance id", inst.ID); err != nil {
		return err
	}
	switch inst.ServiceType {
	case "", Dynamic, Static, Permanent, DynamicSequential:
	default:
		return fmt.Errorf("%w: service type %q", ErrInvalidInstance, inst.ServiceType)
	}
	if inst.Disabled && !d.opts.enabledField {
		return fmt.Errorf("%w: %s/%s is Disabled but records leave the enabled field out (use WithEnabledField)",
			ErrInvalidInstance, inst.Name, inst.ID)
	}
	return nil
}

// Register registers inst, or registers it again with new data if this
// Discovery has registered it before (Curator's registerService): it
// creates BASE/NAME/ID holding inst's JSON record, with the service's and
// the base's nodes created as containers if missing. Dynamic instances are
// ephemeral nodes of the Conn's session, DynamicSequential ones ephemeral
// sequential nodes, Static and Permanent ones persistent nodes. An existing
// node at that path is deleted and created again, so that watchers see the
// change, as Curator does.
//
// The instance stays registered here until Unregister or Close, and is
// written again whenever the connection comes back. If Register fails on a
// connection problem, it is still written once the connection is back;
// after any other error it is not kept.
func (d *Discovery[T]) Register(ctx context.Context, inst Instance[T]) error {
	if err := d.check(inst); err != nil {
		return err
	}
	data, err := d.encode(inst)
	if err != nil {
		return err
	}
	key := inst.Name + "/" + inst.ID
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	e, old := d.entries[key]
	if !old {
		e = &entry[T]{}
		d.entries[key] = e
	}
	d.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed { // unregistered meanwhile: start over
		return d.Register(ctx, inst)
	}
	e.inst = inst
	err = d.create(ctx, e, data)
	if err != nil && !old && !client.IsRetryable(err) {
		d.mu.Lock()
		if d.entries[key] == e {
			delete(d.entries, key)
		}
		d.mu.Unlock()
		e.removed = true
	}
	return err
}

// create writes e's node (Curator's internalRegisterService); e.mu is held.
func (d *Discovery[T]) create(ctx context.Context, e *entry[T], data []byte) error {
	inst := e.inst
	p := d.instancePath(inst.Name, inst.ID)
	mode := client.Persistent
	switch inst.serviceType() {
	case Dynamic:
		mode = client.Ephemeral
	case DynamicSequential:
		mode = client.EphemeralSequential
		// Each create makes a new node: remove the one made before.
		if e.path != "" {
			if err := d.c.Delete(ctx, e.path, -1); err != nil && !errors.Is(err, client.ErrNoNode) {
				return fmt.Errorf("discovery: register %s: %w", p, err)
			}
			e.path = ""
		}
	}
	var err error
	for range 2 {
		var created string
		created, err = d.c.Create(ctx, p, data, client.WithMode(mode), client.WithParentsAsContainers())
		if err == nil {
			e.path = created
			return nil
		}
		if !errors.Is(err, client.ErrNodeExists) {
			break
		}
		if err = d.c.Delete(ctx, p, -1); err != nil && !errors.Is(err, client.ErrNoNode) {
			break
		}
	}
	return fmt.Errorf("discovery: register %s: %w", p, err)
}

// ensure checks that e's node is there, owned by the current session if
// it is ephemeral and holding e's record, and writes it again if not.
// e.mu is held.
func (d *Discovery[T]) ensure(ctx context.Context, e *entry[T]) error {
	data, err := d.encode(e.inst)
	if err != nil {
		return err
	}
	if e.path != "" {
		got, st, err := d.c.Get(ctx, e.path)
		switch {
		case errors.Is(err, client.ErrNoNode):
		case err != nil:
			return err
		case bytes.Equal(got, data) && st.EphemeralOwner == d.owner(e.inst):
			return nil
		}
	}
	return d.create(ctx, e, data)
}

// owner is the ephemeralOwner inst's node must have.
func (d *Discovery[T]) owner(inst Instance[T]) int64 {
	if inst.serviceType().IsDynamic() {
		return d.c.SessionID()
	}
	return 0
}

// Update writes inst's new record (Curator's updateService); inst must
// have been registered here. If the node is gone (a lost session not yet
// followed by the re-registration), or the service type changed, the node
// is created again.
func (d *Discovery[T]) Update(ctx context.Context, inst Instance[T]) error {
	if err := d.check(inst); err != nil {
		return err
	}
	data, err := d.encode(inst)
	if err != nil {
		return err
	}
	e, err := d.lookup(inst)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return fmt.Errorf("%w: %s/%s", ErrNotRegistered, inst.Name, inst.ID)
	}
	typeChanged := e.inst.serviceType() != inst.serviceType()
	e.inst = inst
	if e.path == "" || typeChanged {
		return d.create(ctx, e, data)
	}
	_, err = d.c.Set(ctx, e.path, data, -1)
	if errors.Is(err, client.ErrNoNode) {
		return d.create(ctx, e, data)
	}
	if err != nil {
		return fmt.Errorf("discovery: update %s: %w", e.path, err)
	}
	return nil
}

func (d *Discovery[T]) lookup(inst Instance[T]) (*entry[T], error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	e, ok := d.entries[inst.Name+"/"+inst.ID]
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotRegistered, inst.Name, inst.ID)
	}
	return e, nil
}

// Unregister removes inst (by name and id) from the registry and deletes
// its node with a guaranteed delete (Curator's unregisterService), which
// keeps trying in the background if the outcome is uncertain.
func (d *Discovery[T]) Unregister(ctx context.Context, inst Instance[T]) error {
	e, err := d.lookup(inst)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.entries[inst.Name+"/"+inst.ID] == e {
		delete(d.entries, inst.Name+"/"+inst.ID)
	}
	d.mu.Unlock()
	return d.remove(ctx, e)
}

// remove deletes e's node and marks it removed.
func (d *Discovery[T]) remove(ctx context.Context, e *entry[T]) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removed = true
	if e.path == "" {
		return nil
	}
	p := e.path
	e.path = ""
	if err := d.c.DeleteGuaranteed(ctx, p, -1); err != nil && !errors.Is(err, client.ErrNoNode) {
		return fmt.Errorf("discovery: unregister %s: %w", p, err)
	}
	return nil
}

// Registered returns the instances registered by this Discovery, sorted
// by name and id.
func (d *Discovery[T]) Registered() []Instance[T] {
	d.mu.Lock()
	entries := make([]*entry[T], 0, len(d.entries))
	for _, e := range d.entries {
		entries = append(entries, e)
	}
	d.mu.Unlock()
	var out []Instance[T]
	for _, e := range entries {
		e.mu.Lock()
		if !e.removed {
			out = append(out, e.inst)
		}
		e.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Instance[T]) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// QueryForNames returns the names of every registered service, sorted
// (none if the base path does not exist). A service whose instances are
// all gone may be listed until the server removes its container node.
func (d *Discovery[T]) QueryForNames(ctx context.Context) ([]string, error) {
	names, err := d.c.Children(ctx, d.base)
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: query names: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// QueryForInstances returns every instance of service name, sorted by node
// name (none if the service does not exist). It fails with an error
// wrapping ErrInvalidRecord if a node does not hold an instance record.
func (d *Discovery[T]) QueryForInstances(ctx context.Context, name string) ([]Instance[T], error) {
	if err := validName("service name", name); err != nil {
		return nil, err
	}
	ids, err := d.c.Children(ctx, d.servicePath(name))
	if errors.Is(err, client.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: query %s: %w", name, err)
	}
	slices.Sort(ids)
	out := make([]Instance[T], 0, len(ids))
	for _, id := range ids {
		inst, err := d.QueryForInstance(ctx, name, id)
		if errors.Is(err, ErrNotFound) {
			continue // unregistered since the list was read
		}
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

// QueryForInstance returns the instance of service name whose node is
// named id; it fails with ErrNotFound if there is none.
func (d *Discovery[T]) QueryForInstance(ctx context.Context, name, id string) (Instance[T], error) {
	var inst Instance[T]
	if err := validName("service name", name); err != nil {
		return inst, err
	}
	if err := validName("instance id", id); err != nil {
		return inst, err
	}
	p := d.instancePath(name, id)
	data, _, err := d.c.Get(ctx, p)
	if errors.Is(err, client.ErrNoNode) {
		return inst, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	if err != nil {
		return inst, fmt.Errorf("discovery: query %s: %w", p, err)
	}
	if err := inst.UnmarshalJSON(data); err != nil {
		return inst, fmt.Errorf("discovery: %s: %w", p, err)
	}
	return inst, nil
}

// run re-registers the instances whenever the connection comes back, and
// tries again after a pause while that fails on something other than the
// connection.
func (d *Discovery[T]) run() {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-d.kick:
		}
		for {
			err := d.reRegister(d.ctx)
			d.passes.Add(1)
			if err == nil {
				break
			}
			var retry <-chan time.Time
			if d.c.State().IsConnected() {
				retry = time.After(retryPause)
			}
			select {
			case <-d.ctx.Done():
				return
			case <-d.kick:
			case <-retry:
			}
		}
	}
}

// reRegister checks every instance (Curator's reRegisterServices).
func (d *Discovery[T]) reRegister(ctx context.Context) error {
	d.mu.Lock()
	entries := make([]*entry[T], 0, len(d.entries))
	for _, e := range d.entries {
		entries = append(entries, e)
	}
	d.mu.Unlock()
	var errs []error
	for _, e := range entries {
		e.mu.Lock()
		if !e.removed {
			if err := d.ensure(ctx, e); err != nil {
				errs = append(errs, err)
			}
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Close stops the Discovery's goroutine and unregisters every instance it
// registered, persistent ones included, as Curator's close does. Caches
// and providers made from it keep working until their own Close.
func (d *Discovery[T]) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return ErrClosed
	}
	d.closed = true
	entries := d.entries
	d.entries = nil
	d.mu.Unlock()
	d.unlisten()
	d.cancel()
	d.wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), d.c.SessionTimeout())
	defer cancel()
	var errs []error
	for _, e := range entries {
		if err := d.remove(ctx, e); err != nil && !errors.Is(err, client.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
