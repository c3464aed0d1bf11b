// Package storetest is the contract suite every features store backend runs.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/store"
)

// Run runs the contract against stores made by newStore; each call must
// return an empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("items", func(t *testing.T) {
		s := newStore(t)
		items := []domain.Item{{ID: 1, Title: "A (1999)", Categories: []string{"Drama"}, Year: 1999}, {ID: 2, Title: "B", Categories: nil}}
		if err := s.PutItems(ctx, items); err != nil {
			t.Fatal(err)
		}
		if err := s.PutItems(ctx, []domain.Item{{ID: 2, Title: "B2", Categories: []string{"Comedy"}}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Items(ctx, []int64{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1].Title != "A (1999)" || got[1].Year != 1999 || got[2].Title != "B2" || !slices.Equal(got[2].Categories, []string{"Comedy"}) {
			t.Errorf("Items = %+v", got)
		}
	})
	t.Run("an event is stored once per user and event_id", func(t *testing.T) {
		s := newStore(t)
		first := []domain.Event{namedEvent("e", "a", 1), namedEvent("e", "b", 2), namedEvent("e", "", 3), namedEvent("e", "a", 4)}
		fresh, err := s.AppendEvents(ctx, first)
		if err != nil || !slices.Equal(itemsOf(fresh), []int64{1, 2, 3}) {
			t.Fatalf("first append stored %v, %v; want items 1, 2, 3 (the repeated id a once)", itemsOf(fresh), err)
		}
		// The same batch five more times: only the event without an id is
		// stored again.
		for range 5 {
			if fresh, err = s.AppendEvents(ctx, first); err != nil || !slices.Equal(itemsOf(fresh), []int64{3}) {
				t.Fatalf("retry stored %v, %v; want only item 3 (no event_id)", itemsOf(fresh), err)
			}
		}
		if _, err := s.AppendEvents(ctx, []domain.Event{namedEvent("f", "a", 6)}); err != nil {
			t.Fatal(err)
		}
		if h, _ := s.History(ctx, "e", 100, 100); h.Count != 2+6 || len(h.Recent) != 8 {
			t.Errorf("user e has %d events (%d recent), want 8 (a and b once, the unnamed item 3 six times)", h.Count, len(h.Recent))
		}
		if h, _ := s.History(ctx, "f", 100, 100); h.Count != 1 {
			t.Errorf("user f has %d events, want 1 (event ids are per user)", h.Count)
		}
	})
	t.Run("history order, seen and count", func(t *testing.T) {
		s := newStore(t)
		evs := []domain.Event{
			{UserID: "u", ItemID: 10, Type: "click", Value: 1, TS: 100},
			{UserID: "u", ItemID: 11, Type: "rating", Value: 4, TS: 300},
			{UserID: "u", ItemID: 10, Type: "like", Value: 1, TS: 200}, // out of order
			{UserID: "v", ItemID: 12, Type: "click", Value: 1, TS: 50},
		}
		if _, err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, "u", 2, 100)
		if err != nil {
			t.Fatal(err)
		}
		if h.Count != 3 || len(h.Recent) != 2 || h.Recent[0].ItemID != 11 || h.Recent[1].TS != 200 || h.Recent[1].Type != "like" {
			t.Errorf("History(u) = %+v", h)
		}
		seen := slices.Clone(h.Seen)
		slices.Sort(seen)
		if !slices.Equal(seen, []int64{10, 11}) {
			t.Errorf("seen = %v, want [10 11]", h.Seen)
		}
		if h, _ := s.History(ctx, "nobody", 5, 5); h.Count != 0 || len(h.Recent) != 0 || len(h.Seen) != 0 {
			t.Errorf("unknown user history = %+v", h)
		}
	})
	t.Run("seen cap", func(t *testing.T) {
		s := newStore(t)
		var evs []domain.Event
		for i := 0; i < 30; i++ {
			evs = append(evs, domain.Event{UserID: "w", ItemID: int64(i + 1), Type: "click", Value: 1, TS: int64(i)})
		}
		if _, err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, "w", 100, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Seen) != 10 || len(h.Recent) != 30 || h.Count != 30 {
			t.Errorf("capped history: %d seen, %d recent, count %d", len(h.Seen), len(h.Recent), h.Count)
		}
	})
	t.Run("concurrent appends lose nothing", func(t *testing.T) {
		s := newStore(t)
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			go func(w int) {
				var evs []domain.Event
				for i := 0; i < 50; i++ {
					evs = append(evs, domain.Event{UserID: fmt.Sprint("c", w%2), ItemID: int64(w*100 + i + 1), Type: "click", Value: 1, TS: int64(i)})
				}
				_, err := s.AppendEvents(ctx, evs)
				errs <- err
			}(w)
		}
		for w := 0; w < 8; w++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		total := int64(0)
		for _, u := range []string{"c0", "c1"} {
			h, err := s.History(ctx, u, 1, 1000)
			if err != nil {
				t.Fatal(err)
			}
			total += h.Count
		}
		if total != 400 {
			t.Errorf("stored %d events, want 400", total)
		}
	})
}

// namedEvent is a click by user on item with the event id id.
func namedEvent(user, id string, item int64) domain.Event {
	return domain.Event{UserID: user, ItemID: item, Type: "click", Value: 1, TS: 100 + item, EventID: id}
}

func itemsOf(evs []domain.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ItemID
	}
	return out
}
