package gateway

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/listcache"
)

// ListCacheConfig configures the ranked-list cache (package listcache).
type ListCacheConfig struct {
	// TTL is the longest a list is served; 0 switches the cache off.
	TTL time.Duration
	// MiB bounds the in-process level.
	MiB int
	// Redis is the shared level's redis:// URL, which the binary opens
	// (Hops.Lists); empty keeps lists in process.
	Redis string
	// Items is the most items of a pipeline run's list that are kept.
	Items int
	// PrewarmRate is how many lists per second a pre-warm rebuilds after a
	// new model version is seen.
	PrewarmRate float64
}

// lists is the gateway's side of the list cache: the cache, the model
// versions lists must match, and the pre-warm.
type lists struct {
	cache *listcache.Cache
	cfg   ListCacheConfig

	mu sync.Mutex
	// versions are the newest model versions ("recall/ranking") seen per
	// pinned ranking model ("" for the current one).
	versions map[string]string
	prewarm  chan string // a pinned ranking model whose versions changed
	// refreshing holds a token per background rebuild in flight.
	refreshing chan struct{}
}

// newLists opens the list cache over store (nil: in process only).
func newLists(cfg ListCacheConfig, store listcache.Store, reg prometheus.Registerer) (*lists, error) {
	c, err := listcache.New(listcache.Options{TTL: cfg.TTL, MaxBytes: uint64(cfg.MiB) << 20, Store: store}, reg)
	if err != nil {
		return nil, err
	}
	return &lists{cache: c, cfg: cfg, versions: map[string]string{}, prewarm: make(chan string, 1),
		refreshing: make(chan struct{}, maxRefreshes)}, nil
}

// versionsOf is the model versions a list built by a run with these
// recall and ranking versions carries.
func versionsOf(recall, ranking string) string { return recall + "/" + ranking }

// current is the newest versions seen for the pinned ranking model.
func (l *lists) current(rankingModel string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.versions[rankingModel]
}

// saw records the versions a whole pipeline run answered with; a change
// from versions known before starts a pre-warm.
func (l *lists) saw(rankingModel, v string) {
	l.mu.Lock()
	old := l.versions[rankingModel]
	l.versions[rankingModel] = v
	l.mu.Unlock()
	if old != "" && old != v {
		select {
		case l.prewarm <- rankingModel:
		default: // one is pending already
		}
	}
}

// listKey is everything a user's list depends on besides the user: the
// scene, the variant's params and routes, the categories asked for. Two
// requests with the same key get the same pipeline output.
func listKey(pl *plan) string {
	b, _ := json.Marshal(struct {
		P abtest.Params     `json:"p"`
		R map[string]string `json:"r,omitempty"`
		C []string          `json:"c,omitempty"`
	}{pl.res.Params, pl.res.Routes, pl.categories})
	h := fnv.New64a()
	_, _ = h.Write(b)
	return pl.scene + ":" + strconv.FormatUint(h.Sum64(), 36)
}

// listed says whether pl is served through the list cache: a user's
// request, not a console preview, and not under a frequency cap, which
// shows an item again until it was shown K times (a list serves each item
// once).
func (g *Gateway) listed(ctx context.Context, pl *plan) bool {
	fc := pl.res.Params.FrequencyCap
	return g.lists != nil && pl.userID != "" && !isPreview(ctx) && (fc == nil || fc.K == 0)
}

// serveListed answers from the user's cached list when it has a page
// left, and otherwise runs the pipeline, once for a burst of the same
// user's requests, keeping the run's list for the next pages.
func (g *Gateway) serveListed(ctx context.Context, pl *plan) (Reply, error) {
	pl.listKey = listKey(pl)
	req := listcache.Request{User: pl.userID, Key: pl.listKey, Versions: g.lists.current(pl.res.Params.RankingModel),
		N: pl.n, Exclude: pl.exclude, Admit: g.admit(time.Now()), RefreshBelow: refreshPages * pl.n, TryRefresh: g.lists.tryRefresh}
	if page, ok := g.lists.cache.Take(ctx, req); ok {
		if page.Refresh {
			g.refreshList(pl, page.Served)
		}
		return g.listedReply(ctx, pl, page.Items, page.ModelVersion), nil
	}
	v, shared, err := g.lists.cache.Build(pl.userID, pl.listKey, func() (any, error) { return g.serve(ctx, pl) })
	if !shared {
		r, _ := v.(Reply)
		return r, err
	}
	if page, ok := g.lists.cache.Take(ctx, req); ok {
		return g.listedReply(ctx, pl, page.Items, page.ModelVersion), nil
	}
	return g.serve(ctx, pl)
}

// refreshPages: a list with fewer than this many pages left is rebuilt in
// the background, so its user's next pages do not wait for the pipeline.
const refreshPages = 3

// maxRefreshes bounds the background rebuilds in flight; past it a list
// runs out and its user's request runs the pipeline, as without refresh.
const maxRefreshes = 2

// tryRefresh takes a token for a background rebuild, if one is free.
func (l *lists) tryRefresh() bool {
	select {
	case l.refreshing <- struct{}{}:
		return true
	default:
		return false
	}
}

// refreshList rebuilds pl's list in the background, leaving out what the
// old one served (the exposure log may not have it yet); the new list
// replaces the old one, which hands over what it served meanwhile. The
// caller holds a token (tryRefresh).
func (g *Gateway) refreshList(pl *plan, served []int64) {
	rp := *pl
	rp.exclude = served[max(0, len(served)-maxRefreshExclude):]
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { <-g.lists.refreshing }()
		if g.rebuild(&rp) {
			g.lists.cache.Refreshed()
		}
	}()
}

// rebuild runs the pipeline for pl in the background, for its list only:
// no exposure is logged, and the list is kept with nothing served.
func (g *Gateway) rebuild(pl *plan) bool {
	pl.rebuild = true
	_, err := g.serve(Preview(context.Background()), pl)
	return err == nil
}

// maxRefreshExclude is how many of the newest served items a refresh
// leaves out; older ones are in the exposure log by then.
const maxRefreshExclude = 1000

// listedReply is a reply from a cached list.
func (g *Gateway) listedReply(ctx context.Context, pl *plan, items []domain.Candidate, modelVersion string) Reply {
	trace.SpanFromContext(ctx).SetAttributes(attribute.Bool("list_cache.hit", true))
	reply := g.newReply(ctx, pl)
	reply.ModelVersion = modelVersion
	return g.answer(ctx, pl, reply, items)
}

// keepList keeps a whole pipeline run's output as the user's list, with
// the page the run answers already served.
// A rebuild's list has nothing served; a console preview's is not kept.
func (g *Gateway) keepList(ctx context.Context, pl *plan, final []domain.Candidate, recallVersion, rankingVersion string) {
	v := versionsOf(recallVersion, rankingVersion)
	g.lists.saw(pl.res.Params.RankingModel, v)
	if (isPreview(ctx) && !pl.rebuild) || len(final) <= pl.n {
		return // a preview shows nothing; a list with no page left serves nothing
	}
	final = final[:min(len(final), g.lists.cfg.Items)]
	var served []int64
	if !pl.rebuild {
		for _, c := range final[:min(pl.n, len(final))] {
			served = append(served, c.ID)
		}
	}
	g.lists.cache.Put(pl.userID, pl.listKey, listcache.List{Items: slices.Clone(final), ModelVersion: rankingVersion, Versions: v,
		Scene: pl.scene, Categories: pl.categories, Built: pl.started}, served)
}

// admit says whether the catalogue lets an item be served at now.
func (g *Gateway) admit(now time.Time) func(*domain.Candidate) bool {
	if g.view == nil {
		return nil
	}
	return func(c *domain.Candidate) bool {
		ok := true
		g.view.Statuses([]int64{c.ID}, now, func(int64, string) { ok = false })
		return ok
	}
}

// invalidateLists drops the lists of these users, so their next request
// runs the pipeline on what they just did.
func (g *Gateway) invalidateLists(ctx context.Context, users ...string) {
	if g.lists == nil {
		return
	}
	slices.Sort(users)
	for _, u := range slices.Compact(users) {
		g.lists.cache.Invalidate(ctx, u)
	}
}

// eventUsers are the users of a batch of events.
func eventUsers(events []domain.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.UserID
	}
	return out
}

// prewarmLoop rebuilds, after a new model version is seen, the lists in
// process built with the old one, at most PrewarmRate a second, so a
// release does not start every active user cold.
func (g *Gateway) prewarmLoop() {
	defer g.wg.Done()
	for {
		select {
		case <-g.stop:
			return
		case model := <-g.lists.prewarm:
			g.prewarmOnce(model)
		}
	}
}

func (g *Gateway) prewarmOnce(model string) {
	v := g.lists.current(model)
	stale := g.lists.cache.StaleLists(v, 100_000)
	tick := time.NewTicker(time.Duration(float64(time.Second) / g.lists.cfg.PrewarmRate))
	defer tick.Stop()
	done := 0
	for _, s := range stale {
		select {
		case <-g.stop:
			return
		case <-tick.C:
		}
		if g.lists.current(model) != v {
			break // a newer release: its own pre-warm follows
		}
		assigner := g.assigner.Load()
		res := assigner.AssignIn(s.User, s.Scene)
		if res.Params.RankingModel != model {
			continue
		}
		pl := &plan{userID: s.User, n: 1, scene: s.Scene, res: res, reserved: assigner.Reserved(), categories: s.Categories}
		pl.listKey = listKey(pl)
		if pl.listKey != s.Key {
			continue // the variant changed since: the user's next request builds it
		}
		if g.rebuild(pl) {
			done++
		}
	}
	g.lists.cache.Prewarmed(done)
	g.log.Info("list cache pre-warm done", slog.String("versions", v), slog.Int("lists", done), slog.Int("stale", len(stale)))
}
