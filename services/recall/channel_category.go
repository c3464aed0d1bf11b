package recall

import (
	"context"
	"time"
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
		newest := newestScored(in, c, max(share/2, 1), time.Time{})
		for _, s := range newest {
			scores[s.ID] = max(scores[s.ID], s.Score)
		}
		popular := 0
		for _, id := range in.Index.ByGenre[c] {
			if popular >= share-len(newest) {
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
