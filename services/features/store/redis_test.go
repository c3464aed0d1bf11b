package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/depstest"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/features/store/storetest"
)

// realTime is a RealTime on RECMESH_REDIS_ADDR under a prefix of the test's
// own, deleted when the test ends.
func realTime(t *testing.T, name string, recentCap int) *store.RealTime {
	t.Helper()
	addr := depstest.Env(t, "RECMESH_REDIS_ADDR")
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	o := store.DefaultRealTimeOptions()
	o.Prefix = fmt.Sprintf("test:%d:%s:", time.Now().UnixNano(), name)
	o.RecentCap = recentCap
	rt := store.NewRealTime(rdb, o)
	t.Cleanup(func() {
		_ = rt.Reset(context.Background())
		_ = rdb.Close()
	})
	return rt
}

func TestRedisRealTime(t *testing.T) {
	ctx := context.Background()
	rt := realTime(t, "live", 3)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	var evs []domain.Event
	for i := int64(1); i <= 5; i++ {
		evs = append(evs, domain.Event{UserID: "u", ItemID: i, Type: "click", Value: 1, TS: now + i})
	}
	evs = append(evs, domain.Event{UserID: "v", ItemID: 9, Type: "rating", Value: 5, TS: now - 400*24*3600}, // old
		domain.Event{UserID: "w", ItemID: 5, Type: "like", Value: 1, TS: now})
	if err := rt.Apply(ctx, evs); err != nil {
		t.Fatal(err)
	}
	recent, err := rt.Recent(ctx, "u", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 3 || recent[0].ItemID != 5 || recent[2].ItemID != 3 || recent[0].Type != "click" || recent[0].TS != now+5 {
		t.Errorf("recent (capped at 3, newest first) = %+v", recent)
	}
	seen, err := rt.Seen(ctx, "u")
	slices.Sort(seen)
	if err != nil || !slices.Equal(seen, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("seen = %v, %v", seen, err)
	}
}

// The Redis store alone passes the contract every features store passes.
func TestRedisContract(t *testing.T) {
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		n++
		return realTime(t, fmt.Sprint("contract", n), store.DefaultRealTimeOptions().RecentCap)
	})
}

// Open picks the backend from the URL's scheme and refuses others.
func TestOpenByScheme(t *testing.T) {
	ctx := context.Background()
	s, closeFn, err := store.Open(ctx, "memory:", nil)
	if _, ok := s.(*store.Memory); err != nil || !ok {
		t.Fatalf("memory: gave %T, %v", s, err)
	}
	closeFn()
	for _, bad := range []string{"", "mysql://x", "file:/tmp/x"} {
		if _, _, err := store.Open(ctx, bad, nil); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	addr := depstest.Env(t, "RECMESH_REDIS_ADDR")
	s, closeFn, err = store.Open(ctx, "redis://"+addr+"/0?prefix=test:open:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if _, ok := s.(*store.RealTime); !ok {
		t.Errorf("redis:// gave %T", s)
	}
}

// TestRedisReplayEqualsLive writes events durably to PostgreSQL
// first, then to Redis, as the service does; then rebuilds a second Redis
// state from the log alone and checks the two are identical.
func TestRedisReplayEqualsLive(t *testing.T) {
	ctx := context.Background()
	pg := store.NewPostgres(postgresPool(t))
	live, rebuilt := realTime(t, "live", 3), realTime(t, "replay", 3)
	users := []string{"a", "b", "c", "d"}
	for batch := 0; batch < 5; batch++ {
		var evs []domain.Event
		for i := 0; i < 40; i++ {
			evs = append(evs, domain.Event{UserID: users[(batch+i)%4], ItemID: int64(1 + (batch*7+i*3)%25),
				Type: []string{"click", "like", "rating"}[i%3], Value: float64(1 + i%5), TS: int64(1_700_000_000 + batch*100 - i)})
		}
		if _, err := pg.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if err := live.Apply(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	n, err := store.Replay(ctx, pg, rebuilt, 33, nil)
	if err != nil || n != 200 {
		t.Fatalf("Replay = %d, %v; want 200 events", n, err)
	}
	for _, u := range users {
		a, _ := live.Recent(ctx, u, 100)
		b, _ := rebuilt.Recent(ctx, u, 100)
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("user %s recent: live %v, replayed %v", u, a, b)
		}
		sa, _ := live.Seen(ctx, u)
		sb, _ := rebuilt.Seen(ctx, u)
		slices.Sort(sa)
		slices.Sort(sb)
		if !slices.Equal(sa, sb) {
			t.Errorf("user %s seen: live %v, replayed %v", u, sa, sb)
		}
	}
}
