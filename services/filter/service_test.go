package filter

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

func cand(id int64, genres ...string) domain.Candidate {
	return domain.Candidate{ID: id, Categories: genres}
}

func ids(cs []domain.Candidate) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestFilterRules(t *testing.T) {
	f := New(2, []int64{5})
	tests := []struct {
		name        string
		req         filterapi.Request
		wantKept    []int64
		wantDropped map[string]int
	}{
		{"seen and blocked", filterapi.Request{Candidates: []domain.Candidate{cand(1), cand(2), cand(5)}, Seen: []int64{2}},
			[]int64{1}, map[string]int{"seen": 1, "blocked": 1}},
		{"duplicates", filterapi.Request{Candidates: []domain.Candidate{cand(1), cand(1), cand(3)}},
			[]int64{1, 3}, map[string]int{"duplicate": 1}},
		{"default genre cap", filterapi.Request{Candidates: []domain.Candidate{cand(1, "A"), cand(2, "A", "B"), cand(3, "A"), cand(4, "B")}},
			[]int64{1, 2, 4}, map[string]int{"genre_cap": 1}},
		{"request cap wins", filterapi.Request{Candidates: []domain.Candidate{cand(1, "A"), cand(2, "A"), cand(3, "A")}, MaxPerGenre: 1},
			[]int64{1}, map[string]int{"genre_cap": 2}},
		{"seen items do not use up a genre", filterapi.Request{Candidates: []domain.Candidate{cand(1, "A"), cand(2, "A"), cand(3, "A")}, Seen: []int64{1}},
			[]int64{2, 3}, map[string]int{"seen": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := f.Filter(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantKept, ids(resp.Kept)); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDropped, resp.Dropped); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterRefusesBadRequests(t *testing.T) {
	f := New(0, nil)
	if _, err := f.Filter(context.Background(), filterapi.Request{MaxPerGenre: -1}); err == nil {
		t.Error("negative cap accepted")
	}
	if _, err := f.Filter(context.Background(), filterapi.Request{Candidates: make([]domain.Candidate, filterapi.MaxCandidates+1)}); err == nil {
		t.Error("oversized request accepted")
	}
}
