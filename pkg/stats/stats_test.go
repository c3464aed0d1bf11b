package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// With one exposure per user the ratio is a proportion, and the delta
// method must give the binomial variance p(1-p)/n (up to n/(n-1)).
func TestRatioOfOneExposurePerUserIsABinomial(t *testing.T) {
	r := Ratio{}
	n, clicks := 1000, 300
	for i := range n {
		y := 0.0
		if i < clicks {
			y = 1
		}
		r.N++
		r.SumX++
		r.SumXX++
		r.SumY += y
		r.SumYY += y * y
		r.SumXY += y
	}
	p := 0.3
	if !near(r.Estimate(), p, 1e-12) {
		t.Errorf("estimate %v", r.Estimate())
	}
	want := p * (1 - p) / float64(n-1)
	if !near(r.Variance(), want, 1e-9) {
		t.Errorf("variance %v, want %v", r.Variance(), want)
	}
	ci := r.Interval(0.95, 0, 1)
	if !near(ci[0], p-1.96*math.Sqrt(want), 1e-3) || !near(ci[1], p+1.96*math.Sqrt(want), 1e-3) {
		t.Errorf("interval %v", ci)
	}
}

// Users differ in how often they click, so exposures of one user are
// correlated: the user-level interval must be wider than the naive
// per-exposure binomial one, and cover the truth about 95% of the time.
func TestRatioIntervalCoversTheTruthAtTheUserLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const truth = 0.1
	covered, wider := 0, 0
	const trials = 400
	for range trials {
		var r Ratio
		for range 300 {
			p := truth * 2 * rng.Float64() // heterogeneous users, mean 0.1
			e := float64(1 + rng.IntN(40))
			c := 0.0
			for range int(e) {
				if rng.Float64() < p {
					c++
				}
			}
			r.N++
			r.SumX += e
			r.SumY += c
			r.SumXX += e * e
			r.SumYY += c * c
			r.SumXY += e * c
		}
		ci := r.Interval(0.95, 0, 1)
		if ci[0] <= truth && truth <= ci[1] {
			covered++
		}
		est := r.Estimate()
		if r.Variance() > est*(1-est)/r.SumX {
			wider++
		}
	}
	if rate := float64(covered) / trials; rate < 0.92 || rate > 0.98 {
		t.Errorf("coverage %.3f, want about 0.95", rate)
	}
	if wider < trials*9/10 {
		t.Errorf("user-level variance wider than the naive one in %d of %d trials", wider, trials)
	}
}

func TestCompare(t *testing.T) {
	mk := func(n, e, c float64) Ratio { // n users with e exposures and c clicks each, half clicking twice as much
		var r Ratio
		for i := range int(n) {
			cc := c
			if i%2 == 0 {
				cc = 2 * c
			}
			r.N++
			r.SumX += e
			r.SumY += cc
			r.SumXX += e * e
			r.SumYY += cc * cc
			r.SumXY += e * cc
		}
		return r
	}
	a, b := mk(1000, 10, 1), mk(1000, 10, 1.2)
	cmp := Compare(b, a, 0.95)
	if !near(cmp.Lift, 0.2, 1e-9) || !(cmp.LiftCI[0] < 0.2 && 0.2 < cmp.LiftCI[1]) || cmp.PValue > 1e-6 {
		t.Errorf("B vs A: %+v", cmp)
	}
	same := Compare(a, a, 0.95)
	if same.Lift != 0 || same.PValue != 1 {
		t.Errorf("A vs A: %+v", same)
	}
	none := Compare(a, Ratio{}, 0.95)
	if !math.IsNaN(none.Lift) || !math.IsNaN(none.PValue) {
		t.Errorf("against an empty arm: %+v", none)
	}
}

func TestChiSquare(t *testing.T) {
	// 1 degree of freedom: chi2 = 3.841 is p = 0.05
	// observed 540/460 against 50/50: chi2 = (40²/500)*2 = 6.4, p = 0.0114
	s := ChiSquare([]float64{540, 460}, []float64{1, 1})
	if !near(s.PValue, 0.011412, 1e-5) || s.Expected[0] != 500 {
		t.Errorf("SRM = %+v", s)
	}
	// the shares need not sum to one
	if s2 := ChiSquare([]float64{100, 300}, []float64{2500, 7500}); !near(s2.PValue, 1, 1e-12) {
		t.Errorf("exact split p = %v", s2.PValue)
	}
	if s3 := ChiSquare([]float64{5000, 4500, 5500}, []float64{1, 1, 1}); s3.PValue > 1e-10 {
		t.Errorf("broken 3-way split p = %v", s3.PValue)
	}
	if s4 := ChiSquare([]float64{10}, []float64{1}); s4.PValue != 1 {
		t.Errorf("one arm p = %v", s4.PValue)
	}
}
