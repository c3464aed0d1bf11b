package recall

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCholeskySolve(t *testing.T) {
	const d = 7
	rng := rand.New(rand.NewPCG(1, 2))
	m := make([]float64, d*d) // a positive definite MᵀM + I
	x := make([]float64, d)
	for i := range m {
		m[i] = rng.NormFloat64()
	}
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	a := make([]float64, d*d)
	for i := range d {
		for j := range d {
			for k := range d {
				a[i*d+j] += m[k*d+i] * m[k*d+j]
			}
		}
		a[i*d+i]++
	}
	b := make([]float64, d)
	for i := range d {
		for j := range d {
			b[i] += a[i*d+j] * x[j]
		}
	}
	if !choleskySolve(a, b, d) {
		t.Fatal("a positive definite matrix was refused")
	}
	for i := range d {
		if math.Abs(b[i]-x[i]) > 1e-9 {
			t.Fatalf("x[%d] = %v, want %v", i, b[i], x[i])
		}
	}
	if choleskySolve([]float64{1, 2, 2, 1}, []float64{1, 1}, 2) {
		t.Fatal("an indefinite matrix was solved")
	}
}
