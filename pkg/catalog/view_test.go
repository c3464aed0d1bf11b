package catalog

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

func ids(v *View, cat string, n int) []int64 {
	var out []int64
	v.Read(func(r Reader) {
		r.Newest(cat, func(it *domain.Item) bool {
			out = append(out, it.ID)
			return len(out) < n
		})
	})
	return out
}

func day(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

func TestViewOrdersNewestFirstAndFollowsChanges(t *testing.T) {
	for _, bulkLoad := range []bool{false, true} {
		v := NewView(true)
		items := []domain.Item{
			{ID: 1, Title: "a", Categories: []string{"x"}, CreatedAt: day(1), Available: true},
			{ID: 2, Title: "b", Categories: []string{"x", "y"}, CreatedAt: day(3), Available: true},
			{ID: 3, Title: "c", Categories: []string{"y"}, CreatedAt: day(2), Available: true},
		}
		if bulkLoad { // past the bulk threshold the orders are rebuilt by sorting
			for i := 100; i < 100+bulk; i++ {
				items = append(items, domain.Item{ID: int64(i), Categories: []string{"z"}, CreatedAt: day(1), Available: true})
			}
		}
		v.Apply(items, 3)
		if got := ids(v, "", 3); !slices.Equal(got, []int64{2, 3, 1}) {
			t.Errorf("bulk=%v: newest = %v, want [2 3 1]", bulkLoad, got)
		}
		if got := ids(v, "y", 5); !slices.Equal(got, []int64{2, 3}) {
			t.Errorf("bulk=%v: newest of y = %v, want [2 3]", bulkLoad, got)
		}
		if it, _ := v.Get(1); it.Title != "" {
			t.Errorf("a trimmed view kept the title %q", it.Title)
		}
		// Item 1 moves to category y and becomes the newest; 2 is retired.
		v.Apply([]domain.Item{
			{ID: 1, Categories: []string{"y"}, CreatedAt: day(9), Available: true},
			{ID: 2, Categories: []string{"x", "y"}, CreatedAt: day(3), Available: true, RetiredAt: day(4)},
		}, 5)
		if got := ids(v, "y", 5); !slices.Equal(got, []int64{1, 3}) {
			t.Errorf("bulk=%v: newest of y after the changes = %v, want [1 3]", bulkLoad, got)
		}
		if got := ids(v, "x", 5); len(got) != 0 {
			t.Errorf("bulk=%v: x should be empty, got %v", bulkLoad, got)
		}
		now := day(5)
		bad := map[int64]string{}
		v.Statuses([]int64{2, 404}, now, func(id int64, s string) { bad[id] = s })
		if bad[2] != domain.StatusRetired {
			t.Errorf("status of the retired item = %q", bad[2])
		}
		if s, ok := bad[404]; ok {
			t.Errorf("an unknown item's status = %q, want servable", s)
		}
		if v.Rev() != 5 {
			t.Errorf("rev = %d", v.Rev())
		}
	}
}

func TestStatusesExpiry(t *testing.T) {
	v := NewView(false)
	v.Apply([]domain.Item{
		{ID: 1, Available: true, ExpiresAt: day(2)},
		{ID: 2, Available: false},
		{ID: 3, Available: true},
	}, 1)
	got := map[int64]string{}
	v.Statuses([]int64{1, 2, 3, 4}, day(2), func(id int64, s string) { got[id] = s })
	if len(got) != 2 || got[1] != domain.StatusExpired || got[2] != domain.StatusUnavailable {
		t.Errorf("statuses = %v", got)
	}
}

func TestSyncPagesAndKeepsTheViewOnFailure(t *testing.T) {
	log := []domain.Item{{ID: 1, Rev: 1}, {ID: 2, Rev: 2}, {ID: 3, Rev: 3}}
	fail := false
	calls := 0
	feed := func(_ context.Context, since int64) ([]domain.Item, int64, error) {
		calls++
		if fail {
			return nil, 0, errors.New("down")
		}
		var page []domain.Item
		for _, it := range log {
			if it.Rev > since && len(page) < 2 {
				page = append(page, it)
			}
		}
		next := since
		if len(page) > 0 {
			next = page[len(page)-1].Rev
		}
		return page, next, nil
	}
	// Pages are gathered before they are applied; a failure part way keeps
	// what was read.
	failAt := 2
	inner := feed
	feed = func(ctx context.Context, since int64) ([]domain.Item, int64, error) {
		if calls+1 == failAt {
			calls++
			return nil, 0, errors.New("down")
		}
		return inner(ctx, since)
	}
	v := NewView(false)
	if err := Sync(context.Background(), feed, v); err == nil || v.Len() != 2 || v.Rev() != 2 {
		t.Fatalf("a sync failing at its second page: %v, %d items at rev %d; want 2 at 2", err, v.Len(), v.Rev())
	}
	failAt, calls = 0, 0
	v = NewView(false)
	if err := Sync(context.Background(), feed, v); err != nil || v.Len() != 3 || v.Rev() != 3 || calls != 3 {
		t.Fatalf("sync: %v, %d items at rev %d after %d calls; want 3 at 3 after 3", err, v.Len(), v.Rev(), calls)
	}
	fail = true
	if err := Sync(context.Background(), feed, v); err == nil || v.Len() != 3 {
		t.Errorf("a failed sync: %v, %d items", err, v.Len())
	}
}
