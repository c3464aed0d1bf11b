package offline

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/recall"
)

// TestEvaluationDoesNotLeakTheFuture proves the training set holds no test
// interaction and, per user, the training cut-off precedes every test one.
func TestEvaluationDoesNotLeakTheFuture(t *testing.T) {
	_, events := synthetic()
	// Ties at the cut must stay on one side.
	events = append(events, domain.Event{UserID: "u1", ItemID: 5, Type: "click", Value: 1, TS: 2000},
		domain.Event{UserID: "u1", ItemID: 6, Type: "click", Value: 1, TS: 2000})
	data := PrepareEval(events, DefaultEvalOptions())
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
		if len(sp.Future()) == 0 {
			continue
		}
		tested++
		cutoff := sp.Past()[len(sp.Past())-1].TS
		for _, e := range sp.Future() {
			if e.TS < cutoff {
				t.Errorf("user %s: test event at %d precedes the training cut-off %d", sp.User, e.TS, cutoff)
			}
			if e.TS == cutoff {
				t.Errorf("user %s: an event at the cut-off %d is on both sides", sp.User, cutoff)
			}
			if train[key{e.UserID, e.ItemID, e.TS}] {
				t.Errorf("test event %+v is in the training set", e)
			}
		}
	}
	if tested == 0 {
		t.Fatal("no user was split")
	}
	if len(data.Train) >= len(events) {
		t.Errorf("training set has %d of %d events: nothing was held out", len(data.Train), len(events))
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
			score(&r, tt.list, rel, 3)
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
	res, err := Evaluate(context.Background(), items, PrepareEval(events, o), o)
	if err != nil {
		t.Fatal(err)
	}
	table := Table(res, o.MaxK)
	for _, m := range append(recall.OfflineChannelNames(), MethodRecallUnion, MethodPipeline) {
		if !strings.Contains(table, "| "+m+" |") {
			t.Errorf("table lacks %s:\n%s", m, table)
		}
	}
	for _, r := range res {
		if r.NDCG[10] < 0 || r.NDCG[10] > 1 || r.HR10 < 0 || r.HR10 > 1 || r.Coverage <= 0 {
			t.Errorf("%s: implausible scores %+v", r.Name, r)
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
	data := PrepareEval(events, o)
	var before [][]domain.Event
	for _, sp := range data.Splits {
		before = append(before, slices.Clone(sp.Past()), slices.Clone(sp.Future()))
	}
	if _, err := Evaluate(context.Background(), items, data, o); err != nil {
		t.Fatal(err)
	}
	for i, sp := range data.Splits {
		if !slices.Equal(sp.Past(), before[2*i]) || !slices.Equal(sp.Future(), before[2*i+1]) {
			t.Fatalf("user %s's split changed during Evaluate", sp.User)
		}
	}
}
