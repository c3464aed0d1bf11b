package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// warmupUser is the user the warm-up probes ask for: unknown, so nothing
// is read or written for anyone.
const warmupUser = "recmesh-warmup"

// probes are one call through each serving hop, outside its breaker: the
// first calls open the connections (and the services' pools and caches),
// so the first real requests do not pay for it within their budgets.
func (g *Gateway) probes() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		HopFeatures: func(ctx context.Context) error {
			_, err := g.hops.Features.GetUserFeatures(ctx, warmupUser, 0)
			return err
		},
		HopRecall: func(ctx context.Context) error {
			_, err := g.hops.Recall.Recall(ctx, recallapi.Request{UserID: warmupUser,
				Quotas: map[string]int{recallapi.ChannelPopular: 10}, OnlyQuotas: true, K: 10})
			return err
		},
		HopFilter: func(ctx context.Context) error {
			_, err := g.hops.Filter.Filter(ctx, filterapi.Request{UserID: warmupUser, Candidates: g.popularFallback(nil)})
			return err
		},
		HopRanking: func(ctx context.Context) error {
			_, err := g.hops.Ranking.Rank(ctx, rankingapi.Request{UserID: warmupUser, Candidates: g.popularFallback(nil)})
			return err
		},
	}
}

// warmRound probes every hop still in pending once and drops those that
// answered (a business error is an answer: the hop is up).
func warmRound(ctx context.Context, pending map[string]func(context.Context) error, each time.Duration) {
	for _, hop := range slices.Sorted(maps.Keys(pending)) {
		pctx, cancel := context.WithTimeout(ctx, each)
		err := pending[hop](pctx)
		cancel()
		if err == nil || apierr.Business(err) != nil {
			delete(pending, hop)
		}
	}
}

// warmUp probes the serving hops until each has answered once, or until
// WarmupTimeout: a gateway is not ready before, so that a mesh that says
// ready serves whole answers. The first round runs before it returns (in
// a healthy mesh that is all there is); the rest in the background. After
// the timeout the gateway is ready anyway: a hop that is down is then the
// fallbacks' business, not a reason to refuse traffic.
func (g *Gateway) warmUp(ctx context.Context) {
	pending := g.probes()
	warmRound(ctx, pending, time.Second)
	if len(pending) == 0 {
		g.warm.Store(true)
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.WarmupTimeout)
		defer cancel()
		for len(pending) > 0 {
			select {
			case <-g.stop:
				return
			case <-ctx.Done():
				g.log.Warn("warm-up timed out; ready with hops that have not answered yet", "hops", slices.Sorted(maps.Keys(pending)))
				g.warm.Store(true)
				return
			case <-time.After(100 * time.Millisecond):
			}
			warmRound(ctx, pending, time.Second)
		}
		g.warm.Store(true)
	}()
}

// errWarming is the readiness error while the warm-up runs.
var errWarming = errors.New("warming up: not every serving hop has answered yet")

// warmErr is nil once the warm-up is over.
func (g *Gateway) warmErr() error {
	if !g.warm.Load() {
		return fmt.Errorf("%w (up to %s)", errWarming, g.cfg.WarmupTimeout)
	}
	return nil
}
