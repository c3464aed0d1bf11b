package recall

import (
	"context"

	"github.com/recmesh/recmesh/pkg/domain"
)

// category recalls for a request that names categories (category=): per
// category, its newest servable items from the live catalogue (new ones
// included, scored as fresh) and its most popular trained ones (scored by
// normalised popularity), half the category's share each. Without
// requested categories it recalls nothing; the other channels then keep
// to the requested categories through Input.Admits.
type category struct{}

func (category) Recall(_ context.Context, in *Input, n int) []Scored {
	cats := in.Req.Categories
	if len(cats) == 0 {
		return nil
	}
	share := (n + len(cats) - 1) / len(cats)
	scores := map[int64]float64{}
	for _, c := range cats {
		newest := 0
		in.Live.Newest(c, func(it *domain.Item) bool {
			if in.admitsItem(it) {
				scores[it.ID] = max(scores[it.ID], freshScore(in, it))
				newest++
			}
			return newest < share/2
		})
		popular := 0
		for _, id := range in.Index.ByGenre[c] {
			if popular >= share-newest {
				break
			}
			if _, ok := scores[id]; ok || !in.Admits(id) {
				continue
			}
			scores[id] = in.Index.Items[id].Popularity / in.Index.MaxPopularity
			popular++
		}
	}
	return topN(scores, n) // every id was admitted on the way in
}
