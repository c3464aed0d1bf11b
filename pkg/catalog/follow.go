package catalog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/domain"
)

// Feed returns the items changed after revision since, in revision order,
// and the revision to ask after next time (featuresapi.Catalog.ItemChanges).
type Feed func(ctx context.Context, since int64) (items []domain.Item, next int64, err error)

// DefaultPoll is how often a follower asks for changes.
const DefaultPoll = time.Second

// BindPoll binds -catalog-poll, which recall, filter and the gateway share.
func BindPoll(f *config.Flags, d *time.Duration) {
	f.Duration(d, "catalog-poll", DefaultPoll, "how often the catalogue's changes are asked of the features service")
}

// Follow keeps view current with feed: it asks for the changes after the
// view's revision every poll (paging until a page comes back empty), until
// the returned stop is called. A failed poll keeps the view as it was and
// is retried at the next tick. Its metrics go to reg (nil: none).
func Follow(feed Feed, view *View, poll time.Duration, reg prometheus.Registerer, log *slog.Logger) (stop func()) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	failures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "recmesh_catalog_sync_failures_total", Help: "Catalogue change-feed polls that failed; the view keeps its last state.",
	})
	if reg != nil {
		reg.MustRegister(failures,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_catalog_items", Help: "Items in this service's catalogue view, retired ones included."},
				func() float64 { return float64(view.Len()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "recmesh_catalog_age_seconds",
				Help: "Seconds since this service's catalogue view last synced with the features service (-1 before the first sync)."},
				func() float64 {
					at := view.Synced()
					if at.IsZero() {
						return -1
					}
					return time.Since(at).Seconds()
				}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			if err := Sync(ctx, feed, view); err != nil && ctx.Err() == nil {
				failures.Inc()
				log.Warn("catalogue sync failed; keeping the last view", "err", err, "rev", view.Rev())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// Sync applies every change after the view's revision. It gathers pages
// and applies up to syncBatch items at a time: a large batch re-sorts the
// view's orders, and re-sorting a million-item view for each page of a
// first sync was three quarters of the embedded mode's CPU at start.
func Sync(ctx context.Context, feed Feed, view *View) error {
	since := view.Rev()
	var held []domain.Item
	for {
		items, next, err := feed(ctx, since)
		if err != nil {
			if len(held) > 0 {
				view.Apply(held, since) // what was read stays read
			}
			return err
		}
		held = append(held, items...)
		done := len(items) == 0 || next <= since
		if next > since {
			since = next
		}
		if done || len(held) >= syncBatch {
			view.Apply(held, since)
			held = held[:0]
		}
		if done {
			return nil
		}
	}
}

// syncBatch is how many changed items Sync gathers before applying them.
const syncBatch = 1 << 17
