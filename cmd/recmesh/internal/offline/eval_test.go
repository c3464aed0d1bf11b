package offline

import (
	"context"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall"
)

// TestEvaluationDoesNotLeakTheFuture proves the training set holds no test
// interaction and, per user, the training part precedes every test
// event in the documented order (time, then item id).
func TestEvaluationDoesNotLeakTheFuture(t *testing.T) {
	_, events := synthetic()
	// Ties at the cut are broken by item id, so the split depends on the data only.
	events = append(events, domain.Event{UserID: "u1", ItemID: 6, Type: "click", Value: 1, TS: 2000},
		domain.Event{UserID: "u1", ItemID: 5, Type: "click", Value: 1, TS: 2000})
	n := map[string]int{}
	for _, e := range events {
		n[e.UserID]++
	}
	o := DefaultEvalOptions()
	data, err := PrepareEval(slices.Clone(events), o)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		user string
		item int64
		ts   int64
	}
	train := map[key]bool{}
	for _, e := range data.Train {
		train[key{e.UserID, e.ItemID, e.TS}] = true
	}
	tested := 0
	for _, sp := range data.Splits {
		if !sp.Tested() {
			continue
		}
		tested++
		if want := HeldOut(n[sp.User], o.TestShare, o.MinEvents); len(sp.Future()) != want {
			t.Errorf("user %s: %d test events of %d, want %d", sp.User, len(sp.Future()), n[sp.User], want)
		}
		last := sp.Past()[len(sp.Past())-1]
		for _, e := range sp.Future() {
			if timeOrder(e, last) <= 0 {
				t.Errorf("user %s: test event %+v does not follow the training part's last %+v", sp.User, e, last)
			}
			if train[key{e.UserID, e.ItemID, e.TS}] {
				t.Errorf("test event %+v is in the training set", e)
			}
		}
		if sp.User == "u1" && sp.Future()[len(sp.Future())-1].ItemID != 6 {
			t.Errorf("u1's newest test event is %+v; ties at a second go by item id, so item 6 is last", sp.Future()[len(sp.Future())-1])
		}
	}
	if tested == 0 || tested != data.Report.Tested {
		t.Fatalf("%d users split, the report says %d", tested, data.Report.Tested)
	}
	if len(data.Train)+data.Report.TestEvents != len(events) || data.Report.TrainEvents != len(data.Train) {
		t.Errorf("report %+v does not add up to %d events", data.Report, len(events))
	}
}

func TestHeldOutIsAFixedShare(t *testing.T) {
	for _, c := range []struct{ n, want int }{{4, 0}, {5, 1}, {7, 2}, {10, 2}, {11, 3}, {100, 20}} {
		if got := HeldOut(c.n, 0.2, 5); got != c.want {
			t.Errorf("HeldOut(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// Users below MinEvents are reported, not silently dropped.
func TestSplitReportsUsersWithTooFewEvents(t *testing.T) {
	_, events := synthetic()
	events = append(events, domain.Event{UserID: "few", ItemID: 1, Type: "click", Value: 1, TS: 5},
		domain.Event{UserID: "few", ItemID: 2, Type: "click", Value: 1, TS: 6})
	data, err := PrepareEval(events, DefaultEvalOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r := data.Report; r.TooFew != 1 || r.Tested != r.Users-1 || !strings.Contains(r.String(), "1 with too few") {
		t.Errorf("report %+v (%s): want the one short user counted", r, r)
	}
}

func TestGlobalSplitCutsEveryoneAtOneTime(t *testing.T) {
	_, events := synthetic()
	// One user seen only after the cut-off and one only before it.
	events = append(events, domain.Event{UserID: "late", ItemID: 1, Type: "click", Value: 1, TS: 9000},
		domain.Event{UserID: "early", ItemID: 2, Type: "click", Value: 1, TS: 1})
	o := DefaultEvalOptions()
	o.Split = SplitGlobal
	cut := TimeQuantile(events, o.TestShare)
	data, err := PrepareEval(slices.Clone(events), o)
	if err != nil {
		t.Fatal(err)
	}
	r := data.Report
	if r.Cutoff != cut || r.NoHistory != 1 || r.NoFuture < 1 || r.Tested == 0 || r.Tested+r.NoHistory+r.NoFuture != r.Users {
		t.Fatalf("report %+v; cut-off want %d", r, cut)
	}
	for _, e := range data.Train {
		if e.TS >= cut {
			t.Fatalf("training event %+v is at or after the cut-off %d", e, cut)
		}
	}
	for _, sp := range data.Splits {
		for _, e := range sp.Future() {
			if e.TS < cut {
				t.Fatalf("test event %+v is before the cut-off %d", e, cut)
			}
		}
	}
	o.Split = "sideways"
	if _, err := PrepareEval(events, o); err == nil {
		t.Error("an unknown split was accepted")
	}
}

// The validation slice is carved from the training part: no test event
// is in it, training or held out.
func TestValidationNeverReadsTheTest(t *testing.T) {
	_, events := synthetic()
	for _, split := range []string{SplitPerUser, SplitGlobal} {
		o := DefaultEvalOptions()
		o.Split = split
		test, err := PrepareEval(slices.Clone(events), o)
		if err != nil {
			t.Fatal(err)
		}
		trained := map[domain.Event]bool{}
		for _, e := range test.Train {
			trained[e] = true
		}
		o.Validation = true
		val, err := PrepareEval(slices.Clone(events), o)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, sp := range val.Splits {
			for _, e := range append(slices.Clone(sp.Past()), sp.Future()...) {
				if !trained[e] {
					t.Fatalf("%s split: validation reads %+v, which is not in the training part", split, e)
				}
				seen++
			}
		}
		if seen != len(test.Train) || val.Report.Tested == 0 {
			t.Errorf("%s split: validation covers %d events of the %d training ones, scores %d users", split, seen, len(test.Train), val.Report.Tested)
		}
	}
}

func TestScore(t *testing.T) {
	c := func(ids ...int64) []domain.Candidate {
		out := make([]domain.Candidate, len(ids))
		for i, id := range ids {
			out[i].ID = id
		}
		return out
	}
	tests := []struct {
		name       string
		list       []domain.Candidate
		relevant   []int64
		ndcg1, hr  float64
		ndcg3, rec float64
	}{
		{"first is the only relevant", c(1, 2, 3), []int64{1}, 1, 1, 1, 1},
		{"hit at 2", c(9, 1, 3), []int64{1}, 0, 1, 1 / math.Log2(3), 1},
		{"two relevant, one found at 3", c(7, 8, 2), []int64{2, 5}, 0, 1, (1 / math.Log2(4)) / (1 + 1/math.Log2(3)), 0.5},
		{"miss", c(7, 8, 9), []int64{1}, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := MethodResult{NDCG: make([]float64, 4)}
			rel := map[int64]bool{}
			for _, id := range tt.relevant {
				rel[id] = true
			}
			score(tt.list, rel, 3).addTo(&r, map[int64]bool{})
			for name, got := range map[string][2]float64{"NDCG@1": {r.NDCG[1], tt.ndcg1}, "NDCG@3": {r.NDCG[3], tt.ndcg3}, "HR": {r.HR10, tt.hr}, "recall": {r.RecallMax, tt.rec}} {
				if math.Abs(got[0]-got[1]) > 1e-9 {
					t.Errorf("%s = %v, want %v", name, got[0], got[1])
				}
			}
		})
	}
}

func TestEvaluateRunsEveryMethod(t *testing.T) {
	items, events := synthetic()
	o := DefaultEvalOptions()
	data, err := PrepareEval(events, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(context.Background(), items, data, o)
	if err != nil {
		t.Fatal(err)
	}
	table := SummaryTable(Summarise([][]MethodResult{res}), o.MaxK)
	for _, m := range append(recall.OfflineChannelNames(), MethodRecallUnion, MethodPipeline) {
		if !strings.Contains(table, "| "+m+" |") {
			t.Errorf("table lacks %s:\n%s", m, table)
		}
	}
	for _, r := range res {
		if r.NDCG[10] < 0 || r.NDCG[10] > 1 || r.HR10 < 0 || r.HR10 > 1 || r.Coverage <= 0 {
			t.Errorf("%s: implausible scores %+v", r.Name, r)
		}
		if len(r.UserNDCG10) != data.Report.Tested || math.Abs(mean(r.UserNDCG10)-r.NDCG[10]) > 1e-9 || math.Abs(mean(r.UserHR10)-r.HR10) > 1e-9 {
			t.Errorf("%s: %d per-user scores with mean %v, %v; want %d averaging to %v, %v", r.Name, len(r.UserNDCG10), mean(r.UserNDCG10), mean(r.UserHR10), data.Report.Tested, r.NDCG[10], r.HR10)
		}
	}
	if svg := PlotNDCG(res); !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<polyline") != len(res) {
		t.Errorf("plot has %d lines for %d methods", strings.Count(svg, "<polyline"), len(res))
	}
}

// SplitByUser works in place: each split must still be exactly its user's
// events, in time order, and past all the pasts.
func TestSplitIsEachUsersHistoryInTimeOrder(t *testing.T) {
	_, events := synthetic()
	want := map[string]int{}
	for _, e := range events {
		want[e.UserID]++
	}
	splits, past := SplitByUser(slices.Clone(events), 0.2, 5)
	if len(splits) != len(want) {
		t.Fatalf("%d splits for %d users", len(splits), len(want))
	}
	var pasts []domain.Event
	for i, sp := range splits {
		if i > 0 && splits[i-1].User >= sp.User {
			t.Fatalf("splits out of user order at %d", i)
		}
		all := append(slices.Clone(sp.Past()), sp.Future()...)
		if len(all) != want[sp.User] {
			t.Errorf("user %s: %d events in the split, %d in the log", sp.User, len(all), want[sp.User])
		}
		for k, e := range all {
			if e.UserID != sp.User || (k > 0 && e.TS < all[k-1].TS) {
				t.Fatalf("user %s: event %d (%+v) is another user's or out of time order", sp.User, k, e)
			}
		}
		pasts = append(pasts, sp.Past()...)
	}
	if !slices.Equal(pasts, past) {
		t.Error("past is not every user's past in order")
	}
}

// Evaluate trains on its data's past; the splits it then scores are views
// of the same events, so training must not move them.
func TestEvaluateLeavesItsDataAlone(t *testing.T) {
	items, events := synthetic()
	o := DefaultEvalOptions()
	data, err := PrepareEval(events, o)
	if err != nil {
		t.Fatal(err)
	}
	var before [][]domain.Event
	for _, sp := range data.Splits {
		before = append(before, slices.Clone(sp.Past()), slices.Clone(sp.Future()))
	}
	if _, err = Evaluate(context.Background(), items, data, o); err != nil {
		t.Fatal(err)
	}
	for i, sp := range data.Splits {
		if !slices.Equal(sp.Past(), before[2*i]) || !slices.Equal(sp.Future(), before[2*i+1]) {
			t.Fatalf("user %s's split changed during Evaluate", sp.User)
		}
	}
}

func mean(xs []float64) float64 { return statOf(xs).Mean }

// Users are scored on every core; the results must not depend on how many.
func TestEvaluateIsTheSameOnAnyCores(t *testing.T) {
	items, events := synthetic()
	o := DefaultEvalOptions()
	run := func(procs int) []MethodResult {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		data, err := PrepareEval(slices.Clone(events), o)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Evaluate(context.Background(), items, data, o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	one, four := run(1), run(4)
	if !reflect.DeepEqual(one, four) {
		t.Errorf("on 1 core:\n%+v\non 4:\n%+v", one, four)
	}
}
