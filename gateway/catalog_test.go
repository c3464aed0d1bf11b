package gateway

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// fakeCatalog is a catalogue change feed over a slice.
type fakeCatalog struct {
	mu    sync.Mutex
	items []domain.Item
}

func (c *fakeCatalog) put(it domain.Item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it.Rev = int64(len(c.items) + 1)
	c.items = append(c.items, it)
}

func (c *fakeCatalog) ItemChanges(_ context.Context, since int64, _ int) (featuresapi.ItemChanges, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := featuresapi.ItemChanges{Next: since}
	for _, it := range c.items {
		if it.Rev > since {
			out.Items = append(out.Items, it)
			out.Next = it.Rev
		}
	}
	return out, nil
}

func (c *fakeCatalog) PutItems(context.Context, []domain.Item) ([]domain.Item, error) {
	return nil, errDown
}
func (c *fakeCatalog) PatchItem(context.Context, int64, domain.ItemPatch) (domain.Item, error) {
	return domain.Item{}, errDown
}
func (c *fakeCatalog) RetireItem(context.Context, int64) (domain.Item, error) {
	return domain.Item{}, errDown
}

// manyFakes recall items 1..30 (popular: 100..130), so pages can follow.
type manyFakes struct{ fakes }

func (f manyFakes) Recall(_ context.Context, r recallapi.Request) (recallapi.Response, error) {
	if f.isDown(HopRecall) {
		return recallapi.Response{}, errDown
	}
	lo := int64(1)
	if r.OnlyQuotas && r.Quotas[recallapi.ChannelPopular] > 0 {
		lo = 100
	}
	var out []domain.Candidate
	for id := lo; id < lo+30; id++ {
		if !slices.Contains(r.Exclude, id) && !slices.Contains(r.Seeds, id) {
			out = append(out, cand(id, "item_cf"))
		}
	}
	return recallapi.Response{Candidates: out}, nil
}

func newCatalogGateway(t *testing.T, f fakes, recall recallapi.Service, cat *fakeCatalog) *Gateway {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ConfigPoll, cfg.ConfigWait, cfg.BreakerSleep, cfg.CatalogPoll = 10*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond, 10*time.Millisecond
	g, err := New(cfg, Hops{Features: f, Recall: recall, Filter: f, Ranking: f, Experiment: f, Catalog: cat}, prometheus.NewRegistry(),
		log.Discard(), uniqueInstance(t))
	if err != nil {
		t.Fatal(err)
	}
	g.Start(context.Background())
	t.Cleanup(g.Close)
	deadline := time.Now().Add(5 * time.Second)
	for g.view.Rev() < int64(len(cat.items)) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return g
}

// Whatever fails, an item the catalogue has retired, made unavailable or
// expired is never served: the fakes' filter knows no catalogue (as a
// filter whose view lags), so the gateway's own check is what holds.
func TestTheCatalogueHoldsOnEveryFallbackPath(t *testing.T) {
	now := time.Now()
	for _, down := range [][]string{nil, {HopFeatures}, {HopRecall}, {HopFilter}, {HopRanking}, {HopRecall, HopFilter},
		{HopFeatures, HopRecall, HopFilter, HopRanking}} {
		t.Run(fmt.Sprint("down=", down), func(t *testing.T) {
			cat := &fakeCatalog{}
			bad := []int64{3, 5, 101, 102}
			cat.put(domain.Item{ID: 3, Available: true, RetiredAt: now})
			cat.put(domain.Item{ID: 101, Available: false})
			cat.put(domain.Item{ID: 5, Available: true, ExpiresAt: now})
			cat.put(domain.Item{ID: 102, Available: true, RetiredAt: now})
			f := newFakes()
			g := newCatalogGateway(t, f, manyFakes{f}, cat)
			for _, h := range down {
				f.setDown(h)
			}
			r, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 10})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Degraded, append([]string{}, down...)) {
				t.Errorf("degraded = %v, want %v", r.Degraded, down)
			}
			for _, it := range r.Items {
				if slices.Contains(bad, it.ItemID) {
					t.Errorf("served item %d, which the catalogue took out of serving (reply %v)", it.ItemID, r.Items)
				}
			}
			if len(r.Items) == 0 {
				t.Errorf("no items at all: the check must drop the bad items only")
			}
		})
	}
}

func TestPagesNeverRepeatAcrossFallbacksAndRefreshes(t *testing.T) {
	for _, down := range [][]string{nil, {HopRecall}, {HopFilter}, {HopRecall, HopFilter, HopRanking}} {
		t.Run(fmt.Sprint("down=", down), func(t *testing.T) {
			f := newFakes()
			g := newCatalogGateway(t, f, manyFakes{f}, &fakeCatalog{})
			for _, h := range down {
				f.setDown(h)
			}
			seen := map[int64]bool{}
			cursor := ""
			for page := 0; page < 4; page++ {
				r, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 5, Cursor: cursor, Exclude: []int64{4, 104}})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Items) != 5 || r.NextCursor == "" {
					t.Fatalf("page %d: %d items, next %q; want 5 and a cursor", page, len(r.Items), r.NextCursor)
				}
				for _, it := range r.Items {
					if seen[it.ItemID] || it.ItemID == 4 || it.ItemID == 104 {
						t.Fatalf("page %d repeats or shows an excluded item %d", page, it.ItemID)
					}
					seen[it.ItemID] = true
				}
				cursor = r.NextCursor
				g.refreshPopular(context.Background()) // a cache refresh between pages changes nothing
			}
			if _, err := g.Recommend(context.Background(), Query{UserID: "u2", N: 5, Cursor: cursor}); err == nil {
				t.Error("another user's cursor was accepted")
			}
		})
	}
}

func TestSimilarItems(t *testing.T) {
	cat := &fakeCatalog{}
	cat.put(domain.Item{ID: 7, Categories: []string{"Drama"}, Available: true})
	cat.put(domain.Item{ID: 12, Available: true, RetiredAt: time.Now()})
	f := newFakes()
	g := newCatalogGateway(t, f, manyFakes{f}, cat)
	r, err := g.Similar(context.Background(), SimilarQuery{ItemID: 7, N: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.ItemID != 7 || len(r.Items) != 5 || r.UserID != "" {
		t.Fatalf("similar = %+v", r)
	}
	for _, it := range r.Items {
		if it.ItemID == 7 || it.ItemID == 12 {
			t.Errorf("similar items hold %d (the seed or a retired item)", it.ItemID)
		}
	}
	if _, err := g.Similar(context.Background(), SimilarQuery{ItemID: 404, N: 5}); err == nil {
		t.Error("similar items of an unknown item answered")
	}
	f.setDown(HopRecall)
	r, err = g.Similar(context.Background(), SimilarQuery{ItemID: 7, N: 5, UserID: "u1"})
	if err != nil || !slices.Contains(r.Degraded, HopRecall) || len(r.Items) == 0 {
		t.Errorf("similar with recall down = %+v, %v; want the popular fallback", r, err)
	}
}

// A similar-items list puts the seed's neighbours first, each part in the
// order the ranker gave; the genre channel's items only fill.
func TestNeighboursFirst(t *testing.T) {
	src := func(chs ...string) []domain.Source {
		var s []domain.Source
		for _, ch := range chs {
			s = append(s, domain.Source{Channel: ch})
		}
		return s
	}
	ranked := []domain.Candidate{
		{ID: 1, Sources: src(domain.ChannelGenre)},
		{ID: 2, Sources: src(domain.ChannelGenre, domain.ChannelItemCF)},
		{ID: 3, Sources: src(domain.ChannelGenre)},
		{ID: 4, Sources: src(domain.ChannelEmbedding)},
		{ID: 5, Sources: src(domain.ChannelItemCF)},
	}
	var got []int64
	for _, c := range neighboursFirst(ranked) {
		got = append(got, c.ID)
	}
	if want := []int64{2, 4, 5, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
