package features

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
)

func newService(t *testing.T) featuresapi.Service {
	t.Helper()
	st := store.NewMemory()
	ctx := context.Background()
	if err := st.PutItems(ctx, []domain.Item{
		{ID: 1, Title: "A", Categories: []string{"Drama"}},
		{ID: 2, Title: "B", Categories: []string{"Drama", "Comedy"}},
		{ID: 3, Title: "C", Categories: []string{"Horror"}},
	}); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.MaxBatch = 3
	return New(st, o)
}

func TestGenreAffinitySumsToOneAndFollowsWeights(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.IngestEvents(ctx, domain.EventBatch{Events: []domain.Event{
		{UserID: "u", ItemID: 1, Type: "rating", Value: 5, TS: 10}, // Drama 1.0
		{UserID: "u", ItemID: 2, Type: "click", TS: 20},            // Drama 0.5, Comedy 0.5
		{UserID: "u", ItemID: 99, Type: "click", TS: 30},           // not in the catalogue: skipped
	}}); err != nil {
		t.Fatal(err)
	}
	f, err := s.GetUserFeatures(ctx, "u", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"Drama": 0.75, "Comedy": 0.25}
	for g, w := range want {
		if math.Abs(f.GenreAffinity[g]-w) > 1e-9 {
			t.Errorf("affinity[%s] = %v, want %v", g, f.GenreAffinity[g], w)
		}
	}
	if len(f.Recent) != 2 || f.Recent[0].ItemID != 99 || f.Count != 3 || len(f.Seen) != 3 {
		t.Errorf("features = %+v", f)
	}
}

func TestUnknownUserIsColdNotAnError(t *testing.T) {
	f, err := newService(t).GetUserFeatures(context.Background(), "stranger", 0)
	if err != nil || f.Count != 0 || len(f.GenreAffinity) != 0 {
		t.Fatalf("GetUserFeatures(stranger) = %+v, %v", f, err)
	}
}

func TestIngestRefusesBadBatchesWhole(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		events []domain.Event
		kind   apierr.Kind
		msg    string
	}{
		{"empty", nil, apierr.KindInvalid, "no events"},
		{"too many", make([]domain.Event, 4), apierr.KindTooLarge, "at most 3"},
		{"second bad", []domain.Event{{UserID: "v", ItemID: 1, Type: "click"}, {UserID: "v", ItemID: 1, Type: "nope"}}, apierr.KindInvalid, "events[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.IngestEvents(ctx, domain.EventBatch{Events: tt.events})
			e, ok := apierr.As(err)
			if !ok || e.Kind != tt.kind || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("err = %v, want kind %v mentioning %q", err, tt.kind, tt.msg)
			}
		})
	}
	if f, _ := s.GetUserFeatures(ctx, "v", 0); f.Count != 0 {
		t.Errorf("a refused batch stored %d events", f.Count)
	}
}

func TestGetItem(t *testing.T) {
	s := newService(t)
	if it, err := s.GetItem(context.Background(), 3); err != nil || it.Title != "C" {
		t.Errorf("GetItem(3) = %+v, %v", it, err)
	}
	for id, kind := range map[int64]apierr.Kind{404: apierr.KindNotFound, 0: apierr.KindInvalid} {
		_, err := s.GetItem(context.Background(), id)
		if e, ok := apierr.As(err); !ok || e.Kind != kind {
			t.Errorf("GetItem(%d) = %v, want kind %v", id, err, kind)
		}
	}
}

// countingItems counts the store's Items calls.
type countingItems struct {
	*store.Memory
	calls int
}

func (c *countingItems) Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error) {
	c.calls++
	return c.Memory.Items(ctx, ids)
}

// The affinity reads an item's categories from the store once per
// genresTTL, and a change through the service is seen at once.
func TestAffinityReusesItemGenresUntilTheyChange(t *testing.T) {
	st := &countingItems{Memory: store.NewMemory()}
	ctx := context.Background()
	if err := st.PutItems(ctx, []domain.Item{{ID: 1, Title: "A", Categories: []string{"Drama"}, Available: true}}); err != nil {
		t.Fatal(err)
	}
	s := New(st, DefaultOptions())
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	if _, err := s.IngestEvents(ctx, domain.EventBatch{Events: []domain.Event{{UserID: "u", ItemID: 1, Type: "click", TS: 10}}}); err != nil {
		t.Fatal(err)
	}
	affinity := func() map[string]float64 {
		f, err := s.GetUserFeatures(ctx, "u", 0)
		if err != nil {
			t.Fatal(err)
		}
		return f.GenreAffinity
	}
	affinity()
	affinity()
	if st.calls != 1 {
		t.Fatalf("two requests read items %d times, want once", st.calls)
	}
	if _, err := s.PatchItem(ctx, 1, domain.ItemPatch{Categories: domain.Optional[[]string]{Set: true, Value: []string{"Comedy"}}}); err != nil {
		t.Fatal(err)
	}
	if a := affinity(); a["Comedy"] != 1 {
		t.Fatalf("after the patch: %v, want Comedy", a)
	}
	calls := st.calls
	now = now.Add(genresTTL)
	affinity()
	if st.calls != calls+1 {
		t.Fatal("the cache outlived its TTL")
	}
}
