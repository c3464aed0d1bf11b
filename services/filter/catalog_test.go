package filter

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

func TestFilterHonoursTheCatalogueCategoriesAndExclusions(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	view := catalog.NewView(true)
	view.Apply([]domain.Item{
		{ID: 1, Categories: []string{"A"}, Available: true},
		{ID: 2, Categories: []string{"A"}, Available: false},
		{ID: 3, Categories: []string{"A"}, Available: true, RetiredAt: now.Add(-time.Hour)},
		{ID: 4, Categories: []string{"A"}, Available: true, ExpiresAt: now},
		{ID: 5, Categories: []string{"B"}, Available: true, ExpiresAt: now.Add(time.Hour)},
	}, 5)
	f := New(0, nil).WithCatalog(view)
	f.now = func() time.Time { return now }
	req := filterapi.Request{Candidates: []domain.Candidate{cand(1, "A"), cand(2, "A"), cand(3, "A"), cand(4, "A"), cand(5, "B"), cand(6, "B"), cand(7, "C")},
		Categories: []string{"A", "B"}, Exclude: []int64{6}}
	resp, err := f.Filter(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 5}, ids(resp.Kept)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	want := map[string]int{domain.StatusUnavailable: 1, domain.StatusRetired: 1, domain.StatusExpired: 1, filterapi.RuleExcluded: 1, filterapi.RuleCategory: 1}
	if diff := cmp.Diff(want, resp.Dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	// Through the gRPC codec too: categories and exclusions travel.
	back, err := filterapi.RequestFromPB(filterapi.RequestToPB(req))
	if err != nil || !cmp.Equal(back.Categories, req.Categories) || !cmp.Equal(back.Exclude, req.Exclude) {
		t.Errorf("codec round trip: %+v, %v", back, err)
	}
}
