package ranking

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/artifact/artifacttest"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

// A ranking model file is outside input: it either fails to load, or the
// model ranks any candidates into a permutation of them with finite scores
// sorted best first, and never panics.
func FuzzLoadModel(f *testing.F) {
	if b, err := json.Marshal(testModel("v1")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"features":[],"mean":[],"std":[]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		set := artifacttest.Publish(t, artifact.Store{Dir: t.TempDir()}, "v1", map[string][]byte{ModelFileName: payload})
		m, err := LoadModel(set)
		if err != nil {
			return
		}
		cands := []domain.Candidate{
			{ID: 1, Categories: []string{"Drama"}, Popularity: 3, Sources: []domain.Source{{Channel: "item_cf", Score: 0.5}}},
			{ID: 2, Categories: []string{"Comedy"}, Popularity: 0, Sources: []domain.Source{{Channel: "genre", Score: 1}}},
			{ID: 3, Popularity: 1e9},
		}
		resp, err := New(m).Rank(context.Background(), rankingapi.Request{UserID: "u", Affinity: map[string]float64{"Drama": 1}, Candidates: cands})
		if err != nil {
			t.Fatalf("a loaded model does not rank: %v", err)
		}
		if len(resp.Ranked) != len(cands) {
			t.Fatalf("%d ranked of %d candidates", len(resp.Ranked), len(cands))
		}
		seen := map[int64]bool{}
		for i, c := range resp.Ranked {
			if seen[c.ID] || math.IsNaN(c.Score) || math.IsInf(c.Score, 0) {
				t.Fatalf("ranked %+v: a repeat, or a score that is not finite", resp.Ranked)
			}
			seen[c.ID] = true
			if i > 0 && c.Score > resp.Ranked[i-1].Score {
				t.Fatalf("not sorted best first: %+v", resp.Ranked)
			}
		}
	})
}
