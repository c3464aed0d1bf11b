// Package listcache is the gateway's cache of ranked lists: the whole
// output of one pipeline run for a user (recall, filter and ranking), kept
// so the user's next pages, and other page sizes, are served from it with
// no hop at all.
//
// Two levels: an in-process cache bounded by memory (otter, a W-TinyLFU
// cache) in front of a shared Store (Redis in dev and production, so
// gateway replicas share lists and survive a restart). A list is keyed by
// user and by everything else its contents depend on (scene, the variant's
// params and routes, categories: see Key), and it records the model
// versions it was built with, so a new model version or a changed variant
// misses without a sweep. A user's own event invalidates all of their
// lists, in every replica (Store.Invalidations), so the next request
// reflects what they just did.
//
// Serving from a list consumes it: an item served once is not served again
// from the same list, as the exposure rules would not show it again (every
// shown item counts as seen unless a variant sets a frequency cap). When
// fewer than n unserved items remain, the list is exhausted and the
// pipeline runs again.
package listcache

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/recmesh/recmesh/pkg/domain"
)

// List is one ranked list.
type List struct {
	// Items are ranked, filtered and servable when built, best first.
	Items []domain.Candidate
	// ModelVersion is the ranking model version replies from it name.
	ModelVersion string
	// Versions are the model versions it was built with (see Cache.Take).
	Versions string
	// Scene and Categories are the request's, so a pre-warm can rebuild it.
	Scene      string
	Categories []string
	// Built is when the pipeline produced it.
	Built time.Time
}

// Store is the shared second level.
type Store interface {
	// Get returns the list under (user, key) and the items already
	// served from it; ok is false when there is none.
	Get(ctx context.Context, user, key string) (l List, served []int64, ok bool, err error)
	// Put stores l under (user, key), with no item served, for ttl,
	// unless the user was invalidated at or after l.Built (the run that
	// built it started before the user's event, so it may not reflect it).
	Put(ctx context.Context, user, key string, l List, ttl time.Duration) error
	// Served records that the list under (user, key) has served these
	// items in all (the whole set so far, oldest first).
	Served(ctx context.Context, user, key string, served []int64) error
	// Invalidate drops every list of user, marks the user invalidated now
	// for at least MarkTTL (see Put) and tells every subscriber.
	Invalidate(ctx context.Context, user string) error
	// Invalidations delivers the users other replicas invalidate until ctx
	// ends.
	Invalidations(ctx context.Context) (<-chan string, error)
}

// MarkTTL is how long a store and a cache remember that a user was
// invalidated: longer than any pipeline run, so a run that started before
// the user's event cannot keep its list after it.
const MarkTTL = time.Minute

// Options configure a Cache.
type Options struct {
	// TTL is how long a list is served at most; each list gets a TTL up
	// to a tenth shorter (jitter), so lists built together do not expire
	// together.
	TTL time.Duration
	// MaxBytes bounds the in-process level (an estimate of the lists'
	// memory).
	MaxBytes uint64
	// Store is the shared level; nil keeps lists in process only.
	Store Store
	// StoreTimeout bounds each call to the store.
	StoreTimeout time.Duration
}

// Cache is the two-level list cache. Its methods are safe for concurrent use.
type Cache struct {
	opts Options
	l1   *otter.Cache[string, *userLists]
	// marks are when users were last invalidated, for MarkTTL.
	marks  *otter.Cache[string, time.Time]
	flight singleflight.Group
	m      *metrics
	writes chan func(context.Context) // store writes, off the request path
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// userLists are one user's lists in process, by key.
type userLists struct {
	mu    sync.Mutex
	lists map[string]*entry
}

type entry struct {
	list    List
	served  map[int64]struct{}
	order   []int64 // served, oldest first, as the store keeps it
	expires time.Time
	// refreshing is set once Take asked for the list's refresh.
	refreshing bool
}

// itemBytes is a rough size of one cached candidate (id, title, sources,
// score, the slices' headers), for the memory bound.
const itemBytes = 160

// New returns a cache; Close stops its store writer and subscription.
func New(opts Options, reg prometheus.Registerer) (*Cache, error) {
	if opts.TTL <= 0 || opts.MaxBytes == 0 {
		return nil, errors.New("listcache: TTL and MaxBytes must be positive")
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 50 * time.Millisecond
	}
	m := newMetrics(reg)
	l1, err := otter.New(&otter.Options[string, *userLists]{
		MaximumWeight: opts.MaxBytes,
		Weigher: func(_ string, u *userLists) uint32 {
			u.mu.Lock()
			defer u.mu.Unlock()
			n := 0
			for _, e := range u.lists {
				n += len(e.list.Items)
			}
			return uint32(64 + n*itemBytes)
		},
		ExpiryCalculator: otter.ExpiryWriting[string, *userLists](opts.TTL),
		OnDeletion: func(e otter.DeletionEvent[string, *userLists]) {
			if e.Cause.IsEviction() {
				m.evictions.WithLabelValues(strings.ToLower(e.Cause.String())).Inc()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	m.size(l1)
	marks, err := otter.New(&otter.Options[string, time.Time]{ExpiryCalculator: otter.ExpiryWriting[string, time.Time](MarkTTL)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cache{opts: opts, l1: l1, marks: marks, m: m, writes: make(chan func(context.Context), 1024), stop: cancel}
	if opts.Store != nil {
		inv, err := opts.Store.Invalidations(ctx)
		if err != nil {
			cancel()
			return nil, err
		}
		c.wg.Add(2)
		go c.writer(ctx)
		go c.follow(inv)
	}
	return c, nil
}

// Close stops the cache's goroutines; pending store writes are dropped.
func (c *Cache) Close() {
	c.stop()
	c.wg.Wait()
	c.l1.StopAllGoroutines()
	c.marks.StopAllGoroutines()
}

// writer runs store writes one at a time, so a slow store costs no
// request anything but a dropped write (counted).
func (c *Cache) writer(ctx context.Context) {
	defer c.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-c.writes:
			wctx, cancel := context.WithTimeout(ctx, c.opts.StoreTimeout)
			w(wctx)
			cancel()
		}
	}
}

func (c *Cache) follow(inv <-chan string) {
	defer c.wg.Done()
	for user := range inv {
		c.mark(user)
		if _, ok := c.l1.Invalidate(user); ok {
			c.m.invalidations.WithLabelValues("remote").Inc()
		}
	}
}

func (c *Cache) write(w func(context.Context)) {
	if c.opts.Store == nil {
		return
	}
	select {
	case c.writes <- w:
	default:
		c.m.storeErrors.WithLabelValues("dropped").Inc()
	}
}

// Request is what Take needs of a request.
type Request struct {
	User, Key string
	// Versions are the model versions the caller knows to be current; a
	// list built with others is stale. Empty: not known yet, any list is
	// good.
	Versions string
	N        int
	// Exclude are items the client shows already.
	Exclude []int64
	// Admit says whether an item may be served now (the catalogue).
	Admit func(*domain.Candidate) bool
	// RefreshBelow asks, once per list, for the list's refresh when fewer
	// unserved items than this are left after the page (0: never), if
	// TryRefresh (nil: always) agrees; a list it refuses asks again on its
	// next page.
	RefreshBelow int
	TryRefresh   func() bool
}

// Page is what Take serves.
type Page struct {
	Items        []domain.Candidate
	ModelVersion string
	// Refresh asks the caller to rebuild the list in the background
	// (Request.RefreshBelow); Served are its items served so far, which
	// the new list should leave out.
	Refresh bool
	Served  []int64
}

// Take serves r.N items from the user's list under r.Key, the best ones
// not served from it yet, and marks them served. ok is false on a miss:
// no list, a stale or expired one, or fewer than N items left.
func (c *Cache) Take(ctx context.Context, r Request) (Page, bool) {
	u, level := c.lookup(ctx, r.User, r.Key)
	if u == nil {
		c.m.result("miss")
		return Page{}, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.lists[r.Key]
	switch {
	case e == nil:
		c.m.result("miss")
		return Page{}, false
	case time.Now().After(e.expires) || (r.Versions != "" && e.list.Versions != r.Versions):
		delete(u.lists, r.Key)
		c.m.result("stale")
		return Page{}, false
	}
	items := make([]domain.Candidate, 0, r.N)
	for i := range e.list.Items {
		it := &e.list.Items[i]
		if _, done := e.served[it.ID]; done || slices.Contains(r.Exclude, it.ID) || (r.Admit != nil && !r.Admit(it)) {
			continue
		}
		items = append(items, *it)
		if len(items) == r.N {
			break
		}
	}
	if len(items) < r.N {
		delete(u.lists, r.Key)
		c.m.result("exhausted")
		return Page{}, false
	}
	for _, it := range items {
		e.served[it.ID] = struct{}{}
		e.order = append(e.order, it.ID)
	}
	c.m.result(level)
	p := Page{Items: items, ModelVersion: e.list.ModelVersion}
	if !e.refreshing && r.RefreshBelow > 0 && e.unserved() < r.RefreshBelow && (r.TryRefresh == nil || r.TryRefresh()) {
		e.refreshing, p.Refresh = true, true
	}
	if c.opts.Store != nil || p.Refresh { // a copy only for those that read it after the lock
		order := slices.Clone(e.order)
		c.write(func(ctx context.Context) { c.storeErr("served", c.opts.Store.Served(ctx, r.User, r.Key, order)) })
		if p.Refresh {
			p.Served = order
		}
	}
	return p, true
}

// unserved is how many of the list's items are not served yet.
func (e *entry) unserved() int {
	n := 0
	for i := range e.list.Items {
		if _, done := e.served[e.list.Items[i].ID]; !done {
			n++
		}
	}
	return n
}

// lookup finds the user's lists in process, or else loads the one under
// key from the store into process.
func (c *Cache) lookup(ctx context.Context, user, key string) (*userLists, string) {
	if u, ok := c.l1.GetIfPresent(user); ok {
		u.mu.Lock()
		_, has := u.lists[key]
		u.mu.Unlock()
		if has || c.opts.Store == nil {
			return u, "hit_l1"
		}
	}
	if c.opts.Store == nil {
		return nil, ""
	}
	sctx, cancel := context.WithTimeout(ctx, c.opts.StoreTimeout)
	l, served, ok, err := c.opts.Store.Get(sctx, user, key)
	cancel()
	if c.storeErr("get", err); !ok || err != nil {
		return nil, ""
	}
	u, _ := c.keep(user, key, l, served)
	return u, "hit_l2"
}

// keep puts l under (user, key) in process. A list it replaces (a refresh
// or a pre-warm) hands over what it served, so no item is served twice
// under one key; keep returns the served items, as the new entry has them.
func (c *Cache) keep(user, key string, l List, served []int64) (*userLists, []int64) {
	e := &entry{list: l, served: make(map[int64]struct{}, len(served)), expires: l.Built.Add(c.ttl(user, key))}
	add := func(ids []int64) {
		for _, id := range ids {
			if _, dup := e.served[id]; !dup {
				e.served[id] = struct{}{}
				e.order = append(e.order, id)
			}
		}
	}
	var order []int64
	u, _ := c.l1.Compute(user, func(old *userLists, found bool) (*userLists, otter.ComputeOp) {
		if !found {
			old = &userLists{lists: map[string]*entry{}}
		}
		old.mu.Lock()
		if prev := old.lists[key]; prev != nil {
			add(prev.order)
		}
		add(served)
		old.lists[key] = e
		order = slices.Clone(e.order) // under the lock: a Take may serve from e at once
		old.mu.Unlock()
		return old, otter.WriteOp
	})
	return u, order
}

// ttl is the list's TTL: Options.TTL less up to a tenth, fixed per list so
// the two levels agree.
func (c *Cache) ttl(user, key string) time.Duration {
	j := rand.New(rand.NewPCG(hash(user), hash(key))).Float64() * 0.1
	return time.Duration(float64(c.opts.TTL) * (1 - j))
}

func hash(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// Put keeps l as the user's list under key, with served already served
// (the page the run that built it answered), and whatever the list it
// replaces served. l.Built is when the run that built it started (zero:
// now); a list whose run started before the user's last invalidation is
// dropped, as the run may not have seen the user's event.
func (c *Cache) Put(user, key string, l List, served []int64) {
	if l.Built.IsZero() {
		l.Built = time.Now()
	}
	if t, ok := c.marks.GetIfPresent(user); ok && !l.Built.After(t) {
		c.m.outdated.Inc()
		return
	}
	_, order := c.keep(user, key, l, served)
	ttl := c.ttl(user, key)
	c.write(func(ctx context.Context) {
		if c.storeErr("put", c.opts.Store.Put(ctx, user, key, l, ttl)); len(order) > 0 {
			c.storeErr("served", c.opts.Store.Served(ctx, user, key, order))
		}
	})
}

// Invalidate drops every list of user, in this process, in the store and
// (through the store) in every other replica.
func (c *Cache) Invalidate(ctx context.Context, user string) {
	c.mark(user)
	c.l1.Invalidate(user)
	c.m.invalidations.WithLabelValues("event").Inc()
	if c.opts.Store != nil {
		sctx, cancel := context.WithTimeout(ctx, c.opts.StoreTimeout)
		c.storeErr("invalidate", c.opts.Store.Invalidate(sctx, user))
		cancel()
	}
}

// mark records that user was invalidated now. A list whose run started
// at the same clock reading is dropped too (Put compares with After).
func (c *Cache) mark(user string) { c.marks.Set(user, time.Now()) }

func (c *Cache) storeErr(op string, err error) {
	if err != nil {
		c.m.storeErrors.WithLabelValues(op).Inc()
	}
}
