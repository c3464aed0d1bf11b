package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/store"
)

// ExposureStore is a Store that keeps the exposure log.
type ExposureStore interface {
	store.Store
	store.ExposureLog
}

// RunExposures runs the exposure-log contract against stores made by
// newStore; each call must return an empty store.
func RunExposures(t *testing.T, newStore func(t *testing.T) ExposureStore) {
	ctx := context.Background()
	const t0 = int64(1_700_000_000_000) // ms
	arm := func(v string) []abtest.Assignment {
		return []abtest.Assignment{{Layer: "other", Experiment: "x", Variant: "y"}, {Layer: "rank", Experiment: "w", Variant: v}}
	}
	holdout := []abtest.Assignment{{Layer: abtest.HoldoutLayer, Experiment: abtest.HoldoutLayer, Variant: abtest.HoldoutLayer}}
	items := func(ids ...int64) []domain.ShownItem {
		out := make([]domain.ShownItem, len(ids))
		for i, id := range ids {
			out[i] = domain.ShownItem{ItemID: id, Score: float64(10 - i), Sources: []string{"popular"}}
		}
		return out
	}
	replies := []domain.ShownReply{
		{RequestID: "r1", TraceID: "t1", UserID: "u1", TSMillis: t0, ModelVersion: "v1", Assignments: arm("a"), Items: items(1, 2, 3)},
		{RequestID: "r2", TraceID: "t2", UserID: "u1", TSMillis: t0 + 60_000, Assignments: arm("a"), Items: items(1, 4)},
		{RequestID: "r3", UserID: "u2", TSMillis: t0, Degraded: []string{"ranking"}, Assignments: arm("b"), Items: items(1, 2)},
		{RequestID: "r4", UserID: "u3", TSMillis: t0, Assignments: holdout, Items: items(5)},
		{RequestID: "r5", UserID: "u4", TSMillis: t0, Assignments: arm("a")[:1], Items: items(6)}, // not in the experiment
	}
	sec := func(ms int64) int64 { return ms / 1000 }
	feedback := []domain.Event{
		// by request_id: the older reply's exposure of item 1, although r2 showed it later
		{UserID: "u1", ItemID: 1, Type: "click", Value: 1, TS: sec(t0) + 120, RequestID: "r1"},
		// no request_id: the latest exposure of item 2 within the window
		{UserID: "u1", ItemID: 2, Type: "like", Value: 1, TS: sec(t0) + 3600},
		{UserID: "u1", ItemID: 2, Type: "click", Value: 1, TS: sec(t0) + 3601},
		{UserID: "u1", ItemID: 2, Type: "click", Value: 1, TS: sec(t0) + 3602}, // a second click: still one clicked exposure
		// outside the 24 h window: not attributed
		{UserID: "u2", ItemID: 1, Type: "click", Value: 1, TS: sec(t0) + 25*3600},
		// an unknown request_id falls back to the window rule
		{UserID: "u2", ItemID: 2, Type: "click", Value: 1, TS: sec(t0) + 10, RequestID: "gone"},
		// a request_id of another user's reply is not theirs
		{UserID: "u3", ItemID: 1, Type: "click", Value: 1, TS: sec(t0) + 10, RequestID: "r1"},
		// before the exposure: not attributed
		{UserID: "u3", ItemID: 5, Type: "click", Value: 1, TS: sec(t0) - 10},
		{UserID: "u4", ItemID: 6, Type: "click", Value: 1, TS: sec(t0) + 1},
		// not feedback
		{UserID: "u1", ItemID: 3, Type: "rating", Value: 4, TS: sec(t0) + 5},
	}
	fill := func(t *testing.T) ExposureStore {
		s := newStore(t)
		if err := s.AppendExposures(ctx, replies); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendEvents(ctx, feedback); err != nil {
			t.Fatal(err)
		}
		return s
	}
	rule := store.Attribution{Window: 24 * time.Hour}

	t.Run("stats per arm at the user level", func(t *testing.T) {
		s := fill(t)
		got, err := s.ExposureStats(ctx, domain.ExposureQuery{Layer: "rank", Experiment: "w"}, rule)
		if err != nil {
			t.Fatal(err)
		}
		want := []domain.ArmStats{
			// u1: 5 exposures, 2 clicked (r1 item 1, r1 item 2), 1 liked
			{Arm: "a", Users: 1, Exposures: 5, Clicks: 2, Likes: 1, ExposuresSq: 25, ClicksSq: 4, LikesSq: 1, ExposuresClicks: 10, ExposuresLikes: 5},
			// u2: 2 exposures, 1 clicked (item 2 through the window)
			{Arm: "b", Users: 1, Exposures: 2, Clicks: 1, ExposuresSq: 4, ClicksSq: 1, ExposuresClicks: 2},
			// u3: held out, 1 exposure, no click
			{Arm: domain.HoldoutArm, Users: 1, Exposures: 1, ExposuresSq: 1},
		}
		if !sameArms(got, want) {
			t.Errorf("ExposureStats =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("since and window", func(t *testing.T) {
		s := fill(t)
		got, err := s.ExposureStats(ctx, domain.ExposureQuery{Layer: "rank", Experiment: "w", SinceMillis: t0 + 1}, rule)
		if err != nil {
			t.Fatal(err)
		}
		// r1 is before since, so its click falls back to the window rule
		// and lands on r2's later exposure of the same item
		want := []domain.ArmStats{{Arm: "a", Users: 1, Exposures: 2, Clicks: 1, ExposuresSq: 4, ClicksSq: 1, ExposuresClicks: 2}}
		if !sameArms(got, want) {
			t.Errorf("since: %+v, want %+v", got, want)
		}
		got, err = s.ExposureStats(ctx, domain.ExposureQuery{Layer: "rank", Experiment: "w"}, store.Attribution{Window: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		// a 1-minute window keeps only the request_id click and u2's click 10 s after
		if len(got) != 3 || got[0].Clicks != 1 || got[0].Likes != 0 || got[1].Clicks != 1 {
			t.Errorf("1-minute window: %+v", got)
		}
	})
	t.Run("unknown experiment and bad query", func(t *testing.T) {
		s := fill(t)
		got, err := s.ExposureStats(ctx, domain.ExposureQuery{Layer: "rank", Experiment: "nope"}, rule)
		if err != nil || len(got) != 1 || got[0].Arm != domain.HoldoutArm {
			t.Errorf("unknown experiment: %+v, %v; want the holdout arm only", got, err)
		}
		if _, err := s.ExposureStats(ctx, domain.ExposureQuery{}, rule); err == nil {
			t.Error("an empty query was accepted")
		}
	})
	t.Run("exposures are listed newest first, apart from interactions", func(t *testing.T) {
		s := fill(t)
		h, err := s.History(ctx, "u1", 10, 100)
		if err != nil {
			t.Fatal(err)
		}
		seen := slices.Clone(h.Seen)
		slices.Sort(seen)
		if !slices.Equal(seen, []int64{1, 2, 3}) { // item 4 was only shown
			t.Errorf("seen = %v, want [1 2 3]", seen)
		}
		if len(h.Exposures) != 5 || h.Exposures[0].TSMillis != t0+60_000 || h.Exposures[4].TSMillis != t0 {
			t.Errorf("exposures = %+v", h.Exposures)
		}
		if h.Count != 5 { // 4 feedback events and a rating; exposures are not interactions
			t.Errorf("count = %d, want 5", h.Count)
		}
	})
}

func sameArms(got, want []domain.ArmStats) bool {
	return slices.EqualFunc(got, want, func(a, b domain.ArmStats) bool { return a == b })
}
