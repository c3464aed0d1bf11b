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

// The columns of signalNames that the places are taken from and set in.
const (
	colCF, colEmb         = 0, 3
	colCFRank, colEmbRank = 5, 6
)

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
		v[colCF], v[1], v[2], v[colEmb], v[4] = float32(cf[c.ID]), float32(l.max), float32(l.count), emb, float32(gr)
		c.Signals = domain.Signals{Names: signalNames, Values: v}
	}
	order := make([]int32, len(cands)) // both sorts' scratch
	rankSignal(values, k, colCF, colCFRank, len(cf) > 0, order)
	rankSignal(values, k, colEmb, colEmbRank, user != nil, order)
}

// rankSignal sets column to of every candidate (values holds k a
// candidate) to its place by column from, highest first, as
// 1/log2(2+place); ties share the first place of their run. Without the
// source (known false) nothing is set, and an item-CF score of 0 (no link)
// gets no place. order is scratch of one int32 a candidate.
func rankSignal(values []float32, k, from, to int, known bool, order []int32) {
	if !known {
		return
	}
	for i := range order {
		order[i] = int32(i)
	}
	at := func(i int32) float32 { return values[int(i)*k+from] }
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(at(b), at(a)) })
	place := 0
	for r, i := range order {
		if r > 0 && at(i) != at(order[r-1]) {
			place = r
		}
		if from == colCF && at(i) == 0 {
			continue
		}
		values[int(i)*k+to] = float32(1 / math.Log2(float64(2+place)))
	}
}
