package ranking

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

// testModel likes item-CF for "click" and genre affinity for "like".
func testModel(version string) *Model {
	n := NumFeatures
	mean, std := make([]float64, n), make([]float64, n)
	for i := range std {
		std[i] = 1
	}
	click, like := make([]float64, n), make([]float64, n)
	click[0], like[2] = 3, 3
	return &Model{Version: version, Features: FeatureNames(), Mean: mean, Std: std, RefYear: 2020,
		Objectives:     map[string]Logistic{"click": {Weights: click}, "like": {Weights: like}},
		DefaultWeights: map[string]float64{"click": 1}}
}

func TestRankOrderFollowsWeights(t *testing.T) {
	r := New(testModel("m1"))
	cands := []domain.Candidate{
		{ID: 1, Categories: []string{"Horror"}, Sources: []domain.Source{{Channel: "item_cf", Score: 5}}},
		{ID: 2, Categories: []string{"Drama"}, Sources: []domain.Source{{Channel: "popular", Score: 1}}},
	}
	aff := map[string]float64{"Drama": 1}
	tests := []struct {
		weights map[string]float64
		first   int64
	}{
		{nil, 1}, // defaults: click only
		{map[string]float64{"click": 1}, 1},
		{map[string]float64{"like": 1}, 2},
		{map[string]float64{"click": 0.1, "like": 1}, 2},
	}
	for _, tt := range tests {
		resp, err := r.Rank(context.Background(), rankingapi.Request{Affinity: aff, Candidates: cands, Weights: tt.weights})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Ranked[0].ID != tt.first || resp.ModelVersion != "m1" {
			t.Errorf("weights %v: first %d (model %s), want %d", tt.weights, resp.Ranked[0].ID, resp.ModelVersion, tt.first)
		}
		if resp.Ranked[0].Score < resp.Ranked[1].Score {
			t.Errorf("not sorted: %+v", resp.Ranked)
		}
	}
}

func TestRankPinsAndRefuses(t *testing.T) {
	r := New(testModel("new"), testModel("old"))
	resp, err := r.Rank(context.Background(), rankingapi.Request{ModelVersion: "old", Candidates: []domain.Candidate{{ID: 1}}})
	if err != nil || resp.ModelVersion != "old" {
		t.Fatalf("pinned rank = %+v, %v", resp, err)
	}
	for _, req := range []rankingapi.Request{
		{ModelVersion: "missing"},
		{Weights: map[string]float64{"dwell": 1}},
		{Weights: map[string]float64{"click": -1}},
	} {
		if _, err := r.Rank(context.Background(), req); err == nil {
			t.Errorf("Rank(%+v) succeeded", req)
		}
	}
	if _, err := New(nil).Rank(context.Background(), rankingapi.Request{}); err != ErrNoModel {
		t.Errorf("Rank without a model = %v, want ErrNoModel", err)
	}
}

func TestFitLearnsASeparableSignal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var xs [][]float64
	var ys []float64
	for i := 0; i < 2000; i++ {
		x := make([]float64, NumFeatures)
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		y := 0.0
		if x[1]+0.3*rng.NormFloat64() > 0.5 {
			y = 1
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	l := Fit(xs, ys, DefaultFitOptions())
	scores := make([]float64, len(xs))
	for i, x := range xs {
		scores[i] = l.Prob(x)
	}
	if auc := AUC(scores, ys); auc < 0.9 {
		t.Errorf("AUC = %.3f on a separable signal, want ≥ 0.9", auc)
	}
	if math.Abs(l.Weights[1]) <= math.Abs(l.Weights[0])*3 {
		t.Errorf("weights %v: the informative feature 1 should dominate", l.Weights)
	}
}

func TestValidate(t *testing.T) {
	m := testModel("x")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	m.Objectives["click"] = Logistic{Weights: []float64{1}}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "weights") {
		t.Errorf("Validate = %v, want weights error", err)
	}
}

func BenchmarkRank500(b *testing.B) {
	r := New(testModel("m"))
	rng := rand.New(rand.NewPCG(3, 4))
	genres := []string{"Drama", "Comedy", "Action", "Horror"}
	cands := make([]domain.Candidate, 500)
	for i := range cands {
		cands[i] = domain.Candidate{ID: int64(i), Categories: genres[:1+i%3], Year: 1990 + i%30,
			Popularity: rng.Float64() * 50, Sources: []domain.Source{{Channel: "item_cf", Score: rng.Float64()}, {Channel: "popular", Score: rng.Float64()}}}
	}
	req := rankingapi.Request{Affinity: map[string]float64{"Drama": .5, "Comedy": .3}, Candidates: cands, Weights: map[string]float64{"click": 1, "like": 0.5}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Rank(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPublishKeepsTheNewestForPinning(t *testing.T) {
	r := New(nil)
	for _, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
		r.Publish(testModel(v), 3)
	}
	loaded, cur := r.Versions()
	if cur != "v5" || strings.Join(loaded, ",") != "v5,v4,v3" {
		t.Fatalf("loaded %v current %s", loaded, cur)
	}
	r.Publish(testModel("v4"), 3) // a rollback makes an older version current
	loaded, cur = r.Versions()
	if cur != "v4" || strings.Join(loaded, ",") != "v5,v4,v3" {
		t.Errorf("after rollback: loaded %v current %s", loaded, cur)
	}
	resp, err := r.Rank(context.Background(), rankingapi.Request{ModelVersion: "v5", Candidates: []domain.Candidate{{ID: 1}}})
	if err != nil || resp.ModelVersion != "v5" {
		t.Errorf("pinned v5: %+v, %v", resp, err)
	}
}

func TestFeatureNamesMatchTheVector(t *testing.T) {
	if len(FeatureNames()) != NumFeatures {
		t.Fatalf("%d feature names for vectors of %d", len(FeatureNames()), NumFeatures)
	}
}
