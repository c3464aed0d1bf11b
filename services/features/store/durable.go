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
// to Redis and fall back to the record when Redis fails; catalogue reads go
// to the record, through an in-process cache.
type Durable struct {
	Record Store
	RT     *RealTime
	Log    *slog.Logger
	// ItemTTL is how long a catalogue item read from PostgreSQL is kept in
	// memory (the catalogue is read on every request and rarely changes);
	// 0 disables the cache.
	ItemTTL time.Duration
	// RTTimeout bounds one Redis read, so that a slow or dead Redis leaves
	// the request time to be answered from PostgreSQL; 0 for no bound.
	RTTimeout time.Duration
	// RTBreaker, when set, guards Redis: while it is open, reads go
	// straight to PostgreSQL and writes skip Redis (counted as stale), so a
	// dead Redis costs requests nothing; nil for none.
	RTBreaker *resilience.Breaker

	stale    atomic.Int64
	fallback atomic.Int64

	mu    sync.RWMutex
	items map[int64]cachedItem
}

type cachedItem struct {
	item domain.Item
	at   time.Time
}

// PutItems implements Store, and drops the items from the cache.
func (d *Durable) PutItems(ctx context.Context, items []domain.Item) error {
	err := d.Record.PutItems(ctx, items)
	for _, it := range items {
		d.uncache(it.ID)
	}
	return err
}

// Items implements Store: fresh cached items, and the rest from PostgreSQL.
func (d *Durable) Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error) {
	if d.ItemTTL <= 0 {
		return d.Record.Items(ctx, ids)
	}
	out := make(map[int64]domain.Item, len(ids))
	var missing []int64
	now := time.Now()
	d.mu.RLock()
	for _, id := range ids {
		if c, ok := d.items[id]; ok && now.Sub(c.at) < d.ItemTTL {
			out[id] = c.item
		} else {
			missing = append(missing, id)
		}
	}
	d.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := d.Record.Items(ctx, missing)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.items == nil {
		d.items = map[int64]cachedItem{}
	}
	for id, it := range got {
		out[id] = it
		d.items[id] = cachedItem{it, now}
	}
	d.mu.Unlock()
	return out, nil
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

// History implements Store from Redis, or from the record when Redis fails,
// is slower than RTTimeout, or its breaker is open.
func (d *Durable) History(ctx context.Context, userID string, recentLimit, seenCap int) (History, error) {
	h, err := readRealTime(ctx, d, func(ctx context.Context) (History, error) {
		return d.RT.History(ctx, userID, recentLimit, seenCap)
	})
	if err == nil {
		return h, nil
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

// uncache drops items from the in-process catalogue cache.
func (d *Durable) uncache(ids ...int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		delete(d.items, id)
	}
}

var (
	_ Catalogue        = (*Durable)(nil)
	_ Users            = (*Durable)(nil)
	_ IdempotentEvents = (*Durable)(nil)
	_ ExposureLog      = (*Durable)(nil)
)
