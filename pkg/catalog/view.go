// Package catalog is the catalogue as the serving services see it: a View
// of every item's metadata and status, kept current by a Follower of the
// features service's change feed (ItemChanges). Recall serves new items
// and skips unservable ones from it, the filter drops unservable ones, and
// the gateway applies it on its fallback paths, so a catalogue change
// reaches every path within one poll interval, with no retraining.
package catalog

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/recmesh/recmesh/pkg/domain"
)

// View is an in-memory copy of the catalogue: items by id, and every
// unretired item ordered newest first, overall and per category. It is
// safe for concurrent use; one writer (the Follower) applies changes.
type View struct {
	// Trim drops titles and tags, for a service that needs only statuses
	// and categories (filter, gateway).
	trim bool

	mu      sync.RWMutex
	items   map[int64]domain.Item
	newest  []entry
	byCat   map[string][]entry
	rev     int64
	synced  bool
	applied time.Time
}

// entry orders items newest first, ties by id.
type entry struct {
	created int64 // Unix ms
	id      int64
}

func cmpEntry(a, b entry) int {
	return cmp.Or(cmp.Compare(b.created, a.created), cmp.Compare(a.id, b.id))
}

// NewView returns an empty view; trim keeps only what statuses and
// categories need.
func NewView(trim bool) *View {
	return &View{trim: trim, items: map[int64]domain.Item{}, byCat: map[string][]entry{}}
}

// bulk is the batch size above which Apply rebuilds the orders by sorting
// instead of inserting item by item.
const bulk = 256

// Apply folds changed items (in revision order) into the view.
func (v *View) Apply(items []domain.Item, rev int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	rebuild := len(items) > bulk
	for _, it := range items {
		if v.trim {
			it.Title, it.Tags = "", nil
		}
		old, had := v.items[it.ID]
		v.items[it.ID] = it
		if rebuild {
			continue
		}
		if had && old.RetiredAt.IsZero() {
			v.remove(old)
		}
		if it.RetiredAt.IsZero() {
			v.insert(it)
		}
	}
	if rebuild {
		v.rebuild()
	}
	v.rev = max(v.rev, rev)
	v.synced = true
	v.applied = time.Now()
}

func entryOf(it domain.Item) entry { return entry{created: domain.MillisOf(it.CreatedAt), id: it.ID} }

func (v *View) insert(it domain.Item) {
	e := entryOf(it)
	v.newest = insertSorted(v.newest, e)
	for _, c := range it.Categories {
		v.byCat[c] = insertSorted(v.byCat[c], e)
	}
}

func (v *View) remove(it domain.Item) {
	e := entryOf(it)
	v.newest = removeSorted(v.newest, e)
	for _, c := range it.Categories {
		if l := removeSorted(v.byCat[c], e); len(l) > 0 {
			v.byCat[c] = l
		} else {
			delete(v.byCat, c)
		}
	}
}

func insertSorted(l []entry, e entry) []entry {
	i, _ := slices.BinarySearchFunc(l, e, cmpEntry)
	return slices.Insert(l, i, e)
}

func removeSorted(l []entry, e entry) []entry {
	if i, ok := slices.BinarySearchFunc(l, e, cmpEntry); ok {
		return slices.Delete(l, i, i+1)
	}
	return l
}

func (v *View) rebuild() {
	v.newest = v.newest[:0]
	v.byCat = map[string][]entry{}
	for _, it := range v.items {
		if !it.RetiredAt.IsZero() {
			continue
		}
		e := entryOf(it)
		v.newest = append(v.newest, e)
		for _, c := range it.Categories {
			v.byCat[c] = append(v.byCat[c], e)
		}
	}
	slices.SortFunc(v.newest, cmpEntry)
	for _, l := range v.byCat {
		slices.SortFunc(l, cmpEntry)
	}
}

// Get returns the item as the view knows it.
func (v *View) Get(id int64) (domain.Item, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	it, ok := v.items[id]
	return it, ok
}

// Status is why the item may not be served at now ("" when it may be, or
// when the view does not know it: an item the catalogue has never
// announced is judged by whoever produced it).
func (v *View) Status(id int64, now time.Time) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	it, ok := v.items[id]
	if !ok {
		return ""
	}
	return it.Status(now)
}

// Admits reports whether the view knows id and, if it does, whether the
// item may be served at now and is in one of cats (empty: any). It copies
// nothing, for the hot loops that judge thousands of ids a request.
func (v *View) Admits(id int64, now time.Time, cats []string) (known, ok bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	it, known := v.items[id]
	if !known {
		return false, false
	}
	return true, it.Servable(now) && it.HasCategory(cats)
}

// Statuses calls f with every id of ids the view knows is not servable at
// now, and why, under one read lock.
func (v *View) Statuses(ids []int64, now time.Time, f func(id int64, status string)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, id := range ids {
		if it, ok := v.items[id]; ok {
			if s := it.Status(now); s != "" {
				f(id, s)
			}
		}
	}
}

// Newest calls f with the unretired items of category (every category
// when ""), newest first, until f returns false. f runs under the view's
// read lock: it must be quick and must not call the view.
func (v *View) Newest(category string, f func(domain.Item) bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	l := v.newest
	if category != "" {
		l = v.byCat[category]
	}
	for _, e := range l {
		if !f(v.items[e.id]) {
			return
		}
	}
}

// Len is the number of items the view knows, retired ones included.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.items)
}

// Rev is the last revision applied.
func (v *View) Rev() int64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.rev
}

// Synced reports whether the view has applied the feed once, and when it
// last did.
func (v *View) Synced() (bool, time.Time) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.synced, v.applied
}
