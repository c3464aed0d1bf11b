package listcache

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/recmesh/recmesh/pkg/domain"
)

func list(ids ...int64) List {
	l := List{ModelVersion: "r1", Versions: "m1/r1", Scene: "home", Categories: []string{"Drama"}}
	for _, id := range ids {
		l.Items = append(l.Items, domain.Candidate{ID: id, Score: float64(100 - id)})
	}
	return l
}

func newCache(t *testing.T, s Store) (*Cache, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(Options{TTL: time.Minute, MaxBytes: 1 << 20, Store: s}, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, reg
}

func ids(items []domain.Candidate) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func counts(c *Cache) map[string]float64 {
	out := map[string]float64{}
	for _, r := range results {
		out[r] = testutil.ToFloat64(c.m.results[r])
	}
	return out
}

// Pages come from the list in rank order, each item once, skipping what
// the client excludes and what the catalogue does not admit; a page that
// cannot be filled is a miss that drops the list.
func TestTakeConsumesTheList(t *testing.T) {
	c, _ := newCache(t, nil)
	ctx := context.Background()
	c.Put("u", "k", list(1, 2, 3, 4, 5, 6, 7), []int64{1, 2})
	noFour := func(it *domain.Candidate) bool { return it.ID != 4 }
	p, ok := c.Take(ctx, Request{User: "u", Key: "k", Versions: "m1/r1", N: 2, Exclude: []int64{3}, Admit: noFour})
	if !ok || p.ModelVersion != "r1" || !slices.Equal(ids(p.Items), []int64{5, 6}) {
		t.Fatalf("page %v (ok %v, model %q), want [5 6]", ids(p.Items), ok, p.ModelVersion)
	}
	p, ok = c.Take(ctx, Request{User: "u", Key: "k", N: 1})
	if !ok || !slices.Equal(ids(p.Items), []int64{3}) {
		t.Fatalf("page %v, want [3]: excluded once is not served", ids(p.Items))
	}
	if _, ok := c.Take(ctx, Request{User: "u", Key: "k", N: 3}); ok {
		t.Fatal("a page of 3 from 2 unserved items")
	}
	if _, ok := c.Take(ctx, Request{User: "u", Key: "k", N: 1}); ok {
		t.Fatal("an exhausted list was kept")
	}
	if _, ok := c.Take(ctx, Request{User: "other", Key: "k", N: 1}); ok {
		t.Fatal("another user's lookup hit")
	}
	r := counts(c)
	if r["hit_l1"] != 2 || r["exhausted"] != 1 || r["miss"] != 2 {
		t.Fatalf("results %v", r)
	}
}

// A list built with other model versions is stale; versions not known yet
// accept any list.
func TestOtherModelVersionsAreStale(t *testing.T) {
	c, _ := newCache(t, nil)
	ctx := context.Background()
	c.Put("u", "k", list(1, 2, 3), nil)
	if _, ok := c.Take(ctx, Request{User: "u", Key: "k", N: 1}); !ok {
		t.Fatal("unknown versions refused the list")
	}
	if _, ok := c.Take(ctx, Request{User: "u", Key: "k", Versions: "m2/r1", N: 1}); ok {
		t.Fatal("a list of model m1 served at m2")
	}
	if got := counts(c)["stale"]; got != 1 {
		t.Fatalf("stale %v, want 1", got)
	}
	if _, ok := c.Take(ctx, Request{User: "u", Key: "k", N: 1}); ok {
		t.Fatal("the stale list was kept")
	}
}

// Two caches over one store are two gateway replicas: the second serves
// the first's list from the store, minus what the first served; a user's
// invalidation in one drops the list in the other's process.
func TestReplicasShareListsAndInvalidations(t *testing.T) {
	s := NewMemory()
	a, _ := newCache(t, s)
	b, _ := newCache(t, s)
	ctx := context.Background()
	a.Put("u", "k", list(1, 2, 3, 4), []int64{1})
	if _, ok := a.Take(ctx, Request{User: "u", Key: "k", N: 1}); !ok {
		t.Fatal("a's own list missed")
	}
	waitFor(t, func() bool { _, served, _, _ := s.Get(ctx, "u", "k"); return len(served) == 2 })
	p, ok := b.Take(ctx, Request{User: "u", Key: "k", N: 2})
	if !ok || !slices.Equal(ids(p.Items), []int64{3, 4}) {
		t.Fatalf("b served %v (ok %v), want [3 4]", ids(p.Items), ok)
	}
	if r := counts(b); r["hit_l2"] != 1 {
		t.Fatalf("b's results %v, want one hit_l2", r)
	}
	b.Put("v", "k", list(7, 8), nil)
	a.Invalidate(ctx, "v")
	waitFor(t, func() bool { _, ok := b.l1.GetIfPresent("v"); return !ok })
	if got := testutil.ToFloat64(b.m.invalidations.WithLabelValues("remote")); got != 1 {
		t.Fatalf("remote invalidations %v, want 1", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 2 s")
}

// Concurrent misses of one user and key run the build once.
func TestBuildRunsOncePerBurst(t *testing.T) {
	c, _ := newCache(t, nil)
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	var shared atomic.Int32
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, sh, _ := c.Build("u", "k", func() (any, error) {
				runs.Add(1)
				<-release
				return nil, nil
			})
			if sh {
				shared.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if runs.Load() != 1 || shared.Load() != 15 {
		t.Fatalf("%d runs, %d shared; want 1 and 15", runs.Load(), shared.Load())
	}
}

// The memory bound holds: lists past it are evicted and counted.
func TestMemoryBoundEvicts(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := New(Options{TTL: time.Minute, MaxBytes: 200 * itemBytes}, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for u := range 100 {
		c.Put(string(rune('a'+u%26))+string(rune('a'+u/26)), "k", list(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), nil)
	}
	c.l1.CleanUp()
	if w := c.l1.WeightedSize(); w > 200*itemBytes {
		t.Fatalf("weighted size %d over the bound %d", w, 200*itemBytes)
	}
	waitFor(t, func() bool {
		return testutil.ToFloat64(c.m.evictions.WithLabelValues("overflow")) > 0 || c.l1.EstimatedSize() < 100
	})
}

// StaleLists names the lists a pre-warm must rebuild after a release.
func TestStaleLists(t *testing.T) {
	c, _ := newCache(t, nil)
	c.Put("u", "home", list(1), nil)
	fresh := list(2)
	fresh.Versions = "m2/r1"
	c.Put("v", "home", fresh, nil)
	got := c.StaleLists("m2/r1", 10)
	if len(got) != 1 || got[0].User != "u" || got[0].Scene != "home" || got[0].Categories[0] != "Drama" {
		t.Fatalf("stale %+v, want u's home list", got)
	}
}

// Near its end a list asks once for its refresh, with what it served; the
// list that replaces it serves none of that again.
func TestRefreshAheadHandsOverServedItems(t *testing.T) {
	c, _ := newCache(t, nil)
	ctx := context.Background()
	c.Put("u", "k", list(1, 2, 3, 4, 5, 6), []int64{1, 2})
	r := Request{User: "u", Key: "k", N: 1, RefreshBelow: 3}
	if p, _ := c.Take(ctx, r); p.Refresh {
		t.Fatal("refresh asked with 3 items left")
	}
	p, ok := c.Take(ctx, r)
	if !ok || !p.Refresh || !slices.Equal(p.Served, []int64{1, 2, 3, 4}) {
		t.Fatalf("page %+v: want a refresh with [1 2 3 4] served", p)
	}
	if p, _ := c.Take(ctx, r); p.Refresh {
		t.Fatal("refresh asked twice")
	}
	// A refresh the caller cannot start now is asked for again.
	c.Put("u", "k2", list(1, 2, 3), nil)
	busy := Request{User: "u", Key: "k2", N: 1, RefreshBelow: 3, TryRefresh: func() bool { return false }}
	if p, _ := c.Take(ctx, busy); p.Refresh {
		t.Fatal("a refused refresh was asked for")
	}
	busy.TryRefresh = func() bool { return true }
	if p, _ := c.Take(ctx, busy); !p.Refresh {
		t.Fatal("a refused refresh was not asked for again")
	}
	// The refreshed list ranks 4 and 5 first again: they must not be served twice.
	c.Put("u", "k", list(4, 5, 7, 8), nil)
	p, ok = c.Take(ctx, Request{User: "u", Key: "k", N: 2})
	if !ok || !slices.Equal(ids(p.Items), []int64{7, 8}) {
		t.Fatalf("after the refresh: %v, want [7 8]", ids(p.Items))
	}
}

// A list that replaces another while its user's pages are being taken
// (a refresh landing) is safe: run with -race.
func TestPutWhileTaking(t *testing.T) {
	c, _ := newCache(t, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	var taken atomic.Int64
	start := make(chan struct{})
	// A list before either starts: the taker may run before the putter
	// (a busy machine), and must still find pages.
	c.Put("u", "k", list(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), nil)
	wg.Add(2)
	go func() {
		defer wg.Done()
		<-start
		for range 10000 {
			c.Put("u", "k", list(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), nil)
		}
	}()
	go func() {
		defer wg.Done()
		<-start
		for range 10000 {
			if _, ok := c.Take(ctx, Request{User: "u", Key: "k", N: 1}); ok {
				taken.Add(1)
			}
		}
	}()
	close(start)
	wg.Wait()
	if taken.Load() == 0 {
		t.Fatal("no page was taken while lists were put")
	}
}
