package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Gateway orchestrates a recommendation request over the hops.
type Gateway struct {
	cfg      Config
	hops     Hops
	breakers breakers
	log      *slog.Logger
	metrics  *resilience.Metrics

	exposures *exposureLog // nil when exposure logging is off
	instance  string
	routed    routedBreakers

	// view is the catalogue as the gateway follows it (nil without a
	// Catalog hop): its fallbacks and last check apply it.
	view        *catalog.View
	stopCatalog func()
	reg         prometheus.Registerer

	assigner atomic.Pointer[abtest.Assigner]
	popular  atomic.Pointer[[]domain.Candidate]
	warm     atomic.Bool // the warm-up is over (warm.go)
	// retries are the serving hops' retry budgets (retry.go); the map is
	// fixed at New.
	retries map[string]*retryBudget
	// shed is the adaptive limit and its ladder (shed.go); nil when off.
	shed *shedder
	// lists is the ranked-list cache (lists.go); nil when off.
	lists *lists

	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a gateway over hops, each call guarded by a breaker named
// instance+"."+hop (hystrix-go's commands are process-wide); its metrics
// go to reg.
func New(cfg Config, hops Hops, reg prometheus.Registerer, log *slog.Logger, instance string) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := resilience.NewMetrics(reg)
	g := &Gateway{
		cfg: cfg, hops: hops, breakers: newBreakers(instance, cfg, m, log), log: log, metrics: m, instance: instance,
		stop: make(chan struct{}), reg: reg,
		retries: map[string]*retryBudget{HopFeatures: {}, HopRecall: {}, HopFilter: {}, HopRanking: {}},
	}
	if hops.Catalog != nil {
		g.view = catalog.NewView(true)
	}
	if cfg.Shed {
		g.shed = newShedder(reg)
	}
	if cfg.ListCache.TTL > 0 {
		l, err := newLists(cfg.ListCache, hops.Lists, reg)
		if err != nil {
			return nil, fmt.Errorf("list cache: %w", err)
		}
		g.lists = l
		g.wg.Add(1)
		go g.prewarmLoop()
	}
	if hops.Exposures != nil && cfg.Exposures.Queue > 0 {
		g.exposures = newExposureLog(hops.Exposures, g.breakers.exposures, cfg.Exposures, reg, log)
	}
	empty, _ := abtest.NewAssigner(&abtest.Config{})
	g.assigner.Store(empty)
	if cfg.ConfigCache != "" {
		if c, err := abtest.LoadFile(cfg.ConfigCache); err == nil {
			if a, err := abtest.NewAssigner(c); err == nil {
				g.assigner.Store(a)
				log.Info("experiment config loaded from cache", "version", c.Version)
			}
		}
	}
	return g, nil
}

// Start fetches the experiment config and the popular list once, then keeps
// them fresh in the background until Close.
func (g *Gateway) Start(ctx context.Context) {
	if cfg, err := resilience.Call(ctx, g.breakers.config, g.hops.Experiment.GetConfig); err != nil {
		g.log.WarnContext(ctx, "experiment config fetch failed; keeping the last good one", "err", err, "version", g.ConfigVersion())
	} else {
		g.useConfig(ctx, cfg)
	}
	g.refreshPopular(ctx)
	g.warmUp(ctx)
	g.watchConfig()
	g.keepPopular()
	if g.view != nil {
		g.stopCatalog = catalog.Follow(featuresapi.Feed(g.hops.Catalog), g.view, g.cfg.CatalogPoll, g.reg, g.log)
	}
}

// Close stops the background refreshers and waits for them, then flushes
// the exposure log.
func (g *Gateway) Close() {
	close(g.stop)
	g.wg.Wait()
	if g.stopCatalog != nil {
		g.stopCatalog()
	}
	if g.exposures != nil {
		g.exposures.close()
	}
	if g.lists != nil {
		g.lists.cache.Close()
	}
}

// Ready reports whether the gateway can answer with more than an empty list.
func (g *Gateway) Ready(context.Context) error {
	if p := g.popular.Load(); p == nil || len(*p) == 0 {
		return errors.New("popular fallback list not loaded yet")
	}
	return g.warmErr()
}

// ConfigVersion is the version of the experiment config in use.
func (g *Gateway) ConfigVersion() int64 { return g.assigner.Load().Config().Version }

// watchConfig follows the experiment config with WatchConfig long polls
// until Close: a change reaches the gateway as soon as it is made. After a
// failed watch it pauses ConfigPoll and watches again; meanwhile the last
// good config stays in use (design §5).
func (g *Gateway) watchConfig() {
	ctx, cancel := context.WithCancel(context.Background())
	g.wg.Add(2)
	go func() {
		defer g.wg.Done()
		<-g.stop
		cancel()
	}()
	go func() {
		defer g.wg.Done()
		for ctx.Err() == nil {
			cfg, err := resilience.Call(ctx, g.breakers.watch, func(ctx context.Context) (*abtest.Config, error) {
				return g.hops.Experiment.WatchConfig(ctx, g.ConfigVersion(), g.cfg.ConfigWait)
			})
			if err == nil {
				g.useConfig(ctx, cfg)
				continue
			}
			if ctx.Err() != nil {
				return
			}
			g.log.WarnContext(ctx, "experiment config watch failed; keeping the last good one", "err", err, "version", g.ConfigVersion())
			select {
			case <-ctx.Done():
			case <-time.After(g.cfg.ConfigPoll):
			}
		}
	}()
}

// useConfig swaps in a newer valid experiment config and keeps a copy on
// disk; an invalid one is refused and the current one kept.
func (g *Gateway) useConfig(ctx context.Context, cfg *abtest.Config) {
	if cfg.Version == g.ConfigVersion() && cfg.Version != 0 {
		return
	}
	a, err := abtest.NewAssigner(cfg)
	if err != nil {
		g.log.ErrorContext(ctx, "experiment config refused", "err", err, "version", cfg.Version)
		return
	}
	g.assigner.Store(a)
	g.log.InfoContext(ctx, "experiment config updated", "version", cfg.Version)
	if g.cfg.ConfigCache != "" {
		if err := writeFileAtomic(g.cfg.ConfigCache, cfg); err != nil {
			g.log.WarnContext(ctx, "experiment config not cached on disk", "err", err)
		}
	}
}

// keepPopular refreshes the popular list every PopularRefresh, or every
// ConfigPoll while there is none yet (the services may still be starting),
// until Close.
func (g *Gateway) keepPopular() {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			wait := g.cfg.PopularRefresh
			if p := g.popular.Load(); p == nil || len(*p) == 0 {
				wait = g.cfg.ConfigPoll
			}
			select {
			case <-g.stop:
				return
			case <-time.After(wait):
				ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PopularRefresh)
				g.refreshPopular(ctx)
				cancel()
			}
		}
	}()
}

// refreshPopular fetches the popular-only candidate list used when recall,
// or everything, is down.
func (g *Gateway) refreshPopular(ctx context.Context) {
	resp, err := resilience.Call(ctx, g.breakers.recall, func(ctx context.Context) (recallapi.Response, error) {
		return g.hops.Recall.Recall(ctx, recallapi.Request{
			Quotas: map[string]int{recallapi.ChannelPopular: g.cfg.RecallK}, OnlyQuotas: true, K: g.cfg.RecallK,
		})
	})
	if err != nil {
		g.log.WarnContext(ctx, "popular list refresh failed; keeping the last one", "err", err)
		return
	}
	g.popular.Store(&resp.Candidates)
}

func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, path)
}
