package gateway

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

func TestLadder(t *testing.T) {
	for _, tt := range []struct {
		pipeline, all, overflow float64
		want                    []Rung
	}{
		{0.5, 0.5, 0, []Rung{RungFull}},
		{1, 1, 0, []Rung{RungFull}},
		{1.1, 1.1, 0, []Rung{RungFull, RungSkipRanking}},
		{1.25, 1.3, 0.05, []Rung{RungSkipRanking}},
		{1.3, 1.4, 0, []Rung{RungPopular}},
		{1, 1.9, 0.5, []Rung{RungFull}},
		// An overload past what skipping ranking absorbs: whole or popular.
		{1.1, 1.2, 0.1, []Rung{RungPopular}},
		{1.25, 1.5, 0.8, []Rung{RungPopular}},
		{1.5, 2, 0.8, []Rung{RungPopular}},
		{0.5, 2.1, 0, []Rung{RungRefuse}},
		{1.5, 2.5, 0.9, []Rung{RungRefuse}},
	} {
		seen := map[Rung]bool{}
		for range 2000 {
			seen[ladder(tt.pipeline, tt.all, tt.overflow)] = true
		}
		for _, r := range tt.want {
			if !seen[r] {
				t.Errorf("%+v never gave %s", tt, r)
			}
		}
		if len(seen) != len(tt.want) {
			t.Errorf("%+v gave %v, want only %v", tt, seen, tt.want)
		}
	}
}

func TestOverflowWindow(t *testing.T) {
	var w overflowWindow
	t0 := time.Unix(1000, 0)
	w.share(t0)
	for i := range 100 {
		arrive(&w, t0.Add(time.Duration(i)*time.Millisecond), i%4 == 0)
	}
	if got := w.share(t0.Add(500 * time.Millisecond)); got != 0 {
		t.Errorf("within the first window: %v, want 0 (no complete window yet)", got)
	}
	t1 := t0.Add(overflowEvery)
	if got := w.share(t1); got != 0.25 {
		t.Errorf("after the window: %v, want 0.25", got)
	}
	for range overflowMinArrivals - 1 {
		arrive(&w, t1, true)
	}
	if got := w.share(t1.Add(overflowEvery)); got != 0 {
		t.Errorf("a window of %d arrivals: %v, want 0 (too few to say)", overflowMinArrivals-1, got)
	}
	for range 50 {
		arrive(&w, t1.Add(overflowEvery), true)
	}
	if got := w.share(t1.Add(5 * overflowEvery)); got != 0 {
		t.Errorf("after a quiet spell: %v, want 0 (the last window is stale)", got)
	}
}

// arrive counts one arrival in w, overflowing or not.
func arrive(w *overflowWindow, now time.Time, over bool) {
	w.admit(now, func(float64) Rung {
		if over {
			return RungPopular
		}
		return RungFull
	})
}

// Past the limit, requests climb the ladder: while ranking holds the first
// ones, the next skip ranking or get the popular list; with more than twice
// the limit in flight (a gateway too busy to answer even those), requests
// are refused with 503; once the load is gone, requests run whole again.
func TestSheddingClimbsTheLadder(t *testing.T) {
	g, f := startWith(t, time.Minute)
	kinds := burst(t, g, f)
	if kinds["whole"] < initialLimit/2 || kinds["whole"] > 2*initialLimit || kinds["popular"] == 0 || kinds["skip_ranking"] == 0 {
		t.Errorf("%v: want whole answers up to about the limit, then answers without ranking, then popular lists", kinds)
	}
	if got := testutil.ToFloat64(g.shed.rungs[RungPopular]); int(got) != kinds["popular"] {
		t.Errorf("popular lists counted %v, seen %d", got, kinds["popular"])
	}
	g.shed.inflight.Add(2 * initialLimit) // as many again hang in the gateway itself
	if _, err := g.Recommend(context.Background(), Query{UserID: "no-list-yet", N: 10}); err != errOverloaded {
		t.Errorf("past twice the limit: %v, want the overload refusal", err)
	}
	g.shed.inflight.Add(-2 * initialLimit)
	if r, err := g.Recommend(context.Background(), Query{UserID: "u1", N: 10}); err != nil || len(r.Degraded) != 0 {
		t.Errorf("after the load: %+v, %v; want a whole answer", r.Degraded, err)
	}
	if p, all := g.shed.pipeline.Load(), g.shed.inflight.Load(); p != 0 || all != 0 {
		t.Errorf("after the load: %d in the pipeline, %d in flight; want 0 and 0", p, all)
	}
}

// Under an overload past what skipping ranking absorbs (most of the last
// second's arrivals overflowed), nobody skips ranking: the admitted run
// whole and the rest get the popular list.
func TestHeavyOverloadKeepsAdmittedAnswersWhole(t *testing.T) {
	g, f := startWith(t, time.Minute)
	g.shed.overflow.mu.Lock()
	g.shed.overflow.start, g.shed.overflow.last = time.Now(), 0.7
	g.shed.overflow.mu.Unlock()
	kinds := burst(t, g, f)
	if kinds["skip_ranking"] != 0 || kinds["popular"] == 0 || kinds["whole"] < initialLimit/2 {
		t.Errorf("%v: want whole answers and popular lists, none without ranking", kinds)
	}
}

// burst sends three times the initial limit of requests at once while
// ranking is held, lets ranking go once all past the gate answered, and
// counts the answers by kind: whole, skip_ranking, popular, refused.
func burst(t *testing.T, g *Gateway, f fakes) map[string]int {
	t.Helper()
	kinds, _ := burstUsers(t, g, f, 10)
	return kinds
}

// burstUsers is burst asking n items a request, with the users answered
// by each kind.
func burstUsers(t *testing.T, g *Gateway, f fakes, n int) (map[string]int, map[string][]string) {
	t.Helper()
	gate := make(chan struct{})
	f.rankGate.Store(&gate)
	defer f.rankGate.Store(nil)
	const requests = 3 * initialLimit
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds, users := map[string]int{}, map[string][]string{}
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A user each: one user's burst is one pipeline run (lists.go).
			user := fmt.Sprint("burst", i)
			r, err := g.Recommend(context.Background(), Query{UserID: user, N: n})
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
			users[kind] = append(users[kind], user)
			mu.Unlock()
		}()
		if i < initialLimit {
			time.Sleep(time.Millisecond) // the first ones are in flight before the rest arrive
		}
	}
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
	t.Logf("%d requests at once against a limit of %d: %v", requests, initialLimit, kinds)
	return kinds, users
}

// A user shed to the popular list gets their list built in the background
// (not shed itself, and bounded by the refresh tokens), so under a lasting
// overload their next request is a whole answer from the cache instead of
// the fallback again.
func TestShedUsersGetTheirListsBuilt(t *testing.T) {
	g, f := startWith(t, time.Minute)
	kinds, users := burstUsers(t, g, f, 1) // one item a page: the fakes' lists have a page left
	if kinds["popular"] == 0 {
		t.Fatalf("%v: no popular answers", kinds)
	}
	waitUntil(t, func() bool { return testutil.ToFloat64(g.lists.cache.RefreshedCounter()) >= 1 })
	time.Sleep(50 * time.Millisecond) // the second rebuild, if any
	hits := 0
	for _, u := range users["popular"] {
		calls := f.rankCalls.Load()
		r, err := g.Recommend(context.Background(), Query{UserID: u, N: 1})
		if err != nil || len(r.Degraded) != 0 {
			t.Fatalf("%s after the load: %+v, %v", u, r.Degraded, err)
		}
		if f.rankCalls.Load() == calls {
			hits++
		}
	}
	if hits == 0 || hits > maxRefreshes {
		t.Errorf("%d of %d shed users answered from a list built for them, want 1 to %d", hits, len(users["popular"]), maxRefreshes)
	}
}

// The popular rung serves the first n that pass the rules, in order, even
// when the prefix it looks at first does not hold n of them.
func TestFirstServableWidensUntilItHasN(t *testing.T) {
	g, _ := startWith(t, time.Minute)
	var cands []domain.Candidate
	var exclude []int64
	for id := int64(1); id <= 200; id++ {
		cands = append(cands, domain.Candidate{ID: id, Categories: []string{"Drama"}})
		if id <= 60 || id%2 == 0 {
			exclude = append(exclude, id) // the first 60 and every even one
		}
	}
	got := g.firstServable(cands, filterapi.Rules{Exclude: exclude}, 5)
	var ids []int64
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if want := []int64{61, 63, 65, 67, 69}; !slices.Equal(ids, want) {
		t.Errorf("first servable: %v, want %v", ids, want)
	}
	if got := g.firstServable(cands[:3], filterapi.Rules{}, 5); len(got) != 3 {
		t.Errorf("from a list of 3: %d, want all 3", len(got))
	}
	if got := g.firstServable(cands, filterapi.Rules{Exclude: exclude, Categories: []string{"Comedy"}}, 5); len(got) != 0 {
		t.Errorf("none passes: %d, want 0", len(got))
	}
}
