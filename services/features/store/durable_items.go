package store

import (
	"context"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

// The catalogue is read on every request (the categories of a user's recent
// items) and changes rarely, so Durable serves it from memory. The cache is
// filled at start (SyncItems) and kept current by FollowItems, which reads
// the record's item changes by revision, as the other services' catalogue
// views do: it never goes cold, so the first requests after a start or a
// quiet spell do not queue for PostgreSQL connections within their budgets,
// and a change made through another features replica shows within ItemPoll.

// PutItems implements Store, and drops the items from the cache (the next
// read, or the feed, brings them back as stored).
func (d *Durable) PutItems(ctx context.Context, items []domain.Item) error {
	err := d.Record.PutItems(ctx, items)
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	d.uncache(ids...)
	return err
}

// Items implements Store: cached items, and the rest from the record.
func (d *Durable) Items(ctx context.Context, ids []int64) (map[int64]domain.Item, error) {
	if d.ItemPoll <= 0 {
		return d.Record.Items(ctx, ids)
	}
	out := make(map[int64]domain.Item, len(ids))
	var missing []int64
	d.mu.RLock()
	for _, id := range ids {
		if it, ok := d.items[id]; ok {
			out[id] = it
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
	for id, it := range got {
		out[id] = it
		d.cacheLocked(it)
	}
	d.mu.Unlock()
	return out, nil
}

// cacheLocked keeps it unless the cache has a newer revision; d.mu must be
// held for writing.
func (d *Durable) cacheLocked(it domain.Item) {
	if d.items == nil {
		d.items = map[int64]domain.Item{}
	}
	if old, ok := d.items[it.ID]; !ok || old.Rev <= it.Rev {
		d.items[it.ID] = it
	}
}

// uncache drops items from the catalogue cache.
func (d *Durable) uncache(ids ...int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		delete(d.items, id)
	}
}

// SyncItems reads the record's item changes since the cache's revision,
// page by page, into the cache, and returns how many it read. The first
// call reads the whole catalogue.
func (d *Durable) SyncItems(ctx context.Context) (int, error) {
	c, ok := d.Record.(Catalogue)
	if !ok || d.ItemPoll <= 0 {
		return 0, nil
	}
	n := 0
	for {
		d.mu.RLock()
		since := d.rev
		d.mu.RUnlock()
		page, err := c.ItemChanges(ctx, since, ItemChangesLimit)
		if err != nil {
			return n, err
		}
		d.mu.Lock()
		for _, it := range page {
			d.cacheLocked(it)
			d.rev = max(d.rev, it.Rev)
		}
		d.mu.Unlock()
		n += len(page)
		if len(page) < ItemChangesLimit {
			return n, nil
		}
	}
}

// FollowItems keeps the catalogue cache current, reading the record's item
// changes every ItemPoll until stop is called; a failed read is logged and
// tried again at the next tick (the cache keeps what it has).
func (d *Durable) FollowItems() (stop func()) {
	if d.ItemPoll <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d.ItemPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*d.ItemPoll)
				if _, err := d.SyncItems(ctx); err != nil {
					d.Log.Warn("catalogue cache sync failed; serving what it has", "err", err)
				}
				cancel()
			}
		}
	}()
	return func() { close(done); <-finished }
}
