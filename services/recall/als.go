package recall

import (
	"math"

	"github.com/recmesh/recmesh/pkg/domain"
)

// TrainALS learns user and item vectors by implicit alternating least
// squares (Hu, Koren and Volinsky 2008, with the frequency-scaled
// regularisation of Rendle et al. 2021): every observed pair's target is 1,
// every other pair's is 0 at weight o.Unobserved, and each half-step solves
// every user's (then every item's) vector exactly given the other side:
//
//	(α₀ HᵀH + Σᵢ hᵢhᵢᵀ + λ(nᵤ + α₀N) I) wᵤ = Σᵢ hᵢ
//
// over the user's items i, N the items, nᵤ their count. Rows are solved on
// every core, each from the other side's vectors only, so the vectors do
// not depend on the cores. o.Epochs is the number of full iterations.
func TrainALS(items []domain.Item, events []domain.Event, o MFOptions, progress func(float64)) *Embeddings {
	e, pairs := newEmbeddings(items, events, o, 0.1/math.Sqrt(float64(o.Dim)))
	byUser := newRows(len(e.UserIDs), pairs)
	for k := range pairs { // pairs is ours: turned round, it gives each item's users

		pairs[k].u, pairs[k].i = pairs[k].i, pairs[k].u
	}
	byItem := newRows(len(items), pairs)
	for it := range o.Epochs {
		if progress != nil && it > 0 {
			progress(float64(it) / float64(o.Epochs))
		}
		alsHalf(e.Users, e.Items, byUser, o)
		alsHalf(e.Items, e.Users, byItem, o)
	}
	if progress != nil {
		progress(1)
	}
	return e
}

// alsHalf solves every row of rows given the fixed other side; row r's
// observed columns are rowsOf's row r.
func alsHalf(rows, other []float32, rowsOf positives, o MFOptions) {
	d := o.Dim
	n := len(other) / d
	gram := make([]float64, d*d) // α₀ · otherᵀother
	for c := range n {
		v := other[c*d : (c+1)*d]
		for a := range d {
			for b := 0; b <= a; b++ {
				gram[a*d+b] += float64(v[a]) * float64(v[b])
			}
		}
	}
	for a := range d {
		for b := 0; b <= a; b++ {
			gram[a*d+b] *= o.Unobserved
			gram[b*d+a] = gram[a*d+b]
		}
	}
	onEveryCore(len(rows)/d, func() func(int) {
		a := make([]float64, d*d)
		b := make([]float64, d)
		return func(r int) {
			cols := rowsOf.items[rowsOf.start[r]:rowsOf.start[r+1]]
			if len(cols) == 0 {
				return // its solution is 0: it keeps its small random start, which keeps the graph's points apart
			}
			copy(a, gram)
			clear(b)
			for _, c := range cols {
				v := other[int(c)*d : (int(c)+1)*d]
				for x := range d {
					vx := float64(v[x])
					b[x] += vx
					row := a[x*d : x*d+x+1]
					for y := range row {
						row[y] += vx * float64(v[y])
					}
				}
			}
			reg := o.Reg * (float64(len(cols)) + o.Unobserved*float64(n))
			for x := range d {
				a[x*d+x] += reg
			}
			out := rows[r*d : (r+1)*d]
			if !choleskySolve(a, b, d) {
				clear(out)
				return
			}
			for x := range d {
				out[x] = float32(b[x])
			}
		}
	})
}

// choleskySolve solves A x = b in place for a symmetric positive definite
// A of size d (its lower triangle is read; A is overwritten by its
// Cholesky factor, b by x). It reports false if A is not positive definite.
func choleskySolve(a, b []float64, d int) bool {
	for j := range d {
		s := a[j*d+j]
		for k := range j {
			s -= a[j*d+k] * a[j*d+k]
		}
		if s <= 0 {
			return false
		}
		s = math.Sqrt(s)
		a[j*d+j] = s
		for i := j + 1; i < d; i++ {
			t := a[i*d+j]
			for k := range j {
				t -= a[i*d+k] * a[j*d+k]
			}
			a[i*d+j] = t / s
		}
	}
	for i := range d { // L y = b
		t := b[i]
		for k := range i {
			t -= a[i*d+k] * b[k]
		}
		b[i] = t / a[i*d+i]
	}
	for i := d - 1; i >= 0; i-- { // Lᵀ x = y
		t := b[i]
		for k := i + 1; k < d; k++ {
			t -= a[k*d+i] * b[k]
		}
		b[i] = t / a[i*d+i]
	}
	return true
}
