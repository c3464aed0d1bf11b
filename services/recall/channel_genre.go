package recall

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// genre splits its quota over the user's top genres by affinity and takes
// each genre's most popular items, scored affinity × normalised popularity.
type genre struct{}

// genreTop is how many of the user's favourite genres the genre channel uses.
const genreTop = 3

func (genre) Recall(_ context.Context, idx *Index, req recallapi.Request, n int) []Scored {
	type ga struct {
		g string
		a float64
	}
	var gs []ga
	for g, a := range req.Affinity {
		gs = append(gs, ga{g, a})
	}
	slices.SortFunc(gs, func(x, y ga) int { return cmp.Or(cmp.Compare(y.a, x.a), cmp.Compare(x.g, y.g)) })
	gs = gs[:min(len(gs), genreTop)]
	total := 0.0
	for _, x := range gs {
		total += x.a
	}
	scores := map[int64]float64{}
	for _, x := range gs {
		share := int(math.Ceil(float64(n) * x.a / total))
		list := idx.ByGenre[x.g]
		for _, id := range list[:min(share, len(list))] {
			scores[id] += x.a * idx.Items[id].Popularity / idx.MaxPopularity
		}
	}
	return topN(scores, n)
}
