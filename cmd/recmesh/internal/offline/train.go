package offline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features"
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/recall"
)

// TrainOptions tune `recmesh train`.
type TrainOptions struct {
	Seed  uint64
	Build recall.BuildOptions
	Fit   ranking.FitOptions
	// HoldoutShare of each user's interactions (the newest) are the ranking targets.
	HoldoutShare float64
	// NegativesPerPositive sampled from the user's recall candidates.
	NegativesPerPositive int
	// Progress receives human-readable progress lines; nil discards them.
	Progress io.Writer
}

// DefaultTrainOptions are the defaults of `recmesh train`.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Seed: 1, Build: recall.DefaultBuildOptions(), Fit: ranking.DefaultFitOptions(), HoldoutShare: 0.2, NegativesPerPositive: 4}
}

// Train builds the recall index and fits the ranking model, and publishes
// them as a new version in st. It returns the manifest.
func Train(ctx context.Context, items []domain.Item, events []domain.Event, st artifact.Store, o TrainOptions) (artifact.Manifest, error) {
	if len(items) == 0 || len(events) == 0 {
		return artifact.Manifest{}, fmt.Errorf("train: %d items and %d events; both must be non-empty", len(items), len(events))
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "train: "+format+"\n", args...)
		}
	}
	start := time.Now()
	say("%d items, %d events", len(items), len(events))
	say("serving index: popularity and item-CF over all events")
	serving := recall.BuildIndexFile(items, events, o.Build, progress(say, "item-CF"))

	model, err := fitRanker(ctx, items, events, o, say)
	if err != nil {
		return artifact.Manifest{}, err
	}
	m := artifact.Manifest{Version: artifact.NewVersion(time.Now()), CreatedAt: time.Now().UTC(),
		Params: map[string]any{"seed": o.Seed, "build": o.Build, "fit": o.Fit, "holdout_share": o.HoldoutShare,
			"negatives_per_positive": o.NegativesPerPositive, "metrics": model.Metrics}}
	lo, hi := events[0].TS, events[0].TS
	for _, e := range events {
		lo, hi = min(lo, e.TS), max(hi, e.TS)
	}
	m.DataFrom, m.DataTo = time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC()
	model.Version = m.Version
	rb, err := json.Marshal(serving)
	if err != nil {
		return m, fmt.Errorf("train: %w", err)
	}
	mb, err := json.MarshalIndent(model, "", "  ")
	if err != nil {
		return m, fmt.Errorf("train: %w", err)
	}
	if err := st.Publish(m, map[string][]byte{recall.IndexFileName: rb, ranking.ModelFileName: mb}); err != nil {
		return m, err
	}
	say("published %s in %s (click AUC %.3f, like AUC %.3f on held-out users)", m.Version, time.Since(start).Round(time.Millisecond),
		model.Metrics["click_auc"], model.Metrics["like_auc"])
	return m, nil
}

func progress(say func(string, ...any), what string) func(float64) {
	next := 0.0
	return func(f float64) {
		if f >= next {
			say("%s %3.0f%%", what, f*100)
			next = f + 0.25
		}
	}
}

type sample struct {
	x       []float64
	click   float64
	like    float64
	rated   bool
	holdout bool
}

// fitRanker learns the ranking objectives the way the ranking service will
// use them: each user's older interactions are the context, the newest
// HoldoutShare are the targets, the recall service's own channels (over an
// index built from contexts only, so targets do not leak into features)
// propose the candidates, and ranking.FeatureVector describes them.
func fitRanker(ctx context.Context, items []domain.Item, events []domain.Event, o TrainOptions, say func(string, ...any)) (*ranking.Model, error) {
	byUser := map[string][]domain.Event{}
	for _, e := range events {
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	slices.Sort(users)
	var contextEvents []domain.Event
	cut := map[string]int{}
	for _, u := range users {
		evs := byUser[u]
		slices.SortStableFunc(evs, func(a, b domain.Event) int { return cmp.Compare(a.TS, b.TS) })
		c := int(float64(len(evs)) * (1 - o.HoldoutShare))
		if len(evs) < 5 || c == len(evs) {
			c = len(evs)
		}
		cut[u] = c
		contextEvents = append(contextEvents, evs[:c]...)
	}
	say("training index: item-CF over %d context events", len(contextEvents))
	idx := recall.NewIndex("train", recall.BuildIndexFile(items, contextEvents, o.Build, progress(say, "item-CF (context)")))
	recaller := recall.New(idx)
	catalogue := make(map[int64]domain.Item, len(items))
	refYear := 0
	for _, it := range items {
		catalogue[it.ID] = it
		refYear = max(refYear, it.Year)
	}

	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	var samples []sample
	for ui, u := range users {
		if ui%150 == 0 {
			say("samples: user %d of %d", ui, len(users))
		}
		evs := byUser[u]
		c := cut[u]
		if c == len(evs) {
			continue
		}
		recent := make([]domain.Interaction, 0, 200)
		for i := c - 1; i >= 0 && len(recent) < 200; i-- {
			e := evs[i]
			recent = append(recent, domain.Interaction{ItemID: e.ItemID, Type: e.Type, Value: e.Value, TS: e.TS})
		}
		aff := features.GenreAffinity(recent, catalogue)
		resp, err := recaller.Recall(ctx, recall.Request{UserID: u, Query: recall.Query{Recent: recent[:min(50, len(recent))], Affinity: aff}})
		if err != nil {
			return nil, fmt.Errorf("train: recall for user %s: %w", u, err)
		}
		history := map[int64]bool{}
		target := map[int64]domain.Event{}
		for i, e := range evs {
			history[e.ItemID] = true
			if i >= c {
				target[e.ItemID] = e
			}
		}
		h := fnv.New32a()
		_, _ = h.Write([]byte(u))
		holdout := h.Sum32()%10 == 0
		var negs []domain.Candidate
		pos := 0
		for i := range resp.Candidates {
			cand := &resp.Candidates[i]
			if e, ok := target[cand.ID]; ok {
				s := sample{x: make([]float64, len(ranking.FeatureNames)), click: 1, rated: e.Type == "rating", holdout: holdout}
				ranking.FeatureVector(s.x, aff, cand, refYear)
				if e.Value >= 4 {
					s.like = 1
				}
				samples = append(samples, s)
				pos++
			} else if !history[cand.ID] {
				negs = append(negs, *cand)
			}
		}
		rng.Shuffle(len(negs), func(i, j int) { negs[i], negs[j] = negs[j], negs[i] })
		for _, cand := range negs[:min(len(negs), max(10, pos*o.NegativesPerPositive))] {
			s := sample{x: make([]float64, len(ranking.FeatureNames)), holdout: holdout}
			ranking.FeatureVector(s.x, aff, &cand, refYear)
			samples = append(samples, s)
		}
	}
	say("%d samples; fitting click and like objectives", len(samples))
	var train [][]float64
	for _, s := range samples {
		if !s.holdout {
			train = append(train, s.x)
		}
	}
	mean, std := ranking.MeanStd(train)
	m := &ranking.Model{Features: ranking.FeatureNames, Mean: mean, Std: std, RefYear: refYear,
		Objectives: map[string]ranking.Logistic{}, DefaultWeights: map[string]float64{"click": 1, "like": 0.3}, Metrics: map[string]float64{}}
	for _, s := range samples {
		m.Standardise(s.x)
	}
	for _, obj := range []struct {
		name  string
		use   func(sample) bool
		label func(sample) float64
	}{
		{"click", func(sample) bool { return true }, func(s sample) float64 { return s.click }},
		{"like", func(s sample) bool { return s.click == 1 && s.rated }, func(s sample) float64 { return s.like }},
	} {
		var xs, hx [][]float64
		var ys, hy []float64
		for _, s := range samples {
			if !obj.use(s) {
				continue
			}
			if s.holdout {
				hx, hy = append(hx, s.x), append(hy, obj.label(s))
			} else {
				xs, ys = append(xs, s.x), append(ys, obj.label(s))
			}
		}
		l := ranking.Fit(xs, ys, o.Fit)
		m.Objectives[obj.name] = l
		scores := make([]float64, len(hx))
		for i, x := range hx {
			scores[i] = l.Prob(x)
		}
		m.Metrics[obj.name+"_auc"] = ranking.AUC(scores, hy)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}
