package gateway

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/listcache"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// listFakes recall 100 items (149 down to 50), and after a user likes item x, item x+1000
// too, which ranking puts first; events are kept per user.
type listFakes struct {
	fakes
	mu      *sync.Mutex
	events  map[string][]domain.Interaction
	shown   map[string][]domain.Exposure
	seen    map[string][]int64
	version *atomic.Pointer[string] // the ranking model version
	// beforeRank, when set, runs at the start of each Rank call.
	beforeRank *atomic.Pointer[func()]
}

func (f listFakes) GetUserFeatures(_ context.Context, u string, _ int) (domain.UserFeatures, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return domain.UserFeatures{UserID: u, Recent: append([]domain.Interaction(nil), f.events[u]...), Exposures: f.shown[u], Seen: f.seen[u]}, nil
}

func (f listFakes) IngestEvents(_ context.Context, b domain.EventBatch) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range b.Events {
		f.events[e.UserID] = append(f.events[e.UserID], domain.Interaction{ItemID: e.ItemID, Type: e.Type, Value: 1})
	}
	return len(b.Events), nil
}

func (f listFakes) Recall(_ context.Context, r recallapi.Request) (recallapi.Response, error) {
	var out []domain.Candidate
	for _, in := range r.Query.Recent {
		out = append(out, cand(in.ItemID+1000, "item_cf"))
	}
	for id := int64(149); id >= 50 && len(out) < max(r.K, 1); id-- {
		if !slices.Contains(r.Exclude, id) && !slices.Contains(r.Seen, id) {
			out = append(out, cand(id, "popular"))
		}
	}
	return recallapi.Response{Candidates: out, ModelVersion: "recall-1"}, nil
}

func (f listFakes) Rank(ctx context.Context, r rankingapi.Request) (rankingapi.Response, error) {
	if hook := f.beforeRank.Load(); hook != nil {
		(*hook)()
	}
	resp, err := f.fakes.Rank(ctx, r)
	resp.ModelVersion = *f.version.Load()
	return resp, err
}

func newListGateway(t *testing.T, store listcache.Store, edit ...func(*Config)) (*Gateway, listFakes) {
	t.Helper()
	f := listFakes{fakes: newFakes(), mu: new(sync.Mutex), events: map[string][]domain.Interaction{}, shown: map[string][]domain.Exposure{}, seen: map[string][]int64{},
		version: new(atomic.Pointer[string]), beforeRank: new(atomic.Pointer[func()])}
	v := "m1"
	f.version.Store(&v)
	cfg := DefaultConfig()
	cfg.ConfigPoll, cfg.ConfigWait = 10*time.Millisecond, 50*time.Millisecond
	cfg.ListCache.PrewarmRate = 1000
	for _, e := range edit {
		e(&cfg)
	}
	g, err := New(cfg, Hops{Features: f, Recall: f, Filter: f, Ranking: f, Experiment: f, Lists: store}, prometheus.NewRegistry(), log.Discard(), uniqueInstance(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g, f
}

func itemIDs(r Reply) []int64 {
	out := make([]int64, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.ItemID
	}
	return out
}

func recommend(t *testing.T, g *Gateway, user string, n int) Reply {
	t.Helper()
	r, err := g.Recommend(context.Background(), Query{UserID: user, N: n})
	if err != nil || len(r.Items) != n || len(r.Degraded) != 0 {
		t.Fatalf("Recommend(%s): %d items, degraded %v, %v", user, len(r.Items), r.Degraded, err)
	}
	return r
}

// A user's next page comes from their cached list, with no hop; their own
// event drops it, so the reply after a like reflects the like.
func TestListCacheServesPagesAndAnEventRefreshesIt(t *testing.T) {
	g, f := newListGateway(t, nil)
	r1 := recommend(t, g, "u", 5)
	calls := f.rankCalls.Load()
	r2 := recommend(t, g, "u", 5)
	if f.rankCalls.Load() != calls {
		t.Fatal("the second page ran the pipeline")
	}
	if got, want := itemIDs(r2), []int64{144, 143, 142, 141, 140}; !slices.Equal(got, want) {
		t.Fatalf("second page %v, want %v (first %v)", got, want, itemIDs(r1))
	}
	if r2.ModelVersion != "m1" {
		t.Fatalf("model version %q from the cache, want m1", r2.ModelVersion)
	}
	if _, err := g.IngestEvents(context.Background(), domain.EventBatch{Events: []domain.Event{{UserID: "u", ItemID: 145, Type: "like", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	r3 := recommend(t, g, "u", 5)
	if f.rankCalls.Load() != calls+1 {
		t.Fatal("the reply after the event did not run the pipeline")
	}
	if r3.Items[0].ItemID != 1145 {
		t.Fatalf("after liking 145: %v, want 1145 first", itemIDs(r3))
	}
	// Another user's list is untouched by u's event.
	recommend(t, g, "v", 5)
	calls = f.rankCalls.Load()
	_, _ = g.IngestEvents(context.Background(), domain.EventBatch{Events: []domain.Event{{UserID: "u", ItemID: 1, Type: "click", Value: 1}}})
	recommend(t, g, "v", 5)
	if f.rankCalls.Load() != calls {
		t.Fatal("u's event dropped v's list")
	}
}

// A run that read the user's features before their event does not keep
// its list: the next request runs the pipeline and reflects the event.
func TestListOfARunBeforeAnEventIsNotKept(t *testing.T) {
	g, f := newListGateway(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	hook := func() { close(entered); <-release }
	f.beforeRank.Store(&hook)
	done := make(chan error)
	go func() {
		_, err := g.Recommend(context.Background(), Query{UserID: "u", N: 5})
		done <- err
	}()
	<-entered // the run has read u's features and recalled
	f.beforeRank.Store(nil)
	if _, err := g.IngestEvents(context.Background(), domain.EventBatch{Events: []domain.Event{{UserID: "u", ItemID: 145, Type: "like", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	calls := f.rankCalls.Load()
	r := recommend(t, g, "u", 5)
	if f.rankCalls.Load() != calls+1 {
		t.Fatal("the list of a run that started before the event was served")
	}
	if r.Items[0].ItemID != 1145 {
		t.Fatalf("after liking 145: %v, want 1145 first", itemIDs(r))
	}
	if got := testutil.ToFloat64(g.lists.cache.OutdatedCounter()); got != 1 {
		t.Fatalf("outdated lists %v, want 1", got)
	}
}

// A variant's params are part of the key: a config change that gives the
// user other params misses; one that leaves theirs alone does not.
func TestListCacheIsPerVariant(t *testing.T) {
	g, f := newListGateway(t, nil)
	recommend(t, g, "u", 5)
	calls := f.rankCalls.Load()
	same, _ := abtest.NewAssigner(&abtest.Config{Version: 8})
	g.assigner.Store(same)
	recommend(t, g, "u", 5)
	if f.rankCalls.Load() != calls {
		t.Fatal("a config change that leaves the user's params alone dropped their list")
	}
	other, _ := abtest.NewAssigner(&abtest.Config{Version: 9, Defaults: abtest.Params{RankingWeights: map[string]float64{"click": 2}}})
	g.assigner.Store(other)
	recommend(t, g, "u", 5)
	if f.rankCalls.Load() != calls+1 {
		t.Fatal("new params were served from the old params' list")
	}
}

// After a new model version is seen, the lists built with the old one are
// rebuilt in the background, so their users' next pages are hits of the
// new model.
func TestNewModelVersionPrewarmsLists(t *testing.T) {
	g, f := newListGateway(t, nil)
	recommend(t, g, "a", 5)
	recommend(t, g, "b", 5)
	v := "m2"
	f.version.Store(&v)
	recommend(t, g, "c", 5) // the first run that sees m2
	waitUntil(t, func() bool { return testutil.ToFloat64(g.lists.cache.PrewarmedCounter()) == 2 })
	calls := f.rankCalls.Load()
	for _, u := range []string{"a", "b"} {
		r := recommend(t, g, u, 5)
		if r.ModelVersion != "m2" {
			t.Fatalf("%s after the pre-warm: model %q, want m2", u, r.ModelVersion)
		}
		if r.Items[0].ItemID != 144 {
			t.Fatalf("%s's pre-warmed list starts at %d, want 144: it serves neither the old list's first page again nor a page itself", u, r.Items[0].ItemID)
		}
	}
	if f.rankCalls.Load() != calls {
		t.Fatal("pre-warmed users ran the pipeline")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("not within 5 s")
}

// Two gateways over one shared level are two replicas: a user's next page
// comes from the other's list, and an event at one drops it at both.
func TestListCacheAcrossReplicas(t *testing.T) {
	store := listcache.NewMemory()
	a, fa := newListGateway(t, store)
	b, fb := newListGateway(t, store)
	recommend(t, a, "u", 5)
	waitUntil(t, func() bool {
		_, served, ok, _ := store.Get(context.Background(), "u", listKeyFor(b, "u"))
		return ok && len(served) == 5
	})
	r := recommend(t, b, "u", 5)
	if fb.rankCalls.Load() != 0 || r.Items[0].ItemID != 144 {
		t.Fatalf("replica b: %d rank calls, page %v; want a's list's second page", fb.rankCalls.Load(), itemIDs(r))
	}
	// The like goes to a (and its features); b's copy must go too.
	_, _ = a.IngestEvents(context.Background(), domain.EventBatch{Events: []domain.Event{{UserID: "u", ItemID: 7, Type: "like", Value: 1}}})
	waitUntil(t, func() bool { return testutil.ToFloat64(b.lists.cache.InvalidationsCounter("remote")) == 1 })
	fa.mu.Lock()
	fb.mu.Lock()
	fb.events["u"] = fa.events["u"] // one features store behind both
	fb.mu.Unlock()
	fa.mu.Unlock()
	if r := recommend(t, b, "u", 5); r.Items[0].ItemID != 1007 {
		t.Fatalf("b after a's like: %v, want 1007 first", itemIDs(r))
	}
}

func listKeyFor(g *Gateway, user string) string {
	a := g.assigner.Load()
	return listKey(&plan{userID: user, res: a.AssignIn(user, "")})
}

// Recall is asked to leave out what the exposure rules hide and what the
// user has seen, so an engaged user's recall budget goes to items that can
// still be shown: here recall returns only 10 items, the 10 best were
// shown before and the next 10 are seen.
func TestRecallLeavesOutHiddenExposures(t *testing.T) {
	g, f := newListGateway(t, nil)
	g.cfg.RecallK = 10
	for id := int64(140); id < 150; id++ {
		f.shown["u"] = append(f.shown["u"], domain.Exposure{ItemID: id, TSMillis: time.Now().UnixMilli()})
	}
	for id := int64(130); id < 140; id++ {
		f.seen["u"] = append(f.seen["u"], id)
	}
	r := recommend(t, g, "u", 5)
	if got := itemIDs(r); !slices.Equal(got, []int64{129, 128, 127, 126, 125}) {
		t.Fatalf("got %v: want the best items not shown before", got)
	}
}

// A list near its end is rebuilt in the background, leaving out what it
// served: the user pages on with hits only and never sees an item twice.
func TestListRefreshedAheadOfItsEnd(t *testing.T) {
	g, _ := newListGateway(t, nil, func(c *Config) { c.ListCache.Items = 40 })
	seen := map[int64]bool{}
	page := func() {
		for _, id := range itemIDs(recommend(t, g, "u", 5)) {
			if seen[id] {
				t.Fatalf("item %d served twice", id)
			}
			seen[id] = true
		}
	}
	for range 6 { // 30 of the list's 40 items: fewer than three pages left
		page()
	}
	waitUntil(t, func() bool { return testutil.ToFloat64(g.lists.cache.RefreshedCounter()) == 1 })
	for range 8 { // past the first list's end, on the refreshed one
		page()
	}
	if got := testutil.ToFloat64(g.lists.cache.ResultCounter("exhausted")) + testutil.ToFloat64(g.lists.cache.ResultCounter("miss")); got != 1 {
		t.Fatalf("%v misses, want only the first request's", got)
	}
}
