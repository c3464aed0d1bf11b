package gateway

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/listcache"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/pkg/run"
	"github.com/recmesh/recmesh/services/experiment/experimentapi"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// The hop names, as used in degraded replies, metrics and breaker names.
const (
	HopFeatures   = "features"
	HopRecall     = "recall"
	HopFilter     = "filter"
	HopRanking    = "ranking"
	HopExperiment = "experiment"
	HopEvents     = "events"
	HopItems      = "items"
	HopExposures  = "exposures"
	HopWrites     = "writes"
	HopUsers      = "users"
)

// DegradedNames lists what a recommendation's degraded field may name: a
// serving hop whose fallback answered, a rung of the shedding ladder
// (shed:ranking, shed:popular), or "recall:<channel>", a recall channel that
// missed the hop's deadline (the others were served).
func DegradedNames(channels []string) []string {
	out := []string{HopFeatures, HopRecall, HopFilter, HopRanking, DegradedShedRanking, DegradedShedPopular}
	for _, ch := range channels {
		out = append(out, HopRecall+":"+ch)
	}
	return out
}

// Hops are the downstream services the gateway calls, each through its
// contract package. The gateway runs every call under the hop's breaker.
type Hops struct {
	Features   featuresapi.Service
	Recall     recallapi.Service
	Filter     filterapi.Service
	Ranking    rankingapi.Service
	Experiment experimentapi.Service
	// Exposures receives the exposure log; nil switches it off.
	Exposures featuresapi.Exposures
	// Catalog takes catalogue writes and feeds the gateway's catalogue
	// view; nil leaves the catalogue read-only and the view empty.
	Catalog featuresapi.Catalog
	// Users takes profile writes and erasures; nil refuses them.
	Users featuresapi.Users
	// Lists is the list cache's shared level (Redis, opened by the binary
	// from -list-cache-redis); nil keeps lists in process.
	Lists listcache.Store
}

// DialHops builds a client per service, discovering instances through reg,
// and registers their pools' metrics in metrics. The returned func closes
// every connection.
func DialHops(reg registry.Registry, tp trace.TracerProvider, metrics prometheus.Registerer) (Hops, func()) {
	dial := run.ClientDialOptions(tp)
	fp := balancer.NewPicker(reg, featuresapi.Name, dial...)
	features := featuresapi.NewClient(fp)
	rp := balancer.NewPicker(reg, recallapi.Name, dial...)
	lp := balancer.NewPicker(reg, filterapi.Name, dial...)
	kp := balancer.NewPicker(reg, rankingapi.Name, dial...)
	ep := balancer.NewPicker(reg, experimentapi.Name, dial...)
	metrics.MustRegister(balancer.NewCollector(fp, rp, lp, kp, ep))
	hops := Hops{
		Features: features, Exposures: features, Catalog: features, Users: features, Recall: recallapi.NewClient(rp), Filter: filterapi.NewClient(lp),
		Ranking: rankingapi.NewClient(kp), Experiment: experimentapi.NewClient(ep),
	}
	return hops, func() {
		for _, p := range []*balancer.Picker{fp, rp, lp, kp, ep} {
			_ = p.Close()
		}
	}
}

// hop runs f under its breaker and its own budget inside the request deadline.
func hop[T any](ctx context.Context, b *resilience.Breaker, budget time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	return resilience.Call(ctx, b, f)
}

// breakers guard the hops, one hystrix command each.
type breakers struct {
	features, recall, filter, ranking, events, items, config, watch, exposures, writes, users *resilience.Breaker
}

// newBreaker makes the breaker of hop (or of "hop@version"), named
// instance+"."+hop, because hystrix-go's commands are process-wide and two
// gateways in one process (tests, the embedded mode) must not share them.
func newBreaker(instance string, cfg Config, m *resilience.Metrics, log *slog.Logger, hop string, budget time.Duration) *resilience.Breaker {
	s := resilience.DefaultSettings(budget)
	s.SleepWindow = cfg.BreakerSleep
	return resilience.NewBreaker(instance+"."+hop, hop, s, m, log)
}

func newBreakers(instance string, cfg Config, m *resilience.Metrics, log *slog.Logger) breakers {
	mk := func(hop string, budget time.Duration) *resilience.Breaker {
		return newBreaker(instance, cfg, m, log, hop, budget)
	}
	b := cfg.Budgets
	return breakers{
		features: mk(HopFeatures, b.Features), recall: mk(HopRecall, b.Recall), filter: mk(HopFilter, b.Filter),
		ranking: mk(HopRanking, b.Ranking), events: mk(HopEvents, b.Request), items: mk(HopItems, b.Features),
		config: mk(HopExperiment, time.Second), exposures: mk(HopExposures, 5*time.Second),
		writes: mk(HopWrites, b.Write), users: mk(HopUsers, b.Write),
		// A long poll: its budget is the wait plus room for the answer.
		watch: mk(HopExperiment+"-watch", cfg.ConfigWait+5*time.Second),
	}
}

// routedBreakers are the breakers of hops a variant routes to a version,
// one per "hop@version", made on first use: a version with no healthy
// instance opens its own breaker and degrades only its own arm, never the
// users served by the default version.
type routedBreakers struct {
	mu sync.Mutex
	m  map[string]*resilience.Breaker
}

// breaker returns def when the user's routes name no version for hop,
// else the breaker of hop@version.
func (g *Gateway) breaker(def *resilience.Breaker, hop string, budget time.Duration, routes map[string]string) *resilience.Breaker {
	version := routes[hop] // the four hops are named after their services
	if version == "" {
		return def
	}
	key := hop + "@" + version
	g.routed.mu.Lock()
	defer g.routed.mu.Unlock()
	if b, ok := g.routed.m[key]; ok {
		return b
	}
	if g.routed.m == nil {
		g.routed.m = map[string]*resilience.Breaker{}
	}
	b := newBreaker(g.instance, g.cfg, g.metrics, g.log, key, budget)
	g.routed.m[key] = b
	return b
}
