package recall

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// itemCFChannel recalls the item-CF neighbours of the user's newest interactions.
type itemCFChannel struct{}

func (itemCFChannel) Recall(_ context.Context, idx *Index, req recallapi.Request, n int) []Scored {
	return topN(idx.CFScores(req.Recent), n)
}

// CFRecentItems is how many of the newest interactions seed item-CF.
const CFRecentItems = 20

// cfPositionDecay discounts older seeds: the i-th newest weighs decay^i.
const cfPositionDecay = 0.95

// CFScores sums, over the user's newest interactions, each neighbour's
// similarity weighted by the interaction's weight and age rank. The seed
// items themselves are left out. Offline training uses it too, so the
// feature is computed one way only.
func (idx *Index) CFScores(recent []domain.Interaction) map[int64]float64 {
	seeds := recent[:min(len(recent), CFRecentItems)]
	scores := map[int64]float64{}
	w := 1.0
	for _, in := range seeds {
		for _, nb := range idx.Neighbours[in.ItemID] {
			scores[nb.ID] += w * in.Weight() * nb.Sim
		}
		w *= cfPositionDecay
	}
	for _, in := range seeds {
		delete(scores, in.ItemID)
	}
	return scores
}
