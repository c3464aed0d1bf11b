// Package offline holds recmesh's offline jobs: training the model
// artifacts the services load, and evaluating every method on a
// time-ordered split.
package offline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features"
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/recall"
	"github.com/recmesh/recmesh/services/recall/recallapi"
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
	// SampleUsers bounds the users whose candidates become the ranker's
	// samples (a few features need no more; recall per user is the cost);
	// 0 takes every user.
	SampleUsers int
	// Progress receives human-readable progress lines, each with the time
	// since training started; nil discards them.
	Progress io.Writer
	// Job names the command in progress lines ("train", "eval seed 2").
	Job string
	// started is when Train or Fit began, for the progress lines' times.
	started time.Time
}

// DefaultTrainOptions are the defaults of `recmesh train`.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Seed: 1, Build: recall.DefaultBuildOptions(), Fit: ranking.DefaultFitOptions(), HoldoutShare: 0.2, NegativesPerPositive: 4, SampleUsers: 20_000, Job: "train"}
}

// SetSeed makes seed drive every random choice of training: the
// embeddings' and the ranker's.
func (o *TrainOptions) SetSeed(seed uint64) { o.Seed, o.Build.MF.Seed = seed, seed }

// Artifacts are what training produces: the recall index and the ranking model.
type Artifacts struct {
	Index *recall.IndexFile
	Model *ranking.Model
}

// Fit builds the recall index over every event and fits the ranking model.
// It reorders events (see SplitByUser).
func Fit(ctx context.Context, items []domain.Item, events []domain.Event, o TrainOptions) (Artifacts, error) {
	if len(items) == 0 || len(events) == 0 {
		return Artifacts{}, fmt.Errorf("train: %d items and %d events; both must be non-empty", len(items), len(events))
	}
	if o.started.IsZero() {
		o.started = time.Now()
	}
	say := o.say
	say("%d items, %d events", len(items), len(events))
	say("serving index: popularity, item-CF and embeddings over the %d events", len(events))
	index := recall.BuildIndexFile(items, events, o.Build, progress(say, "serving index:"))
	if err := ctx.Err(); err != nil {
		return Artifacts{}, fmt.Errorf("train: %w", err)
	}
	model, err := fitRanker(ctx, items, events, o)
	if err != nil {
		return Artifacts{}, err
	}
	return Artifacts{Index: index, Model: model}, nil
}

func (o TrainOptions) say(format string, args ...any) {
	job := cmp.Or(o.Job, "train")
	switch {
	case o.Progress == nil:
	case o.started.IsZero():
		fmt.Fprintf(o.Progress, "%s: %s\n", job, fmt.Sprintf(format, args...))
	default:
		fmt.Fprintf(o.Progress, "%s: [%s] %s\n", job, time.Since(o.started).Round(time.Second), fmt.Sprintf(format, args...))
	}
}

// Train fits the artifacts and publishes them as a new version in st.
func Train(ctx context.Context, items []domain.Item, events []domain.Event, st artifact.Store, o TrainOptions) (artifact.Manifest, error) {
	start := time.Now()
	o.started = start
	a, err := Fit(ctx, items, events, o)
	if err != nil {
		return artifact.Manifest{}, err
	}
	m := artifact.Manifest{Version: artifact.NewVersion(time.Now()), CreatedAt: time.Now().UTC(),
		Params: map[string]any{"seed": o.Seed, "build": o.Build, "fit": o.Fit, "holdout_share": o.HoldoutShare,
			"negatives_per_positive": o.NegativesPerPositive, "sample_users": o.SampleUsers, "metrics": a.Model.Metrics}}
	lo, hi := events[0].TS, events[0].TS
	for _, e := range events {
		lo, hi = min(lo, e.TS), max(hi, e.TS)
	}
	m.DataFrom, m.DataTo = time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC()
	a.Model.Version = m.Version
	rb, err := a.Index.Encode()
	if err != nil {
		return m, fmt.Errorf("train: %w", err)
	}
	mb, err := json.MarshalIndent(a.Model, "", "  ")
	if err != nil {
		return m, fmt.Errorf("train: %w", err)
	}
	if err := st.Publish(m, map[string][]byte{recall.IndexBinaryName: rb, ranking.ModelFileName: mb}); err != nil {
		return m, err
	}
	o.say("published %s in %s (click AUC %.3f, like AUC %.3f on held-out users)", m.Version, time.Since(start).Round(time.Millisecond),
		a.Model.Metrics["click_auc"], a.Model.Metrics["like_auc"])
	return m, nil
}

// progress reports each stage of an index build about every quarter, and
// its end once.
func progress(say func(string, ...any), what string) func(string, float64) {
	next := map[string]float64{}
	var mu sync.Mutex
	return func(stage string, f float64) {
		mu.Lock()
		defer mu.Unlock()
		if next[stage] < 2 && (f >= next[stage] || f == 1) {
			say("%s %s %3.0f%%", what, stage, f*100)
			next[stage] = f + 0.25
			if f == 1 {
				next[stage] = 2 // done: nothing more to say
			}
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
func fitRanker(ctx context.Context, items []domain.Item, events []domain.Event, o TrainOptions) (*ranking.Model, error) {
	say := o.say
	splits, past := SplitByUser(events, o.HoldoutShare, 5)
	say("training index: item-CF and embeddings over %d past events", len(past))
	idx := recall.NewIndex("train", recall.BuildIndexFile(items, past, o.Build, progress(say, "training index:")))
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	catalogue := make(map[int64]domain.Item, len(items))
	refYear := 0
	for _, it := range items {
		catalogue[it.ID] = it
		refYear = max(refYear, it.Year)
	}
	samples, err := rankerSamples(ctx, recall.New(idx), splits, catalogue, refYear, o)
	if err != nil {
		return nil, err
	}
	return fitObjectives(samples, refYear, o)
}

// rankerSamples asks recall for each user's candidates given their past,
// and labels them against their future: every target recall found is a
// positive, and a sample of the candidates the user never touched are
// negatives. One user in ten is held out for the AUCs. Past SampleUsers
// users, a fixed pseudo-random choice of them (by seed) is asked. Users
// are asked on every core; each has a generator of its own, so the samples
// do not depend on the order.
func rankerSamples(ctx context.Context, recaller *recall.Recaller, splits []UserSplit, catalogue map[int64]domain.Item, refYear int, o TrainOptions) ([][]sample, error) {
	users := sampleUsers(splits, o.SampleUsers, o.Seed)
	o.say("samples: candidates of %d users of %d", len(users), len(splits))
	out := make([][]sample, len(users))
	errs := make([]error, len(users))
	var done atomic.Int64
	err := parallel(ctx, len(users), func(k int) {
		sp := splits[users[k]]
		q := userQuery(sp.Past(), catalogue)
		resp, err := recaller.Recall(ctx, recallapi.Request{UserID: sp.User, Query: q, Seen: newestSeen(sp.PastItems())})
		if err != nil {
			errs[k] = fmt.Errorf("train: recall for user %s: %w", sp.User, err)
			return
		}
		rng := rand.New(rand.NewPCG(o.Seed, uint64(users[k])^0x9e3779b97f4a7c15))
		out[k] = userSamples(sp, resp.Candidates, q.Affinity, refYear, rng, o.NegativesPerPositive)
		if d := done.Add(1); d%5000 == 0 {
			o.say("samples: %d of %d users", d, len(users))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// parallel calls f(k) for every k in [0, n) on every core, and returns
// ctx's error if it ended first (some calls are then not made).
func parallel(ctx context.Context, n int, f func(k int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < n && ctx.Err() == nil; k = int(next.Add(1) - 1) {
				f(k)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// sampleUsers are the indices (in order) of the users with targets, at
// most limit of them (0: all), chosen by a hash of the seed and the user.
func sampleUsers(splits []UserSplit, limit int, seed uint64) []int {
	var users []int
	for i, sp := range splits {
		if len(sp.Future()) > 0 {
			users = append(users, i)
		}
	}
	if limit <= 0 || len(users) <= limit {
		return users
	}
	key := make(map[int]uint64, len(users))
	for _, i := range users {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s", seed, splits[i].User)
		key[i] = h.Sum64()
	}
	slices.SortFunc(users, func(a, b int) int { return cmp.Compare(key[a], key[b]) })
	users = users[:limit]
	slices.Sort(users)
	return users
}

// userSamples labels one user's candidates.
func userSamples(sp UserSplit, cands []domain.Candidate, aff map[string]float64, refYear int, rng *rand.Rand, negPerPos int) []sample {
	history := map[int64]bool{}
	target := map[int64]domain.Event{}
	for _, e := range sp.Past() {
		history[e.ItemID] = true
	}
	for _, e := range sp.Future() {
		target[e.ItemID] = e
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(sp.User))
	holdout := h.Sum32()%10 == 0
	var samples []sample
	var negs []domain.Candidate
	for i := range cands {
		cand := &cands[i]
		if e, ok := target[cand.ID]; ok {
			s := sample{x: make([]float64, ranking.NumFeatures), click: 1, rated: e.Type == "rating", holdout: holdout}
			ranking.FeatureVector(s.x, aff, cand, refYear)
			if e.Value >= 4 {
				s.like = 1
			}
			samples = append(samples, s)
		} else if !history[cand.ID] {
			negs = append(negs, *cand)
		}
	}
	pos := len(samples)
	rng.Shuffle(len(negs), func(i, j int) { negs[i], negs[j] = negs[j], negs[i] })
	for _, cand := range negs[:min(len(negs), max(10, pos*negPerPos))] {
		s := sample{x: make([]float64, ranking.NumFeatures), holdout: holdout}
		ranking.FeatureVector(s.x, aff, &cand, refYear)
		samples = append(samples, s)
	}
	return samples
}

// fitObjectives standardises the samples (each user's, in users) and fits
// each objective on the training users, measuring its AUC on the held-out
// ones: a logistic regression, and for click, boosted trees on top of it
// with o.Fit.ClickLoss (LambdaRank ranks each user's candidates). Trees on
// like gained nothing on the validation slice and would double the
// serving cost. Each objective is then calibrated (Platt scaling on its
// training samples: on held-out users instead it ranked the same), since
// fusion multiplies the probabilities.
func fitObjectives(users [][]sample, refYear int, o TrainOptions) (*ranking.Model, error) {
	names, cols := modelFeatures(o.Fit.Features)
	var train [][]float64
	n := 0
	for _, u := range users {
		for i := range u {
			s := &u[i]
			x := make([]float64, len(cols))
			for k, c := range cols {
				x[k] = s.x[c]
			}
			s.x = x
			if !s.holdout {
				train = append(train, s.x)
			}
		}
		n += len(u)
	}
	o.say("%d samples of %d users; fitting click and like objectives", n, len(users))
	mean, std := ranking.MeanStd(train)
	m := &ranking.Model{Features: names, Mean: mean, Std: std, RefYear: refYear,
		Objectives: map[string]ranking.Objective{}, DefaultWeights: map[string]float64{ranking.ObjectiveClick: 1, ranking.ObjectiveLike: 0.3}, Metrics: map[string]float64{}}
	for _, u := range users {
		for _, s := range u {
			for i := range s.x {
				s.x[i] = (s.x[i] - mean[i]) / std[i]
			}
		}
	}
	for _, obj := range []struct {
		name  string
		use   func(sample) bool
		label func(sample) float64
	}{
		{ranking.ObjectiveClick, func(sample) bool { return true }, func(s sample) float64 { return s.click }},
		{ranking.ObjectiveLike, func(s sample) bool { return s.click == 1 && s.rated }, func(s sample) float64 { return s.like }},
	} {
		var xs, hx [][]float64
		var ys, hy []float64
		var groups [][2]int
		for _, u := range users {
			lo := len(xs)
			for _, s := range u {
				if !obj.use(s) {
					continue
				}
				if s.holdout {
					hx, hy = append(hx, s.x), append(hy, obj.label(s))
				} else {
					xs, ys = append(xs, s.x), append(ys, obj.label(s))
				}
			}
			if len(xs) > lo {
				groups = append(groups, [2]int{lo, len(xs)})
			}
		}
		l := ranking.Fit(xs, ys, o.Fit)
		if obj.name == ranking.ObjectiveClick && o.Fit.Trees.Trees > 0 && len(xs) > 0 {
			init := make([]float64, len(xs))
			for i, x := range xs {
				init[i] = l.Logit(x) // the regression's log-odds: the trees start from it
			}
			var loss ranking.Loss = ranking.LogLoss{Labels: ys}
			if o.Fit.ClickLoss == ranking.LossLambdaRank {
				loss = ranking.LambdaRank{Labels: ys, Groups: groups}
			}
			to := o.Fit.Trees
			to.Seed = o.Seed
			l.Trees = ranking.FitTrees(xs, loss, groups, init, to)
		}
		zs := make([]float64, len(xs))
		for i, x := range xs {
			zs[i] = l.Logit(x)
		}
		l.Scale, l.Shift = ranking.Calibrate(zs, ys)
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

// modelFeatures are the features a model is fitted on (all when want is
// empty) and their positions in the full vector, in its order.
func modelFeatures(want []string) (names []string, cols []int) {
	for i, f := range ranking.FeatureNames() {
		if len(want) == 0 || slices.Contains(want, f) {
			names, cols = append(names, f), append(cols, i)
		}
	}
	return names, cols
}

// newestSeen is what the gateway sends recall as the user's seen set: the
// newest recallapi.MaxSeen of the items in seen (oldest first), so that
// channels fill their quotas with items the filter will keep.
func newestSeen(seen []int64) []int64 { return seen[max(0, len(seen)-recallapi.MaxSeen):] }

// userQuery is what the features service would serve for a user whose
// history is past: the newest interactions first, and genre affinity over
// the same window the service uses.
func userQuery(past []domain.Event, catalogue map[int64]domain.Item) recallapi.Query {
	d := features.DefaultOptions()
	window := RecentFirst(past, d.AffinityWindow)
	return recallapi.Query{Recent: window[:min(d.RecentLimit, len(window))], Affinity: features.GenreAffinity(window, catalogue)}
}
