package recall

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// genre splits its quota over the user's top genres by affinity and takes
// each genre's most popular items, scored affinity × normalised popularity.
type genre struct{}

// genreTop is how many of the user's favourite genres the genre channel uses.
const genreTop = 3

func (genre) Recall(_ context.Context, in *Input, n int) []Scored {
	idx, req := in.Index, in.Req
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
		taken := 0
		for _, id := range idx.ByGenre[x.g] {
			if taken == share {
				break
			}
			if in.Admits(id) {
				scores[id] += x.a * idx.Items[id].Popularity / idx.MaxPopularity
				taken++
			}
		}
	}
	return topN(scores, n)
}
