package gateway

import (
	"log/slog"
	"time"

	"github.com/go-kit/kit/endpoint"
	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/balancer"
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
)

// Hops are the downstream services the gateway calls.
type Hops struct {
	Features   featuresapi.Service
	Recall     recallapi.Service
	Filter     filterapi.Service
	Ranking    rankingapi.Service
	Experiment experimentapi.Service
}

// DialHops builds a client per service, each call guarded by its own
// breaker. Breaker names are prefixed with instance, because hystrix-go's
// commands are process-wide. The returned close func closes every connection.
func DialHops(reg registry.Registry, tp trace.TracerProvider, m *resilience.Metrics, log *slog.Logger, instance string, cfg Config) (Hops, func()) {
	dial := run.ClientDialOptions(tp)
	breaker := func(hop string, budget time.Duration) endpoint.Middleware {
		s := resilience.DefaultSettings(budget)
		s.SleepWindow = cfg.BreakerSleep
		return resilience.NewBreaker(instance+"."+hop, hop, s, m, log).Middleware()
	}
	b := cfg.Budgets
	fp := balancer.NewPicker(reg, featuresapi.Name, dial...)
	rp := balancer.NewPicker(reg, recallapi.Name, dial...)
	lp := balancer.NewPicker(reg, filterapi.Name, dial...)
	kp := balancer.NewPicker(reg, rankingapi.Name, dial...)
	ep := balancer.NewPicker(reg, experimentapi.Name, dial...)
	featureBreakers := map[string]endpoint.Middleware{
		"GetUserFeatures": breaker(HopFeatures, b.Features),
		"IngestEvents":    breaker(HopEvents, b.Request),
		"GetItem":         breaker(HopItems, b.Features),
	}
	experimentBreakers := map[string]endpoint.Middleware{
		"GetConfig": breaker(HopExperiment, time.Second),
		// A long poll: its budget is the wait plus room for the answer.
		"WatchConfig": breaker(HopExperiment+"-watch", cfg.ConfigWait+5*time.Second),
	}
	hops := Hops{
		Features: featuresapi.NewClient(fp, func(method string) endpoint.Middleware { return featureBreakers[method] }),
		Recall:   recallapi.NewClient(rp, one(breaker(HopRecall, b.Recall))),
		Filter:   filterapi.NewClient(lp, one(breaker(HopFilter, b.Filter))),
		Ranking:  rankingapi.NewClient(kp, one(breaker(HopRanking, b.Ranking))),
		Experiment: experimentapi.NewClient(ep, func(method string) endpoint.Middleware {
			return experimentBreakers[method]
		}),
	}
	return hops, func() {
		for _, p := range []*balancer.Picker{fp, rp, lp, kp, ep} {
			_ = p.Close()
		}
	}
}

func one(mw endpoint.Middleware) func(string) endpoint.Middleware {
	return func(string) endpoint.Middleware { return mw }
}
