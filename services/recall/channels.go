package recall

import (
	"cmp"
	"slices"
)

// Scored is an item with a channel's score for it.
type Scored struct {
	ID    int64
	Score float64
}

// topN returns the n highest scores, ties broken by id for determinism.
func topN(scores map[int64]float64, n int) []Scored {
	out := make([]Scored, 0, len(scores))
	for id, s := range scores {
		out = append(out, Scored{id, s})
	}
	slices.SortFunc(out, byScore)
	return out[:min(n, len(out))]
}

// byScore orders the best score first, ties by id, so a channel's list
// does not depend on map or heap order.
func byScore(a, b Scored) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID)) }
