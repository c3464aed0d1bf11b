package gateway

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
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

// Reply is the body of GET /v1/recommendations and of GET
// /v1/items/{id}/similar.
type Reply struct {
	RequestID string `json:"request_id"`
	TraceID   string `json:"trace_id"`
	UserID    string `json:"user_id"`
	// ItemID is the item a similar-items reply is similar to.
	ItemID       int64               `json:"item_id,omitempty"`
	Scene        string              `json:"scene,omitempty"`
	ModelVersion string              `json:"model_version,omitempty"`
	Items        []Item              `json:"items"`
	Experiments  []abtest.Assignment `json:"experiments"`
	Degraded     []string            `json:"degraded"`
	// NextCursor asks for the next page (cursor=); empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Query is one GET /v1/recommendations.
type Query struct {
	UserID string
	// N is the page size, 1 to 100.
	N int
	// Categories keeps the list to these categories (any of them).
	Categories []string
	// Exclude are item ids the client shows already.
	Exclude []int64
	// Scene is the surface asking (home, detail, ...); experiments and
	// params may target it.
	Scene string
	// Cursor continues a pagination session (a reply's NextCursor).
	Cursor string
}

// Limits of a query.
const (
	MaxN          = 100
	MaxCategories = 20
	MaxExclude    = 500
)

func validN(n int) error {
	if n < 1 || n > MaxN {
		return apierr.Invalid("n must be between 1 and %d", MaxN)
	}
	return nil
}

func validateQuery(userID string, n int, categories []string, exclude []int64, scene string) error {
	if err := domain.ValidateUserID(userID); err != nil {
		return err
	}
	if err := validN(n); err != nil {
		return err
	}
	if len(categories) > MaxCategories {
		return apierr.Invalid("at most %d categories", MaxCategories)
	}
	for _, c := range categories {
		if err := domain.ValidateLabel("category", c); err != nil {
			return err
		}
	}
	if len(exclude) > MaxExclude {
		return apierr.Invalid("exclude holds at most %d item ids", MaxExclude)
	}
	if scene != "" && !abtest.ValidScene(scene) {
		return apierr.Invalid("scene must be 1 to 32 of a-z, 0-9, '_', '-'")
	}
	return nil
}

// Recommend answers one request. Hop failures degrade the answer instead of
// failing it; only a business error (bad input) is returned as an error.
func (g *Gateway) Recommend(ctx context.Context, q Query) (Reply, error) {
	if err := validateQuery(q.UserID, q.N, q.Categories, q.Exclude, q.Scene); err != nil {
		return Reply{}, err
	}
	shown, err := decodeCursor(q.UserID, q.Cursor)
	if err != nil {
		return Reply{}, err
	}
	assigner := g.assigner.Load()
	res := assigner.AssignIn(q.UserID, q.Scene)
	p := &plan{userID: q.UserID, n: q.N, scene: q.Scene, res: res, reserved: assigner.Reserved(), categories: q.Categories,
		exclude: append(slices.Clone(q.Exclude), shown...)}
	var reply Reply
	if g.listed(ctx, p) {
		reply, err = g.serveListed(ctx, p)
	} else {
		reply, err = g.serve(ctx, p)
	}
	if err != nil {
		return Reply{}, err
	}
	if len(reply.Items) == q.N && len(shown)+q.N <= MaxSessionItems {
		ids := shown
		for _, it := range reply.Items {
			ids = append(ids, it.ItemID)
		}
		reply.NextCursor = encodeCursor(q.UserID, ids)
	}
	return reply, nil
}

// plan is one run of the pipeline: a recommendation or a similar-items
// request. Features are asked only when there is a user (none: cold start).
type plan struct {
	userID, scene string
	n             int
	res           abtest.Result
	reserved      map[string][]string
	categories    []string
	exclude       []int64
	// seed makes it a similar-items request for that item.
	seed *domain.Item
	// listKey keeps a whole run's output in the list cache under this key
	// (lists.go); empty: not kept.
	listKey string
	// rebuild marks a background rebuild (a refresh or a pre-warm): it
	// shows nothing, and its list is kept with nothing served.
	rebuild bool
	// started is when serve began, before any hop read the user: a list
	// the run builds is as old as that (listcache.Cache.Put).
	started time.Time
}

// serve runs features, recall, filter and ranking under their budgets and
// breakers, with the fallback of each, then applies the catalogue once
// more (the gateway's own view) so that no path serves an item the
// catalogue has taken out of serving.
func (g *Gateway) serve(ctx context.Context, pl *plan) (Reply, error) {
	pl.started = time.Now()
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Budgets.Request)
	defer cancel()
	res := pl.res
	ctx = g.annotate(ctx, res.Assignments)
	ctx = balancer.WithRoutes(ctx, pl.userID, res.Routes, pl.reserved)
	reply := g.newReply(ctx, pl)
	rung, exit := RungFull, func() {}
	if !pl.rebuild { // background rebuilds are bounded by their own tokens (maxRefreshes), not the ladder
		rung, exit = g.shed.enter()
	}
	defer exit()
	switch rung {
	case RungRefuse:
		return Reply{}, errOverloaded
	case RungPopular:
		if pl.listKey != "" && g.lists.tryRefresh() {
			// A shed answer is not cached: without its list, the user's
			// next request would miss and be shed again, for as long as
			// the overload lasts. Build it in the background.
			g.refreshList(pl, nil)
		}
		return g.servePopular(ctx, pl, reply), nil
	}
	p := res.Params
	b := g.cfg.Budgets

	feats := domain.UserFeatures{UserID: pl.userID}
	if pl.userID != "" {
		bf := g.breaker(g.breakers.features, HopFeatures, b.Features, res.Routes)
		got, err := servingHop(g, ctx, bf, HopFeatures, b.Features, b.Recall+b.Filter+b.Ranking, func(ctx context.Context) (domain.UserFeatures, error) {
			return g.hops.Features.GetUserFeatures(ctx, pl.userID, 0)
		})
		if err != nil {
			if e, ok := apierr.As(err); ok && e.Kind == apierr.KindInvalid {
				return Reply{}, err
			}
			g.degrade(ctx, &reply, HopFeatures, err)
		} else {
			feats = got
		}
	}

	exposure := exposureRules(feats, p.FrequencyCap)
	hidden := exposure.Hidden()
	// Recall leaves out what the filter would drop anyway (seen, hidden),
	// so its K are items that can be shown: an engaged user's feed does
	// not run dry.
	rreq := recallapi.Request{UserID: pl.userID, Query: recallapi.Query{Recent: feats.Recent, Affinity: feats.GenreAffinity},
		Quotas: p.RecallQuotas, K: g.cfg.RecallK, Categories: pl.categories, Exclude: withHidden(pl.exclude, hidden),
		Seen: feats.Seen[:min(len(feats.Seen), recallapi.MaxSeen)]}
	if pl.seed != nil {
		rreq = similarRecall(pl.seed, p, g.cfg.RecallK, pl.exclude)
	}
	br := g.breaker(g.breakers.recall, HopRecall, b.Recall, res.Routes)
	rec, err := servingHop(g, ctx, br, HopRecall, b.Recall, b.Filter+b.Ranking, func(ctx context.Context) (recallapi.Response, error) {
		return g.hops.Recall.Recall(ctx, rreq)
	})
	cands := rec.Candidates
	if err != nil {
		g.degrade(ctx, &reply, HopRecall, err)
		cands = g.popularFallback(pl.seed)
	}
	for _, ch := range rec.Missed { // partial: the other channels answered
		g.degrade(ctx, &reply, HopRecall+":"+ch, errChannelMissed)
	}

	maxPerGenre := 0
	if p.MaxPerGenre != nil {
		maxPerGenre = *p.MaxPerGenre
	}
	bl := g.breaker(g.breakers.filter, HopFilter, b.Filter, res.Routes)
	filtered, err := servingHop(g, ctx, bl, HopFilter, b.Filter, b.Ranking, func(ctx context.Context) (filterapi.Response, error) {
		return g.hops.Filter.Filter(ctx, filterapi.Request{UserID: pl.userID, Candidates: cands, Seen: feats.Seen, MaxPerGenre: maxPerGenre,
			Exposure: exposure, Categories: pl.categories, Exclude: pl.exclude})
	})
	kept := filtered.Kept
	if err != nil {
		g.degrade(ctx, &reply, HopFilter, err)
		// The minimal filter: never a duplicate, an excluded item, one the
		// catalogue takes out of serving, one of another category, or one
		// the user has seen or the exposure rules hide.
		kept = filterapi.Apply(cands, filterapi.Rules{Exclude: pl.exclude, Categories: pl.categories, Seen: feats.Seen,
			Hidden: hidden}).Kept
	}
	kept = g.servable(kept)

	affinity := feats.GenreAffinity
	if pl.seed != nil && len(affinity) == 0 {
		affinity = rreq.Affinity
	}
	final := kept // recall order, unless ranking answers
	if rung == RungSkipRanking {
		reply.Degraded = append(reply.Degraded, DegradedShedRanking)
	} else {
		bk := g.breaker(g.breakers.ranking, HopRanking, b.Ranking, res.Routes)
		ranked, err := servingHop(g, ctx, bk, HopRanking, b.Ranking, 0, func(ctx context.Context) (rankingapi.Response, error) {
			return g.hops.Ranking.Rank(ctx, rankingapi.Request{UserID: pl.userID, Affinity: affinity, Candidates: kept,
				Weights: p.RankingWeights, ModelVersion: p.RankingModel})
		})
		if err != nil {
			g.degrade(ctx, &reply, HopRanking, err)
		} else {
			final, reply.ModelVersion = ranked.Ranked, ranked.ModelVersion
		}
	}
	if pl.seed != nil {
		final = neighboursFirst(final)
	}
	if pl.listKey != "" && rung == RungFull && len(reply.Degraded) == 0 {
		g.keepList(ctx, pl, final, rec.ModelVersion, reply.ModelVersion)
	}
	return g.answer(ctx, pl, reply, final), nil
}

// newReply is a reply to pl with no items yet.
func (g *Gateway) newReply(ctx context.Context, pl *plan) Reply {
	reply := Reply{UserID: pl.userID, Scene: pl.scene, Experiments: pl.res.Assignments, Degraded: []string{},
		RequestID: rlog.RequestID(ctx), TraceID: trace.SpanFromContext(ctx).SpanContext().TraceID().String()}
	if reply.Experiments == nil {
		reply.Experiments = []abtest.Assignment{}
	}
	return reply
}

// servable drops what the gateway's own catalogue view says may not be
// served now: a second line behind recall and filter, whose views may lag
// the gateway's by a poll, and the only line on the fallback paths.
func (g *Gateway) servable(cands []domain.Candidate) []domain.Candidate {
	bad := filterapi.Unservable(g.view, cands, time.Now())
	if len(bad) == 0 {
		return cands
	}
	out := make([]domain.Candidate, 0, len(cands))
	for _, c := range cands {
		if _, drop := bad[c.ID]; !drop {
			out = append(out, c)
		}
	}
	return out
}

// firstServable is the first n candidates, in order, that pass the rules
// and the catalogue. It looks at a prefix a few times n long and widens it
// only when too few pass, so a popular list served under overload costs
// the same however long the list is.
func (g *Gateway) firstServable(cands []domain.Candidate, r filterapi.Rules, n int) []domain.Candidate {
	for k := 4*n + len(r.Exclude); ; k *= 2 {
		k = min(k, len(cands))
		kept := g.servable(filterapi.Apply(cands[:k], r).Kept)
		if len(kept) >= n || k == len(cands) {
			return kept[:min(n, len(kept))]
		}
	}
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

// withHidden is exclude and the hidden items, at most recallapi.MaxExclude.
func withHidden(exclude []int64, hidden map[int64]string) []int64 {
	if len(hidden) == 0 {
		return exclude
	}
	out := make([]int64, len(exclude), min(len(exclude)+len(hidden), recallapi.MaxExclude))
	copy(out, exclude)
	for id := range hidden { // a repeat of an excluded id costs recall nothing
		if len(out) >= recallapi.MaxExclude {
			break
		}
		out = append(out, id)
	}
	return out
}

// errOverloaded answers a request past the shedding ladder's last rung.
var errOverloaded = apierr.New(apierr.KindUnavailable, "the gateway is overloaded; retry after a second")

// answer fills the reply's items with the first n candidates and logs
// their exposure to the user.
func (g *Gateway) answer(ctx context.Context, pl *plan, reply Reply, final []domain.Candidate) Reply {
	final = final[:min(pl.n, len(final))]
	reply.Items = make([]Item, len(final))
	for i := range final {
		c := &final[i]
		reply.Items[i] = Item{ItemID: c.ID, Title: c.Title, Score: c.Score, Sources: sourceNames(c)}
	}
	if pl.userID != "" {
		g.logExposures(ctx, &reply)
	}
	return reply
}

// servePopular answers from the cached popular list alone, with no hop: the
// shedding ladder's cheapest answer that is still an answer.
func (g *Gateway) servePopular(ctx context.Context, pl *plan, reply Reply) Reply {
	reply.Degraded = append(reply.Degraded, DegradedShedPopular)
	kept := g.firstServable(g.popularFallback(pl.seed), filterapi.Rules{Exclude: pl.exclude, Categories: pl.categories}, pl.n)
	return g.answer(ctx, pl, reply, kept)
}

// errChannelMissed is why a recall channel is named in degraded.
var errChannelMissed = errors.New("the channel missed recall's deadline; the other channels were served")

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
