package ann

import (
	"slices"
	"sync"
)

// Quantized searches an HNSW graph with product-quantized distances as a
// filter. On the bottom layer, every unvisited neighbour is first compared
// through its 16-byte code; only one whose estimate beats the worst of the
// ef best so far is fetched and measured exactly. The graph is walked, and
// the answer ranked, on exact distances; the codes only skip the neighbours
// that would have been rejected anyway, so recall stays close to the plain
// graph's at the same ef while most full vectors are never read.
//
// The bottom layer's links are copied into one flat array, so a node's
// neighbours are one contiguous read.
type Quantized struct {
	g     *HNSW
	pq    *PQ
	codes []byte  // n × pq.M()
	m0    int     // links per node on layer 0
	links []int32 // n × m0, -1 after a node's last link
	pool  sync.Pool
}

// qsearch is one search's scratch space, reused through the pool.
type qsearch struct {
	seen  visitSet
	tab   []float32
	cands minHeap
	best  maxHeap
	fresh []int32
	est   []float32
}

// NewQuantized trains a quantizer on the graph's vectors and encodes them.
// Build the graph first; vectors added to it later are not searched.
func NewQuantized(g *HNSW, o PQOptions) (*Quantized, error) {
	pq, err := TrainPQ(g.vecs, g.dim, o)
	if err != nil {
		return nil, err
	}
	n := g.Len()
	x := &Quantized{g: g, pq: pq, codes: make([]byte, n*pq.M()), m0: g.m0, links: make([]int32, n*g.m0)}
	for i := range n {
		pq.Encode(g.vec(int32(i)), x.codes[i*pq.M():(i+1)*pq.M()])
		row := x.links[i*x.m0 : (i+1)*x.m0]
		copy(row, g.links[i][0])
		for j := len(g.links[i][0]); j < len(row); j++ {
			row[j] = -1
		}
	}
	x.pool.New = func() any {
		return &qsearch{tab: make([]float32, pq.M()*pqCentroids),
			fresh: make([]int32, 0, x.m0), est: make([]float32, x.m0)}
	}
	return x, nil
}

// Len is the number of vectors searched.
func (x *Quantized) Len() int { return len(x.codes) / x.pq.M() }

// Search returns the k nearest vectors to q with their exact distances,
// nearest first. ef ≥ k trades speed for recall, as in HNSW.Search.
func (x *Quantized) Search(q []float32, k, ef int) []Result {
	g := x.g
	if x.Len() == 0 || k <= 0 {
		return nil
	}
	ef = max(ef, k)
	s := x.pool.Get().(*qsearch)
	defer x.pool.Put(s)
	x.pq.Table(q, s.tab)
	s.seen.reset(x.Len())
	s.cands, s.best.h = s.cands[:0], s.best.h[:0]

	ep := Result{g.entry, Distance(q, g.vec(g.entry))}
	for lc := g.maxLevel; lc > 0; lc-- {
		ep = g.greedy(q, ep, lc, nil)
	}
	s.seen.visit(ep.ID)
	s.cands.push(ep)
	s.best.push(ep)
	m := x.pq.M()
	for s.cands.len() > 0 {
		c := s.cands.pop()
		if s.best.len() >= ef && c.Dist > s.best.top().Dist {
			break
		}
		// Three passes over the neighbours: which are new, their estimates,
		// then the exact check. Keeping the estimate loop free of branches
		// on the heaps lets the CPU overlap its memory reads.
		s.fresh = s.fresh[:0]
		for _, n := range x.links[int(c.ID)*x.m0 : int(c.ID+1)*x.m0] {
			if n < 0 {
				break
			}
			if s.seen.visit(n) {
				s.fresh = append(s.fresh, n)
			}
		}
		est := s.est[:len(s.fresh)]
		for i, n := range s.fresh {
			est[i] = x.pq.Distance(s.tab, x.codes[int(n)*m:int(n+1)*m])
		}
		for i, n := range s.fresh {
			full := s.best.len() >= ef
			if full && est[i] > s.best.top().Dist {
				continue
			}
			d := Distance(q, g.vec(n))
			if !full || d < s.best.top().Dist {
				s.cands.push(Result{n, d})
				s.best.push(Result{n, d})
				if s.best.len() > ef {
					s.best.pop()
				}
			}
		}
	}
	out := s.best.results()
	slices.SortFunc(out, byDist)
	return out[:min(k, len(out))]
}
