package gateway

import (
	"context"
	"maps"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// SimilarQuery is one GET /v1/items/{id}/similar.
type SimilarQuery struct {
	ItemID int64
	N      int
	// UserID, when set, personalises the list: the user's variants, seen
	// items and affinity apply, and the reply is logged as an exposure.
	UserID string
	Scene  string
}

// similarQuotas are the channels of a similar-items request: the item's
// item-CF neighbours and embedding neighbours, and its categories' popular
// items for an item too new to have neighbours (neighboursFirst keeps those
// behind the neighbours). A variant's quotas for these channels override
// them.
var similarQuotas = map[string]int{domain.ChannelItemCF: 200, domain.ChannelEmbedding: 100, domain.ChannelGenre: 50}

// Similar answers items similar to q.ItemID, through the same hops,
// breakers, budgets, fallbacks and experiments as Recommend.
func (g *Gateway) Similar(ctx context.Context, q SimilarQuery) (Reply, error) {
	if q.ItemID <= 0 {
		return Reply{}, apierr.Invalid("item id must be a positive integer")
	}
	if q.UserID != "" {
		if err := validateQuery(q.UserID, q.N, nil, nil, q.Scene); err != nil {
			return Reply{}, err
		}
	} else if err := validN(q.N); err != nil {
		return Reply{}, err
	}
	seed, err := g.seedItem(ctx, q.ItemID)
	if err != nil {
		return Reply{}, err
	}
	assigner := g.assigner.Load()
	res := abtest.Result{Params: assigner.Config().Defaults}
	if q.UserID != "" {
		res = assigner.AssignIn(q.UserID, q.Scene)
	}
	p := &plan{userID: q.UserID, n: q.N, scene: q.Scene, res: res, reserved: assigner.Reserved(), exclude: []int64{q.ItemID},
		seed: &seed}
	reply, err := g.serve(ctx, p)
	reply.ItemID = q.ItemID
	return reply, err
}

// seedItem is the item a similar-items request starts from: from the
// gateway's catalogue view, else from features (not_found when unknown).
func (g *Gateway) seedItem(ctx context.Context, id int64) (domain.Item, error) {
	if g.view != nil {
		if it, ok := g.view.Get(id); ok {
			return it, nil
		}
	}
	return g.GetItem(ctx, id)
}

// similarRecall asks recall for seed's neighbours; the seed's categories
// stand in for the user's affinity in the genre channel.
func similarRecall(seed *domain.Item, p abtest.Params, k int, exclude []int64) recallapi.Request {
	quotas := maps.Clone(similarQuotas)
	for ch := range quotas {
		if n, ok := p.RecallQuotas[ch]; ok {
			quotas[ch] = n
		}
	}
	aff := map[string]float64{}
	for _, c := range seed.Categories {
		aff[c] += 1 / float64(len(seed.Categories))
	}
	return recallapi.Request{Seeds: []int64{seed.ID}, Query: recallapi.Query{Affinity: aff}, Quotas: quotas, OnlyQuotas: true,
		K: k, Exclude: exclude}
}

// popularFallback is the cached popular list recall's fallback serves;
// for a similar-items request, its items that share a category with the
// seed come first.
func (g *Gateway) popularFallback(seed *domain.Item) []domain.Candidate {
	pop := g.popular.Load()
	if pop == nil {
		return nil
	}
	if seed == nil || len(seed.Categories) == 0 {
		return *pop
	}
	same := make([]domain.Candidate, 0, len(*pop))
	var other []domain.Candidate
	for _, c := range *pop {
		if c.HasCategory(seed.Categories) {
			same = append(same, c)
		} else {
			other = append(other, c)
		}
	}
	return append(same, other...)
}

// neighboursFirst orders a similar-items list: the seed's neighbours (what
// item-CF or the embedding found) in the order they came, then the rest,
// which only the genre channel proposed, in theirs. The ranker predicts
// what a user clicks next, and with one seed for a history it puts an
// item's genre's new and popular films before its neighbours; the genre
// channel is there to fill the list of an item with too few neighbours,
// not to lead it.
func neighboursFirst(cands []domain.Candidate) []domain.Candidate {
	out := make([]domain.Candidate, 0, len(cands))
	var fill []domain.Candidate
	for _, c := range cands {
		if c.HasSource(domain.ChannelItemCF) || c.HasSource(domain.ChannelEmbedding) {
			out = append(out, c)
		} else {
			fill = append(fill, c)
		}
	}
	return append(out, fill...)
}
