package experiment

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/stats"
)

// ExposureStats answers per-arm statistics from the exposure log (the
// features service's ExposureStats).
type ExposureStats interface {
	ExposureStats(ctx context.Context, q domain.ExposureQuery) ([]domain.ArmStats, error)
}

// SRMAlarm is the p-value below which a sample-ratio mismatch is raised.
const SRMAlarm = 0.001

// Level is the confidence level of every interval.
const Level = 0.95

// Results are an experiment's numbers, read from the exposure log.
type Results struct {
	Layer      string `json:"layer"`
	Experiment string `json:"experiment"`
	// Since is the start of the window read: the experiment's start or
	// ?since=, whichever is later; null when neither is known.
	Since *time.Time `json:"since"`
	// Running is false when the experiment is no longer in the config
	// (stopped); its results are still read from the log.
	Running bool `json:"running"`
	// Variants are the experiment's variants in config order, then the
	// global holdout (holdout: true) when any user was held out.
	Variants    []VariantResult `json:"variants"`
	Comparisons []Comparison    `json:"comparisons"`
	// SRM is null when the experiment is stopped (no configured shares).
	SRM *SRM `json:"srm"`
}

// VariantResult is one arm's numbers.
type VariantResult struct {
	Name      string `json:"name"`
	Holdout   bool   `json:"holdout,omitempty"`
	Users     int64  `json:"users"`
	Exposures int64  `json:"exposures"`
	Clicks    int64  `json:"clicks"`
	CTR       Num    `json:"ctr"`
	CTRCI     [2]Num `json:"ctr_ci"`
	Likes     int64  `json:"likes"`
	LikeRate  Num    `json:"like_rate"`
	LikeCI    [2]Num `json:"like_rate_ci"`
	ctr, like stats.Ratio
}

// Comparison is one arm against the experiment's first variant.
type Comparison struct {
	Variant    string `json:"variant"`
	Against    string `json:"against"`
	CTRLift    Num    `json:"ctr_lift"`
	CTRLiftCI  [2]Num `json:"ctr_lift_ci"`
	CTRPValue  Num    `json:"ctr_p_value"`
	LikeLift   Num    `json:"like_lift"`
	LikeLiftCI [2]Num `json:"like_lift_ci"`
	LikePValue Num    `json:"like_p_value"`
}

// SRM is the sample-ratio check of users per variant against the shares
// the variants' buckets give them.
type SRM struct {
	Expected map[string]float64 `json:"expected"`
	Observed map[string]int64   `json:"observed"`
	PValue   Num                `json:"p_value"`
	Alarm    bool               `json:"alarm"`
}

// Num is a number that is null in JSON when it is undefined (NaN, ±Inf).
type Num float64

// MarshalJSON writes null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// ComputeResults reads the experiment's arms from src and computes its
// results against cfg (nil-safe when the experiment is gone from it).
func ComputeResults(ctx context.Context, src ExposureStats, cfg *abtest.Config, layer, exp string, since time.Time) (*Results, error) {
	var e *abtest.Experiment
	if cfg != nil {
		if _, found, err := findExperiment(cfg, layer, exp); err == nil {
			e = found
		}
	}
	if e != nil && e.Started != nil && e.Started.After(since) {
		since = *e.Started
	}
	q := domain.ExposureQuery{Layer: layer, Experiment: exp}
	var shown *time.Time
	if !since.IsZero() {
		q.SinceMillis = max(0, since.UnixMilli())
		utc := since.UTC()
		shown = &utc
	}
	arms, err := src.ExposureStats(ctx, q)
	if err != nil {
		return nil, err
	}
	if e == nil && len(arms) == 0 {
		return nil, apierr.NotFound("experiment %q of layer %q is not configured and has no exposures", exp, layer)
	}
	byArm := map[string]domain.ArmStats{}
	for _, a := range arms {
		byArm[a.Arm] = a
	}
	r := &Results{Layer: layer, Experiment: exp, Since: shown, Running: e != nil, Variants: []VariantResult{}, Comparisons: []Comparison{}}
	var names []string
	if e != nil {
		for _, v := range e.Variants {
			names = append(names, v.Name)
		}
	} else {
		for _, a := range arms {
			if a.Arm != domain.HoldoutArm {
				names = append(names, a.Arm)
			}
		}
	}
	for _, n := range names {
		r.Variants = append(r.Variants, variantResult(n, byArm[n]))
	}
	if h, ok := byArm[domain.HoldoutArm]; ok {
		v := variantResult(domain.HoldoutArm, h)
		v.Holdout = true
		r.Variants = append(r.Variants, v)
	}
	if len(r.Variants) > 0 {
		base := r.Variants[0]
		for _, v := range r.Variants[1:] {
			ctr, like := stats.Compare(v.ctr, base.ctr, Level), stats.Compare(v.like, base.like, Level)
			r.Comparisons = append(r.Comparisons, Comparison{Variant: v.Name, Against: base.Name,
				CTRLift: Num(ctr.Lift), CTRLiftCI: nums(ctr.LiftCI), CTRPValue: Num(ctr.PValue),
				LikeLift: Num(like.Lift), LikeLiftCI: nums(like.LiftCI), LikePValue: Num(like.PValue)})
		}
	}
	if e != nil {
		r.SRM = srm(e, byArm)
	}
	return r, nil
}

func variantResult(name string, a domain.ArmStats) VariantResult {
	ctr := stats.Ratio{N: float64(a.Users), SumX: a.Exposures, SumY: a.Clicks, SumXX: a.ExposuresSq, SumYY: a.ClicksSq, SumXY: a.ExposuresClicks}
	like := stats.Ratio{N: float64(a.Users), SumX: a.Exposures, SumY: a.Likes, SumXX: a.ExposuresSq, SumYY: a.LikesSq, SumXY: a.ExposuresLikes}
	return VariantResult{Name: name, Users: a.Users, Exposures: int64(a.Exposures), Clicks: int64(a.Clicks), Likes: int64(a.Likes),
		CTR: Num(ctr.Estimate()), CTRCI: nums(ctr.Interval(Level, 0, 1)),
		LikeRate: Num(like.Estimate()), LikeCI: nums(like.Interval(Level, 0, 1)),
		ctr: ctr, like: like}
}

func srm(e *abtest.Experiment, byArm map[string]domain.ArmStats) *SRM {
	observed := make([]float64, len(e.Variants))
	shares := make([]float64, len(e.Variants))
	out := &SRM{Expected: map[string]float64{}, Observed: map[string]int64{}}
	for i, v := range e.Variants {
		observed[i] = float64(byArm[v.Name].Users)
		shares[i] = float64(size(&e.Variants[i]))
		out.Observed[v.Name] = byArm[v.Name].Users
	}
	t := stats.ChiSquare(observed, shares)
	for i, v := range e.Variants {
		out.Expected[v.Name] = t.Expected[i]
	}
	out.PValue = Num(t.PValue)
	out.Alarm = t.PValue < SRMAlarm
	return out
}

func nums(a [2]float64) [2]Num { return [2]Num{Num(a[0]), Num(a[1])} }
