// Package stats holds the statistics of experiment results: ratio metrics
// with user-level (delta-method) intervals, comparisons of two arms, and
// the chi-square test for sample-ratio mismatch. Distributions come from
// gonum.
package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Ratio is a ratio metric Σy / Σx over N independent units (users), each
// contributing x (e.g. exposures) and y (e.g. clicked exposures). Units
// are independent; their x and y are not, which is why the interval is
// computed at the unit level (the delta method) rather than treating every
// exposure as an independent trial.
type Ratio struct {
	N                   float64
	SumX, SumY          float64
	SumXX, SumYY, SumXY float64
}

// Estimate is Σy / Σx, or NaN without any x.
func (r Ratio) Estimate() float64 {
	if r.SumX == 0 {
		return math.NaN()
	}
	return r.SumY / r.SumX
}

// Variance is the delta-method variance of the estimate:
//
//	Var(Ȳ/X̄) ≈ (1/N) · (s²_y/μx² − 2·μy·s_xy/μx³ + μy²·s²_x/μx⁴)
//
// with sample (co)variances over units. NaN with fewer than two units.
func (r Ratio) Variance() float64 {
	if r.N < 2 || r.SumX == 0 {
		return math.NaN()
	}
	n := r.N
	mx, my := r.SumX/n, r.SumY/n
	vx := (r.SumXX - n*mx*mx) / (n - 1)
	vy := (r.SumYY - n*my*my) / (n - 1)
	cxy := (r.SumXY - n*mx*my) / (n - 1)
	v := (vy/(mx*mx) - 2*my*cxy/(mx*mx*mx) + my*my*vx/(mx*mx*mx*mx)) / n
	return math.Max(v, 0)
}

// Z is the two-sided normal quantile of a confidence level (1.96 for 0.95).
func Z(level float64) float64 {
	return distuv.UnitNormal.Quantile(1 - (1-level)/2)
}

// Interval is the estimate's normal interval at level, clamped to
// [lo, hi]; NaNs when it cannot be computed.
func (r Ratio) Interval(level, lo, hi float64) [2]float64 {
	est, v := r.Estimate(), r.Variance()
	if math.IsNaN(est) || math.IsNaN(v) {
		return [2]float64{math.NaN(), math.NaN()}
	}
	h := Z(level) * math.Sqrt(v)
	return [2]float64{math.Max(lo, est-h), math.Min(hi, est+h)}
}

// Comparison is a treatment ratio against a control ratio.
type Comparison struct {
	// Lift is treatment/control − 1.
	Lift float64
	// LiftCI is the lift's interval, from the delta method on the log of
	// the ratio of the two estimates (the arms are independent).
	LiftCI [2]float64
	// PValue is the two-sided p-value of a z-test of equal ratios.
	PValue float64
}

// Compare compares treatment t with control c at level; NaNs where a
// figure is undefined (no exposures, a zero control).
func Compare(t, c Ratio, level float64) Comparison {
	nan := math.NaN()
	out := Comparison{Lift: nan, LiftCI: [2]float64{nan, nan}, PValue: nan}
	et, ec := t.Estimate(), c.Estimate()
	vt, vc := t.Variance(), c.Variance()
	if math.IsNaN(et) || math.IsNaN(ec) || math.IsNaN(vt) || math.IsNaN(vc) {
		return out
	}
	if se := math.Sqrt(vt + vc); se > 0 {
		z := (et - ec) / se
		out.PValue = 2 * distuv.UnitNormal.Survival(math.Abs(z))
	} else if et == ec {
		out.PValue = 1
	}
	if ec == 0 {
		return out
	}
	out.Lift = et/ec - 1
	if et == 0 {
		return out
	}
	seLog := math.Sqrt(vt/(et*et) + vc/(ec*ec))
	h := Z(level) * seLog
	l := math.Log(et / ec)
	out.LiftCI = [2]float64{math.Exp(l-h) - 1, math.Exp(l+h) - 1}
	return out
}

// SRM is a chi-square goodness-of-fit test of observed counts against the
// expected shares (which need not sum to 1; they are normalised).
type SRM struct {
	Expected []float64
	Observed []float64
	PValue   float64
}

// ChiSquare tests observed against shares. With fewer than two arms, or
// no observations, the p-value is 1 (nothing to mismatch).
func ChiSquare(observed, shares []float64) SRM {
	out := SRM{Observed: observed, Expected: make([]float64, len(observed)), PValue: 1}
	total, sumShares := 0.0, 0.0
	for i := range observed {
		total += observed[i]
		sumShares += shares[i]
	}
	if len(observed) < 2 || total == 0 || sumShares == 0 {
		return out
	}
	x := 0.0
	for i := range observed {
		e := total * shares[i] / sumShares
		out.Expected[i] = e
		if e > 0 {
			d := observed[i] - e
			x += d * d / e
		} else if observed[i] > 0 {
			x = math.Inf(1)
		}
	}
	out.PValue = distuv.ChiSquared{K: float64(len(observed) - 1)}.Survival(x)
	return out
}
