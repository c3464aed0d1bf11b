package store_test

import (
	"context"
	"fmt"
	"net"
	"sync"
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
			Log: rlog.Discard(), ItemTTL: time.Minute}
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
			Log: rlog.Discard(), ItemTTL: time.Minute}
	})
}

// A Redis that hangs (stopped, or a network that drops packets) costs a
// history read at most RTTimeout, and nothing once its breaker is open:
// every read, each under the features hop's 40 ms budget, is answered from
// PostgreSQL, whole.
func TestDurableAnswersFromPostgresWhenRedisHangs(t *testing.T) {
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
	for i := range 30 {
		rctx, cancel := context.WithTimeout(ctx, 40*time.Millisecond)
		h, err := d.History(rctx, "h", 10, 10)
		cancel()
		if err != nil || h.Count != 1 || len(h.Recent) != 1 || h.Recent[0].ItemID != 7 {
			t.Fatalf("read %d with Redis hanging: %+v, %v; want the history from PostgreSQL within the budget", i, h, err)
		}
	}
	if !b.Open() {
		t.Error("the Redis breaker is still closed after 30 hung reads")
	}
	if d.Fallbacks() != 30 {
		t.Errorf("fallbacks = %d, want 30", d.Fallbacks())
	}
	// While it is open, an accepted event skips Redis and is counted stale.
	if _, err := d.AppendEvents(ctx, []domain.Event{{UserID: "h", ItemID: 8, Type: "click", Value: 1, TS: 20}}); err != nil || d.Stale() != 1 {
		t.Errorf("append with the breaker open: %v, stale %d; want accepted and 1 stale", err, d.Stale())
	}
}
