package ranking

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

// ErrNoModel means no model is loaded yet; it is an infrastructure failure.
var ErrNoModel = errors.New("ranking: no model loaded")

// models is an immutable set of loaded versions with the current one.
type models struct {
	current string
	by      map[string]*Model
}

// Ranker is the ranking service. Its models can be swapped while it serves.
type Ranker struct {
	models atomic.Pointer[models]
}

// New returns a ranker serving current, with older versions available for pinning.
func New(current *Model, others ...*Model) *Ranker {
	r := &Ranker{}
	if current != nil {
		r.SetModels(current, others...)
	}
	return r
}

// SetModels atomically replaces the loaded models; calls in flight finish
// on the set they started with.
func (r *Ranker) SetModels(current *Model, others ...*Model) {
	ms := &models{current: current.Version, by: map[string]*Model{current.Version: current}}
	for _, m := range others {
		ms.by[m.Version] = m
	}
	r.models.Store(ms)
}

// Ready reports whether a model is loaded.
func (r *Ranker) Ready(context.Context) error {
	if r.models.Load() == nil {
		return ErrNoModel
	}
	return nil
}

// Rank scores every candidate and sorts them, best first; ties keep the
// incoming (recall) order.
func (r *Ranker) Rank(_ context.Context, req rankingapi.Request) (rankingapi.Response, error) {
	ms := r.models.Load()
	if ms == nil {
		return rankingapi.Response{}, ErrNoModel
	}
	if len(req.Candidates) > rankingapi.MaxCandidates {
		return rankingapi.Response{}, apierr.TooLarge("at most %d candidates, got %d", rankingapi.MaxCandidates, len(req.Candidates))
	}
	version := cmp.Or(req.ModelVersion, ms.current)
	m, ok := ms.by[version]
	if !ok {
		return rankingapi.Response{}, apierr.Invalid("model version %q is not loaded", version)
	}
	if len(m.cols) != len(m.Features) {
		return rankingapi.Response{}, fmt.Errorf("ranking model %s was loaded without Validate", m.Version)
	}
	weights := req.Weights
	if len(weights) == 0 {
		weights = m.DefaultWeights
	}
	for name, w := range weights {
		if _, ok := m.Objectives[name]; !ok {
			return rankingapi.Response{}, apierr.Invalid("unknown objective %q; the model has %v", name, slices.Sorted(maps.Keys(m.Objectives)))
		}
		if w < 0 {
			return rankingapi.Response{}, apierr.Invalid("weight of %s must not be negative", name)
		}
	}
	// Sort indices rather than the candidates themselves (which are large);
	// the index tie-break keeps equal scores in recall order.
	fusion := m.Fuse(weights)
	scores := make([]float64, len(req.Candidates))
	order := make([]int32, len(req.Candidates))
	nf := len(m.Features)
	full, xs := make([]float64, NumFeatures), make([]float64, nf*len(req.Candidates))
	for i := range req.Candidates {
		FeatureVector(full, req.Affinity, &req.Candidates[i], m.RefYear)
		m.Input(xs[i*nf:(i+1)*nf], full)
		order[i] = int32(i)
	}
	fusion.Scores(scores, xs, nf)
	slices.SortFunc(order, func(a, b int32) int { return cmp.Or(cmp.Compare(scores[b], scores[a]), cmp.Compare(a, b)) })
	out := make([]domain.Candidate, len(order))
	for k, i := range order {
		out[k] = req.Candidates[i]
		out[k].Score = scores[i]
		out[k].Signals = domain.Signals{} // read by ranking only: not sent back, nor cached
	}
	return rankingapi.Response{Ranked: out, ModelVersion: m.Version}, nil
}
