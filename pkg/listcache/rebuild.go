package listcache

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// This file is the cache's side of rebuilding lists: one pipeline run per
// burst of misses, the lists a pre-warm rebuilds, and the counters of
// rebuilds.

// Build runs build once for concurrent misses of the same user and key
// (singleflight): a burst of requests for one user costs one pipeline run.
// shared is true for the callers that waited for another's run.
func (c *Cache) Build(user, key string, build func() (any, error)) (v any, shared bool, err error) {
	ran := false
	v, err, _ = c.flight.Do(user+"\x00"+key, func() (any, error) {
		ran = true
		return build()
	})
	return v, !ran, err
}

// Stale is one list a pre-warm should rebuild.
type Stale struct {
	User, Key, Scene string
	Categories       []string
}

// StaleLists are the lists in process built with versions other than
// versions (at most limit), most recently used users first.
func (c *Cache) StaleLists(versions string, limit int) []Stale {
	var out []Stale
	for e := range c.l1.Hottest() {
		e.Value.mu.Lock()
		for key, l := range e.Value.lists {
			if l.list.Versions != versions && time.Now().Before(l.expires) {
				out = append(out, Stale{User: e.Key, Key: key, Scene: l.list.Scene, Categories: l.list.Categories})
			}
		}
		e.Value.mu.Unlock()
		if len(out) >= limit {
			break
		}
	}
	return out
}

// PrewarmedCounter is recmesh_list_cache_prewarmed_total, for tests.
func (c *Cache) PrewarmedCounter() prometheus.Counter { return c.m.prewarmed }

// InvalidationsCounter is recmesh_list_cache_invalidations_total{reason}, for tests.
func (c *Cache) InvalidationsCounter(reason string) prometheus.Counter {
	return c.m.invalidations.WithLabelValues(reason)
}

// RefreshedCounter is recmesh_list_cache_refreshed_total, for tests.
func (c *Cache) RefreshedCounter() prometheus.Counter { return c.m.refreshed }

// ResultCounter is recmesh_list_cache_requests_total{result}, for tests.
func (c *Cache) ResultCounter(result string) prometheus.Counter { return c.m.results[result] }

// OutdatedCounter is recmesh_list_cache_outdated_total, for tests.
func (c *Cache) OutdatedCounter() prometheus.Counter { return c.m.outdated }

// Refreshed counts a list rebuilt ahead of its end.
func (c *Cache) Refreshed() { c.m.refreshed.Inc() }

// Prewarmed counts lists a pre-warm rebuilt.
func (c *Cache) Prewarmed(n int) { c.m.prewarmed.Add(float64(n)) }
