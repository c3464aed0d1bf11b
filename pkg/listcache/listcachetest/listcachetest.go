// Package listcachetest is the contract every listcache.Store passes.
package listcachetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/listcache"
)

// List is a list of these items, as tests use it.
func List(ids ...int64) listcache.List {
	l := listcache.List{ModelVersion: "r1", Versions: "m1/r1", Scene: "home", Categories: []string{"Drama"}, Built: time.Now().Truncate(time.Millisecond)}
	for _, id := range ids {
		l.Items = append(l.Items, domain.Candidate{ID: id, Title: fmt.Sprint("t", id), Score: float64(100 - id),
			Sources: []domain.Source{{Channel: "itemcf", Score: 0.5}}})
	}
	return l
}

// Contract checks what every listcache.Store must do.
func Contract(t *testing.T, s listcache.Store) {
	t.Helper()
	ctx := context.Background()
	inv, err := s.Invalidations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // Redis: the subscription is live
	if _, _, ok, err := s.Get(ctx, "u1", "k"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	want := List(3, 1, 2)
	if err := s.Put(ctx, "u1", "k", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "u1", "k2", List(9), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Served(ctx, "u1", "k", []int64{3, 1}); err != nil {
		t.Fatal(err)
	}
	got, served, ok, err := s.Get(ctx, "u1", "k")
	if err != nil || !ok {
		t.Fatalf("get: ok=%v err=%v", ok, err)
	}
	if !slices.Equal(served, []int64{3, 1}) {
		t.Fatalf("served %v, want [3 1]", served)
	}
	if got.ModelVersion != want.ModelVersion || got.Versions != want.Versions || got.Scene != want.Scene ||
		!slices.Equal(got.Categories, want.Categories) || !got.Built.Equal(want.Built) || len(got.Items) != 3 {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i, it := range got.Items {
		w := want.Items[i]
		if it.ID != w.ID || it.Title != w.Title || it.Score != w.Score || len(it.Sources) != 1 || it.Sources[0] != w.Sources[0] {
			t.Fatalf("item %d: %+v, want %+v", i, it, w)
		}
	}
	// A new list under the key starts with nothing served.
	if err := s.Put(ctx, "u1", "k", List(5, 6), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, served, _, _ := s.Get(ctx, "u1", "k"); len(served) != 0 {
		t.Fatalf("a new list has served %v", served)
	}
	if err := s.Invalidate(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k", "k2"} {
		if _, _, ok, _ := s.Get(ctx, "u1", k); ok {
			t.Fatalf("list %s survived the user's invalidation", k)
		}
	}
	// Served after an invalidation does not bring the list back.
	if err := s.Served(ctx, "u1", "k", []int64{5}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.Get(ctx, "u1", "k"); ok {
		t.Fatal("a late served write brought the list back")
	}
	select {
	case u := <-inv:
		if u != "u1" {
			t.Fatalf("announced %q, want u1", u)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the invalidation was not announced")
	}
	// A list built before the user's invalidation is refused (its run
	// may not have seen the event); one built after it is kept.
	old := List(7)
	old.Built = old.Built.Add(-time.Second)
	time.Sleep(5 * time.Millisecond)
	if err := s.Invalidate(ctx, "u3"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "u3", "k", old, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.Get(ctx, "u3", "k"); ok {
		t.Fatal("a list built before the user's invalidation was kept")
	}
	time.Sleep(5 * time.Millisecond)
	if err := s.Put(ctx, "u3", "k", List(8), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := s.Get(ctx, "u3", "k"); !ok {
		t.Fatal("a list built after the user's invalidation was refused")
	}
	// Expiry.
	if err := s.Put(ctx, "u2", "k", List(1), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Redis expires at a second's resolution at worst
	if _, _, ok, _ := s.Get(ctx, "u2", "k"); ok {
		t.Fatal("an expired list was served")
	}
}
