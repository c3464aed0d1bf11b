package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
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
