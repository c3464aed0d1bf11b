package recall

import (
	"cmp"
	"math"
	"slices"

	"github.com/recmesh/recmesh/pkg/domain"
)

// The channel names, as used in quotas and in candidate sources.
const (
	ChannelPopular   = domain.ChannelPopular
	ChannelItemCF    = domain.ChannelItemCF
	ChannelGenre     = domain.ChannelGenre
	ChannelEmbedding = domain.ChannelEmbedding
)

// Channels lists every channel in merge priority order.
var Channels = []string{ChannelItemCF, ChannelEmbedding, ChannelGenre, ChannelPopular}

// Query is what the channels know about the user.
type Query struct {
	// Recent holds the newest interactions first.
	Recent   []domain.Interaction
	Affinity map[string]float64
}

// Scored is an item with a channel's score for it.
type Scored struct {
	ID    int64
	Score float64
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

// recallItemCF returns the n best item-CF candidates.
func (idx *Index) recallItemCF(q Query, n int) []Scored {
	return topN(idx.CFScores(q.Recent), n)
}

// recallPopular returns the n most popular items, scored in [0, 1].
func (idx *Index) recallPopular(n int) []Scored {
	n = min(n, len(idx.Popular))
	out := make([]Scored, n)
	for i, id := range idx.Popular[:n] {
		out[i] = Scored{id, idx.Items[id].Popularity / idx.MaxPopularity}
	}
	return out
}

// genreTop is how many of the user's favourite genres the genre channel uses.
const genreTop = 3

// recallGenre splits n over the user's top genres by affinity and takes
// each genre's most popular items, scored affinity × normalised popularity.
func (idx *Index) recallGenre(q Query, n int) []Scored {
	type ga struct {
		g string
		a float64
	}
	var gs []ga
	for g, a := range q.Affinity {
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

// topN returns the n highest scores, ties broken by id for determinism.
func topN(scores map[int64]float64, n int) []Scored {
	out := make([]Scored, 0, len(scores))
	for id, s := range scores {
		out = append(out, Scored{id, s})
	}
	slices.SortFunc(out, func(a, b Scored) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID)) })
	return out[:min(n, len(out))]
}
