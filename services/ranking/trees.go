package ranking

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Tree is one regression tree of a boosted ensemble, as parallel arrays
// over its nodes (node 0 is the root). An inner node n sends x left when
// x[Feature[n]] <= Threshold[n]; a leaf (Feature -1) answers Value.
type Tree struct {
	Feature   []int16   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Value     []float64 `json:"value"`
}

// Score walks x (standardised features) down the tree to its leaf's value.
func (t *Tree) Score(x []float64) float64 {
	n := int32(0)
	for f := t.Feature[0]; f >= 0; f = t.Feature[n] {
		if x[f] <= t.Threshold[n] {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return t.Value[n]
}

// validate checks that the tree is well formed for features inputs:
// arrays of one length, children after their parent (so no cycle), known
// features and finite numbers.
func (t *Tree) validate(features int) error {
	n := len(t.Feature)
	if n == 0 || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.Value) != n {
		return fmt.Errorf("tree arrays must be non-empty and of one length")
	}
	for i := range n {
		if !finite(t.Value[i]) || !finite(t.Threshold[i]) {
			return fmt.Errorf("node %d has a value or threshold that is not finite", i)
		}
		if t.Feature[i] < 0 {
			continue
		}
		if int(t.Feature[i]) >= features {
			return fmt.Errorf("node %d splits on feature %d of %d", i, t.Feature[i], features)
		}
		for _, c := range []int32{t.Left[i], t.Right[i]} {
			if int(c) <= i || int(c) >= n {
				return fmt.Errorf("node %d has child %d; children come after their parent, within %d nodes", i, c, n)
			}
		}
	}
	return nil
}

// TreeOptions tune gradient boosting.
type TreeOptions struct {
	// Trees is the number of boosting rounds; 0 fits no trees.
	Trees int `json:"trees"`
	// Depth bounds every tree's depth.
	Depth int `json:"depth"`
	// LearningRate shrinks every tree.
	LearningRate float64 `json:"learning_rate"`
	// MinLeaf is the fewest samples a leaf may hold.
	MinLeaf int `json:"min_leaf"`
	// Lambda is the L2 penalty on leaf values.
	Lambda float64 `json:"lambda"`
	// Bins is how many quantile bins each feature is cut into for split finding.
	Bins int `json:"bins"`
	// Subsample is the share of samples (whole groups, with a ranking
	// loss) each tree is fitted on, drawn by Seed.
	Subsample float64 `json:"subsample"`
	Seed      uint64  `json:"seed"`
}

// Loss gives each sample its gradient and hessian of the loss at the
// current scores.
type Loss interface {
	Gradients(scores, grad, hess []float64)
}

// LogLoss is the logistic loss of 0/1 labels, with the classes balanced
// so that a rare positive class still counts.
type LogLoss struct{ Labels []float64 }

func (l LogLoss) Gradients(scores, grad, hess []float64) {
	pos := 0.0
	for _, y := range l.Labels {
		pos += y
	}
	n := float64(len(l.Labels))
	wPos, wNeg := n/(2*math.Max(pos, 1)), n/(2*math.Max(n-pos, 1))
	for i, y := range l.Labels {
		w := wNeg
		if y == 1 {
			w = wPos
		}
		p := sigmoid(scores[i])
		grad[i], hess[i] = w*(p-y), math.Max(w*p*(1-p), 1e-12)
	}
}

// LambdaRank is LambdaMART's loss: within each group (a user's
// candidates), every pair ordered wrongly by the scores pulls them apart
// in proportion to what swapping them would change NDCG by.
type LambdaRank struct {
	Labels []float64
	// Groups are the half-open sample ranges of each group.
	Groups [][2]int
}

func (l LambdaRank) Gradients(scores, grad, hess []float64) {
	clear(grad)
	clear(hess)
	var order []int
	rank := make([]int, len(scores))
	for _, g := range l.Groups {
		lo, hi := g[0], g[1]
		order = order[:0]
		for i := lo; i < hi; i++ {
			order = append(order, i)
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case scores[a] > scores[b]:
				return -1
			case scores[a] < scores[b]:
				return 1
			}
			return 0
		})
		for r, i := range order {
			rank[i] = r
		}
		// The ideal DCG of binary labels: the positives first.
		idcg, pos := 0.0, 0
		for i := lo; i < hi; i++ {
			if l.Labels[i] > 0 {
				idcg += 1 / math.Log2(float64(pos)+2)
				pos++
			}
		}
		if pos == 0 || pos == hi-lo {
			continue
		}
		for i := lo; i < hi; i++ {
			if l.Labels[i] == 0 {
				continue
			}
			for j := lo; j < hi; j++ {
				if l.Labels[j] != 0 {
					continue
				}
				delta := math.Abs(1/math.Log2(float64(rank[i])+2)-1/math.Log2(float64(rank[j])+2)) / idcg
				rho := sigmoid(scores[j] - scores[i])
				grad[i] -= rho * delta
				grad[j] += rho * delta
				h := math.Max(rho*(1-rho)*delta, 1e-12)
				hess[i] += h
				hess[j] += h
			}
		}
	}
	for i := range hess {
		hess[i] = math.Max(hess[i], 1e-12)
	}
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// FitTrees boosts o.Trees trees on standardised xs against loss, starting
// from the scores init (nil: zeros). groups (the loss's groups, or nil)
// keep a group whole when subsampling. It is deterministic for o.Seed.
func FitTrees(xs [][]float64, loss Loss, groups [][2]int, init []float64, o TreeOptions) []Tree {
	n := len(xs)
	if n == 0 || o.Trees <= 0 {
		return nil
	}
	nf := len(xs[0])
	cuts, bins := binFeatures(xs, o.Bins)
	scores, grad, hess := make([]float64, n), make([]float64, n), make([]float64, n)
	copy(scores, init)
	if groups == nil {
		groups = make([][2]int, n)
		for i := range groups {
			groups[i] = [2]int{i, i + 1}
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	b := &treeBuilder{o: o, cuts: cuts, bins: bins, grad: grad, hess: hess, nf: nf}
	trees := make([]Tree, 0, o.Trees)
	for range o.Trees {
		loss.Gradients(scores, grad, hess)
		var rows []int32
		for _, g := range groups {
			if o.Subsample <= 0 || o.Subsample >= 1 || rng.Float64() < o.Subsample {
				for i := g[0]; i < g[1]; i++ {
					rows = append(rows, int32(i))
				}
			}
		}
		t := b.build(rows)
		for i, x := range xs {
			scores[i] += t.Score(x)
		}
		trees = append(trees, t)
	}
	return trees
}

// binFeatures cuts every feature at up to maxBins-1 quantiles: cuts[f]
// are feature f's thresholds, bins[i*nf+f] sample i's bin (the first cut
// not below its value).
func binFeatures(xs [][]float64, maxBins int) (cuts [][]float64, bins []uint8) {
	n, nf := len(xs), len(xs[0])
	maxBins = min(max(maxBins, 2), 256)
	cuts = make([][]float64, nf)
	bins = make([]uint8, n*nf)
	col := make([]float64, n)
	for f := range nf {
		for i, x := range xs {
			col[i] = x[f]
		}
		slices.Sort(col)
		var c []float64
		for k := 1; k < maxBins; k++ {
			v := col[min(n-1, k*n/maxBins)]
			if v < col[n-1] && (len(c) == 0 || v > c[len(c)-1]) {
				c = append(c, v)
			}
		}
		cuts[f] = c
		for i, x := range xs {
			b, _ := slices.BinarySearch(c, x[f])
			bins[i*nf+f] = uint8(b)
		}
	}
	return cuts, bins
}

type treeBuilder struct {
	o          TreeOptions
	cuts       [][]float64
	bins       []uint8
	grad, hess []float64
	nf         int
}

type histBin struct {
	g, h float64
	n    int
}

// build grows one tree depth-first, each leaf's value the Newton step
// −G/(H+λ) shrunk by the learning rate.
func (b *treeBuilder) build(rows []int32) Tree {
	var t Tree
	b.grow(&t, rows, 0)
	return t
}

func (b *treeBuilder) grow(t *Tree, rows []int32, depth int) int32 {
	node := int32(len(t.Feature))
	g, h := 0.0, 0.0
	for _, r := range rows {
		g, h = g+b.grad[r], h+b.hess[r]
	}
	t.Feature, t.Threshold, t.Left, t.Right = append(t.Feature, -1), append(t.Threshold, 0), append(t.Left, 0), append(t.Right, 0)
	t.Value = append(t.Value, -g/(h+b.o.Lambda)*b.o.LearningRate)
	if depth >= b.o.Depth || len(rows) < 2*b.o.MinLeaf {
		return node
	}
	f, cut, ok := b.bestSplit(rows, g, h)
	if !ok {
		return node
	}
	var left, right []int32
	for _, r := range rows {
		if int(b.bins[int(r)*b.nf+f]) <= cut {
			left = append(left, r)
		} else {
			right = append(right, r)
		}
	}
	t.Feature[node], t.Threshold[node] = int16(f), b.cuts[f][cut]
	l := b.grow(t, left, depth+1)
	rt := b.grow(t, right, depth+1)
	t.Left[node], t.Right[node] = l, rt
	return node
}

// bestSplit finds the feature and bin whose split (bins ≤ cut go left)
// gains the most: G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), each side with
// at least MinLeaf samples.
func (b *treeBuilder) bestSplit(rows []int32, g, h float64) (feature, cut int, ok bool) {
	lambda := b.o.Lambda
	parent := g * g / (h + lambda)
	best := 1e-9
	hist := make([]histBin, 256)
	for f := range b.nf {
		nb := len(b.cuts[f]) + 1
		if nb < 2 {
			continue
		}
		clear(hist[:nb])
		for _, r := range rows {
			hb := &hist[b.bins[int(r)*b.nf+f]]
			hb.g += b.grad[r]
			hb.h += b.hess[r]
			hb.n++
		}
		gl, hl, nl := 0.0, 0.0, 0
		for c := 0; c < nb-1; c++ {
			gl, hl, nl = gl+hist[c].g, hl+hist[c].h, nl+hist[c].n
			if nl < b.o.MinLeaf || len(rows)-nl < b.o.MinLeaf {
				continue
			}
			gr, hr := g-gl, h-hl
			if gain := gl*gl/(hl+lambda) + gr*gr/(hr+lambda) - parent; gain > best {
				best, feature, cut, ok = gain, f, c, true
			}
		}
	}
	return feature, cut, ok
}

// maxServedDepth bounds a tree's depth: a served tree is stored complete
// (2^depth leaves).
const maxServedDepth = 12

// forest is an objective's trees compiled for serving: each tree complete
// to the forest's depth, in heap order (node i's children are 2i+1 and
// 2i+2), its nodes' features and thresholds and its leaves in flat arrays.
// A leaf above the full depth becomes a node whose threshold sends
// everything left, into copies of the leaf. Scoring a batch tree by tree
// keeps one tree in cache for every candidate, and the walk has no
// pointers to chase.
type forest struct {
	depth, trees int
	feature      []int16
	threshold    []float64
	leaf         []float64
}

// compile builds the forest of trees, or nil for none.
func compile(trees []Tree) (*forest, error) {
	if len(trees) == 0 {
		return nil, nil
	}
	f := &forest{trees: len(trees)}
	for i := range trees {
		f.depth = max(f.depth, trees[i].depth(0))
	}
	if f.depth > maxServedDepth {
		return nil, fmt.Errorf("a tree is %d deep; at most %d is served", f.depth, maxServedDepth)
	}
	inner, leaves := 1<<f.depth-1, 1<<f.depth
	f.feature, f.threshold, f.leaf = make([]int16, inner*len(trees)), make([]float64, inner*len(trees)), make([]float64, leaves*len(trees))
	for k := range trees {
		f.place(&trees[k], 0, 0, 0, k)
	}
	return f, nil
}

// depth is the depth of the subtree at node n (a leaf is 0 deep).
func (t *Tree) depth(n int32) int {
	if t.Feature[n] < 0 {
		return 0
	}
	return 1 + max(t.depth(t.Left[n]), t.depth(t.Right[n]))
}

// place copies tree t's node n to heap position h at level of tree k.
func (f *forest) place(t *Tree, n int32, h, level, k int) {
	inner, leaves := 1<<f.depth-1, 1<<f.depth
	if level == f.depth {
		f.leaf[k*leaves+h-inner] = t.Value[n]
		return
	}
	i := k*inner + h
	if t.Feature[n] < 0 { // a shallow leaf: every x goes left, and both sides hold it
		f.feature[i], f.threshold[i] = 0, math.Inf(1)
		f.place(t, n, 2*h+1, level+1, k)
		f.place(t, n, 2*h+2, level+1, k)
		return
	}
	f.feature[i], f.threshold[i] = t.Feature[n], t.Threshold[n]
	f.place(t, t.Left[n], 2*h+1, level+1, k)
	f.place(t, t.Right[n], 2*h+2, level+1, k)
}

// addTo adds every tree's score to z[j] for each row j of xs (rows of nf
// standardised features, back to back). Rows are walked four at a time:
// a walk is a chain of dependent loads, and four independent chains keep
// the core busy while each waits.
func (f *forest) addTo(z, xs []float64, nf int) {
	inner, leaves, depth := 1<<f.depth-1, 1<<f.depth, f.depth
	n := len(z)
	for k := range f.trees {
		feature, threshold := f.feature[k*inner:(k+1)*inner], f.threshold[k*inner:(k+1)*inner]
		leaf := f.leaf[k*leaves : (k+1)*leaves]
		// right is 1 when x > t: the sign bit of t − x, without a branch
		// (which random features mispredict).
		right := func(h int, x []float64) int {
			return int(math.Float64bits(threshold[h]-x[feature[h]]) >> 63)
		}
		j := 0
		for ; j+4 <= n; j += 4 {
			x0, x1, x2, x3 := xs[j*nf:(j+1)*nf], xs[(j+1)*nf:(j+2)*nf], xs[(j+2)*nf:(j+3)*nf], xs[(j+3)*nf:(j+4)*nf]
			h0, h1, h2, h3 := 0, 0, 0, 0
			for range depth {
				h0, h1, h2, h3 = 2*h0+1+right(h0, x0), 2*h1+1+right(h1, x1), 2*h2+1+right(h2, x2), 2*h3+1+right(h3, x3)
			}
			z[j] += leaf[h0-inner]
			z[j+1] += leaf[h1-inner]
			z[j+2] += leaf[h2-inner]
			z[j+3] += leaf[h3-inner]
		}
		for ; j < n; j++ {
			x, h := xs[j*nf:(j+1)*nf], 0
			for range depth {
				h = 2*h + 1 + right(h, x)
			}
			z[j] += leaf[h-inner]
		}
	}
}
