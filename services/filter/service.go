// Package filter is the filter service: it drops candidates a user must not
// see and reports how many each rule dropped.
package filter

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/services/filter/filterapi"
)

// Filterer is the filter service.
// It implements filterapi.Service. Its blocklist can be replaced while it serves.
type Filterer struct {
	blocked     atomic.Pointer[map[int64]struct{}]
	maxPerGenre int
	// view is the live catalogue (nil: no catalogue rule).
	view *catalog.View
	now  func() time.Time
}

// New returns a filter with the given default genre cap and blocklist.
func New(defaultMaxPerGenre int, blocked []int64) *Filterer {
	f := &Filterer{maxPerGenre: defaultMaxPerGenre, now: time.Now}
	f.SetBlocklist(blocked)
	return f
}

// WithCatalog makes the filter drop what view says may not be served:
// retired, unavailable and expired items.
func (f *Filterer) WithCatalog(view *catalog.View) *Filterer {
	f.view = view
	return f
}

// SetBlocklist atomically replaces the blocked items.
func (f *Filterer) SetBlocklist(ids []int64) {
	m := make(map[int64]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	f.blocked.Store(&m)
}

// Filter applies filterapi.Apply's rules, in order: duplicate, excluded,
// the catalogue (retired, unavailable, expired), category, seen, the
// exposure rules (shown items are seen, or capped by frequency when the
// request carries a cap), blocked, then the genre cap (an item is dropped
// when any of its genres is already full).
func (f *Filterer) Filter(_ context.Context, req filterapi.Request) (filterapi.Response, error) {
	if len(req.Candidates) > filterapi.MaxCandidates {
		return filterapi.Response{}, apierr.TooLarge("at most %d candidates, got %d", filterapi.MaxCandidates, len(req.Candidates))
	}
	if req.MaxPerGenre < 0 {
		return filterapi.Response{}, apierr.Invalid("max_per_genre must not be negative")
	}
	capPerGenre := req.MaxPerGenre
	if capPerGenre == 0 {
		capPerGenre = f.maxPerGenre
	}
	if c := req.Exposure.Cap; c.K < 0 || (c.K > 0 && (c.Window <= 0 || c.Cooldown <= 0)) {
		return filterapi.Response{}, apierr.Invalid("a frequency cap needs k ≥ 0 and, when k > 0, a positive window and cooldown")
	}
	if len(req.Exclude) > filterapi.MaxExclude || len(req.Categories) > filterapi.MaxCategories {
		return filterapi.Response{}, apierr.TooLarge("at most %d excluded items and %d categories", filterapi.MaxExclude, filterapi.MaxCategories)
	}
	return filterapi.Apply(req.Candidates, filterapi.Rules{
		Exclude: req.Exclude, Unservable: filterapi.Unservable(f.view, req.Candidates, f.now()), Categories: req.Categories,
		Seen: req.Seen, Hidden: req.Exposure.Hidden(), Blocked: *f.blocked.Load(), CapPerGenre: capPerGenre,
	}), nil
}
