package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/store"
)

// FullStore is a Store with the catalogue, users, idempotent events and
// the exposure log: what Memory, Postgres and Durable all are.
type FullStore interface {
	ExposureStore
	store.Catalogue
	store.Users
	store.IdempotentEvents
}

// RunCatalogue runs the catalogue, users and idempotency contract against
// stores made by newStore; each call must return an empty store.
func RunCatalogue(t *testing.T, newStore func(t *testing.T) FullStore) {
	ctx := context.Background()
	created := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	t.Run("put gives revisions and keeps created_at", func(t *testing.T) {
		s := newStore(t)
		before := time.Now().Add(-time.Second)
		if err := s.PutItems(ctx, []domain.Item{
			{ID: 1, Title: "A", Categories: []string{"Drama"}, Tags: []string{"x"}, Available: true, CreatedAt: created},
			{ID: 2, Title: "B", Available: true, ExpiresAt: created.Add(time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Items(ctx, []int64{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		a, b := got[1], got[2]
		if !a.CreatedAt.Equal(created) || !slices.Equal(a.Tags, []string{"x"}) || !a.Available || a.Rev <= 0 {
			t.Errorf("item 1 = %+v", a)
		}
		if b.CreatedAt.Before(before) || !b.ExpiresAt.Equal(created.Add(time.Hour)) || b.Rev == a.Rev {
			t.Errorf("item 2 = %+v: created_at must default to now, expires_at kept, revisions distinct", b)
		}
		// A replace without created_at keeps the stored one and takes a new revision.
		if err := s.PutItems(ctx, []domain.Item{{ID: 1, Title: "A2", Available: false}}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Items(ctx, []int64{1})
		if a2 := got[1]; a2.Title != "A2" || !a2.CreatedAt.Equal(created) || a2.Available || a2.Rev <= max(a.Rev, b.Rev) || a2.Tags != nil {
			t.Errorf("replaced item 1 = %+v (before %+v)", a2, a)
		}
	})
	t.Run("changes come in revision order, paged", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []int64{5, 3, 9} {
			if err := s.PutItems(ctx, []domain.Item{{ID: id, Title: "t", Available: true}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.UpdateItem(ctx, 5, func(it *domain.Item) error { it.Title = "t2"; return nil }); err != nil {
			t.Fatal(err)
		}
		all, err := s.ItemChanges(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, it := range all {
			ids = append(ids, it.ID)
		}
		if !slices.Equal(ids, []int64{3, 9, 5}) || all[2].Title != "t2" {
			t.Fatalf("changes = %v (%+v), want [3 9 5] with 5 retitled", ids, all)
		}
		page, _ := s.ItemChanges(ctx, all[0].Rev, 1)
		if len(page) != 1 || page[0].ID != 9 {
			t.Errorf("changes after %d, limit 1 = %+v, want item 9", all[0].Rev, page)
		}
		if none, _ := s.ItemChanges(ctx, all[2].Rev, 10); len(none) != 0 {
			t.Errorf("changes after the last revision = %+v", none)
		}
	})
	t.Run("update", func(t *testing.T) {
		s := newStore(t)
		_, err := s.UpdateItem(ctx, 404, func(*domain.Item) error { return nil })
		if e, ok := apierr.As(err); !ok || e.Kind != apierr.KindNotFound {
			t.Errorf("update of a missing item: %v, want not_found", err)
		}
		if err := s.PutItems(ctx, []domain.Item{{ID: 1, Title: "A", Available: true, CreatedAt: created}}); err != nil {
			t.Fatal(err)
		}
		refuse := errors.New("no")
		if _, err := s.UpdateItem(ctx, 1, func(it *domain.Item) error { it.Title = "X"; return refuse }); !errors.Is(err, refuse) {
			t.Errorf("a refused update returned %v", err)
		}
		retired := created.Add(time.Minute)
		it, err := s.UpdateItem(ctx, 1, func(it *domain.Item) error { it.RetiredAt = retired; return nil })
		if err != nil || it.Title != "A" || !it.RetiredAt.Equal(retired) || it.Status(time.Now()) != domain.StatusRetired {
			t.Errorf("retired item = %+v, %v", it, err)
		}
	})
	t.Run("profile and forgetting a user", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutProfile(ctx, "u", map[string]string{"categories": "Drama", "country": "DE"}); err != nil {
			t.Fatal(err)
		}
		evs := []domain.Event{{UserID: "u", ItemID: 1, Type: "click", Value: 1, TS: 100}, {UserID: "u", ItemID: 2, Type: "like", Value: 1, TS: 200},
			{UserID: "v", ItemID: 1, Type: "click", Value: 1, TS: 100}}
		if _, err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendExposures(ctx, []domain.ShownReply{{RequestID: "r", UserID: "u", TSMillis: 1000, Items: []domain.ShownItem{{ItemID: 3}}}}); err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, "u", 10, 10)
		if err != nil || h.Profile["country"] != "DE" || h.Count != 2 || len(h.Exposures) != 1 {
			t.Fatalf("history before forgetting = %+v, %v", h, err)
		}
		f, err := s.ForgetUser(ctx, "u")
		if err != nil || f.Events != 2 || f.Exposures != 1 {
			t.Fatalf("ForgetUser = %+v, %v; want 2 events and 1 exposure", f, err)
		}
		h, err = s.History(ctx, "u", 10, 10)
		if err != nil || h.Count != 0 || len(h.Recent) != 0 || len(h.Seen) != 0 || len(h.Exposures) != 0 || len(h.Profile) != 0 {
			t.Errorf("history after forgetting = %+v, %v; want nothing", h, err)
		}
		if h, _ := s.History(ctx, "v", 10, 10); h.Count != 1 {
			t.Errorf("another user's history = %+v; forgetting u must not touch it", h)
		}
		if err := s.PutProfile(ctx, "w", map[string]string{"a": "1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutProfile(ctx, "w", map[string]string{"b": "2"}); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.History(ctx, "w", 1, 1); len(h.Profile) != 1 || h.Profile["b"] != "2" {
			t.Errorf("profile after a replace = %v, want only b=2", h.Profile)
		}
	})
	t.Run("an event batch is stored once per idempotency key", func(t *testing.T) {
		s := newStore(t)
		evs := []domain.Event{{UserID: "u", ItemID: 1, Type: "click", Value: 1, TS: 100}, {UserID: "u", ItemID: 2, Type: "click", Value: 1, TS: 101}}
		a, err := s.AppendEventsOnce(ctx, "k1", evs)
		if err != nil || a.Accepted != 2 || a.Dup || len(a.Fresh) != 2 {
			t.Fatalf("first batch: %+v, %v", a, err)
		}
		a, err = s.AppendEventsOnce(ctx, "k1", evs[:1])
		if err != nil || a.Accepted != 2 || !a.Dup || len(a.Fresh) != 0 {
			t.Fatalf("retried batch: %+v, %v; want the first answer (2), dup and nothing fresh", a, err)
		}
		if _, err := s.AppendEventsOnce(ctx, "k2", evs[:1]); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.History(ctx, "u", 10, 10); h.Count != 3 {
			t.Errorf("events stored = %d, want 3 (k1 once, k2 once)", h.Count)
		}
	})
	t.Run("a keyed batch skips the event ids on record", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.AppendEvents(ctx, []domain.Event{namedEvent("e", "b", 2)}); err != nil {
			t.Fatal(err)
		}
		a, err := s.AppendEventsOnce(ctx, "k3", []domain.Event{namedEvent("e", "b", 2), namedEvent("e", "c", 5), namedEvent("f", "b", 6)})
		if err != nil || a.Dup || a.Accepted != 3 || !slices.Equal(itemsOf(a.Fresh), []int64{5, 6}) {
			t.Fatalf("keyed batch: %+v, %v; want b skipped, c and another user's b stored", a, err)
		}
		if h, _ := s.History(ctx, "e", 100, 100); h.Count != 2 {
			t.Errorf("user e has %d events, want 2", h.Count)
		}
	})
}
