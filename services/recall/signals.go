package recall

import (
	"cmp"
	"math"
	"slices"

	"github.com/recmesh/recmesh/pkg/domain"
)

// signalNames are the signals recall sets on every candidate, in the
// order of their values; every batch shares this slice.
var signalNames = []string{domain.SignalCF, domain.SignalCFMax, domain.SignalCFLinks, domain.SignalEmbedding, domain.SignalGenreRecency,
	domain.SignalCFRank, domain.SignalEmbeddingRank}

// genreRecencyDecay discounts a genre per interaction since the user last
// touched it (domain.SignalGenreRecency).
const genreRecencyDecay = 0.9

// signal sets the signals (signalNames) of every candidate of one request,
// whichever channel produced it, so that ranking compares candidates of
// different channels on the same scales. The values share one array.
func signal(in *Input, cands []domain.Candidate) {
	seeds := in.seeds()
	seeds = seeds[:min(len(seeds), CFRecentItems)]
	// The item-CF channel computes the same scores; they are not shared,
	// since that channel may still be running past its deadline (see
	// Recall), and waiting for it here would make the hop wait too.
	cf := in.Index.CFScores(seeds)
	type link struct {
		max   float64
		count int
	}
	links := map[int64]link{}
	for _, s := range seeds {
		for _, nb := range in.Index.Neighbours[s.ItemID] {
			l := links[nb.ID]
			links[nb.ID] = link{math.Max(l.max, nb.Sim), l.count + 1}
		}
	}
	x := in.Index.emb
	var user []float32
	if x != nil {
		_, user = in.embeddingQuery(x)
	}
	lastGenre := map[string]float64{}
	w := 1.0
	for _, r := range in.Req.Recent {
		if it, ok := in.Index.Items[r.ItemID]; ok {
			for _, g := range it.Categories {
				if _, seen := lastGenre[g]; !seen {
					lastGenre[g] = w
				}
			}
		}
		w *= genreRecencyDecay
	}
	k := len(signalNames)
	values := make([]float32, len(cands)*k)
	for i := range cands {
		c := &cands[i]
		l := links[c.ID]
		emb := float32(0)
		if user != nil {
			if j, ok := x.items[c.ID]; ok {
				emb = dot(user, x.item(j))
			}
		}
		gr := 0.0
		for _, g := range c.Categories {
			gr = math.Max(gr, lastGenre[g])
		}
		v := values[i*k : (i+1)*k : (i+1)*k]
		v[0], v[1], v[2], v[3], v[4] = float32(cf[c.ID]), float32(l.max), float32(l.count), emb, float32(gr)
		c.Signals = domain.Signals{Names: signalNames, Values: v}
	}
	rankSignal(values, k, 0, 5, len(cf) > 0)
	rankSignal(values, k, 3, 6, user != nil)
}

// rankSignal sets signal column to of every candidate (values holds k a
// candidate) to its place by column from, highest first, as 1/log2(2+place);
// ties share the first place of their run. Without the source (known
// false), or where the source is 0 for item-CF's score (no link), it is 0.
func rankSignal(values []float32, k, from, to int, known bool) {
	n := len(values) / k
	if !known || n == 0 {
		return
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(values[int(b)*k+from], values[int(a)*k+from]) })
	place := 0
	for r, i := range order {
		x := values[int(i)*k+from]
		if r > 0 && x != values[int(order[r-1])*k+from] {
			place = r
		}
		if from == 0 && x == 0 {
			continue // no item-CF link: no place
		}
		values[int(i)*k+to] = float32(1 / math.Log2(float64(2+place)))
	}
}
