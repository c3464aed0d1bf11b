package recall

import (
	"context"

	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// popular recalls the most popular items (time-decayed), scored in [0, 1].
// It knows nothing of the user, which makes it the cold-start channel and
// the gateway's fallback list.
type popular struct{}

func (popular) Recall(_ context.Context, idx *Index, _ recallapi.Request, n int) []Scored {
	n = min(n, len(idx.Popular))
	out := make([]Scored, n)
	for i, id := range idx.Popular[:n] {
		out[i] = Scored{id, idx.Items[id].Popularity / idx.MaxPopularity}
	}
	return out
}
