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

// NumFeatures is the length of a feature vector.
const NumFeatures = 7

// FeatureNames are the model's inputs, in vector order. FeatureVector is the
// only place they are computed, online and in training alike.
func FeatureNames() []string {
	return []string{"cf", "popularity", "affinity", "recency", "genre", "sources", "embedding"}
}

// FeatureVector fills dst (NumFeatures long) for candidate c of a user with
// genre affinity aff. refYear is the model's "now" for item recency.
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

// Logistic is one objective's logistic regression over standardised features.
type Logistic struct {
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
}

// Prob is P(objective | x) for a standardised x.
func (l Logistic) Prob(x []float64) float64 {
	z := l.Bias
	for i, w := range l.Weights {
		z += w * x[i]
	}
	return 1 / (1 + math.Exp(-z))
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
	Objectives map[string]Logistic `json:"objectives"`
	// DefaultWeights fuse the objectives when a request sets none.
	DefaultWeights map[string]float64 `json:"default_weights"`
	// Metrics record the fit's quality on held-out samples, per objective.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// ModelFileName is the ranking payload's name in an artifact set.
const ModelFileName = "ranking.json"

// Validate checks the model's shape.
func (m *Model) Validate() error {
	n := NumFeatures
	if len(m.Features) != n || len(m.Mean) != n || len(m.Std) != n {
		return fmt.Errorf("ranking model %s: want %d features, mean and std", m.Version, n)
	}
	for i, f := range FeatureNames() {
		if m.Features[i] != f {
			return fmt.Errorf("ranking model %s: feature %d is %q, want %q", m.Version, i, m.Features[i], f)
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

// Standardise turns raw features into the model's input space, in place.
func (m *Model) Standardise(x []float64) {
	for i := range x {
		x[i] = (x[i] - m.Mean[i]) / m.Std[i]
	}
}

// Fusion is a model's objectives with their weights, resolved once per
// request rather than looked up for every candidate.
type Fusion []weightedObjective

type weightedObjective struct {
	objective Logistic
	weight    float64
}

// Fuse resolves weights against the model's objectives. Objectives are taken
// in name order, so a score is summed the same way every time (map order
// would change its last bits); zero weights and unknown names are left out.
func (m *Model) Fuse(weights map[string]float64) Fusion {
	var f Fusion
	for _, name := range slices.Sorted(maps.Keys(weights)) {
		if o, ok := m.Objectives[name]; ok && weights[name] != 0 {
			f = append(f, weightedObjective{o, weights[name]})
		}
	}
	return f
}

// Score fuses the objectives' probabilities for a standardised x.
func (f Fusion) Score(x []float64) float64 {
	s := 0.0
	for _, o := range f {
		s += o.weight * o.objective.Prob(x)
	}
	return s
}
