package recall

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// itemCFChannel recalls the item-CF neighbours of the user's newest
// interactions, or of the seed items of a similar-items request.
type itemCFChannel struct{}

func (itemCFChannel) Recall(_ context.Context, in *Input, n int) []Scored {
	return in.topAdmitted(in.Index.CFScores(in.seeds()), n)
}

// seeds are what item-CF and the embedding start from: a similar-items
// request's seed items (each as a click), else the user's newest
// interactions.
func (in *Input) seeds() []domain.Interaction {
	if len(in.Req.Seeds) == 0 {
		return in.Req.Recent
	}
	out := make([]domain.Interaction, len(in.Req.Seeds))
	for i, id := range in.Req.Seeds {
		out[i] = domain.Interaction{ItemID: id, Type: "click", Value: 1}
	}
	return out
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
