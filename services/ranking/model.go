// Package ranking is the ranking service: it scores candidates with a
// versioned model of several objectives and fuses them with weights a
// variant can set.
package ranking

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/recmesh/recmesh/pkg/domain"
)

// NumFeatures is the length of the full feature vector.
const NumFeatures = 14

// FeatureNames are every feature ranking can compute, in the full vector's
// order. FeatureVector is the only place they are computed, online and in
// training alike. A model names the ones it uses (Model.Features), so a
// model trained before a feature was added still loads and serves.
func FeatureNames() []string {
	return []string{"cf", "popularity", "affinity", "recency", "genre", "sources", "embedding",
		"cf_all", "cf_max", "cf_links", "emb_all", "genre_recency", "cf_rank", "emb_rank"}
}

// FeatureVector fills dst (NumFeatures long) for candidate c of a user with
// genre affinity aff. refYear is the model's "now" for item recency.
// The channel features (cf, genre, embedding) are the candidate's score in
// the channel that produced it, 0 if another did; the signal features
// (cf_all, cf_max, cf_links, emb_all, genre_recency, cf_rank, emb_rank) are recall's signals,
// set whichever channel produced it (see recall's signals.go).
func FeatureVector(dst []float64, aff map[string]float64, c *domain.Candidate, refYear int) {
	a := 0.0
	for _, g := range c.Categories {
		a += aff[g]
	}
	age := 30.0 // unknown years are treated as middle-aged
	if c.Year > 0 {
		age = math.Max(0, float64(refYear-c.Year))
	}
	dst[0] = math.Log1p(c.SourceScore(domain.ChannelItemCF))
	dst[1] = math.Log1p(c.Popularity)
	dst[2] = a
	dst[3] = math.Exp(-age / 10)
	dst[4] = c.SourceScore(domain.ChannelGenre)
	dst[5] = float64(len(c.Sources))
	dst[6] = c.SourceScore(domain.ChannelEmbedding)
	dst[7] = math.Log1p(c.Signal(domain.SignalCF))
	dst[8] = c.Signal(domain.SignalCFMax)
	dst[9] = c.Signal(domain.SignalCFLinks)
	dst[10] = c.Signal(domain.SignalEmbedding)
	dst[11] = c.Signal(domain.SignalGenreRecency)
	dst[12] = c.Signal(domain.SignalCFRank)
	dst[13] = c.Signal(domain.SignalEmbeddingRank)
}

// The objectives recmesh trains: click means "the user interacts"; like
// means "a rating of 4 or more, given an interaction".
const (
	ObjectiveClick = "click"
	ObjectiveLike  = "like"
)

// Objectives lists the objectives a model is trained for, which are the
// names fusion weights may use.
func Objectives() []string { return []string{ObjectiveClick, ObjectiveLike} }

// Objective is one objective's scorer over standardised features: a
// logistic regression (Weights, Bias) plus, when fitted, boosted trees,
// whose sum is the log-odds z.
type Objective struct {
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
	Trees   []Tree    `json:"trees,omitempty"`
	// Scale and Shift calibrate z into a probability, σ(Scale·z + Shift)
	// (Platt scaling, fitted on the training samples once the trees are:
	// trees fitted with a ranking loss give an order, not a probability,
	// and fusion multiplies probabilities). Scale 0, as in a model from
	// before calibration, leaves z as it is.
	Scale float64 `json:"scale,omitempty"`
	Shift float64 `json:"shift,omitempty"`
	// forest is Trees compiled for serving, set by Model.Validate.
	forest *forest
}

// linear is the regression's part of z for a standardised x.
func (l *Objective) linear(x []float64) float64 {
	z := l.Bias
	for i, w := range l.Weights {
		z += w * x[i]
	}
	return z
}

// Logit is the objective's uncalibrated log-odds z for a standardised x.
func (l *Objective) Logit(x []float64) float64 {
	z := l.linear(x)
	for i := range l.Trees {
		z += l.Trees[i].Score(x)
	}
	return z
}

// Prob is the objective's calibrated probability for a standardised x.
func (l *Objective) Prob(x []float64) float64 { return sigmoid(l.calibrate(l.Logit(x))) }

func (l *Objective) calibrate(z float64) float64 {
	if l.Scale == 0 {
		return z
	}
	return l.Scale*z + l.Shift
}

// Model is the ranking model payload of an artifact set (ModelFileName).
type Model struct {
	Version  string   `json:"version"`
	Features []string `json:"features"`
	// Mean and Std standardise the raw features.
	Mean    []float64 `json:"mean"`
	Std     []float64 `json:"std"`
	RefYear int       `json:"ref_year"`
	// Objectives are click (the user interacts) and like (a rating ≥ 4, given an interaction).
	Objectives map[string]Objective `json:"objectives"`
	// DefaultWeights fuse the objectives when a request sets none.
	DefaultWeights map[string]float64 `json:"default_weights"`
	// Metrics record the fit's quality on held-out samples, per objective.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// cols are the positions of Features in the full vector (FeatureNames),
	// set by Validate.
	cols []int
}

// ModelFileName is the ranking payload's name in an artifact set.
const ModelFileName = "ranking.json"

// Validate checks the model's shape and resolves its features' positions
// in the full vector; a model is used only after it passes.
func (m *Model) Validate() error {
	n := len(m.Features)
	if n == 0 || len(m.Mean) != n || len(m.Std) != n {
		return fmt.Errorf("ranking model %s: %d features with %d means and %d stds; want as many of each, at least one", m.Version, n, len(m.Mean), len(m.Std))
	}
	m.cols = make([]int, n)
	for i, f := range m.Features {
		m.cols[i] = slices.Index(FeatureNames(), f)
		if m.cols[i] < 0 || slices.Index(m.Features, f) != i {
			return fmt.Errorf("ranking model %s: feature %q is unknown or named twice; ranking computes %v", m.Version, f, FeatureNames())
		}
	}
	if len(m.Objectives) == 0 {
		return fmt.Errorf("ranking model %s has no objectives", m.Version)
	}
	for i := range n {
		if !finite(m.Mean[i]) || !finite(m.Std[i]) || m.Std[i] <= 0 {
			return fmt.Errorf("ranking model %s: feature %s has mean %v and std %v; want finite, std positive", m.Version, m.Features[i], m.Mean[i], m.Std[i])
		}
	}
	for name, o := range m.Objectives {
		if len(o.Weights) != n {
			return fmt.Errorf("ranking model %s: objective %s has %d weights, want %d", m.Version, name, len(o.Weights), n)
		}
		if !finite(o.Bias) || slices.ContainsFunc(o.Weights, func(w float64) bool { return !finite(w) }) {
			return fmt.Errorf("ranking model %s: objective %s has a weight that is not finite", m.Version, name)
		}
		for k := range o.Trees {
			if err := o.Trees[k].validate(n); err != nil {
				return fmt.Errorf("ranking model %s: objective %s, tree %d: %w", m.Version, name, k, err)
			}
		}
		var err error
		if o.forest, err = compile(o.Trees); err != nil {
			return fmt.Errorf("ranking model %s: objective %s: %w", m.Version, name, err)
		}
		m.Objectives[name] = o
	}
	// A request without weights is ranked with the defaults, so they must
	// name the model's own objectives.
	for name, w := range m.DefaultWeights {
		if _, ok := m.Objectives[name]; !ok || !finite(w) {
			return fmt.Errorf("ranking model %s: default weight %s=%v names no objective of the model, or is not finite", m.Version, name, w)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Input turns a full feature vector into the model's input: its own
// features, standardised, in dst (len(m.Features) long).
func (m *Model) Input(dst, full []float64) {
	for i, c := range m.cols {
		dst[i] = (full[c] - m.Mean[i]) / m.Std[i]
	}
}

// Fusion ranks candidates by their expected value: an interaction is worth
// the click weight, and each other objective, which is conditional on an
// interaction (like: a rating of 4 or more, given one), adds its weight
// times its probability. A candidate's score is therefore
//
//	P(click) × (w_click + Σ w_o × P(o | click))
//
// so a weight trades interactions for what follows them at a rate a
// variant can read, and a conditional objective can never lift a candidate
// the user is unlikely to touch. A model without a click objective takes
// P(click) as 1. It is resolved once per request rather than looked up for
// every candidate.
type Fusion struct {
	click *Objective
	base  float64
	given []weightedObjective
}

type weightedObjective struct {
	objective *Objective
	weight    float64
}

// Fuse resolves weights against the model's objectives. Objectives are taken
// in name order, so a score is summed the same way every time (map order
// would change its last bits); zero weights and unknown names are left out.
func (m *Model) Fuse(weights map[string]float64) Fusion {
	var f Fusion
	if o, ok := m.Objectives[ObjectiveClick]; ok {
		f.click = &o
	}
	f.base = weights[ObjectiveClick]
	for _, name := range slices.Sorted(maps.Keys(weights)) {
		if o, ok := m.Objectives[name]; ok && name != ObjectiveClick && weights[name] != 0 {
			f.given = append(f.given, weightedObjective{&o, weights[name]})
		}
	}
	return f
}

// Scores fuses the objectives' probabilities for each of n rows of xs
// (standardised inputs of nf features, back to back) into scores.
func (f Fusion) Scores(scores, xs []float64, nf int) {
	for j := range scores {
		scores[j] = f.base
	}
	z := make([]float64, len(scores))
	for _, o := range f.given {
		o.objective.logits(z, xs, nf)
		for j, v := range z {
			scores[j] += o.weight * sigmoid(v)
		}
	}
	if f.click == nil {
		return
	}
	f.click.logits(z, xs, nf)
	for j, v := range z {
		scores[j] *= sigmoid(v)
	}
}

// logits sets z to the calibrated log-odds of each of xs's rows.
func (l *Objective) logits(z, xs []float64, nf int) {
	for j := range z {
		z[j] = l.linear(xs[j*nf : (j+1)*nf])
	}
	if l.forest != nil {
		l.forest.addTo(z, xs, nf)
	}
	for j, v := range z {
		z[j] = l.calibrate(v)
	}
}
