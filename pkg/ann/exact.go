package ann

import (
	"math"
	"slices"
)

// Distance is the squared Euclidean distance; the loop is unrolled by four.
func Distance(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return s0 + s1 + s2 + s3
}

// Exact returns the k nearest of the flattened vectors to q, nearest first:
// the ground truth approximate search is measured against.
func Exact(vecs []float32, dim int, q []float32, k int) []Result {
	var best maxHeap
	for id := 0; id*dim < len(vecs); id++ {
		d := Distance(q, vecs[id*dim:(id+1)*dim])
		if best.len() < k {
			best.push(Result{int32(id), d})
		} else if d < best.top().Dist {
			best.pop()
			best.push(Result{int32(id), d})
		}
	}
	out := best.results()
	slices.SortFunc(out, byDist)
	return out
}

// MIPS turns maximum-inner-product search into nearest-neighbour search:
// every item vector x gains a last coordinate sqrt(M² − |x|²), where M is
// the largest norm, and a query gains 0. Then |q' − x'|² = |q|² + M² − 2q·x,
// so the nearest item is the one with the largest inner product.
type MIPS struct {
	maxNorm float64
}

// NewMIPS sizes the transform for the given flattened item vectors.
func NewMIPS(items []float32, dim int) MIPS {
	m := 0.0
	for i := 0; i*dim < len(items); i++ {
		m = math.Max(m, norm2(items[i*dim:(i+1)*dim]))
	}
	return MIPS{maxNorm: math.Sqrt(m)}
}

// Item returns the augmented item vector.
func (t MIPS) Item(x []float32) []float32 {
	extra := t.maxNorm*t.maxNorm - norm2(x)
	return append(append(make([]float32, 0, len(x)+1), x...), float32(math.Sqrt(math.Max(extra, 0))))
}

// Query returns the augmented query vector.
func (t MIPS) Query(q []float32) []float32 {
	return append(append(make([]float32, 0, len(q)+1), q...), 0)
}

func norm2(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}
