// Package gateway is recmesh's orchestrator: A/B assignment and routing,
// the four hops of a recommendation under their budgets and breakers, and
// the fallback ladder that keeps answers coming when hops fail. It knows
// nothing of HTTP; package rest serves it as the public REST API.
package gateway

import (
	"fmt"
	"time"

	"github.com/recmesh/recmesh/pkg/catalog"
	"github.com/recmesh/recmesh/pkg/config"
)

// Budgets are the per-hop timeouts, each inside the request deadline.
type Budgets struct {
	Request, Features, Recall, Filter, Ranking time.Duration
	// Write bounds a catalogue or user call (a batch of 1,000 items, an
	// erasure), which may take longer than a recommendation.
	Write time.Duration
}

// Config is the orchestrator's configuration.
type Config struct {
	Budgets Budgets
	// ConfigWait is how long one WatchConfig long poll waits for a change.
	ConfigWait time.Duration
	// ConfigPoll is the pause before watching again after a failed watch.
	ConfigPoll time.Duration
	// ConfigCache is where the last good experiment config is kept; empty keeps it in memory only.
	ConfigCache string
	// PopularRefresh is how often the fallback popular list is refreshed.
	PopularRefresh time.Duration
	// BreakerSleep is how long an open breaker waits before a trial call.
	BreakerSleep time.Duration
	// RecallK is how many candidates recall is asked for.
	RecallK int
	// TraceSample is the share of requests whose trace is recorded and exported.
	TraceSample float64
	// Exposures tune the exposure log.
	Exposures ExposureConfig
	// CatalogPoll is how often the gateway's catalogue view asks for changes.
	CatalogPoll time.Duration
	// Shed turns on the adaptive concurrency limit and its ladder (shed.go).
	Shed bool
	// WarmupTimeout is the longest the gateway waits, after start, for
	// every serving hop to answer a probe before it says it is ready.
	WarmupTimeout time.Duration
	// ListCache configures the ranked-list cache (lists.go).
	ListCache ListCacheConfig
}

// DefaultConfig returns the defaults listed in the README.
func DefaultConfig() Config {
	return Config{
		Budgets: Budgets{Request: 300 * time.Millisecond, Features: 40 * time.Millisecond, Recall: 80 * time.Millisecond,
			Filter: 40 * time.Millisecond, Ranking: 80 * time.Millisecond, Write: 5 * time.Second},
		ConfigWait: 25 * time.Second, ConfigPoll: 2 * time.Second, PopularRefresh: 30 * time.Second,
		BreakerSleep: 2 * time.Second, RecallK: 250, TraceSample: 1,
		Exposures:   ExposureConfig{Queue: 10000, Batch: 500, Flush: 200 * time.Millisecond},
		CatalogPoll: catalog.DefaultPoll, WarmupTimeout: 10 * time.Second, Shed: true,
		ListCache: ListCacheConfig{TTL: 30 * time.Second, MiB: 64, Items: 200, PrewarmRate: 50},
	}
}

// Bind registers the orchestrator's flags (with RECMESH_* environment defaults).
func (c *Config) Bind(f *config.Flags) {
	d := DefaultConfig()
	f.Duration(&c.Budgets.Request, "budget-request", d.Budgets.Request, "deadline of a whole recommendation request")
	f.Duration(&c.Budgets.Features, "budget-features", d.Budgets.Features, "budget of the features hop")
	f.Duration(&c.Budgets.Recall, "budget-recall", d.Budgets.Recall, "budget of the recall hop")
	f.Duration(&c.Budgets.Filter, "budget-filter", d.Budgets.Filter, "budget of the filter hop")
	f.Duration(&c.Budgets.Ranking, "budget-ranking", d.Budgets.Ranking, "budget of the ranking hop")
	f.Duration(&c.Budgets.Write, "budget-write", d.Budgets.Write, "budget of a catalogue or user call (PUT/PATCH/DELETE, GET /v1/users)")
	catalog.BindPoll(f, &c.CatalogPoll)
	f.Duration(&c.ConfigWait, "config-wait", d.ConfigWait, "longest wait of one experiment-config long poll (WatchConfig)")
	f.Duration(&c.ConfigPoll, "config-poll", d.ConfigPoll, "pause before watching the experiment config again after a failed watch")
	f.String(&c.ConfigCache, "config-cache", "", "file keeping the last good experiment config; empty keeps it in memory")
	f.Duration(&c.PopularRefresh, "popular-refresh", d.PopularRefresh, "how often the fallback popular list is refreshed")
	f.Duration(&c.BreakerSleep, "breaker-sleep", d.BreakerSleep, "how long an open circuit breaker waits before a trial call")
	f.Bool(&c.Shed, "shed", d.Shed, "an adaptive limit on the recommendation requests running the pipeline (gradient2); past it, a growing share skips ranking while overload is mild, then the popular list is served, then 503 with Retry-After")
	f.Duration(&c.WarmupTimeout, "warmup-timeout", d.WarmupTimeout, "longest the gateway waits after start for every serving hop to answer a probe before /readyz says ready (then it is ready anyway, with fallbacks for the rest)")
	f.Duration(&c.ListCache.TTL, "list-cache-ttl", d.ListCache.TTL, "longest a user's cached ranked list serves their next pages (less up to a tenth, per list); their own event drops it at once; 0 switches the list cache off")
	f.Int(&c.ListCache.MiB, "list-cache-mib", d.ListCache.MiB, "memory bound of the in-process list cache, in MiB")
	f.String(&c.ListCache.Redis, "list-cache-redis", "", "redis:// URL of the list cache's shared level (replicas share lists and invalidations; ?prefix= sets the key prefix, rm: by default); empty keeps lists in process")
	f.Int(&c.ListCache.Items, "list-cache-items", d.ListCache.Items, "most items of a pipeline run's ranked list that are cached")
	f.Float(&c.ListCache.PrewarmRate, "list-cache-prewarm-rate", d.ListCache.PrewarmRate, "lists per second rebuilt in the background after a new model version is seen")
	f.Int(&c.RecallK, "recall-k", d.RecallK, "candidates asked of recall")
	f.Float(&c.TraceSample, "trace-sample", d.TraceSample, "share of requests traced (0..1); services follow the gateway's decision")
	f.Int(&c.Exposures.Queue, "exposure-queue", d.Exposures.Queue, "replies that may wait for the exposure log; a full queue drops (and counts) rows; 0 switches exposure logging off")
	f.Int(&c.Exposures.Batch, "exposure-batch", d.Exposures.Batch, "most replies written to the exposure log in one call")
	f.Duration(&c.Exposures.Flush, "exposure-flush", d.Exposures.Flush, "longest a reply waits for its exposure batch to fill")
}

// Validate checks the config.
func (c *Config) Validate() error {
	b := c.Budgets
	for name, d := range map[string]time.Duration{"request": b.Request, "features": b.Features, "recall": b.Recall, "filter": b.Filter,
		"ranking": b.Ranking, "write": b.Write} {
		if d <= 0 {
			return fmt.Errorf("budget of %s must be positive", name)
		}
	}
	if c.RecallK <= 0 || c.ConfigPoll <= 0 || c.ConfigWait <= 0 || c.PopularRefresh <= 0 || c.BreakerSleep <= 0 || c.WarmupTimeout <= 0 || c.TraceSample < 0 || c.TraceSample > 1 {
		return fmt.Errorf("recall k, poll and refresh intervals, breaker sleep and warm-up timeout must be positive; trace sample within 0..1")
	}
	if l := c.ListCache; l.TTL < 0 || (l.TTL > 0 && (l.MiB < 1 || l.Items < 1 || l.PrewarmRate <= 0)) {
		return fmt.Errorf("list cache: TTL must be ≥ 0; with a TTL, MiB, items and pre-warm rate must be positive")
	}
	if e := c.Exposures; e.Queue < 0 || (e.Queue > 0 && (e.Batch < 1 || e.Batch > 1000 || e.Flush <= 0)) {
		return fmt.Errorf("exposure queue must be ≥ 0, the batch within 1..1000 and the flush interval positive")
	}
	return nil
}
