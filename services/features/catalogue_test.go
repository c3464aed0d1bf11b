package features

import (
	"context"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/store"
)

func kindOf(err error) apierr.Kind {
	if e, ok := apierr.As(err); ok {
		return e.Kind
	}
	return -1
}

func TestCatalogueWritesValidateAndFeedChanges(t *testing.T) {
	s := New(store.NewMemory(), DefaultOptions())
	ctx := context.Background()
	for name, items := range map[string][]domain.Item{
		"empty":      nil,
		"no title":   {{ID: 1}},
		"bad id":     {{ID: 0, Title: "x"}},
		"twice":      {{ID: 1, Title: "x"}, {ID: 1, Title: "y"}},
		"long label": {{ID: 1, Title: "x", Tags: []string{string(make([]byte, 65))}}},
		"comma":      {{ID: 1, Title: "x", Categories: []string{"a,b"}}},
	} {
		if _, err := s.PutItems(ctx, items); kindOf(err) != apierr.KindInvalid {
			t.Errorf("%s: PutItems = %v, want invalid", name, err)
		}
	}
	if _, err := s.PutItems(ctx, make([]domain.Item, domain.MaxItemBatch+1)); kindOf(err) != apierr.KindTooLarge {
		t.Errorf("oversized batch: %v", err)
	}
	if changes, _ := s.ItemChanges(ctx, 0, 0); len(changes.Items) != 0 {
		t.Fatalf("a refused batch stored %d items", len(changes.Items))
	}
	put, err := s.PutItems(ctx, []domain.Item{{ID: 1, Title: "A", Available: true}, {ID: 2, Title: "B", Available: true}})
	if err != nil || len(put) != 2 || put[0].CreatedAt.IsZero() || put[1].Rev <= put[0].Rev {
		t.Fatalf("PutItems = %+v, %v", put, err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	p := domain.ItemPatch{Available: domain.Optional[bool]{Set: true, Value: false}, ExpiresAt: domain.Optional[time.Time]{Set: true, Value: exp}}
	it, err := s.PatchItem(ctx, 1, p)
	if err != nil || it.Title != "A" || it.Available || !it.ExpiresAt.Equal(exp) {
		t.Fatalf("PatchItem = %+v, %v", it, err)
	}
	if _, err := s.PatchItem(ctx, 1, domain.ItemPatch{Title: domain.Optional[string]{Set: true}}); kindOf(err) != apierr.KindInvalid {
		t.Errorf("a patch clearing the title: %v, want invalid", err)
	}
	if _, err := s.PatchItem(ctx, 404, p); kindOf(err) != apierr.KindNotFound {
		t.Errorf("patch of a missing item: %v", err)
	}
	r, err := s.RetireItem(ctx, 2)
	if err != nil || r.RetiredAt.IsZero() || r.Servable(time.Now()) {
		t.Fatalf("RetireItem = %+v, %v", r, err)
	}
	changes, err := s.ItemChanges(ctx, put[1].Rev, 0)
	if err != nil || len(changes.Items) != 2 || changes.Items[0].ID != 1 || changes.Items[1].ID != 2 || changes.Next != changes.Items[1].Rev {
		t.Fatalf("changes after the puts = %+v, %v; want the patch of 1 then the retirement of 2", changes, err)
	}
	if again, _ := s.ItemChanges(ctx, changes.Next, 0); len(again.Items) != 0 || again.Next != changes.Next {
		t.Errorf("changes after the last = %+v", again)
	}
	// A put brings a retired item back.
	if back, _ := s.PutItems(ctx, []domain.Item{{ID: 2, Title: "B", Available: true}}); !back[0].RetiredAt.IsZero() || !back[0].CreatedAt.Equal(put[1].CreatedAt) {
		t.Errorf("re-put item = %+v, want not retired and the first created_at", back[0])
	}
}

func TestProfileSeedsColdStartAndForgetErases(t *testing.T) {
	s := New(store.NewMemory(), DefaultOptions())
	ctx := context.Background()
	if err := s.PutUserProfile(ctx, "new", map[string]string{"categories": "Comedy, Drama", "country": "DE"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUserProfile(ctx, "new", map[string]string{"Bad Key": "x"}); kindOf(err) != apierr.KindInvalid {
		t.Errorf("a bad attribute name: %v", err)
	}
	f, err := s.GetUserFeatures(ctx, "new", 0)
	if err != nil || f.GenreAffinity["Comedy"] != 0.5 || f.GenreAffinity["Drama"] != 0.5 || f.Profile["country"] != "DE" {
		t.Fatalf("features of a new user with a profile = %+v, %v", f, err)
	}
	if _, err := s.IngestEvents(ctx, domain.EventBatch{Events: []domain.Event{{UserID: "new", ItemID: 7, Type: "click"}}, IdempotencyKey: "b-1"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.IngestEvents(ctx, domain.EventBatch{Events: []domain.Event{{UserID: "new", ItemID: 8, Type: "click"}}, IdempotencyKey: "b-1"}); err != nil || n != 1 {
		t.Fatalf("retried batch = %d, %v", n, err)
	}
	if _, err := s.IngestEvents(ctx, domain.EventBatch{Events: []domain.Event{{UserID: "new", ItemID: 8, Type: "click"}}, IdempotencyKey: "bad key"}); kindOf(err) != apierr.KindInvalid {
		t.Errorf("a bad idempotency key: %v", err)
	}
	if f, _ := s.GetUserFeatures(ctx, "new", 0); f.Count != 1 {
		t.Fatalf("count after a retried batch = %d, want 1", f.Count)
	}
	gone, err := s.ForgetUser(ctx, "new")
	if err != nil || gone.Events != 1 {
		t.Fatalf("ForgetUser = %+v, %v", gone, err)
	}
	if f, _ := s.GetUserFeatures(ctx, "new", 0); f.Count != 0 || len(f.Recent) != 0 || len(f.Profile) != 0 || len(f.GenreAffinity) != 0 {
		t.Errorf("features after forgetting = %+v", f)
	}
}
