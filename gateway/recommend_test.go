package gateway

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/balancer"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/pkg/resilience/resiliencetest"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, resiliencetest.LeakOptions()...) }

var errDown = status.Error(codes.Unavailable, "connection refused")

// fakes answer like the real services over a tiny catalogue; down makes a hop fail.
type fakes struct {
	down      *sync.Map     // hop name → true
	watches   *atomic.Int64 // WatchConfig calls
	rankCalls *atomic.Int64 // Rank calls
	// rankGate, when it holds a channel, makes Rank wait until it closes.
	rankGate *atomic.Pointer[chan struct{}]
}

func newFakes() fakes {
	return fakes{down: new(sync.Map), watches: new(atomic.Int64), rankCalls: new(atomic.Int64), rankGate: new(atomic.Pointer[chan struct{}])}
}

func (f fakes) isDown(hop string) bool { _, ok := f.down.Load(hop); return ok }
func (f fakes) setDown(hop string)     { f.down.Store(hop, true) }

func cand(id int64, src string) domain.Candidate {
	return domain.Candidate{ID: id, Title: "t", Sources: []domain.Source{{Channel: src, Score: 1}}}
}

func (f fakes) GetUserFeatures(_ context.Context, u string, _ int) (domain.UserFeatures, error) {
	if f.isDown(HopFeatures) {
		return domain.UserFeatures{}, errDown
	}
	return domain.UserFeatures{UserID: u, Seen: []int64{2}, Recent: []domain.Interaction{{ItemID: 2}}}, nil
}
func (f fakes) IngestEvents(context.Context, domain.EventBatch) (int, error) { return 0, errDown }
func (f fakes) GetItem(_ context.Context, id int64) (domain.Item, error) {
	return domain.Item{}, apierr.NotFound("item %d does not exist", id)
}
func (f fakes) Recall(_ context.Context, r recallapi.Request) (recallapi.Response, error) {
	if f.isDown(HopRecall) {
		return recallapi.Response{}, errDown
	}
	if r.OnlyQuotas && r.Quotas[recallapi.ChannelPopular] > 0 {
		return recallapi.Response{Candidates: []domain.Candidate{cand(9, "popular"), cand(2, "popular"), cand(8, "popular")}}, nil
	}
	resp := recallapi.Response{Candidates: []domain.Candidate{cand(1, "item_cf"), cand(2, "item_cf"), cand(3, "genre"), cand(3, "genre")}}
	if f.isDown(HopRecall + ":embedding") { // the embedding channel missed the deadline
		resp.Missed = []string{"embedding"}
	}
	return resp, nil
}
func (f fakes) Filter(_ context.Context, r filterapi.Request) (filterapi.Response, error) {
	if f.isDown(HopFilter) {
		return filterapi.Response{}, errDown
	}
	return filterapi.Apply(r.Candidates, filterapi.Rules{Seen: r.Seen, Hidden: r.Exposure.Hidden(), Exclude: r.Exclude, Categories: r.Categories}), nil
}
func (f fakes) Rank(ctx context.Context, r rankingapi.Request) (rankingapi.Response, error) {
	f.rankCalls.Add(1)
	if gate := f.rankGate.Load(); gate != nil {
		<-*gate
	}
	_, version := balancer.RouteFrom(ctx, HopRanking)
	if f.isDown(HopRanking) || (version != "" && f.isDown(HopRanking+"@"+version)) {
		return rankingapi.Response{}, errDown
	}
	out := slices.Clone(r.Candidates)
	for i := range out {
		out[i].Score = float64(out[i].ID) // rank by id, highest first
	}
	slices.SortFunc(out, func(a, b domain.Candidate) int { return int(b.Score - a.Score) })
	return rankingapi.Response{Ranked: out, ModelVersion: "m1"}, nil
}
func (f fakes) GetConfig(context.Context) (*abtest.Config, error) {
	if f.isDown(HopExperiment) {
		return nil, errDown
	}
	return &abtest.Config{Version: 7}, nil
}

func (f fakes) WatchConfig(ctx context.Context, known int64, wait time.Duration) (*abtest.Config, error) {
	f.watches.Add(1)
	cfg, err := f.GetConfig(ctx)
	if err != nil || cfg.Version != known {
		return cfg, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
		return cfg, nil
	}
}

var instances atomic.Int64

// uniqueInstance names a test gateway's breakers apart from every other's:
// hystrix-go's commands are process-wide.
func uniqueInstance(t *testing.T) string { return fmt.Sprintf("%s-%d", t.Name(), instances.Add(1)) }

func newGateway(t *testing.T, down ...string) (*Gateway, *resilience.Metrics) {
	g, m, _ := newGatewayWithFakes(t, down...)
	return g, m
}

func newGatewayWithFakes(t *testing.T, down ...string) (*Gateway, *resilience.Metrics, fakes) {
	t.Helper()
	f := newFakes()
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.ConfigPoll, cfg.ConfigWait = 10*time.Millisecond, 50*time.Millisecond
	cfg.BreakerSleep = 50 * time.Millisecond
	g, err := New(cfg, Hops{Features: f, Recall: f, Filter: f, Ranking: f, Experiment: f}, reg, log.Discard(), uniqueInstance(t))
	if err != nil {
		t.Fatal(err)
	}
	m := g.metrics
	g.Start(context.Background())
	t.Cleanup(g.Close)
	for _, h := range down {
		f.setDown(h)
	}
	return g, m, f
}

func TestFallbackLadder(t *testing.T) {
	tests := []struct {
		down         []string
		wantDegraded []string
		wantItems    []int64
	}{
		{nil, []string{}, []int64{3, 1}},                                                // ranked by id, seen 2 dropped, dup 3 dropped
		{[]string{HopFeatures}, []string{"features"}, []int64{3, 2, 1}},                 // cold start: nothing is seen
		{[]string{HopRecall}, []string{"recall"}, []int64{9, 8}},                        // cached popular list, seen 2 dropped
		{[]string{HopFilter}, []string{"filter"}, []int64{3, 1}},                        // minimal filter still drops seen and dups
		{[]string{"recall:embedding"}, []string{"recall:embedding"}, []int64{3, 1}},     // a channel missed: the others are served
		{[]string{HopRanking}, []string{"ranking"}, []int64{1, 3}},                      // recall order
		{[]string{HopRecall, HopRanking}, []string{"recall", "ranking"}, []int64{9, 8}}, // popular, in popular order
		{[]string{HopFeatures, HopRecall, HopFilter, HopRanking}, []string{"features", "recall", "filter", "ranking"}, []int64{9, 2, 8}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("down=", tt.down), func(t *testing.T) {
			g, m := newGateway(t, tt.down...)
			r, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 10})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Degraded, tt.wantDegraded) {
				t.Errorf("degraded = %v, want %v", r.Degraded, tt.wantDegraded)
			}
			var got []int64
			for _, it := range r.Items {
				got = append(got, it.ItemID)
			}
			if !slices.Equal(got, tt.wantItems) {
				t.Errorf("items = %v, want %v", got, tt.wantItems)
			}
			for _, h := range tt.down {
				if n := testutil.ToFloat64(m.FallbackCounter(h)); n != 1 {
					t.Errorf("fallback counter of %s = %v, want 1", h, n)
				}
			}
		})
	}
}

// The ladder runs through the gateway's real breakers: a hop that keeps
// failing opens its breaker, requests keep being answered by its fallback
// (without calling the hop), and once the hop is back a trial call closes
// the breaker again.
func TestBreakerOpensUnderTheLadderAndCloses(t *testing.T) {
	g, m, f := newGatewayWithFakes(t, HopRanking)
	ctx := context.Background()
	for i := 0; i < 200 && !g.breakers.ranking.Open(); i++ {
		r, err := g.Recommend(ctx, Query{UserID: "u1", N: 10})
		if err != nil || !slices.Equal(r.Degraded, []string{"ranking"}) {
			t.Fatalf("request %d: %v, degraded %v", i, err, r.Degraded)
		}
		time.Sleep(time.Millisecond) // hystrix-go counts outcomes asynchronously
	}
	if !g.breakers.ranking.Open() {
		t.Fatal("the ranking breaker never opened while ranking failed")
	}
	calls := f.rankCalls.Load()
	r, err := g.Recommend(ctx, Query{UserID: "u1", N: 10})
	if err != nil || !slices.Equal(r.Degraded, []string{"ranking"}) || len(r.Items) == 0 {
		t.Fatalf("with the breaker open: %v, %+v", err, r)
	}
	if f.rankCalls.Load() != calls {
		t.Error("an open breaker still called ranking")
	}
	if n := testutil.ToFloat64(m.OutcomeCounter(HopRanking, "circuit_open")); n < 1 {
		t.Errorf("circuit_open outcomes = %v", n)
	}
	f.down.Delete(HopRanking)
	deadline := time.Now().Add(5 * time.Second)
	for g.breakers.ranking.Open() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, _ = g.Recommend(ctx, Query{UserID: "u1", N: 10})
	}
	if g.breakers.ranking.Open() {
		t.Fatal("the breaker stayed open after ranking recovered")
	}
	if r, _ := g.Recommend(ctx, Query{UserID: "u1", N: 10}); len(r.Degraded) != 0 {
		t.Errorf("degraded %v after recovery", r.Degraded)
	}
}

// A business error from a hop is the caller's answer, not a fallback, and
// never opens the breaker.
func TestBusinessErrorsPassThroughTheBreaker(t *testing.T) {
	g, m := newGateway(t)
	for i := 0; i < 60; i++ {
		if _, err := g.GetItem(context.Background(), 404); err == nil {
			t.Fatal("missing item found")
		} else if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindNotFound {
			t.Fatalf("GetItem = %v, want not_found", err)
		}
	}
	if g.breakers.items.Open() || testutil.ToFloat64(m.OutcomeCounter(HopItems, "business_error")) != 60 {
		t.Errorf("business errors counted against the items breaker")
	}
}

func TestExperimentDownKeepsLastConfig(t *testing.T) {
	g, _, f := newGatewayWithFakes(t, HopExperiment)
	if v := g.ConfigVersion(); v != 7 {
		t.Fatalf("config version %d after start, want 7", v)
	}
	// The watch fails from now on (experiment is down) and is retried.
	for start := f.watches.Load(); f.watches.Load() < start+3; {
		time.Sleep(time.Millisecond)
	}
	if v := g.ConfigVersion(); v != 7 {
		t.Errorf("config version %d after failed watches, want the last good 7", v)
	}
}

func TestRecommendRefusesBadInput(t *testing.T) {
	g, _ := newGateway(t)
	for _, tc := range []struct {
		user string
		n    int
	}{{"", 10}, {"u", 0}, {"u", 101}, {"a\x00b", 5}} {
		_, err := g.Recommend(context.Background(), Query{UserID: tc.user, N: tc.n})
		if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindInvalid {
			t.Errorf("Recommend(%q, %d) = %v, want invalid_argument", tc.user, tc.n, err)
		}
	}
}
