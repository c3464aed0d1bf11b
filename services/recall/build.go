package recall

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/recmesh/recmesh/pkg/domain"
)

// BuildOptions tune the offline index build.
type BuildOptions struct {
	// HalfLifeDays is the popularity half-life, counted back from the newest event.
	HalfLifeDays float64
	// Neighbours is K, the item-CF neighbours kept per item.
	Neighbours int
	// MinCoCount drops neighbour pairs seen together by fewer users (noise).
	MinCoCount int
	// CFUserItems counts only each user's newest events (this many) in
	// item-CF's co-occurrences: the work is the sum over users of their
	// items squared, which the heaviest users dominate (on 1M synthetic
	// users, the 0.9% past 500 were 90% of it); 0 counts them all.
	CFUserItems int
	// PopularityPenalty α in sim = co / (n_i^(1-α) · n_j^α): 0.5 is cosine; a
	// larger α penalises popular neighbours harder.
	PopularityPenalty float64
	// MF tunes the embeddings; Dim 0 skips them.
	MF MFOptions
}

// DefaultBuildOptions are the defaults of `recmesh train`.
func DefaultBuildOptions() BuildOptions {
	return BuildOptions{HalfLifeDays: 365, Neighbours: 50, MinCoCount: 2, CFUserItems: 500, PopularityPenalty: 0.5, MF: DefaultMFOptions()}
}

// BuildIndexFile computes popularity, item-CF neighbours and embeddings
// (with their graph) from events. progress, if set, is called with each
// stage ("item-CF", "embeddings", "graph") and the share of it done.
func BuildIndexFile(items []domain.Item, events []domain.Event, o BuildOptions, progress func(stage string, done float64)) *IndexFile {
	var newest int64
	for _, e := range events {
		newest = max(newest, e.TS)
	}
	pop := map[int64]float64{}
	halfLife := o.HalfLifeDays * 86400
	for _, e := range events {
		w := domain.Interaction{ItemID: e.ItemID, Type: e.Type, Value: e.Value}.Weight()
		pop[e.ItemID] += w * math.Exp2(-float64(newest-e.TS)/halfLife)
	}
	f := &IndexFile{Items: make([]ItemInfo, len(items)), Neighbours: map[int64][]Neighbour{}}
	for i, it := range items {
		// The index does not depend on where the catalogue was read
		// (a file or PostgreSQL): times in UTC, and no catalogue revision
		// (which JSON never stored either).
		it.CreatedAt, it.ExpiresAt, it.RetiredAt = it.CreatedAt.UTC(), it.ExpiresAt.UTC(), it.RetiredAt.UTC()
		it.Rev = 0
		f.Items[i] = ItemInfo{Item: it, Popularity: pop[it.ID]}
	}
	f.Neighbours = itemCF(items, events, o, stage(progress, "item-CF"))
	if o.MF.Dim > 0 {
		f.Embeddings = withGraph(TrainMF(items, events, o.MF, stage(progress, "embeddings")), stage(progress, "graph"))
	}
	return f
}

// stage reports one stage's progress through progress, if set.
func stage(progress func(string, float64), name string) func(float64) {
	if progress == nil {
		return nil
	}
	return func(done float64) { progress(name, done) }
}

// itemCF computes, for every item, its top-K neighbours by co-occurrence in
// users' histories, with a popularity penalty.
func itemCF(items []domain.Item, events []domain.Event, o BuildOptions, progress func(float64)) map[int64][]Neighbour {
	dense := make(map[int64]int32, len(items))
	ids := make([]int64, len(items))
	for i, it := range items {
		dense[it.ID] = int32(i)
		ids[i] = it.ID
	}
	type userEvent struct {
		ts int64
		d  int32
	}
	byUser := map[string][]userEvent{}
	for _, e := range events {
		d, ok := dense[e.ItemID]
		if !ok {
			continue
		}
		byUser[e.UserID] = append(byUser[e.UserID], userEvent{e.TS, d})
	}
	itemUsers := make([][]int32, len(items))
	users := make([][]int32, 0, len(byUser))
	names := make([]string, 0, len(byUser))
	for u := range byUser {
		names = append(names, u)
	}
	sort.Strings(names) // deterministic order
	for _, u := range names {
		evs := byUser[u]
		if o.CFUserItems > 0 && len(evs) > o.CFUserItems { // the newest count
			slices.SortStableFunc(evs, func(a, b userEvent) int { return cmp.Compare(b.ts, a.ts) })
			evs = evs[:o.CFUserItems]
		}
		list := make([]int32, len(evs))
		for k, e := range evs {
			list[k] = e.d
		}
		delete(byUser, u)
		slices.Sort(list)
		list = slices.Compact(list)
		ui := int32(len(users))
		users = append(users, list)
		for _, d := range list {
			itemUsers[d] = append(itemUsers[d], ui)
		}
	}
	popular := make([]float64, len(items))
	for j, us := range itemUsers {
		popular[j] = math.Pow(float64(len(us)), o.PopularityPenalty)
	}
	// Items are independent: each worker counts co-occurrences for a
	// share of them into its own scratch arrays.
	res := make([][]Neighbour, len(items))
	var report sync.Mutex
	onEveryCore(len(items), func() func(int) {
		counts := make([]int32, len(items))
		touched := make([]int32, 0, 1024)
		var nbs []Neighbour // reused for every item; only the top K are kept
		return func(i int) {
			if progress != nil && (i+1)%1000 == 0 {
				report.Lock()
				progress(float64(i+1) / float64(len(items)))
				report.Unlock()
			}
			if len(itemUsers[i]) == 0 {
				return
			}
			for _, u := range itemUsers[i] {
				for _, j := range users[u] {
					if counts[j] == 0 {
						touched = append(touched, j)
					}
					counts[j]++
				}
			}
			nbs = neighbours(nbs[:0], i, touched, counts, itemUsers, popular, ids, o)
			touched = touched[:0]
			if len(nbs) > 0 {
				res[i] = slices.Clone(nbs)
			}
		}
	})
	out := make(map[int64][]Neighbour, len(items))
	for i, nb := range res {
		if nb != nil {
			out[ids[i]] = nb
		}
	}
	if progress != nil {
		progress(1)
	}
	return out
}

// neighbours appends item i's best K neighbours among the touched items
// (their co-occurrence counts with i in counts, which it resets), best
// first, ties by id. popular[j] is n_j^α, the popularity penalty's
// denominator, computed once per item. Only K are kept while counting (a
// bounded heap whose root is the worst kept), so an item touching most of
// a large catalogue costs one pass, not a sort of the catalogue.
func neighbours(nbs []Neighbour, i int, touched, counts []int32, itemUsers [][]int32, popular []float64, ids []int64, o BuildOptions) []Neighbour {
	norm := math.Pow(float64(len(itemUsers[i])), 1-o.PopularityPenalty)
	k := o.Neighbours
	for _, j := range touched {
		if int(j) != i && int(counts[j]) >= o.MinCoCount && k > 0 {
			c := Neighbour{ID: ids[j], Sim: float64(counts[j]) / (norm * popular[j])}
			switch {
			case len(nbs) < k:
				nbs = append(nbs, c)
				siftUp(nbs, len(nbs)-1)
			case better(c, nbs[0]):
				nbs[0] = c
				siftDown(nbs, 0)
			}
		}
		counts[j] = 0
	}
	slices.SortFunc(nbs, func(a, b Neighbour) int { return cmp.Or(cmp.Compare(b.Sim, a.Sim), cmp.Compare(a.ID, b.ID)) })
	return nbs
}

// better orders neighbours: the more similar first, ties by the smaller id.
func better(a, b Neighbour) bool { return a.Sim > b.Sim || (a.Sim == b.Sim && a.ID < b.ID) }

// siftUp and siftDown keep h a heap with the worst neighbour at the root.
func siftUp(h []Neighbour, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !better(h[p], h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []Neighbour, i int) {
	for {
		w, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && better(h[w], h[l]) {
			w = l
		}
		if r < len(h) && better(h[w], h[r]) {
			w = r
		}
		if w == i {
			return
		}
		h[w], h[i] = h[i], h[w]
		i = w
	}
}
