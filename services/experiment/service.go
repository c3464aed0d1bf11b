// Package experiment is the experiment service, the source of truth for
// layers, experiments and variants. The config lives in a store (PostgreSQL
// in dev and production, memory in the embedded mode); operators change it
// through the token-protected admin REST API, and gateways follow it with
// the WatchConfig long poll.
package experiment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/kitendpoint"
	"github.com/recmesh/recmesh/services/experiment/experimentapi"
	"github.com/recmesh/recmesh/services/experiment/store"
)

// ErrNoConfig means no config has been loaded; it is an infrastructure failure.
var ErrNoConfig = errors.New("experiment: no config loaded")

// Configs holds the current config, can be replaced while serving, and
// wakes watchers when it is.
type Configs struct {
	mu      sync.Mutex
	cur     *abtest.Config
	changed chan struct{} // closed and replaced on every change
}

// New returns a service serving cfg, which must be valid.
func New(cfg *abtest.Config) *Configs {
	return &Configs{cur: cfg, changed: make(chan struct{})}
}

// Set replaces the config after validating it.
func (c *Configs) Set(cfg *abtest.Config) error {
	if err := cfg.Validate(); err != nil {
		return apierr.Invalid("%v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.Version == cfg.Version && cfg.Version != 0 {
		return nil
	}
	c.cur = cfg
	if c.changed != nil { // nil only in a zero Configs nobody has watched
		close(c.changed)
	}
	c.changed = make(chan struct{})
	return nil
}

func (c *Configs) current() (*abtest.Config, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.cur, c.changed
}

// GetConfig implements Service.
func (c *Configs) GetConfig(context.Context) (*abtest.Config, error) {
	cfg, _ := c.current()
	if cfg == nil {
		return nil, ErrNoConfig
	}
	return cfg, nil
}

// WatchConfig implements Service.
func (c *Configs) WatchConfig(ctx context.Context, known int64, wait time.Duration) (*abtest.Config, error) {
	if wait <= 0 || wait > experimentapi.MaxWait {
		wait = experimentapi.MaxWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		cfg, changed := c.current()
		if cfg != nil && cfg.Version != known {
			return cfg, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return c.GetConfig(ctx)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Follow keeps c equal to the store's config: it loads it now, then checks
// the version every interval (other instances may have changed it) until
// stop is called. A failed check keeps the config being served.
func (c *Configs) Follow(ctx context.Context, s store.Store, every time.Duration, log *slog.Logger) (stop func(), err error) {
	if err := c.reload(ctx, s); err != nil {
		return nil, fmt.Errorf("experiment: load config: %w", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := c.check(ctx, s); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "experiment store unreachable; serving the config in memory", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// check reloads the config when the store's version differs from ours.
func (c *Configs) check(ctx context.Context, s store.Store) error {
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	if cur, _ := c.current(); cur != nil && cur.Version == v {
		return nil
	}
	return c.reload(ctx, s)
}

func (c *Configs) reload(ctx context.Context, s store.Store) error {
	cfg, err := s.Load(ctx)
	if err != nil {
		return err
	}
	return c.Set(cfg)
}

// MakeGetConfigEndpoint wires the GetConfig endpoint to s.
func MakeGetConfigEndpoint(s experimentapi.Service) endpoint.Endpoint {
	return kitendpoint.Make(func(ctx context.Context, _ struct{}) (*abtest.Config, error) { return s.GetConfig(ctx) })
}

// MakeWatchConfigEndpoint wires the WatchConfig endpoint to s.
func MakeWatchConfigEndpoint(s experimentapi.Service) endpoint.Endpoint {
	return kitendpoint.Make(func(ctx context.Context, r experimentapi.WatchRequest) (*abtest.Config, error) {
		return s.WatchConfig(ctx, r.Known, r.Wait)
	})
}
