package ann

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Build returns the graph over vecs (n vectors of dim values, in id order),
// inserting on workers goroutines, with progress (if set) called with the
// number inserted now and then. With one worker it is the graph Add gives;
// with more, insertions interleave, so the graph differs from run to run
// (its recall does not). Each node's links have a lock while building.
func Build(vecs []float32, dim int, o Options, workers int, progress func(done int)) *HNSW {
	h := New(dim, o)
	n := len(vecs) / dim
	h.vecs = slices.Clone(vecs[:n*dim])
	h.links, h.dists = make([][][]int32, n), make([][][]float32, n)
	levels := make([]int, n)
	for i := range levels { // drawn in order, as Add draws them
		levels[i] = h.level()
		h.links[i], h.dists[i] = make([][]int32, levels[i]+1), make([][]float32, levels[i]+1)
	}
	if n == 0 {
		return h
	}
	h.insert(0, levels[0])
	h.building, h.locks = true, make([]sync.Mutex, n)
	var next, done atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := next.Add(1) - 1; id < int64(n); id = next.Add(1) - 1 {
				h.insert(int32(id), levels[id])
				if d := done.Add(1); progress != nil && d%10_000 == 0 {
					progress(int(d))
				}
			}
		}()
	}
	wg.Wait()
	h.building, h.locks, h.dists = false, nil, nil
	if progress != nil {
		progress(n)
	}
	return h
}

func (h *HNSW) entryPoint() (int32, int) {
	if h.building {
		h.top.Lock()
		defer h.top.Unlock()
	}
	return h.entry, h.maxLevel
}

func (h *HNSW) lock(node int32) {
	if h.building {
		h.locks[node].Lock()
	}
}

func (h *HNSW) unlock(node int32) {
	if h.building {
		h.locks[node].Unlock()
	}
}

// linksOf is node's links on layer lc: while building, a copy made under
// the node's lock into *buf; after, the graph's own slice.
func (h *HNSW) linksOf(node int32, lc int, buf *[]int32) []int32 {
	if !h.building {
		return h.links[node][lc]
	}
	h.locks[node].Lock()
	*buf = append((*buf)[:0], h.links[node][lc]...)
	h.locks[node].Unlock()
	return *buf
}
