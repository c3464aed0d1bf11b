package store_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/features/store/storetest"
)

func TestDurablePostgresRedisContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return &store.Durable{Record: store.NewPostgres(postgresPool(t)), RT: realTime(t, "durable", store.DefaultRealTimeOptions().RecentCap),
			Log: rlog.Discard(), ItemPoll: time.Minute}
	})
}

// With Redis down, events are still accepted (they are durable in
// PostgreSQL), counted as stale, and history is read from PostgreSQL.
func TestDurablePostgresWithRedisDownLosesNothing(t *testing.T) {
	pg := store.NewPostgres(postgresPool(t))
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	d := &store.Durable{Record: pg, RT: store.NewRealTime(dead, store.DefaultRealTimeOptions()), Log: rlog.Discard()}
	ctx := context.Background()
	evs := []domain.Event{{UserID: "u", ItemID: 1, Type: "click", Value: 1, TS: 10}, {UserID: "u", ItemID: 2, Type: "like", Value: 1, TS: 20}}
	if _, err := d.AppendEvents(ctx, evs); err != nil {
		t.Fatalf("append with Redis down: %v", err)
	}
	if n, err := pg.EventCount(ctx); err != nil || n != 2 {
		t.Fatalf("events in PostgreSQL = %d (%v), want 2", n, err)
	}
	if d.Stale() != 2 {
		t.Errorf("stale = %d, want 2", d.Stale())
	}
	h, err := d.History(ctx, "u", 10, 10)
	if err != nil || h.Count != 2 || len(h.Recent) != 2 || h.Recent[0].ItemID != 2 {
		t.Errorf("history with Redis down = %+v, %v", h, err)
	}
	if d.Fallbacks() != 1 {
		t.Errorf("fallbacks = %d, want 1", d.Fallbacks())
	}
}

func TestDurableExposures(t *testing.T) {
	storetest.RunExposures(t, func(t *testing.T) storetest.ExposureStore {
		return &store.Durable{Record: store.NewPostgres(postgresPool(t)), RT: realTime(t, "durable-exp", store.DefaultRealTimeOptions().RecentCap),
			Log: rlog.Discard()}
	})
}

func TestDurableCatalogue(t *testing.T) {
	storetest.RunCatalogue(t, func(t *testing.T) storetest.FullStore {
		return &store.Durable{Record: store.NewPostgres(postgresPool(t)), RT: realTime(t, "durable-cat", store.DefaultRealTimeOptions().RecentCap),
			Log: rlog.Discard(), ItemPoll: time.Minute}
	})
}

// A Redis that hangs (stopped, or a network that drops packets) costs a
// history read at most RTTimeout, and nothing once its breaker is open:
// every read, each under the features hop's 40 ms budget, is answered from
// PostgreSQL, whole.
func TestDurableAnswersFromPostgresWhenRedisHangs(t *testing.T) {
	hung := hungRedis(t)
	pg := store.NewPostgres(postgresPool(t))
	ctx := context.Background()
	if _, err := pg.AppendEvents(ctx, []domain.Event{{UserID: "h", ItemID: 7, Type: "like", Value: 1, TS: 10}}); err != nil {
		t.Fatal(err)
	}
	s := resilience.DefaultSettings(20 * time.Millisecond)
	s.VolumeThreshold, s.SleepWindow = 5, time.Minute
	b := resilience.NewBreaker(fmt.Sprintf("test.redis.%d", time.Now().UnixNano()), "redis", s, resilience.NewMetrics(prometheus.NewRegistry()), rlog.Discard())
	d := &store.Durable{Record: pg, RT: store.NewRealTime(hung, store.DefaultRealTimeOptions()), Log: rlog.Discard(),
		RTTimeout: 20 * time.Millisecond, RTBreaker: b}
	// Until the breaker opens (5 calls, all timing out), a slow Redis fails
	// the read rather than load PostgreSQL; from then on PostgreSQL answers.
	failed := 0
	for i := range 30 {
		rctx, cancel := context.WithTimeout(ctx, 40*time.Millisecond)
		h, err := d.History(rctx, "h", 10, 10)
		cancel()
		if err != nil {
			if i >= 5 {
				t.Fatalf("read %d with Redis hanging and its breaker open: %v; want the history from PostgreSQL", i, err)
			}
			failed++
			continue
		}
		if h.Count != 1 || len(h.Recent) != 1 || h.Recent[0].ItemID != 7 {
			t.Fatalf("read %d with Redis hanging: %+v; want the history from PostgreSQL within the budget", i, h)
		}
	}
	if !b.Open() {
		t.Error("the Redis breaker is still closed after 30 hung reads")
	}
	if failed == 0 || d.Fallbacks() != int64(30-failed) {
		t.Errorf("%d reads failed, %d fell back; want the first few to fail and every later one to fall back", failed, d.Fallbacks())
	}
	// While it is open, an accepted event skips Redis and is counted stale.
	if _, err := d.AppendEvents(ctx, []domain.Event{{UserID: "h", ItemID: 8, Type: "click", Value: 1, TS: 20}}); err != nil || d.Stale() != 1 {
		t.Errorf("append with the breaker open: %v, stale %d; want accepted and 1 stale", err, d.Stale())
	}
}

// The catalogue cache is filled at start and follows the record's changes,
// including those made by another replica (here: the record directly).
func TestDurableCatalogueCacheFollowsTheRecord(t *testing.T) {
	pg := store.NewPostgres(postgresPool(t))
	ctx := context.Background()
	if err := pg.PutItems(ctx, []domain.Item{{ID: 1, Title: "one", Available: true}, {ID: 2, Title: "two", Available: true}}); err != nil {
		t.Fatal(err)
	}
	d := &store.Durable{Record: pg, RT: realTime(t, "durable-items", 10), Log: rlog.Discard(), ItemPoll: time.Hour}
	if n, err := d.SyncItems(ctx); err != nil || n != 2 {
		t.Fatalf("first sync read %d items, %v; want 2", n, err)
	}
	// Another replica renames item 1: the cache serves the old title until
	// it reads the change, then the new one.
	if _, err := pg.UpdateItem(ctx, 1, func(it *domain.Item) error { it.Title = "uno"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Items(ctx, []int64{1}); got[1].Title != "one" {
		t.Fatalf("before the sync: %q, want the cached one", got[1].Title)
	}
	if n, err := d.SyncItems(ctx); err != nil || n != 1 {
		t.Fatalf("second sync read %d items, %v; want the 1 change", n, err)
	}
	if got, _ := d.Items(ctx, []int64{1, 2}); got[1].Title != "uno" || got[2].Title != "two" {
		t.Errorf("after the sync: %+v", got)
	}
	// An item the cache has never seen is read from the record.
	if err := pg.PutItems(ctx, []domain.Item{{ID: 3, Title: "three", Available: true}}); err != nil {
		t.Fatal(err)
	}
	if got, err := d.Items(ctx, []int64{3}); err != nil || got[3].Title != "three" {
		t.Errorf("a new item: %+v, %v", got, err)
	}
}

// hungRedis is a Redis client whose server accepts connections and never
// answers (a stopped process behind a live socket, or dropped packets).
func hungRedis(t *testing.T) *redis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn // accepted and never answered
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range held {
			_ = c.Close()
		}
		mu.Unlock()
	})
	hung := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1})
	t.Cleanup(func() { _ = hung.Close() })
	return hung
}

// gatedRecord is a record whose History waits for its gate and counts the
// reads in flight; nothing else of it is called.
type gatedRecord struct {
	store.Store
	gate           chan struct{}
	inFlight, peak atomic.Int64
}

func (g *gatedRecord) History(ctx context.Context, _ string, _, _ int) (store.History, error) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return store.History{}, ctx.Err()
	}
	return store.History{Count: 1}, nil
}

// A slow Redis (breaker closed) hands at most SlowFallbacks reads to the
// record at once: one stalled read is answered whole, and of a burst of
// them the rest fail fast instead of piling onto PostgreSQL.
func TestDurableHandsFewSlowReadsToTheRecord(t *testing.T) {
	s := resilience.DefaultSettings(20 * time.Millisecond)
	s.SleepWindow = time.Minute
	b := resilience.NewBreaker(fmt.Sprintf("test.redis.slow.%d", time.Now().UnixNano()), "redis", s, resilience.NewMetrics(prometheus.NewRegistry()), rlog.Discard())
	rec := &gatedRecord{gate: make(chan struct{})}
	d := &store.Durable{Record: rec, RT: store.NewRealTime(hungRedis(t), store.DefaultRealTimeOptions()), Log: rlog.Discard(),
		RTTimeout: 10 * time.Millisecond, RTBreaker: b, SlowFallbacks: 2}

	const burst = 8
	errs := make(chan error, burst)
	for range burst {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := d.History(ctx, "h", 10, 10)
			errs <- err
		}()
	}
	for range burst - 2 { // all but the two handed to the record fail fast
		if err := <-errs; err == nil || !resilience.Timeout(err) {
			t.Fatalf("a slow read beyond the two handed on: %v, want the Redis timeout", err)
		}
	}
	close(rec.gate)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a slow read handed to the record: %v, want its history", err)
		}
	}
	if p := rec.peak.Load(); p != 2 || d.Fallbacks() != 2 {
		t.Errorf("the record saw %d reads at once, %d fallbacks; want 2 and 2", p, d.Fallbacks())
	}
	// One at a time, every stalled read is answered whole.
	for i := range 3 {
		if h, err := d.History(context.Background(), "h", 10, 10); err != nil || h.Count != 1 {
			t.Errorf("stalled read %d alone: %+v, %v; want the record's history", i, h, err)
		}
	}
}
