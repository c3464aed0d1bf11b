package recall

import (
	"fmt"

	"github.com/recmesh/recmesh/pkg/artifact"
)

// LoadIndex reads the recall payload of an artifact set.
func LoadIndex(set *artifact.Set) (*Index, error) {
	var f IndexFile
	if err := set.ReadJSON(IndexFileName, &f); err != nil {
		return nil, err
	}
	for i := range f.Items {
		if it := &f.Items[i]; len(it.Categories) == 0 && len(it.LegacyGenres) > 0 {
			it.Categories, it.LegacyGenres = it.LegacyGenres, nil
		}
	}
	if len(f.Items) == 0 {
		return nil, fmt.Errorf("recall: version %s has no items", set.Manifest.Version)
	}
	if e := f.Embeddings; e != nil {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("recall: version %s: %w", set.Manifest.Version, err)
		}
	}
	return NewIndex(set.Manifest.Version, &f), nil
}
