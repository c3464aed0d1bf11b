package gateway

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Item is one recommended item in a reply.
type Item struct {
	ItemID  int64    `json:"item_id"`
	Title   string   `json:"title"`
	Score   float64  `json:"score"`
	Sources []string `json:"sources"`
}

// Reply is the body of GET /v1/recommendations.
type Reply struct {
	RequestID    string              `json:"request_id"`
	TraceID      string              `json:"trace_id"`
	UserID       string              `json:"user_id"`
	ModelVersion string              `json:"model_version,omitempty"`
	Items        []Item              `json:"items"`
	Experiments  []abtest.Assignment `json:"experiments"`
	Degraded     []string            `json:"degraded"`
}

// Recommend answers one request. Hop failures degrade the answer instead of
// failing it; only a business error (bad input) is returned as an error.
func (g *Gateway) Recommend(ctx context.Context, userID string, n int) (Reply, error) {
	if err := domain.ValidateUserID(userID); err != nil {
		return Reply{}, err
	}
	if n < 1 || n > 100 {
		return Reply{}, apierr.Invalid("n must be between 1 and 100")
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Budgets.Request)
	defer cancel()
	assigner := g.assigner.Load()
	res := assigner.Assign(userID)
	ctx = g.annotate(ctx, res.Assignments)
	ctx = balancer.WithRoutes(ctx, userID, res.Routes, assigner.Reserved())
	reply := Reply{UserID: userID, Experiments: res.Assignments, Degraded: []string{},
		RequestID: rlog.RequestID(ctx), TraceID: trace.SpanFromContext(ctx).SpanContext().TraceID().String()}
	if reply.Experiments == nil {
		reply.Experiments = []abtest.Assignment{}
	}
	p := res.Params
	b := g.cfg.Budgets

	bf := g.breaker(g.breakers.features, HopFeatures, b.Features, res.Routes)
	feats, err := hop(ctx, bf, b.Features, func(ctx context.Context) (domain.UserFeatures, error) {
		return g.hops.Features.GetUserFeatures(ctx, userID, 0)
	})
	if err != nil {
		if e, ok := apierr.As(err); ok && e.Kind == apierr.KindInvalid {
			return Reply{}, err
		}
		g.degrade(ctx, &reply, HopFeatures, err)
		feats = domain.UserFeatures{UserID: userID} // cold start
	}

	br := g.breaker(g.breakers.recall, HopRecall, b.Recall, res.Routes)
	rec, err := hop(ctx, br, b.Recall, func(ctx context.Context) (recallapi.Response, error) {
		return g.hops.Recall.Recall(ctx, recallapi.Request{UserID: userID,
			Query: recallapi.Query{Recent: feats.Recent, Affinity: feats.GenreAffinity}, Quotas: p.RecallQuotas, K: g.cfg.RecallK})
	})
	cands := rec.Candidates
	if err != nil {
		g.degrade(ctx, &reply, HopRecall, err)
		if pop := g.popular.Load(); pop != nil {
			cands = *pop
		}
	}

	maxPerGenre := 0
	if p.MaxPerGenre != nil {
		maxPerGenre = *p.MaxPerGenre
	}
	exposure := exposureRules(feats, p.FrequencyCap)
	bl := g.breaker(g.breakers.filter, HopFilter, b.Filter, res.Routes)
	filtered, err := hop(ctx, bl, b.Filter, func(ctx context.Context) (filterapi.Response, error) {
		return g.hops.Filter.Filter(ctx, filterapi.Request{UserID: userID, Candidates: cands, Seen: feats.Seen, MaxPerGenre: maxPerGenre,
			Exposure: exposure})
	})
	kept := filtered.Kept
	if err != nil {
		g.degrade(ctx, &reply, HopFilter, err)
		// The minimal filter: never show a duplicate, an item the user has
		// seen, or one the exposure rules hide.
		kept = filterapi.Apply(cands, feats.Seen, exposure.Hidden(), nil, 0).Kept
	}

	bk := g.breaker(g.breakers.ranking, HopRanking, b.Ranking, res.Routes)
	ranked, err := hop(ctx, bk, b.Ranking, func(ctx context.Context) (rankingapi.Response, error) {
		return g.hops.Ranking.Rank(ctx, rankingapi.Request{UserID: userID, Affinity: feats.GenreAffinity, Candidates: kept,
			Weights: p.RankingWeights, ModelVersion: p.RankingModel})
	})
	final := ranked.Ranked
	if err != nil {
		g.degrade(ctx, &reply, HopRanking, err)
		final = kept // recall order
	}
	reply.ModelVersion = ranked.ModelVersion

	final = final[:min(n, len(final))]
	reply.Items = make([]Item, len(final))
	for i := range final {
		c := &final[i]
		reply.Items[i] = Item{ItemID: c.ID, Title: c.Title, Score: c.Score, Sources: sourceNames(c)}
	}
	g.logExposures(ctx, &reply)
	return reply, nil
}

type previewKey struct{}

// Preview marks ctx's request as a preview (the operator console's "try a
// user"): its reply is not logged as an exposure, so it counts in no
// result and changes nothing the user is shown next.
func Preview(ctx context.Context) context.Context { return context.WithValue(ctx, previewKey{}, true) }

func isPreview(ctx context.Context) bool { v, _ := ctx.Value(previewKey{}).(bool); return v }

// logExposures offers the reply to the exposure log, if it is on; it never waits.
func (g *Gateway) logExposures(ctx context.Context, r *Reply) {
	if g.exposures == nil || len(r.Items) == 0 || isPreview(ctx) {
		return
	}
	s := domain.ShownReply{RequestID: r.RequestID, TraceID: r.TraceID, UserID: r.UserID, TSMillis: time.Now().UnixMilli(),
		ModelVersion: r.ModelVersion, Degraded: r.Degraded, Assignments: r.Experiments, Items: make([]domain.ShownItem, len(r.Items))}
	for i, it := range r.Items {
		s.Items[i] = domain.ShownItem{ItemID: it.ItemID, Score: it.Score, Sources: it.Sources}
	}
	g.exposures.offer(s)
}

// exposureRules are the filter's exposure inputs: the user's newest
// exposures and clicks, and the variant's frequency cap (none: every shown
// item counts as seen).
func exposureRules(f domain.UserFeatures, c *abtest.FrequencyCap) filterapi.Exposure {
	e := filterapi.Exposure{Shown: f.Exposures, NowMillis: time.Now().UnixMilli()}
	if c != nil && c.K > 0 {
		e.Cap = filterapi.FrequencyCap{K: c.K, Window: time.Duration(c.Window), Cooldown: time.Duration(c.Cooldown)}
		for _, in := range f.Recent {
			if in.Type == "click" {
				e.Clicks = append(e.Clicks, domain.Exposure{ItemID: in.ItemID, TSMillis: in.TS*1000 + 999}) // clicks carry seconds
			}
		}
	}
	return e
}

// hop runs f under its breaker and its own budget inside the request deadline.
func hop[T any](ctx context.Context, b *resilience.Breaker, budget time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	return resilience.Call(ctx, b, f)
}

// IngestEvents hands a batch of events to features, which stores it
// durably (all or none) before it answers. A business error (an invalid
// event) is returned as such; any other failure means nothing was
// acknowledged and the caller should retry.
func (g *Gateway) IngestEvents(ctx context.Context, events []domain.Event) (int, error) {
	return hop(ctx, g.breakers.events, g.cfg.Budgets.Request, func(ctx context.Context) (int, error) {
		return g.hops.Features.IngestEvents(ctx, events)
	})
}

// GetItem returns one catalogue item.
func (g *Gateway) GetItem(ctx context.Context, id int64) (domain.Item, error) {
	return hop(ctx, g.breakers.items, g.cfg.Budgets.Features, func(ctx context.Context) (domain.Item, error) {
		return g.hops.Features.GetItem(ctx, id)
	})
}

func (g *Gateway) degrade(ctx context.Context, r *Reply, hop string, err error) {
	r.Degraded = append(r.Degraded, hop)
	g.metrics.Fallback(hop)
	trace.SpanFromContext(ctx).AddEvent("fallback", trace.WithAttributes(attribute.String("hop", hop), attribute.String("error", err.Error())))
	g.log.WarnContext(ctx, "hop failed; using its fallback", "hop", hop, "err", err)
}

// annotate records the variants on the root span and in baggage, so every
// downstream span can be attributed to its experiment arm.
func (g *Gateway) annotate(ctx context.Context, as []abtest.Assignment) context.Context {
	span := trace.SpanFromContext(ctx)
	bag := baggage.FromContext(ctx)
	for _, a := range as {
		span.SetAttributes(attribute.String("ab."+a.Layer, a.Experiment+"/"+a.Variant))
		if m, err := baggage.NewMember("ab."+a.Layer, a.Experiment+"."+a.Variant); err == nil {
			if b, err := bag.SetMember(m); err == nil {
				bag = b
			}
		}
	}
	return baggage.ContextWithBaggage(ctx, bag)
}

// sourceNames lists a candidate's channels, in the priority order recall
// sent them in.
func sourceNames(c *domain.Candidate) []string {
	out := make([]string, len(c.Sources))
	for i, s := range c.Sources {
		out[i] = s.Channel
	}
	return out
}
