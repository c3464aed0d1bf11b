package recall

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// liveRecaller serves the fixture's index with a catalogue view that holds
// the trained items plus a new item 50 (Drama, an hour old).
func liveRecaller(t *testing.T, now time.Time) (*Recaller, *catalog.View) {
	t.Helper()
	items, _ := fixture()
	view := catalog.NewView(false)
	var live []domain.Item
	for _, it := range items {
		it.Available, it.CreatedAt, it.Title = true, now.Add(-400*24*time.Hour), "old"
		live = append(live, it)
	}
	live = append(live, domain.Item{ID: 50, Title: "new", Categories: []string{"Drama"}, Available: true, CreatedAt: now.Add(-time.Hour)})
	view.Apply(live, 1)
	r := newRecaller().WithCatalog(view, DefaultOptions())
	r.now = func() time.Time { return now }
	return r, view
}

func recallIDs(t *testing.T, r *Recaller, req recallapi.Request) ([]int64, map[int64][]string) {
	t.Helper()
	resp, err := r.Recall(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	sources := map[int64][]string{}
	for _, c := range resp.Candidates {
		ids = append(ids, c.ID)
		for _, s := range c.Sources {
			sources[c.ID] = append(sources[c.ID], s.Channel)
		}
	}
	return ids, sources
}

func TestANewItemIsServedByFreshAndCategoryAtOnce(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	r, _ := liveRecaller(t, now)
	ids, sources := recallIDs(t, r, recallapi.Request{UserID: "u0"})
	if !slices.Contains(ids, 50) || !slices.Contains(sources[50], domain.ChannelFresh) {
		t.Fatalf("candidates %v (sources %v): the new item 50 must come from the fresh channel", ids, sources)
	}
	if slices.Contains(ids, 1) && slices.Contains(sources[1], domain.ChannelFresh) {
		t.Errorf("item 1, 400 days old, came from the fresh channel")
	}
	ids, sources = recallIDs(t, r, recallapi.Request{UserID: "u0", Categories: []string{"Drama"}})
	for _, id := range ids {
		if id != 1 && id != 2 && id != 50 {
			t.Errorf("category=Drama recalled item %d, which is not Drama", id)
		}
	}
	if !slices.Contains(sources[50], domain.ChannelCategory) {
		t.Errorf("the new Drama item's sources %v lack the category channel", sources[50])
	}
	// The live catalogue's metadata wins over the trained index's.
	resp, _ := r.Recall(context.Background(), recallapi.Request{UserID: "u0", Quotas: map[string]int{"popular": 10}, OnlyQuotas: true})
	for _, c := range resp.Candidates {
		if c.Title != "old" {
			t.Errorf("candidate %d has title %q, want the catalogue's", c.ID, c.Title)
		}
	}
}

func TestUnservableAndExcludedItemsAreNeverRecalled(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	r, view := liveRecaller(t, now)
	view.Apply([]domain.Item{
		{ID: 3, Categories: []string{"Comedy"}, Available: false, CreatedAt: now.Add(-400 * 24 * time.Hour)},
		{ID: 2, Categories: []string{"Drama"}, Available: true, RetiredAt: now.Add(-time.Minute)},
		{ID: 50, Categories: []string{"Drama"}, Available: true, CreatedAt: now.Add(-time.Hour), ExpiresAt: now},
	}, 2)
	for _, req := range []recallapi.Request{
		{UserID: "u0"}, {UserID: "u9", Query: recallapi.Query{Recent: []domain.Interaction{{ItemID: 1, Type: "click", Value: 1}}}},
		{UserID: "u0", Categories: []string{"Drama", "Comedy"}}, {Seeds: []int64{1}},
	} {
		ids, _ := recallIDs(t, r, req)
		for _, bad := range []int64{2, 3, 50} {
			if slices.Contains(ids, bad) {
				t.Errorf("request %+v recalled unservable item %d (%v)", req, bad, ids)
			}
		}
	}
	ids, _ := recallIDs(t, r, recallapi.Request{UserID: "u0", Exclude: []int64{1, 4}})
	if slices.Contains(ids, 1) || slices.Contains(ids, 4) {
		t.Errorf("excluded items recalled: %v", ids)
	}
}

func TestSimilarItemsStartFromTheSeed(t *testing.T) {
	r := newRecaller()
	ids, sources := recallIDs(t, r, recallapi.Request{Seeds: []int64{1}, Quotas: map[string]int{domain.ChannelItemCF: 10}, OnlyQuotas: true})
	if len(ids) == 0 || ids[0] != 2 || !slices.Contains(sources[2], domain.ChannelItemCF) {
		t.Errorf("similar to 1 = %v (%v), want 2 (its item-CF neighbour) first", ids, sources)
	}
	if slices.Contains(ids, 1) {
		t.Errorf("the seed itself was recalled: %v", ids)
	}
	if _, err := r.Recall(context.Background(), recallapi.Request{Seeds: make([]int64, recallapi.MaxSeeds+1)}); err == nil {
		t.Error("too many seeds were accepted")
	}
}
