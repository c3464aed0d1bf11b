package ranking

import (
	"cmp"
	"maps"
	"slices"

	"github.com/recmesh/recmesh/pkg/artifact"
)

// LoadModel reads and validates the ranking payload of an artifact set.
func LoadModel(set *artifact.Set) (*Model, error) {
	var m Model
	if err := set.ReadJSON(ModelFileName, &m); err != nil {
		return nil, err
	}
	m.Version = set.Manifest.Version
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// DefaultKeep is how many model versions stay loaded for variants to pin.
const DefaultKeep = 4

// Publish makes m the current model, atomically, and keeps it and up to
// keep−1 of the newest other loaded versions available for pinning. Calls
// in flight finish on the set they started with.
func (r *Ranker) Publish(m *Model, keep int) {
	others := map[string]*Model{}
	if old := r.models.Load(); old != nil {
		maps.Copy(others, old.by)
	}
	delete(others, m.Version)
	rest := slices.SortedFunc(maps.Values(others), func(a, b *Model) int { return cmp.Compare(b.Version, a.Version) })
	r.SetModels(m, rest[:min(len(rest), max(keep-1, 0))]...)
}

// Versions lists the loaded versions, newest first, and the current one.
func (r *Ranker) Versions() (loaded []string, current string) {
	ms := r.models.Load()
	if ms == nil {
		return nil, ""
	}
	return slices.SortedFunc(maps.Keys(ms.by), func(a, b string) int { return cmp.Compare(b, a) }), ms.current
}
