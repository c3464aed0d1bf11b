package offline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// EvalOptions tune `recmesh eval`.
type EvalOptions struct {
	Train TrainOptions
	// Split is SplitPerUser (each user's newest TestShare are the test) or
	// SplitGlobal (every event at or after Cutoff is).
	Split string
	// TestShare of each user's newest interactions is the test set
	// (per-user split); with the global split and no Cutoff, the cut-off
	// is the time after which TestShare of all events lie.
	TestShare float64
	// Cutoff is the global split's cut-off (Unix seconds); 0 takes the
	// TestShare quantile.
	Cutoff int64
	// Validation evaluates on a slice carved from the training part only
	// (split again the same way) and never reads the test part: the
	// slice hyperparameters are chosen on.
	Validation bool
	// MinEvents a user needs to be evaluated (per-user split).
	MinEvents int
	// MaxK is the longest list scored (NDCG@1..MaxK, Recall@MaxK).
	MaxK int
	// Variants are extra pipeline rows, one per named set of fusion weights.
	Variants []WeightVariant
}

// The splits of EvalOptions.Split.
const (
	SplitPerUser = "user"
	SplitGlobal  = "global"
)

// WeightVariant is a named set of ranking fusion weights, such as an
// experiment arm's.
type WeightVariant struct {
	Name    string
	Weights map[string]float64
}

// DefaultEvalOptions hold out each user's newest 20% and score lists of 50.
func DefaultEvalOptions() EvalOptions {
	o := EvalOptions{Train: DefaultTrainOptions(), Split: SplitPerUser, TestShare: 0.2, MinEvents: 5, MaxK: 50}
	o.Train.Job = "eval"
	return o
}

// MethodResult is one method's scores, averaged over evaluated users.
type MethodResult struct {
	Name string
	// NDCG[k] is NDCG@k for k = 1..MaxK (NDCG[0] is unused).
	NDCG []float64
	HR10 float64
	// RecallMax is Recall@MaxK: the share of a user's test items in the list.
	RecallMax float64
	// Coverage is the share of the catalogue appearing in some top-10 list.
	Coverage float64
	// UserNDCG10 and UserHR10 are each tested user's scores, in the
	// order of EvalData.Splits: what a paired test compares.
	UserNDCG10, UserHR10 []float64
}

// EvalData is the split an evaluation trains and tests on.
type EvalData struct {
	Splits []UserSplit
	// Train is every user's past: the only events the models are fitted on.
	Train  []domain.Event
	Report SplitReport
}

// SplitReport says what a split did with the users and events.
type SplitReport struct {
	Split string
	// Validation is set when the split was carved from training only.
	Validation bool
	Users      int
	// Tested users have a past and a future: they are scored.
	Tested int
	// TooFew users (per-user split) had fewer than MinEvents: all their
	// events are training, none is scored.
	TooFew int
	// NoHistory users (global split) first appear after the cut-off:
	// nothing personal can be recommended, so they are not scored.
	NoHistory int
	// NoFuture users (global split) have nothing after the cut-off.
	NoFuture int
	// Cutoff is the global split's cut-off (Unix seconds).
	Cutoff                  int64
	TrainEvents, TestEvents int
}

// PrepareEval splits events (in place) by o.Split: per user by time, or
// globally at a cut-off; with o.Validation, the training part is split
// again the same way and the test part is dropped.
func PrepareEval(events []domain.Event, o EvalOptions) (EvalData, error) {
	split := func(evs []domain.Event) ([]UserSplit, []domain.Event, int64, error) {
		switch o.Split {
		case SplitPerUser, "":
			s, p := SplitByUser(evs, o.TestShare, o.MinEvents)
			return s, p, 0, nil
		case SplitGlobal:
			cut := o.Cutoff
			if cut == 0 || o.Validation {
				cut = TimeQuantile(evs, o.TestShare)
			}
			s, p := SplitByTime(evs, cut)
			return s, p, cut, nil
		}
		return nil, nil, 0, fmt.Errorf("eval: split %q: want %s or %s", o.Split, SplitPerUser, SplitGlobal)
	}
	if o.TestShare <= 0 || o.TestShare >= 1 {
		return EvalData{}, fmt.Errorf("eval: test share %v: want within (0, 1)", o.TestShare)
	}
	splits, past, cut, err := split(events)
	if err != nil {
		return EvalData{}, err
	}
	if o.Validation {
		// Only training events are split again; a global cut-off moves to
		// the same quantile of the training part's times.
		if splits, past, cut, err = split(past); err != nil {
			return EvalData{}, err
		}
	}
	r := SplitReport{Split: cmp.Or(o.Split, SplitPerUser), Validation: o.Validation, Users: len(splits), Cutoff: cut, TrainEvents: len(past)}
	for _, sp := range splits {
		switch {
		case sp.Tested():
			r.Tested++
			r.TestEvents += len(sp.Future())
		case r.Split == SplitPerUser:
			r.TooFew++
		case len(sp.Past()) == 0:
			r.NoHistory++
		default:
			r.NoFuture++
		}
	}
	return EvalData{Splits: splits, Train: past, Report: r}, nil
}

// String says in one line what the split did.
func (r SplitReport) String() string {
	what := "test"
	if r.Validation {
		what = "validation (carved from training; test unread)"
	}
	s := fmt.Sprintf("%s split, %s: %d users, %d scored", r.Split, what, r.Users, r.Tested)
	switch r.Split {
	case SplitPerUser:
		s += fmt.Sprintf(", %d with too few interactions (training only)", r.TooFew)
	case SplitGlobal:
		s += fmt.Sprintf(" (cut-off %s), %d first seen after it (not scored), %d with nothing after it (training only)",
			time.Unix(r.Cutoff, 0).UTC().Format(time.DateOnly), r.NoHistory, r.NoFuture)
	}
	return s + fmt.Sprintf("; %d training and %d scored test events", r.TrainEvents, r.TestEvents)
}

// The method names, as in the table. Before them, every recall channel
// measurable offline has a row named after the channel
// (recall.OfflineChannelNames: fresh and category need the live catalogue
// and a request's categories).
const (
	MethodRecallUnion = "recall-union"
	MethodPipeline    = "pipeline"
)

// method produces a user's ranked list with the services' own code.
type method struct {
	name string
	list func(ctx context.Context, user string, q recallapi.Query, seen []int64) ([]domain.Candidate, error)
}

// Evaluate fits the models on the training part only, then asks every
// method for each test user's list through the same code the services run
// (recall.Recaller, filter.Apply, ranking.Ranker) and scores it against the
// user's held-out interactions.
func Evaluate(ctx context.Context, items []domain.Item, data EvalData, o EvalOptions) ([]MethodResult, error) {
	if o.Train.started.IsZero() {
		o.Train.started = time.Now()
	}
	o.Train.say("%s", data.Report)
	a, err := Fit(ctx, items, slices.Clone(data.Train), o.Train) // Fit reorders what it is given; the splits are views of data.Train
	if err != nil {
		return nil, err
	}
	methods := evalMethods(&a, o.Variants)
	results := make([]MethodResult, len(methods))
	shown := make([]map[int64]bool, len(methods))
	for i, m := range methods {
		results[i] = MethodResult{Name: m.name, NDCG: make([]float64, o.MaxK+1)}
		shown[i] = map[int64]bool{}
	}
	catalogue := make(map[int64]domain.Item, len(items))
	for _, it := range items {
		catalogue[it.ID] = it
	}
	var tested []int
	for i, sp := range data.Splits {
		if sp.Tested() {
			tested = append(tested, i)
		}
	}
	users := len(tested)
	if users == 0 {
		return nil, fmt.Errorf("eval: no user has both a history and held-out interactions (%s)", data.Report)
	}
	// Users are scored on every core a chunk at a time, and each chunk is
	// added in user order, so the sums do not depend on the cores.
	const chunk = 1000
	every := max(100, users/20)
	scores := make([][]userScore, min(chunk, users))
	var done atomic.Int64
	for lo := 0; lo < users; lo += chunk {
		n := min(chunk, users-lo)
		errs := make([]error, n)
		if err := parallel(ctx, n, func(k int) {
			scores[k], errs[k] = evalUser(ctx, data.Splits[tested[lo+k]], catalogue, methods, o.MaxK)
			if d := done.Add(1); d%int64(every) == 0 {
				o.Train.say("scored %d of %d users", d, users)
			}
		}); err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for _, u := range scores[:n] {
			for i, s := range u {
				s.addTo(&results[i], shown[i])
			}
		}
	}
	for i := range results {
		r := &results[i]
		for k := range r.NDCG {
			r.NDCG[k] /= float64(users)
		}
		r.HR10 /= float64(users)
		r.RecallMax /= float64(users)
		r.Coverage = float64(len(shown[i])) / float64(len(items))
	}
	return results, nil
}

// evalMethods are the rows of the table: every registered recall channel
// alone, their union, the pipeline, and the pipeline with each variant's
// weights, all through the services' own code.
func evalMethods(a *Artifacts, variants []WeightVariant) []method {
	recaller := recall.New(recall.NewIndex("eval", a.Index))
	a.Model.Version = "eval"
	ranker := ranking.New(a.Model)
	candidates := func(only map[string]int) func(context.Context, string, recallapi.Query, []int64) ([]domain.Candidate, error) {
		return func(ctx context.Context, user string, q recallapi.Query, seen []int64) ([]domain.Candidate, error) {
			resp, err := recaller.Recall(ctx, recallapi.Request{UserID: user, Query: q, Quotas: only, OnlyQuotas: only != nil, Seen: newestSeen(seen)})
			if err != nil {
				return nil, err
			}
			return filterapi.Apply(resp.Candidates, filterapi.Rules{Seen: seen}).Kept, nil
		}
	}
	union := candidates(nil)
	pipeline := func(weights map[string]float64) func(context.Context, string, recallapi.Query, []int64) ([]domain.Candidate, error) {
		return func(ctx context.Context, user string, q recallapi.Query, seen []int64) ([]domain.Candidate, error) {
			kept, err := union(ctx, user, q, seen)
			if err != nil {
				return nil, err
			}
			resp, err := ranker.Rank(ctx, rankingapi.Request{Affinity: q.Affinity, Candidates: kept, Weights: weights})
			return resp.Ranked, err
		}
	}
	var methods []method
	for _, ch := range recall.OfflineChannelNames() {
		methods = append(methods, method{ch, candidates(map[string]int{ch: 500})})
	}
	methods = append(methods, method{MethodRecallUnion, union}, method{MethodPipeline, pipeline(nil)})
	for _, v := range variants {
		methods = append(methods, method{MethodPipeline + ":" + v.Name, pipeline(v.Weights)})
	}
	return methods
}

// evalUser asks every method for one user's list and scores it.
func evalUser(ctx context.Context, sp UserSplit, catalogue map[int64]domain.Item, methods []method, maxK int) ([]userScore, error) {
	q := userQuery(sp.Past(), catalogue)
	seen := sp.PastItems()
	relevant := map[int64]bool{}
	for _, e := range sp.Future() {
		relevant[e.ItemID] = true
	}
	out := make([]userScore, len(methods))
	for i, m := range methods {
		list, err := m.list(ctx, sp.User, q, seen)
		if err != nil {
			return nil, fmt.Errorf("eval %s for user %s: %w", m.name, sp.User, err)
		}
		out[i] = score(list[:min(len(list), maxK)], relevant, maxK)
	}
	return out, nil
}

// userScore is one method's list for one user, scored.
type userScore struct {
	ndcg      []float64 // NDCG@k for k = 1..maxK (ndcg[0] unused)
	hr10      float64
	recallMax float64
	top10     []int64
}

// score scores one user's list: NDCG@k with binary relevance for every k,
// a hit in the top 10, and the share of relevant items in the list.
func score(list []domain.Candidate, relevant map[int64]bool, maxK int) userScore {
	u := userScore{ndcg: make([]float64, maxK+1)}
	dcg, idcg := 0.0, 0.0
	hits, hitsTop10 := 0, 0
	for k := 1; k <= maxK; k++ {
		if k <= len(relevant) {
			idcg += 1 / math.Log2(float64(k)+1)
		}
		if k <= len(list) && relevant[list[k-1].ID] {
			dcg += 1 / math.Log2(float64(k)+1)
			hits++
			if k <= 10 {
				hitsTop10++
			}
		}
		u.ndcg[k] = dcg / idcg
	}
	u.hr10 = float64(min(1, hitsTop10))
	u.recallMax = float64(hits) / float64(len(relevant))
	for _, c := range list[:min(len(list), 10)] {
		u.top10 = append(u.top10, c.ID)
	}
	return u
}

// addTo adds the user's scores to r's sums and per-user lists, and the
// items shown in their top 10 to shown.
func (u userScore) addTo(r *MethodResult, shown map[int64]bool) {
	for k := 1; k < len(u.ndcg); k++ {
		r.NDCG[k] += u.ndcg[k]
	}
	r.HR10 += u.hr10
	r.RecallMax += u.recallMax
	r.UserNDCG10 = append(r.UserNDCG10, u.ndcg[min(10, len(u.ndcg)-1)])
	r.UserHR10 = append(r.UserHR10, u.hr10)
	for _, id := range u.top10 {
		shown[id] = true
	}
}

// Table renders the results as a markdown table.
func Table(results []MethodResult, maxK int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| method | NDCG@10 | HR@10 | Recall@%d | coverage@10 |\n|---|---|---|---|---|\n", maxK)
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %.4f |\n", r.Name, r.NDCG[10], r.HR10, r.RecallMax, r.Coverage)
	}
	return b.String()
}
