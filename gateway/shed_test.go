package gateway

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLadder(t *testing.T) {
	for _, tt := range []struct {
		ratio float64
		want  []Rung
	}{
		{0.5, []Rung{RungFull}},
		{1, []Rung{RungFull}},
		{1.25, []Rung{RungFull, RungSkipRanking}},
		{1.5, []Rung{RungSkipRanking}},
		{1.75, []Rung{RungPopular}},
		{2, []Rung{RungPopular}},
		{2.5, []Rung{RungRefuse}},
	} {
		seen := map[Rung]bool{}
		for range 2000 {
			seen[ladder(tt.ratio)] = true
		}
		for _, r := range tt.want {
			if !seen[r] {
				t.Errorf("ratio %.2f never gave %s", tt.ratio, r)
			}
		}
		if len(seen) != len(tt.want) {
			t.Errorf("ratio %.2f gave %v, want only %v", tt.ratio, seen, tt.want)
		}
	}
}

// Past the limit, requests climb the ladder: while ranking holds the first
// ones, the next skip ranking or get the popular list; with more than twice
// the limit in flight (a gateway too busy to answer even those), requests
// are refused with 503; once the load is gone, requests run whole again.
func TestSheddingClimbsTheLadder(t *testing.T) {
	g, f := startWith(t, time.Minute)
	gate := make(chan struct{})
	f.rankGate.Store(&gate)
	const n = 3 * initialLimit
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[string]int{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 10})
			kind := "whole"
			switch {
			case err != nil:
				kind = "refused"
			case slices.Contains(r.Degraded, DegradedShedPopular):
				kind = "popular"
			case slices.Contains(r.Degraded, DegradedShedRanking):
				kind = "skip_ranking"
			}
			mu.Lock()
			kinds[kind]++
			mu.Unlock()
		}()
		if i < initialLimit {
			time.Sleep(time.Millisecond) // the first ones are in flight before the rest arrive
		}
	}
	// Wait until every request past the gate answered, then let ranking go.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		answered := kinds["popular"] + kinds["skip_ranking"] + kinds["refused"]
		mu.Unlock()
		if answered > 0 && int(g.shed.inflight.Load()) <= initialLimit+answered {
			break
		}
	}
	close(gate)
	wg.Wait()
	t.Logf("%d requests at once against a limit of %d: %v", n, initialLimit, kinds)
	if kinds["whole"] < initialLimit/2 || kinds["whole"] > 2*initialLimit || kinds["popular"] == 0 || kinds["skip_ranking"] == 0 {
		t.Errorf("%v: want whole answers up to about the limit, then answers without ranking, then popular lists", kinds)
	}
	if got := testutil.ToFloat64(g.shed.rungs.WithLabelValues("popular")); int(got) != kinds["popular"] {
		t.Errorf("popular lists counted %v, seen %d", got, kinds["popular"])
	}
	f.rankGate.Store(nil)
	g.shed.inflight.Add(2 * initialLimit) // as many again hang in the gateway itself
	if _, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 10}); err != errOverloaded {
		t.Errorf("past twice the limit: %v, want the overload refusal", err)
	}
	g.shed.inflight.Add(-2 * initialLimit)
	if r, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 10}); err != nil || len(r.Degraded) != 0 {
		t.Errorf("after the load: %+v, %v; want a whole answer", r.Degraded, err)
	}
}
