package recall

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/recmesh/recmesh/pkg/ann"
	"github.com/recmesh/recmesh/pkg/domain"
)

// Embeddings are matrix-factorisation vectors learnt from implicit feedback.
// Vectors are flattened: item i's vector is Items[i*Dim:(i+1)*Dim].
type Embeddings struct {
	Dim     int       `json:"dim"`
	ItemIDs []int64   `json:"item_ids"`
	Items   []float32 `json:"items"`
	UserIDs []string  `json:"user_ids"`
	Users   []float32 `json:"users"`
	// Graph is the HNSW graph over the MIPS-augmented item vectors, built
	// offline so that services only restore it.
	Graph *ann.Snapshot `json:"graph,omitempty"`
}

// validate checks the flattened arrays match the ids and the dimension, so
// a malformed artifact is refused instead of crashing the index build.
func (e *Embeddings) validate() error {
	if e.Dim <= 0 || e.Dim > MaxDim || len(e.Items) != len(e.ItemIDs)*e.Dim || len(e.Users) != len(e.UserIDs)*e.Dim {
		return fmt.Errorf("embeddings of dimension %d: %d item values for %d items, %d user values for %d users",
			e.Dim, len(e.Items), len(e.ItemIDs), len(e.Users), len(e.UserIDs))
	}
	return nil
}

// MaxDim bounds the embeddings' dimension a model file may declare: a
// vector is made of this size for every request, so a corrupt file must not
// make it gigabytes.
const MaxDim = 4096

// MFOptions tune the embeddings' training.
type MFOptions struct {
	// Method is MethodALS or MethodBPR; empty is BPR (models trained
	// before ALS recorded none).
	Method string `json:"method,omitempty"`
	Dim    int    `json:"dim"`
	// Epochs are passes over the events (BPR) or full iterations (ALS).
	Epochs int `json:"epochs"`
	// LearningRate is BPR's SGD step.
	LearningRate float64 `json:"learning_rate"`
	// Reg is the L2 penalty: per update (BPR), or scaled by each row's
	// count and the unobserved weight (ALS, see TrainALS).
	Reg  float64 `json:"reg"`
	Seed uint64  `json:"seed"`
	// Unobserved is ALS's weight on every user-item pair not observed.
	Unobserved float64 `json:"unobserved,omitempty"`
}

// The embedding learners of MFOptions.Method.
const (
	MethodBPR = "bpr"
	MethodALS = "als"
)

// DefaultMFOptions are the defaults of `recmesh train`: ALS, chosen over
// BPR on the validation slices of ml-latest-small and of 10k and 100k
// synthetic items (README "How the ranker was chosen").
func DefaultMFOptions() MFOptions {
	return MFOptions{Method: MethodALS, Dim: 32, Epochs: 10, Reg: 0.003, Unobserved: 1, Seed: 1}
}

// DefaultBPROptions are BPR's tuned options (-mf bpr).
func DefaultBPROptions() MFOptions {
	return MFOptions{Method: MethodBPR, Dim: 32, Epochs: 40, LearningRate: 0.05, Reg: 0.0001, Seed: 1}
}

// TrainMF learns the embeddings with o.Method.
func TrainMF(items []domain.Item, events []domain.Event, o MFOptions, progress func(float64)) *Embeddings {
	if o.Method == MethodALS {
		return TrainALS(items, events, o, progress)
	}
	return TrainBPR(items, events, o, progress)
}

// TrainBPR learns user and item vectors with Bayesian Personalised Ranking
// (Rendle et al. 2009): for a user u, an item i they interacted with and a
// sampled item j they did not, it raises σ(u·i − u·j) by SGD. Every event is
// a positive. It runs on every core, and the same seed gives the same
// vectors on any machine (see newBPRCells).
func TrainBPR(items []domain.Item, events []domain.Event, o MFOptions, progress func(float64)) *Embeddings {
	e, pairs := newEmbeddings(items, events, o, 0.1)
	pos := newPositives(len(e.UserIDs), pairs)
	cells := newBPRCells(pairs, len(items))
	for epoch := range o.Epochs {
		if progress != nil && epoch > 0 {
			progress(float64(epoch) / float64(o.Epochs))
		}
		for shift := range cells.blocks {
			onEveryCore(cells.blocks, func() func(int) {
				return func(b int) { cells.train(e, pos, b, (b+shift)%cells.blocks, epoch, o) }
			})
		}
	}
	if progress != nil {
		progress(1)
	}
	return e
}

// newEmbeddings numbers the items (in their order) and the users (in the
// order of their first event), turns the events into pairs of those
// numbers, and draws every vector's values from N(0, sd²) by o.Seed.
func newEmbeddings(items []domain.Item, events []domain.Event, o MFOptions, sd float64) (*Embeddings, []userItem) {
	dense := make(map[int64]int32, len(items))
	e := &Embeddings{Dim: o.Dim, ItemIDs: make([]int64, len(items))}
	for i, it := range items {
		dense[it.ID] = int32(i)
		e.ItemIDs[i] = it.ID
	}
	userIdx := map[string]int32{}
	var pairs []userItem
	for _, ev := range events {
		i, ok := dense[ev.ItemID]
		if !ok {
			continue
		}
		u, ok := userIdx[ev.UserID]
		if !ok {
			u = int32(len(e.UserIDs))
			userIdx[ev.UserID] = u
			e.UserIDs = append(e.UserIDs, ev.UserID)
		}
		pairs = append(pairs, userItem{u, i})
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xbf58476d1ce4e5b9))
	init := func(n int) []float32 {
		v := make([]float32, n*o.Dim)
		for k := range v {
			v[k] = float32(rng.NormFloat64() * sd)
		}
		return v
	}
	e.Users, e.Items = init(len(e.UserIDs)), init(len(items))
	return e, pairs
}

// BPR splits users and items into blocks by index (i mod blocks), so it
// runs on every core and still gives the same vectors whatever their
// number: a sub-epoch trains the cells (b, b+shift) for every user block b
// at once, which share no user and no item, and each cell's pairs are
// shuffled and its negatives drawn (from the cell's item block) by a
// generator of its own. This is distributed SGD's stratification (Gemulla
// et al. 2011); the block count follows the catalogue, not the cores, which
// keeps it deterministic. A positive is contrasted with negatives of its own
// block only, so a block keeps at least bprBlockItems items: one block
// (plain sequential BPR) below twice that, at most maxBPRBlocks.
const (
	maxBPRBlocks  = 8
	bprBlockItems = 4096
)

// maxNegativeDraws bounds the draws for a negative item: a user who has
// nearly every item of a block skips the pair instead of spinning.
const maxNegativeDraws = 64

// bprCells are the (user, item) pairs grouped by cell, user block major:
// cell c's are pairs[start[c]:start[c+1]].
type bprCells struct {
	blocks int
	pairs  []userItem
	start  []int
	items  int
}

func newBPRCells(pairs []userItem, items int) *bprCells {
	b := max(1, min(maxBPRBlocks, items/bprBlockItems))
	c := &bprCells{blocks: b, pairs: make([]userItem, len(pairs)), start: make([]int, b*b+1), items: items}
	cell := func(p userItem) int { return int(p.u)%b*b + int(p.i)%b }
	for _, p := range pairs {
		c.start[cell(p)+1]++
	}
	for k := range b * b {
		c.start[k+1] += c.start[k]
	}
	fill := slices.Clone(c.start)
	for _, p := range pairs {
		k := cell(p)
		c.pairs[fill[k]] = p
		fill[k]++
	}
	return c
}

// train runs one epoch's pass over the cell of user block ub and item block ib.
func (c *bprCells) train(e *Embeddings, pos positives, ub, ib, epoch int, o MFOptions) {
	b := c.blocks
	k := ub*b + ib
	pairs := c.pairs[c.start[k]:c.start[k+1]]
	blockItems := (c.items - ib + b - 1) / b // items i with i mod b = ib
	if len(pairs) == 0 || blockItems == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(o.Seed^uint64(epoch)<<8^uint64(k), o.Seed^0xbf58476d1ce4e5b9))
	rng.Shuffle(len(pairs), func(a, b int) { pairs[a], pairs[b] = pairs[b], pairs[a] })
	d := e.Dim
	lr, reg := float32(o.LearningRate), float32(o.Reg)
	for _, p := range pairs {
		j, ok := int32(0), false
		for range maxNegativeDraws {
			if j = int32(ib + b*rng.IntN(blockItems)); !pos.has(p.u, j) {
				ok = true
				break
			}
		}
		if !ok {
			continue
		}
		uv := e.Users[int(p.u)*d : int(p.u+1)*d]
		iv := e.Items[int(p.i)*d : int(p.i+1)*d]
		jv := e.Items[int(j)*d : int(j+1)*d]
		var x float32
		for k := range d {
			x += uv[k] * (iv[k] - jv[k])
		}
		g := float32(1 / (1 + math.Exp(float64(x)))) // σ(−x)
		for k := range d {
			u, i, jj := uv[k], iv[k], jv[k]
			uv[k] += lr * (g*(i-jj) - reg*u)
			iv[k] += lr * (g*u - reg*i)
			jv[k] += lr * (-g*u - reg*jj)
		}
	}
}

// positives are each user's items, sorted, in one array (compressed rows):
// user u's are items[start[u]:start[u+1]]. A map per user cost 12% of
// training's CPU in lookups, and tens of bytes an event.
//
// A blocked Bloom filter in front (two bits in one 64-bit word per pair, 16
// bits a pair) answers most lookups with one memory access: a sampled item
// is rarely a positive, and a binary search is a chain of cache misses.
type positives struct {
	start  []int64
	items  []int32
	filter []uint64
}

// key spreads a (user, item) pair over 64 bits (splitmix64's finaliser).
func key(u, i int32) uint64 {
	x := uint64(uint32(u))<<32 | uint64(uint32(i))
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// slot is a pair's filter word and its two bits.
func (p positives) slot(u, i int32) (int, uint64) {
	h := key(u, i)
	return int((h >> 12) % uint64(len(p.filter))), 1<<(h&63) | 1<<(h>>6&63)
}

// userItem is an event as dense user and item indices.
type userItem struct{ u, i int32 }

// newPositives gathers each user's items from pairs, with the filter.
func newPositives(users int, pairs []userItem) positives {
	p := newRows(users, pairs)
	p.filter = make([]uint64, max(1, len(p.items)/4))
	for u := range users {
		for _, i := range p.items[p.start[u]:p.start[u+1]] {
			w, bits := p.slot(int32(u), i)
			p.filter[w] |= bits
		}
	}
	return p
}

// newRows gathers each row's columns from pairs (row u, column i), sorted
// and without repeats; has needs newPositives' filter.
func newRows(users int, pairs []userItem) positives {
	p := positives{start: make([]int64, users+1), items: make([]int32, len(pairs))}
	for _, x := range pairs {
		p.start[x.u+1]++
	}
	for u := range users {
		p.start[u+1] += p.start[u]
	}
	fill := slices.Clone(p.start[:users])
	for _, x := range pairs {
		p.items[fill[x.u]] = x.i
		fill[x.u]++
	}
	out := p.start[0]
	for u := range users { // sort and dedupe each row, compacting in place
		row := p.items[p.start[u]:p.start[u+1]]
		slices.Sort(row)
		row = slices.Compact(row)
		p.start[u] = out
		out += int64(copy(p.items[out:], row))
	}
	p.start[users] = out
	p.items = p.items[:out:out]
	return p
}

// has reports whether item i is one of user u's: the filter, then a binary
// search of the user's row.
func (p positives) has(u, i int32) bool {
	if w, bits := p.slot(u, i); p.filter[w]&bits != bits {
		return false
	}
	row := p.items[p.start[u]:p.start[u+1]]
	if len(row) == 0 {
		return false
	}
	base := 0
	for n := len(row); n > 1; {
		half := n / 2
		if row[base+half] <= i {
			base += half
		}
		n -= half
	}
	return row[base] == i
}
