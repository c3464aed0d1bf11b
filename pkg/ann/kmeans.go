package ann

import "math/rand/v2"

// kMeans clusters the flattened vectors into k centroids by Lloyd's
// algorithm from k distinct random starting points. A cluster that empties
// restarts at a random vector. The result depends only on the inputs and
// the seed.
func kMeans(vecs []float32, dim, k, iters int, rng *rand.Rand) []float32 {
	n := len(vecs) / dim
	k = min(k, n)
	cents := make([]float32, k*dim)
	for c, i := range rng.Perm(n)[:k] {
		copy(cents[c*dim:(c+1)*dim], vecs[i*dim:(i+1)*dim])
	}
	assign := make([]int, n)
	sums := make([]float64, k*dim)
	counts := make([]int, k)
	for it := 0; it < iters; it++ {
		for i := range assign {
			assign[i] = nearest(cents, dim, vecs[i*dim:(i+1)*dim])
		}
		clear(sums)
		clear(counts)
		for i, c := range assign {
			counts[c]++
			for j, v := range vecs[i*dim : (i+1)*dim] {
				sums[c*dim+j] += float64(v)
			}
		}
		for c, cnt := range counts {
			dst := cents[c*dim : (c+1)*dim]
			if cnt == 0 {
				i := rng.IntN(n)
				copy(dst, vecs[i*dim:(i+1)*dim])
				continue
			}
			for j := range dst {
				dst[j] = float32(sums[c*dim+j] / float64(cnt))
			}
		}
	}
	return cents
}

// nearest is the index of the centroid nearest to v.
func nearest(cents []float32, dim int, v []float32) int {
	best, bestDist := 0, float32(0)
	for c := 0; c*dim < len(cents); c++ {
		if d := Distance(v, cents[c*dim:(c+1)*dim]); c == 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
