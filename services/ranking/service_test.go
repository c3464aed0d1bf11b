package ranking

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
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
	m := &Model{Version: version, Features: FeatureNames(), Mean: mean, Std: std, RefYear: 2020,
		Objectives:     map[string]Objective{"click": {Weights: click}, "like": {Weights: like}},
		DefaultWeights: map[string]float64{"click": 1}}
	if err := m.Validate(); err != nil {
		panic(err)
	}
	return m
}

func TestRankOrderFollowsWeights(t *testing.T) {
	r := New(testModel("m1"))
	// 1 is the likeliest click but unlikely liked; 2 a likely click and
	// likely liked; 3 likely liked but an unlikely click, so no weight on
	// like lifts it above the other two (fusion is an expected value).
	cands := []domain.Candidate{
		{ID: 1, Categories: []string{"Horror"}, Sources: []domain.Source{{Channel: "item_cf", Score: 5}}},
		{ID: 2, Categories: []string{"Drama"}, Sources: []domain.Source{{Channel: "item_cf", Score: 2}}},
		{ID: 3, Categories: []string{"Drama"}, Sources: []domain.Source{{Channel: "popular", Score: 1}}},
	}
	aff := map[string]float64{"Drama": 1}
	tests := []struct {
		weights map[string]float64
		order   []int64
	}{
		{nil, []int64{1, 2, 3}}, // defaults: click only
		{map[string]float64{"click": 1}, []int64{1, 2, 3}},
		{map[string]float64{"like": 1}, []int64{2, 1, 3}},
		{map[string]float64{"click": 0.1, "like": 1}, []int64{2, 1, 3}},
		{map[string]float64{"like": 100}, []int64{2, 1, 3}},
	}
	m := testModel("m1")
	for _, tt := range tests {
		resp, err := r.Rank(context.Background(), rankingapi.Request{Affinity: aff, Candidates: cands, Weights: tt.weights})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, c := range resp.Ranked {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tt.order) || resp.ModelVersion != "m1" {
			t.Errorf("weights %v: order %v (model %s), want %v", tt.weights, got, resp.ModelVersion, tt.order)
		}
		// Each score is P(click) × (w_click + Σ w_o P(o | click)).
		weights := tt.weights
		if len(weights) == 0 {
			weights = m.DefaultWeights
		}
		for _, c := range resp.Ranked {
			full, x := make([]float64, NumFeatures), make([]float64, len(m.Features))
			FeatureVector(full, aff, &c, m.RefYear)
			m.Input(x, full)
			click, like := m.Objectives["click"], m.Objectives["like"]
			want := click.Prob(x) * (weights["click"] + weights["like"]*like.Prob(x))
			if math.Abs(c.Score-want) > 1e-12 {
				t.Errorf("weights %v: item %d scores %v, want %v", weights, c.ID, c.Score, want)
			}
		}
	}
}

func TestCalibrateRecoversPlattScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var zs, ys []float64
	for range 20000 {
		z := 4 * rng.NormFloat64() // an order whose scale means nothing
		y := 0.0
		if rng.Float64() < sigmoid(0.25*z-1) {
			y = 1
		}
		zs, ys = append(zs, z), append(ys, y)
	}
	a, b := Calibrate(zs, ys)
	if math.Abs(a-0.25) > 0.02 || math.Abs(b+1) > 0.1 {
		t.Errorf("Calibrate = %.3f, %.3f; want 0.25, -1", a, b)
	}
	if a, b := Calibrate(zs[:10], make([]float64, 10)); a != 1 || b != 0 {
		t.Errorf("Calibrate on one class = %v, %v; want 1, 0", a, b)
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
	m.Objectives["click"] = Objective{Weights: []float64{1}}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "weights") {
		t.Errorf("Validate = %v, want weights error", err)
	}
}

// BenchmarkRank500 ranks a recall-sized batch with signals: with the
// regressions alone, and with the trees DefaultFitOptions boosts on the
// click objective, as a trained model carries them.
func BenchmarkRank500(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	genres := []string{"Drama", "Comedy", "Action", "Horror"}
	cands := make([]domain.Candidate, 500)
	names := []string{domain.SignalCF, domain.SignalCFMax, domain.SignalCFLinks, domain.SignalEmbedding, domain.SignalGenreRecency}
	values := make([]float32, len(cands)*len(names))
	for i := range values {
		values[i] = rng.Float32()
	}
	for i := range cands {
		cands[i] = domain.Candidate{ID: int64(i), Categories: genres[:1+i%3], Year: 1990 + i%30,
			Popularity: rng.Float64() * 50, Sources: []domain.Source{{Channel: "item_cf", Score: rng.Float64()}, {Channel: "popular", Score: rng.Float64()}},
			Signals: domain.Signals{Names: names, Values: values[i*5 : i*5+5]}}
	}
	req := rankingapi.Request{Affinity: map[string]float64{"Drama": .5, "Comedy": .3}, Candidates: cands, Weights: map[string]float64{"click": 1, "like": 0.5}}
	withTrees := testModel("trees")
	o := DefaultFitOptions().Trees
	for name, obj := range withTrees.Objectives {
		if name != ObjectiveClick {
			continue
		}
		xs, ys := make([][]float64, 2000), make([]float64, 2000)
		for i := range xs {
			xs[i] = make([]float64, NumFeatures)
			for k := range xs[i] {
				xs[i][k] = rng.NormFloat64()
			}
			ys[i] = float64(rng.IntN(2))
		}
		obj.Trees = FitTrees(xs, LogLoss{Labels: ys}, nil, nil, o)
		withTrees.Objectives[name] = obj
	}
	if err := withTrees.Validate(); err != nil {
		b.Fatal(err)
	}
	for _, m := range []*Model{testModel("regression"), withTrees} {
		r := New(m)
		b.Run(m.Version, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Rank(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
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

// A model names its features: one trained before the signal features
// (seven of them) still validates and ranks, and a name ranking does not
// compute is refused.
func TestModelsNameTheirFeatures(t *testing.T) {
	old := []string{"cf", "popularity", "affinity", "recency", "genre", "sources", "embedding"}
	ones := func() []float64 { return []float64{1, 1, 1, 1, 1, 1, 1} }
	click := make([]float64, 7)
	click[1] = 1 // popularity
	m := &Model{Version: "old", Features: old, Mean: make([]float64, 7), Std: ones(), RefYear: 2020,
		Objectives: map[string]Objective{"click": {Weights: click}}, DefaultWeights: map[string]float64{"click": 1}}
	if err := m.Validate(); err != nil {
		t.Fatalf("a seven-feature model: %v", err)
	}
	resp, err := New(m).Rank(context.Background(), rankingapi.Request{Candidates: []domain.Candidate{{ID: 1, Popularity: 1}, {ID: 2, Popularity: 9}}})
	if err != nil || resp.Ranked[0].ID != 2 {
		t.Fatalf("old model ranks %+v, %v; want the popular item first", resp.Ranked, err)
	}
	// A signal feature reaches the model by name, from the candidate's signals.
	m2 := &Model{Version: "emb", Features: []string{"emb_all"}, Mean: []float64{0}, Std: []float64{1},
		Objectives: map[string]Objective{"click": {Weights: []float64{1}}}, DefaultWeights: map[string]float64{"click": 1}}
	if err := m2.Validate(); err != nil {
		t.Fatal(err)
	}
	names := []string{domain.SignalEmbedding}
	resp, err = New(m2).Rank(context.Background(), rankingapi.Request{Candidates: []domain.Candidate{
		{ID: 1, Signals: domain.Signals{Names: names, Values: []float32{0.1}}}, {ID: 2, Signals: domain.Signals{Names: names, Values: []float32{0.9}}}}})
	if err != nil || resp.Ranked[0].ID != 2 {
		t.Fatalf("emb_all model ranks %+v, %v; want the higher inner product first", resp.Ranked, err)
	}
	m.Features = append(old[:6:6], "telepathy")
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "telepathy") {
		t.Errorf("Validate = %v, want the unknown feature named", err)
	}
}
