package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/resilience"
)

// Durable is the Store of the dev and production modes: the record
// (PostgreSQL: catalogue and event log) and Redis the per-user state derived
// from it. An event is durable in the record before Redis is touched, so a
// Redis failure loses nothing: the batch is still accepted, counted as
// stale, and `recmesh replay` rebuilds Redis from the log. History reads go
// to Redis and fall back to the record when Redis fails; catalogue reads are
// served from memory, a cache kept current from the record's item changes
// (durable_items.go).
type Durable struct {
	Record Store
	RT     *RealTime
	Log    *slog.Logger
	// ItemPoll is how often the catalogue cache reads the record's item
	// changes (FollowItems); 0 disables the cache, and every catalogue
	// read goes to the record.
	ItemPoll time.Duration
	// RTTimeout bounds one Redis read, so that a slow or dead Redis leaves
	// the request time to be answered from PostgreSQL; 0 for no bound.
	RTTimeout time.Duration
	// RTBreaker, when set, guards Redis: while it is open, reads go
	// straight to PostgreSQL and writes skip Redis (counted as stale), so a
	// dead Redis costs requests nothing; nil for none.
	RTBreaker *resilience.Breaker
	// SlowFallbacks bounds the reads that a slow Redis (a read past
	// RTTimeout, its breaker closed) hands to PostgreSQL at once: the odd
	// stalled read is still answered whole, and a burst of them is not fed
	// onto PostgreSQL. 0 hands none.
	SlowFallbacks int

	stale    atomic.Int64
	fallback atomic.Int64
	slow     atomic.Int64 // slow-Redis fallbacks in flight

	mu    sync.RWMutex
	items map[int64]domain.Item // the catalogue cache
	rev   int64                 // the last revision it has read
}

// AppendEvents implements Store: the record first (all or none), then
// Redis, with only the events the record stored anew, so a retried event
// is folded into Redis once.
func (d *Durable) AppendEvents(ctx context.Context, events []domain.Event) ([]domain.Event, error) {
	fresh, err := d.Record.AppendEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	d.applyRealTime(ctx, fresh)
	return fresh, nil
}

// applyRealTime folds durable events into Redis; a failure is counted as
// stale and logged, never returned (the events are safe in the record).
// While the Redis breaker is open, Redis is not tried.
func (d *Durable) applyRealTime(ctx context.Context, events []domain.Event) {
	if len(events) == 0 {
		return
	}
	if d.RTBreaker != nil && d.RTBreaker.Open() {
		d.stale.Add(int64(len(events)))
		return
	}
	if err := d.RT.Apply(context.WithoutCancel(ctx), events); err != nil {
		d.stale.Add(int64(len(events)))
		d.Log.WarnContext(ctx, "events are durable but Redis was not updated; run recmesh replay to rebuild it",
			"events", len(events), "err", err)
	}
}

// History implements Store from Redis, or from the record when Redis
// refuses or fails, or its breaker is open. A Redis that is only slower than
// RTTimeout, its breaker still closed, hands the read to PostgreSQL only
// while fewer than SlowFallbacks such reads are in flight, and fails it
// otherwise: a burst of slow reads is nearly always the whole machine's (a
// burst of load), and a read of the user's history from PostgreSQL costs
// more than the Redis one it replaces, so falling back for all of them
// would feed the burst; the gateway's features fallback answers those. A
// Redis that stays slow (hung) opens its breaker within RTBreaker's volume,
// and from then on PostgreSQL answers every read.
func (d *Durable) History(ctx context.Context, userID string, recentLimit, seenCap int) (History, error) {
	h, err := readRealTime(ctx, d, func(ctx context.Context) (History, error) {
		return d.RT.History(ctx, userID, recentLimit, seenCap)
	})
	if err == nil {
		return h, nil
	}
	if d.RTBreaker != nil && resilience.Timeout(err) && !d.RTBreaker.Open() && ctx.Err() == nil {
		if d.slow.Add(1) > int64(d.SlowFallbacks) {
			d.slow.Add(-1)
			return History{}, fmt.Errorf("redis history of %s: %w", userID, err)
		}
		defer d.slow.Add(-1)
	}
	d.fallback.Add(1)
	if !resilience.CircuitOpen(err) {
		d.Log.WarnContext(ctx, "redis history failed; reading PostgreSQL", "err", err)
	}
	return d.Record.History(ctx, userID, recentLimit, seenCap)
}

// readRealTime runs a Redis read within RTTimeout, under the Redis breaker
// when there is one.
func readRealTime[T any](ctx context.Context, d *Durable, f func(context.Context) (T, error)) (T, error) {
	if d.RTTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.RTTimeout)
		defer cancel()
	}
	if d.RTBreaker == nil {
		return f(ctx)
	}
	return resilience.Call(ctx, d.RTBreaker, f)
}

// Stale is the number of accepted events Redis missed since start.
func (d *Durable) Stale() int64 { return d.stale.Load() }

// Fallbacks is the number of history reads served by PostgreSQL.
func (d *Durable) Fallbacks() int64 { return d.fallback.Load() }

// AppendExposures implements ExposureLog: the record first, then the
// users' exposure sets in Redis (a Redis failure is counted as stale, like
// events).
func (d *Durable) AppendExposures(ctx context.Context, replies []domain.ShownReply) error {
	rec, err := record[ExposureLog](d, "exposure log")
	if err != nil {
		return err
	}
	if err := rec.AppendExposures(ctx, replies); err != nil {
		return err
	}
	if err := d.RT.AppendExposures(context.WithoutCancel(ctx), replies); err != nil {
		n := 0
		for i := range replies {
			n += replies[i].Rows()
		}
		d.stale.Add(int64(n))
		d.Log.WarnContext(ctx, "exposures are durable but Redis was not updated", "rows", n, "err", err)
	}
	return nil
}

// ExposureStats implements ExposureLog from the record.
func (d *Durable) ExposureStats(ctx context.Context, q domain.ExposureQuery, a Attribution) ([]domain.ArmStats, error) {
	rec, err := record[ExposureLog](d, "exposure log")
	if err != nil {
		return nil, err
	}
	return rec.ExposureStats(ctx, q, a)
}

// UpdateItem implements Catalogue on the record, and drops the item from the cache.
func (d *Durable) UpdateItem(ctx context.Context, id int64, f func(*domain.Item) error) (domain.Item, error) {
	c, err := record[Catalogue](d, "catalogue revisions")
	if err != nil {
		return domain.Item{}, err
	}
	it, err := c.UpdateItem(ctx, id, f)
	d.uncache(id)
	return it, err
}

// ItemChanges implements Catalogue from the record.
func (d *Durable) ItemChanges(ctx context.Context, since int64, limit int) ([]domain.Item, error) {
	c, err := record[Catalogue](d, "catalogue revisions")
	if err != nil {
		return nil, err
	}
	return c.ItemChanges(ctx, since, limit)
}

// PutProfile implements Users: the record, then Redis, which History
// reads; a Redis failure fails the call, so the caller retries.
func (d *Durable) PutProfile(ctx context.Context, userID string, profile map[string]string) error {
	u, err := record[Users](d, "users")
	if err != nil {
		return err
	}
	if err := u.PutProfile(ctx, userID, profile); err != nil {
		return err
	}
	return d.RT.PutProfile(ctx, userID, profile)
}

// ForgetUser implements Users: the record, then Redis; a Redis failure
// fails the call so that the caller retries until nothing remains.
func (d *Durable) ForgetUser(ctx context.Context, userID string) (Forgotten, error) {
	u, err := record[Users](d, "users")
	if err != nil {
		return Forgotten{}, err
	}
	f, err := u.ForgetUser(ctx, userID)
	if err != nil {
		return Forgotten{}, err
	}
	if _, err := d.RT.ForgetUser(ctx, userID); err != nil {
		return Forgotten{}, err
	}
	return f, nil
}

// AppendEventsOnce implements IdempotentEvents: the record decides, and
// Redis is updated only for a batch stored for the first time.
func (d *Durable) AppendEventsOnce(ctx context.Context, key string, events []domain.Event) (Appended, error) {
	ie, err := record[IdempotentEvents](d, "idempotency keys")
	if err != nil {
		return Appended{}, err
	}
	a, err := ie.AppendEventsOnce(ctx, key, events)
	if err != nil {
		return Appended{}, err
	}
	d.applyRealTime(ctx, a.Fresh)
	return a, nil
}

// record is d.Record as the capability T, or an error naming what it lacks.
func record[T any](d *Durable, lacks string) (T, error) {
	v, ok := d.Record.(T)
	if !ok {
		return v, fmt.Errorf("the features record keeps no %s", lacks)
	}
	return v, nil
}

var (
	_ Catalogue        = (*Durable)(nil)
	_ Users            = (*Durable)(nil)
	_ IdempotentEvents = (*Durable)(nil)
	_ ExposureLog      = (*Durable)(nil)
)
