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

	mu sync.RWMutex
	// items hold each item with its servability in a form cheap to test:
	// the admission checks run thousands of times a request.
	items  map[int64]*record
	newest []entry
	byCat  map[string][]entry
	rev    int64
	// names share category strings across items (domain.Names).
	names domain.Names
	// applied is when the view last applied the feed (zero: never).
	applied time.Time
}

// record is one item of the view.
type record struct {
	item domain.Item
	st   state
}

// state is what domain.StatusAt needs of an item, kept so that the
// admission checks (thousands a request) need no time arithmetic.
type state struct {
	lasting string
	// expires is expires_at in Unix ms; 0 for none.
	expires int64
}

func stateOf(it *domain.Item) state {
	return state{lasting: it.LastingStatus(), expires: domain.MillisOf(it.ExpiresAt)}
}

func (s state) status(nowMs int64) string { return domain.StatusAt(s.lasting, s.expires, nowMs) }

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
	return &View{trim: trim, items: map[int64]*record{}, byCat: map[string][]entry{}, names: domain.Names{}}
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
		it.Categories = v.names.Share(it.Categories)
		old, had := v.items[it.ID]
		v.items[it.ID] = &record{item: it, st: stateOf(&it)}
		if rebuild {
			continue
		}
		if had && old.item.RetiredAt.IsZero() {
			v.remove(old.item)
		}
		if it.RetiredAt.IsZero() {
			v.insert(it)
		}
	}
	if rebuild {
		v.rebuild()
	}
	v.rev = max(v.rev, rev)
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
	for _, r := range v.items {
		it := &r.item
		if !it.RetiredAt.IsZero() {
			continue
		}
		e := entryOf(*it)
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

// Reader reads a view under one read lock (see Read), for a request
// that asks it many things. A zero Reader reads an empty view.
type Reader struct{ v *View }

// Read calls f with a Reader valid until f returns; f must not call the
// view's own (locking) methods.
func (v *View) Read(f func(Reader)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f(Reader{v})
}

// Hold takes the read lock and returns a Reader valid until release is
// called, which may happen on another goroutine: work that fans out and
// may outlive its caller (a channel that missed its deadline) keeps the
// view still until it ends.
func (v *View) Hold() (r Reader, release func()) {
	v.mu.RLock()
	return Reader{v}, v.mu.RUnlock
}

// Get returns the item as the view knows it.
func (r Reader) Get(id int64) (*domain.Item, bool) {
	if r.v == nil {
		return nil, false
	}
	rec, ok := r.v.items[id]
	if !ok {
		return nil, false
	}
	return &rec.item, true
}

// Candidate is the item as a candidate (no sources yet), if the view
// knows it: what recall's merge needs, without copying the whole item.
func (r Reader) Candidate(id int64, popularity float64) (domain.Candidate, bool) {
	it, ok := r.Get(id)
	if !ok {
		return domain.Candidate{}, false
	}
	return domain.CandidateOf(it, popularity), true
}

// Admits reports whether the view knows id and, if it does, whether the
// item may be served at nowMs (Unix ms) and is in one of cats (empty:
// any).
func (r Reader) Admits(id int64, nowMs int64, cats []string) (known, ok bool) {
	if r.v == nil {
		return false, false
	}
	rec, known := r.v.items[id]
	if !known {
		return false, false
	}
	return true, rec.st.status(nowMs) == "" && (len(cats) == 0 || rec.item.HasCategory(cats))
}

// Newest calls f with the unretired items of category (every category
// when ""), newest first, until f returns false.
func (r Reader) Newest(category string, f func(*domain.Item) bool) {
	if r.v == nil {
		return
	}
	l := r.v.newest
	if category != "" {
		l = r.v.byCat[category]
	}
	for _, e := range l {
		if !f(&r.v.items[e.id].item) {
			return
		}
	}
}

// Get returns a copy of the item as the view knows it.
func (v *View) Get(id int64) (domain.Item, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if it, ok := (Reader{v}).Get(id); ok {
		return *it, true
	}
	return domain.Item{}, false
}

// Statuses calls f with every id of ids the view knows is not servable at
// now, and why, under one read lock.
func (v *View) Statuses(ids []int64, now time.Time, f func(id int64, status string)) {
	nowMs := now.UnixMilli()
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, id := range ids {
		if rec, ok := v.items[id]; ok {
			if s := rec.st.status(nowMs); s != "" {
				f(id, s)
			}
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

// Synced is when the view last applied the feed; zero before the first time.
func (v *View) Synced() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.applied
}
