package ranking

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// xorData is a signal no linear model can learn: the label is whether
// features 0 and 1 have the same sign.
func xorData(n int, seed uint64) (xs [][]float64, ys []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for range n {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		y := 0.0
		if x[0]*x[1] > 0 {
			y = 1
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	return xs, ys
}

func treeOptions() TreeOptions {
	return TreeOptions{Trees: 50, Depth: 3, LearningRate: 0.2, MinLeaf: 10, Lambda: 1, Bins: 32, Subsample: 0.8, Seed: 1}
}

func TestTreesLearnWhatALineCannot(t *testing.T) {
	xs, ys := xorData(2000, 1)
	hx, hy := xorData(1000, 2)
	line := Fit(xs, ys, DefaultFitOptions())
	boosted := Objective{Weights: make([]float64, 3), Trees: FitTrees(xs, LogLoss{Labels: ys}, nil, nil, treeOptions())}
	auc := func(o Objective) float64 {
		s := make([]float64, len(hx))
		for i, x := range hx {
			s[i] = o.Prob(x)
		}
		return AUC(s, hy)
	}
	if a := auc(line); a > 0.6 {
		t.Errorf("a line reached AUC %.3f on XOR; the test no longer tells trees apart", a)
	}
	if a := auc(boosted); a < 0.95 {
		t.Errorf("trees reached AUC %.3f on held-out XOR, want ≥ 0.95", a)
	}
	again := FitTrees(xs, LogLoss{Labels: ys}, nil, nil, treeOptions())
	if !reflect.DeepEqual(boosted.Trees, again) {
		t.Error("two fits with one seed differ")
	}
	for i := range again {
		if err := again[i].validate(3); err != nil {
			t.Fatalf("tree %d: %v", i, err)
		}
	}
}

// LambdaRank orders each group's positives first: groups of 20 whose one
// positive has the largest x[0]+x[1]... only when x[2] > 0, else the smallest.
func TestLambdaRankRaisesNDCG(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var xs [][]float64
	var ys []float64
	var groups [][2]int
	for g := range 200 {
		lo := len(xs)
		flip := rng.Float64() < 0.5
		best, bestV := 0, math.Inf(-1)
		for i := range 20 {
			x := []float64{rng.NormFloat64(), rng.NormFloat64(), 0}
			if flip {
				x[2] = 1
			}
			v := x[0] + x[1]
			if flip {
				v = -v
			}
			if v > bestV {
				best, bestV = i, v
			}
			xs, ys = append(xs, x), append(ys, 0)
		}
		ys[lo+best] = 1
		groups = append(groups, [2]int{lo, len(xs)})
		_ = g
	}
	ndcg := func(score func([]float64) float64) float64 {
		total := 0.0
		for _, g := range groups {
			pos := 0
			for i := g[0]; i < g[1]; i++ {
				if ys[i] == 1 {
					pos = i
				}
			}
			rank := 0
			for i := g[0]; i < g[1]; i++ {
				if i != pos && score(xs[i]) >= score(xs[pos]) {
					rank++
				}
			}
			total += 1 / math.Log2(float64(rank)+2)
		}
		return total / float64(len(groups))
	}
	o := treeOptions()
	o.Trees = 100
	trees := FitTrees(xs, LambdaRank{Labels: ys, Groups: groups}, groups, nil, o)
	obj := Objective{Weights: make([]float64, 3), Trees: trees}
	if before, after := ndcg(func([]float64) float64 { return 0 }), ndcg(obj.Prob); after < 0.8 || after < before+0.3 {
		t.Errorf("NDCG %.3f before boosting, %.3f after; want ≥ 0.8", before, after)
	}
}

func TestTreeValidateRefusesMalformedTrees(t *testing.T) {
	good := func() Tree {
		return Tree{Feature: []int16{0, -1, -1}, Threshold: []float64{0.5, 0, 0}, Left: []int32{1, 0, 0}, Right: []int32{2, 0, 0}, Value: []float64{0, -1, 1}}
	}
	if g := good(); g.validate(1) != nil || g.Score([]float64{0}) != -1 || g.Score([]float64{1}) != 1 {
		t.Fatalf("the good tree: %v, scores %v %v", g.validate(1), g.Score([]float64{0}), g.Score([]float64{1}))
	}
	for name, c := range map[string]struct {
		breakIt func(*Tree)
		want    string
	}{
		"a cycle":         {func(t *Tree) { t.Left[0] = 0 }, "child"},
		"child past end":  {func(t *Tree) { t.Right[0] = 9 }, "child"},
		"unknown feature": {func(t *Tree) { t.Feature[0] = 4 }, "feature"},
		"short arrays":    {func(t *Tree) { t.Value = t.Value[:2] }, "one length"},
		"infinite value":  {func(t *Tree) { t.Value[1] = math.Inf(1) }, "finite"},
		"empty":           {func(t *Tree) { *t = Tree{} }, "non-empty"},
	} {
		tr := good()
		c.breakIt(&tr)
		if err := tr.validate(1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: validate = %v, want an error about %q", name, err, c.want)
		}
	}
}

// The compiled forest serves exactly what the trees say, shallow leaves
// included.
func TestForestScoresAsTheTrees(t *testing.T) {
	xs, ys := xorData(500, 4)
	o := treeOptions()
	o.Depth, o.MinLeaf = 5, 40 // uneven trees: some leaves stop above depth 5
	trees := FitTrees(xs, LogLoss{Labels: ys}, nil, nil, o)
	trees = append(trees, Tree{Feature: []int16{-1}, Threshold: []float64{0}, Left: []int32{0}, Right: []int32{0}, Value: []float64{0.25}})
	f, err := compile(trees)
	if err != nil {
		t.Fatal(err)
	}
	shallow := false
	for i := range trees {
		shallow = shallow || trees[i].depth(0) < f.depth
	}
	if !shallow || f.depth != 5 {
		t.Fatalf("depth %d, shallow trees %v: the test wants uneven trees", f.depth, shallow)
	}
	flat := make([]float64, 0, 3*len(xs))
	for _, x := range xs {
		flat = append(flat, x...)
	}
	z := make([]float64, len(xs))
	f.addTo(z, flat, 3)
	for j, x := range xs {
		want := 0.0
		for i := range trees {
			want += trees[i].Score(x)
		}
		if math.Abs(z[j]-want) > 1e-12 {
			t.Fatalf("row %d: forest %v, trees %v", j, z[j], want)
		}
	}
}
