package ann

import (
	"fmt"
	"math/rand/v2"
)

// PQ is a product quantizer (Jégou, Douze & Schmid, "Product Quantization
// for Nearest Neighbor Search"): a vector is cut into M equal sub-vectors
// and each is replaced by the nearest of 256 centroids learned by k-means on
// that sub-space, so a vector is stored as M bytes. A query is compared
// with a code through a table of its distances to every centroid
// (asymmetric distance, ADC): M table look-ups instead of dim multiplies.
type PQ struct {
	dim, m, sub int
	cents       []float32 // m × 256 × sub
}

// PQOptions tune the quantizer's training.
type PQOptions struct {
	// M is the number of sub-vectors; it must divide the dimension.
	M int
	// Sample is how many vectors k-means learns from (all, if fewer).
	Sample int
	// Iters is the number of k-means rounds per sub-space.
	Iters int
	// Seed makes training deterministic.
	Seed uint64
}

// DefaultPQOptions give 16 bytes per vector and train in seconds on 100k.
func DefaultPQOptions() PQOptions { return PQOptions{M: 16, Sample: 20_000, Iters: 10, Seed: 1} }

const pqCentroids = 256

// TrainPQ learns a quantizer for the flattened vectors of dim dimensions.
func TrainPQ(vecs []float32, dim int, o PQOptions) (*PQ, error) {
	switch {
	case dim <= 0 || len(vecs)%dim != 0:
		return nil, fmt.Errorf("ann: %d values are not whole vectors of %d dimensions", len(vecs), dim)
	case o.M <= 0 || dim%o.M != 0:
		return nil, fmt.Errorf("ann: %d sub-vectors do not divide %d dimensions", o.M, dim)
	case len(vecs) == 0:
		return nil, fmt.Errorf("ann: no vectors to train a quantizer on")
	}
	n := len(vecs) / dim
	if o.Sample <= 0 || o.Sample > n {
		o.Sample = n
	}
	o.Iters = max(o.Iters, 1)
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	sample := rng.Perm(n)[:o.Sample]
	p := &PQ{dim: dim, m: o.M, sub: dim / o.M, cents: make([]float32, o.M*pqCentroids*(dim/o.M))}
	part := make([]float32, len(sample)*p.sub)
	for s := range p.m {
		for i, id := range sample {
			copy(part[i*p.sub:(i+1)*p.sub], vecs[id*dim+s*p.sub:id*dim+(s+1)*p.sub])
		}
		// With fewer than 256 distinct training points the spare centroids
		// repeat the first ones; codes then simply never use them.
		c := kMeans(part, p.sub, pqCentroids, o.Iters, rng)
		dst := p.space(s)
		for i := 0; i < len(dst); i += len(c) {
			copy(dst[i:], c)
		}
	}
	return p, nil
}

// M is the code length in bytes.
func (p *PQ) M() int { return p.m }

// space is sub-space s's centroids.
func (p *PQ) space(s int) []float32 {
	w := pqCentroids * p.sub
	return p.cents[s*w : (s+1)*w]
}

// Encode writes v's code (M bytes) into code.
func (p *PQ) Encode(v []float32, code []byte) {
	for s := range p.m {
		code[s] = byte(nearest(p.space(s), p.sub, v[s*p.sub:(s+1)*p.sub]))
	}
}

// Decode writes the vector a code stands for into v.
func (p *PQ) Decode(code []byte, v []float32) {
	for s := range p.m {
		c := int(code[s])
		copy(v[s*p.sub:(s+1)*p.sub], p.space(s)[c*p.sub:(c+1)*p.sub])
	}
}

// Table fills tab (M × 256) with q's squared distance to every centroid of
// every sub-space.
func (p *PQ) Table(q []float32, tab []float32) {
	for s := range p.m {
		qs, cs, row := q[s*p.sub:(s+1)*p.sub], p.space(s), tab[s*pqCentroids:(s+1)*pqCentroids]
		for c := range row {
			row[c] = Distance(qs, cs[c*p.sub:(c+1)*p.sub])
		}
	}
}

// Distance is the squared distance from the table's query to the vector a
// code stands for: exactly Distance(q, Decode(code)), up to rounding.
func (p *PQ) Distance(tab []float32, code []byte) float32 {
	if p.m == 16 { // the default: unrolled, without bounds checks
		return adc16((*[16 * pqCentroids]float32)(tab), (*[16]byte)(code))
	}
	var s float32
	for i, c := range code[:p.m] {
		s += tab[i*pqCentroids+int(c)]
	}
	return s
}

// adc16 is PQ.Distance for 16 sub-vectors; the fixed sizes let the
// compiler drop every bounds check.
func adc16(t *[16 * pqCentroids]float32, c *[16]byte) float32 {
	const w = pqCentroids
	a := t[0*w+int(c[0])] + t[1*w+int(c[1])] + t[2*w+int(c[2])] + t[3*w+int(c[3])]
	b := t[4*w+int(c[4])] + t[5*w+int(c[5])] + t[6*w+int(c[6])] + t[7*w+int(c[7])]
	d := t[8*w+int(c[8])] + t[9*w+int(c[9])] + t[10*w+int(c[10])] + t[11*w+int(c[11])]
	e := t[12*w+int(c[12])] + t[13*w+int(c[13])] + t[14*w+int(c[14])] + t[15*w+int(c[15])]
	return (a + b) + (d + e)
}
