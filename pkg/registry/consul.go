package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
)

// ConsulOptions tune registration and discovery.
type ConsulOptions struct {
	// CheckInterval is how often Consul runs an instance's gRPC health check;
	// a dead instance leaves the healthy set within about one interval.
	CheckInterval time.Duration
	// CheckTimeout bounds one check.
	CheckTimeout time.Duration
	// DeregisterAfter removes an instance whose check stayed critical this
	// long (Consul's floor is one minute).
	DeregisterAfter time.Duration
	// Wait is the longest a blocking query waits for a change.
	Wait time.Duration
	// Resync is how often the registry checks that the agent still has the
	// instances it registered, and registers again those it lost (an agent
	// restarted without its state, as a -dev agent is).
	Resync time.Duration
	// Logger receives discovery errors; nil discards them.
	Logger *slog.Logger
}

// DefaultConsulOptions check every 2 s and deregister after a minute critical.
func DefaultConsulOptions() ConsulOptions {
	return ConsulOptions{CheckInterval: 2 * time.Second, CheckTimeout: time.Second, DeregisterAfter: time.Minute, Wait: 30 * time.Second,
		Resync: 5 * time.Second}
}

// Consul is the Registry backed by a Consul agent. Register adds the
// instance with a gRPC health check; Instances answers from a per-service
// watch that follows the healthy set with blocking queries and keeps the
// last good set while Consul is unreachable.
type Consul struct {
	client *api.Client
	opts   ConsulOptions
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.RWMutex
	watches map[string]*watch

	regMu      sync.Mutex
	registered map[string]Instance // by id: what Register added and Deregister has not removed
	resyncing  bool
}

// watch is the followed healthy set of one service.
type watch struct {
	ready chan struct{} // closed once the first query has answered or failed

	mu    sync.RWMutex
	list  []Instance
	gen   uint64 // grows whenever list changes; Consul's own index can go back on a restart
	good  bool   // list came from Consul at least once
	err   error  // the last error, while there has never been a good list
	fails int
}

// NewConsul returns a registry on the Consul agent at addr (host:port).
func NewConsul(addr string, o ConsulOptions) (*Consul, error) {
	def := DefaultConsulOptions()
	if o.CheckInterval <= 0 {
		o.CheckInterval = def.CheckInterval
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = def.CheckTimeout
	}
	if o.DeregisterAfter <= 0 {
		o.DeregisterAfter = def.DeregisterAfter
	}
	if o.Wait <= 0 {
		o.Wait = def.Wait
	}
	if o.Resync <= 0 {
		o.Resync = def.Resync
	}
	cfg := api.DefaultConfig()
	cfg.Address = addr
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client for %s: %w", addr, err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Consul{client: client, opts: o, log: log, ctx: ctx, cancel: cancel, watches: map[string]*watch{}}, nil
}

// Register adds the instance to the local agent with a gRPC health check
// on its address, so Consul itself notices when it dies.
func (c *Consul) Register(ctx context.Context, in Instance) error {
	if in.ID == "" || in.Service == "" || in.Addr == "" {
		return fmt.Errorf("register: instance needs an id, a service and an address: %+v", in)
	}
	host, portStr, err := net.SplitHostPort(in.Addr)
	if err != nil {
		return fmt.Errorf("register %s: address %q: %w", in.ID, in.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("register %s: port %q: %w", in.ID, portStr, err)
	}
	meta := map[string]string{"version": in.Version()}
	for k, v := range in.Meta {
		meta[k] = v
	}
	check := &api.AgentServiceCheck{
		CheckID:                        "grpc:" + in.ID,
		Name:                           in.Service + " gRPC health",
		GRPC:                           in.Addr + "/" + in.Service,
		Interval:                       c.opts.CheckInterval.String(),
		Timeout:                        c.opts.CheckTimeout.String(),
		DeregisterCriticalServiceAfter: c.opts.DeregisterAfter.String(),
		// The instance registers only once it serves, so it starts in
		// rotation; the first failed check takes it out.
		Status: api.HealthPassing,
	}
	if in.HTTPCheck != "" {
		check.CheckID, check.Name, check.GRPC = "http:"+in.ID, in.Service+" HTTP "+in.HTTPCheck, ""
		check.HTTP = "http://" + in.Addr + in.HTTPCheck
	}
	reg := &api.AgentServiceRegistration{
		ID: in.ID, Name: in.Service, Tags: in.Tags, Address: host, Port: port, Meta: meta, Check: check,
	}
	if err := c.client.Agent().ServiceRegisterOpts(reg, api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)); err != nil {
		return fmt.Errorf("register %s in consul: %w", in.ID, err)
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	if c.registered == nil {
		c.registered = map[string]Instance{}
	}
	c.registered[in.ID] = in
	if !c.resyncing {
		c.resyncing = true
		c.wg.Add(1)
		go c.resync()
	}
	return nil
}

// resync registers again, every Resync, the instances the agent has lost,
// until Close.
func (c *Consul) resync() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		have, err := c.client.Agent().ServicesWithFilterOpts("", (&api.QueryOptions{}).WithContext(c.ctx))
		if err != nil {
			continue // the agent is away; try again at the next tick
		}
		c.regMu.Lock()
		var lost []Instance
		for id, in := range c.registered {
			if _, ok := have[id]; !ok {
				lost = append(lost, in)
			}
		}
		c.regMu.Unlock()
		for _, in := range lost {
			ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
			if err := c.Register(ctx, in); err != nil {
				c.log.Warn("registering again with the consul agent failed", "id", in.ID, "err", err)
			} else {
				c.log.Info("registered again with the consul agent, which had lost the instance", "id", in.ID)
			}
			cancel()
		}
	}
}

// Deregister removes the instance from the local agent.
func (c *Consul) Deregister(ctx context.Context, in Instance) error {
	c.regMu.Lock()
	delete(c.registered, in.ID)
	c.regMu.Unlock()
	if err := c.client.Agent().ServiceDeregisterOpts(in.ID, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("deregister %s from consul: %w", in.ID, err)
	}
	return nil
}

// Instances lists the healthy instances of service. The first call for a
// service starts its watch and waits for Consul's first answer; later calls
// answer from memory. If Consul becomes unreachable the last good list keeps
// being served; only a service never seen returns an error.
func (c *Consul) Instances(ctx context.Context, service string) ([]Instance, uint64, error) {
	w := c.watchOf(service)
	select {
	case <-w.ready:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.good {
		return nil, 0, fmt.Errorf("discover %s in consul: %w", service, w.err)
	}
	return w.list, w.gen, nil
}

// watchOf returns service's watch, starting it on first use. It is on every
// call's path, so the common case takes only the read lock.
func (c *Consul) watchOf(service string) *watch {
	c.mu.RLock()
	w, ok := c.watches[service]
	c.mu.RUnlock()
	if ok {
		return w
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.watches[service]; ok {
		return w
	}
	w = &watch{ready: make(chan struct{})}
	c.watches[service] = w
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.follow(service, w)
	}()
	return w
}

// follow runs blocking queries for service until Close.
//
// An agent that comes back after being unreachable may have lost its
// catalog (a -dev agent restarted): it answers "no instances" until they
// register again (see Resync). Such an empty answer within three Resync
// periods of the return keeps the last good set instead, so discovery
// rides through the restart; a set that is still empty after that is
// taken.
func (c *Consul) follow(service string, w *watch) {
	var index uint64
	first := true
	var back time.Time // when Consul answered again after failing
	grace := 3 * c.opts.Resync
	for c.ctx.Err() == nil {
		wait := c.opts.Wait
		if left := grace - time.Since(back); left > 0 {
			wait = min(wait, left)
		}
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: wait}).WithContext(c.ctx)
		entries, meta, err := c.client.Health().Service(service, "", true, q)
		if err != nil {
			if c.ctx.Err() != nil {
				break
			}
			w.failed(err)
			back = time.Time{}
			if w.fails == 1 || w.fails%30 == 0 {
				c.log.Warn("consul discovery failed; keeping the last good instances", "service", service, "err", err, "failures", w.fails)
			}
			index = 0
		} else {
			// An index that goes backwards (a Consul restart) restarts the watch.
			if meta.LastIndex < index {
				index = 0
			} else {
				index = meta.LastIndex
			}
			if back.IsZero() && w.failing() {
				back = time.Now()
			}
			list := fromEntries(entries)
			if len(list) == 0 && !back.IsZero() && time.Since(back) < grace && w.hasList() {
				w.recovered() // keep the last good set while the agent catches up
			} else {
				w.set(list)
			}
		}
		if first {
			close(w.ready)
			first = false
		}
		if err != nil {
			backoff := min(time.Duration(w.fails)*200*time.Millisecond, 5*time.Second)
			select {
			case <-time.After(backoff):
			case <-c.ctx.Done():
			}
		}
	}
	if first {
		w.failed(errors.New("registry closed"))
		close(w.ready)
	}
}

// failing reports whether the last query failed.
func (w *watch) failing() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.fails > 0
}

// hasList reports whether the watch holds a non-empty good set.
func (w *watch) hasList() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.good && len(w.list) > 0
}

// recovered clears the failure count, keeping the list.
func (w *watch) recovered() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fails = 0
}

func (w *watch) failed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fails++
	w.err = err
}

func (w *watch) set(list []Instance) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fails = 0
	if w.good && slices.EqualFunc(list, w.list, func(a, b Instance) bool {
		return a.ID == b.ID && a.Addr == b.Addr && slices.Equal(a.Tags, b.Tags)
	}) {
		return
	}
	w.list, w.good, w.err = list, true, nil
	w.gen++
}

func fromEntries(entries []*api.ServiceEntry) []Instance {
	out := make([]Instance, 0, len(entries))
	for _, e := range entries {
		host := e.Service.Address
		if host == "" {
			host = e.Node.Address
		}
		out = append(out, Instance{
			ID: e.Service.ID, Service: e.Service.Service, Addr: net.JoinHostPort(host, strconv.Itoa(e.Service.Port)),
			Tags: slices.Clone(e.Service.Tags), Meta: e.Service.Meta,
		})
	}
	slices.SortFunc(out, func(a, b Instance) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// Close stops every watch.
func (c *Consul) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}
