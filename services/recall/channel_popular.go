package recall

import (
	"context"
)

// popular recalls the most popular items (time-decayed), scored in [0, 1].
// It knows nothing of the user, which makes it the cold-start channel and
// the gateway's fallback list.
type popular struct{}

func (popular) Recall(_ context.Context, in *Input, n int) []Scored {
	idx := in.Index
	out := make([]Scored, 0, min(n, len(idx.Popular)))
	for _, id := range idx.Popular {
		if len(out) == n {
			break
		}
		if in.Admits(id) {
			out = append(out, Scored{id, idx.Items[id].Popularity / idx.MaxPopularity})
		}
	}
	return out
}
