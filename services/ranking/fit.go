package ranking

import "math"

// FitOptions tune logistic regression.
type FitOptions struct {
	// Epochs of full-batch gradient descent.
	Epochs int
	// LearningRate of gradient descent.
	LearningRate float64
	// L2 regularisation strength.
	L2 float64
	// Features the model uses, by name (FeatureNames); empty uses all.
	Features []string
	// Trees are boosted on top of the click objective's regression
	// (Trees.Trees 0: none).
	Trees TreeOptions
	// ClickLoss is the click objective's trees' loss: LossLambdaRank
	// (NDCG within each user's candidates) or LossLogistic.
	ClickLoss string
}

// The losses FitOptions.ClickLoss names.
const (
	LossLambdaRank = "lambdarank"
	LossLogistic   = "logistic"
)

// DefaultFitOptions converge on standardised features of this size. The
// trees' were chosen on `recmesh eval -validation` (a slice of the
// training part; see the README's protocol): 100 trees of depth 3 ranked
// as well as 200 or 400 at a lower rate, or depth 2, and cost half as much
// to serve; depth 4 and deeper did worse.
func DefaultFitOptions() FitOptions {
	return FitOptions{Epochs: 400, LearningRate: 0.5, L2: 1e-4, ClickLoss: LossLambdaRank,
		Trees: TreeOptions{Trees: 100, Depth: 3, LearningRate: 0.1, MinLeaf: 20, Lambda: 1, Bins: 64, Subsample: 0.8}}
}

// MeanStd returns the per-column mean and standard deviation of xs; a
// constant column gets std 1 so standardising never divides by zero.
func MeanStd(xs [][]float64) (mean, std []float64) {
	n := NumFeatures
	if len(xs) > 0 {
		n = len(xs[0])
	}
	mean, std = make([]float64, n), make([]float64, n)
	for _, x := range xs {
		for i, v := range x {
			mean[i] += v
		}
	}
	for i := range mean {
		mean[i] /= float64(max(len(xs), 1))
	}
	for _, x := range xs {
		for i, v := range x {
			std[i] += (v - mean[i]) * (v - mean[i])
		}
	}
	for i := range std {
		std[i] = math.Sqrt(std[i] / float64(max(len(xs), 1)))
		if std[i] < 1e-9 {
			std[i] = 1
		}
	}
	return mean, std
}

// Fit trains a logistic regression on standardised xs with 0/1 labels ys,
// balancing the classes so that a rare positive class still counts.
// Full-batch gradient descent is deterministic.
func Fit(xs [][]float64, ys []float64, o FitOptions) Objective {
	n := NumFeatures
	if len(xs) > 0 {
		n = len(xs[0])
	}
	l := Objective{Weights: make([]float64, n)}
	pos := 0.0
	for _, y := range ys {
		pos += y
	}
	if pos == 0 || pos == float64(len(ys)) {
		return l
	}
	wPos, wNeg := float64(len(ys))/(2*pos), float64(len(ys))/(2*(float64(len(ys))-pos))
	grad := make([]float64, n)
	for epoch := 0; epoch < o.Epochs; epoch++ {
		clear(grad)
		gb := 0.0
		for k, x := range xs {
			w := wNeg
			if ys[k] == 1 {
				w = wPos
			}
			d := w * (l.Prob(x) - ys[k])
			for i, v := range x {
				grad[i] += d * v
			}
			gb += d
		}
		m := float64(len(xs))
		for i := range l.Weights {
			l.Weights[i] -= o.LearningRate * (grad[i]/m + o.L2*l.Weights[i])
		}
		l.Bias -= o.LearningRate * gb / m
	}
	return l
}

// AUC is the area under the ROC curve of scores against 0/1 labels: the
// chance a random positive outscores a random negative.
func AUC(scores, labels []float64) float64 {
	var pos, neg []float64
	for i, s := range scores {
		if labels[i] == 1 {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	wins := 0.0
	for _, p := range pos {
		for _, q := range neg {
			switch {
			case p > q:
				wins++
			case p == q:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(pos)*len(neg))
}

// Calibrate fits Platt scaling: the scale and shift that make
// σ(scale·z + shift) the probability of the 0/1 labels ys given the
// log-odds zs, by Newton's method on the mean log-loss from (0, 0), each
// step halved until the loss falls, with a little ridge so that separable
// data still gives a finite answer. One class only, or z ordering the
// labels backwards, gives 1 and 0: z as it is.
func Calibrate(zs, ys []float64) (scale, shift float64) {
	const ridge = 1e-6
	pos := 0.0
	for _, y := range ys {
		pos += y
	}
	if pos == 0 || pos == float64(len(ys)) {
		return 1, 0
	}
	n := float64(len(zs))
	loss := func(a, b float64) float64 {
		l := 0.0
		for i, z := range zs {
			v := a*z + b
			// log(1+e^v) - y·v, computed without overflow.
			l += math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))) - ys[i]*v
		}
		return l/n + ridge*a*a/2
	}
	cur := loss(0, 0)
	for range 100 {
		var ga, gb, haa, hab, hbb float64
		for i, z := range zs {
			p := sigmoid(scale*z + shift)
			d, w := p-ys[i], p*(1-p)
			ga, gb = ga+d*z, gb+d
			haa, hab, hbb = haa+w*z*z, hab+w*z, hbb+w
		}
		ga, gb = ga/n+ridge*scale, gb/n
		haa, hab, hbb = haa/n+ridge, hab/n, hbb/n
		det := haa*hbb - hab*hab
		if !(det > 0) {
			break
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		step := 1.0
		for ; step > 1e-6; step /= 2 {
			if l := loss(scale-step*da, shift-step*db); l < cur {
				scale, shift, cur = scale-step*da, shift-step*db, l
				break
			}
		}
		if step <= 1e-6 || math.Abs(step*da) < 1e-9 && math.Abs(step*db) < 1e-9 {
			break
		}
	}
	if !finite(scale) || !finite(shift) || scale <= 0 {
		return 1, 0
	}
	return scale, shift
}
