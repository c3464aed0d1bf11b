package store

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/recmesh/recmesh/pkg/domain"
)

// Durable is the Store of the dev and production modes: PostgreSQL holds
// the record (catalogue and event log) and Redis the per-user state derived
// from it. An event is durable in PostgreSQL before Redis is touched, so a
// Redis failure loses nothing: the batch is still accepted, counted as
// stale, and `recmesh replay` rebuilds Redis from the log. Reads go to
// Redis and fall back to PostgreSQL when Redis fails.
type Durable struct {
	PG  *Postgres
	RT  *RealTime
	Log *slog.Logger

	stale    atomic.Int64
	fallback atomic.Int64
}

// PutItems implements Store.
func (d *Durable) PutItems(ctx context.Context, items []domain.Item) error {
	return d.PG.PutItems(ctx, items)
}

// Items implements Store.
func (d *Durable) Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error) {
	return d.PG.Items(ctx, ids)
}

// AppendEvents implements Store: PostgreSQL first (all or none), then Redis.
func (d *Durable) AppendEvents(ctx context.Context, events []domain.Event) error {
	if err := d.PG.AppendEvents(ctx, events); err != nil {
		return err
	}
	if err := d.RT.Apply(context.WithoutCancel(ctx), events); err != nil {
		d.stale.Add(int64(len(events)))
		d.Log.WarnContext(ctx, "events are durable but Redis was not updated; run recmesh replay to rebuild it",
			"events", len(events), "err", err)
	}
	return nil
}

// History implements Store from Redis, or from PostgreSQL when Redis fails.
func (d *Durable) History(ctx context.Context, userID string, recentLimit, seenCap int) (History, error) {
	h, err := d.RT.History(ctx, userID, recentLimit, seenCap)
	if err == nil {
		return h, nil
	}
	d.fallback.Add(1)
	d.Log.WarnContext(ctx, "redis history failed; reading PostgreSQL", "err", err)
	return d.PG.History(ctx, userID, recentLimit, seenCap)
}

// Stale is the number of accepted events Redis missed since start.
func (d *Durable) Stale() int64 { return d.stale.Load() }

// Fallbacks is the number of history reads served by PostgreSQL.
func (d *Durable) Fallbacks() int64 { return d.fallback.Load() }
