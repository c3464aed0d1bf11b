package features

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/pkg/storeurl"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
)

// Config is the features service's configuration.
type Config struct {
	// Store is the URL of the record (catalogue and event log): memory: or
	// postgres://… (see store.Open).
	Store string `secret:"url"`
	// RealTime is the URL of the Redis real-time state in front of the
	// record (redis://host:port/db?prefix=rm:); empty for none.
	RealTime string `secret:"url"`
	// Data is a MovieLens directory loaded into a memory: store at start;
	// other stores are loaded with recmesh import.
	Data string
	// AttributionWindow is how far back feedback without a request_id
	// looks for the exposure it answers (store.Attribution).
	AttributionWindow time.Duration
	// RealTimeTimeout bounds one Redis read before PostgreSQL answers instead.
	RealTimeTimeout time.Duration
}

// Component is the features service as a component.
type Component struct{ Config Config }

var _ component.Component = (*Component)(nil)

// NewComponent returns the features component with its defaults.
func NewComponent() *Component { return &Component{} }

// Name implements component.Component.
func (*Component) Name() string { return featuresapi.Name }

// Bind implements component.Component.
func (c *Component) Bind(f *config.Flags) {
	storeurl.BindFlag(f, &c.Config.Store)
	f.String(&c.Config.RealTime, "realtime", "", "Redis URL of the features real-time state, e.g. redis://127.0.0.1:6379/0?prefix=rm: (empty: none)")
	f.String(&c.Config.Data, "data", "", "MovieLens directory loaded into a memory: store at start (other stores: recmesh import)")
	f.Duration(&c.Config.AttributionWindow, "attribution-window", store.DefaultAttributionWindow,
		"how far back feedback without a request_id looks for the user's latest exposure of the item")
	f.Duration(&c.Config.RealTimeTimeout, "realtime-timeout", 20*time.Millisecond,
		"longest wait for one Redis read before PostgreSQL answers instead; Redis has a breaker of its own (hop redis), so a dead Redis costs nothing once it opens")
}

// slowRedisFallbacks is how many history reads a slow Redis may hand to
// PostgreSQL at once (store.Durable.SlowFallbacks): the odd stalled read is
// answered whole, a burst is not fed onto PostgreSQL.
const slowRedisFallbacks = 2

// redisBreakers numbers the Redis breakers of a process: hystrix-go's
// commands are process-wide, and each Durable store needs its own.
var redisBreakers atomic.Int64

// newRedisBreaker guards the Redis in front of the record: it opens after 20
// calls in 10 s of which half failed, and tries Redis again after a second.
func newRedisBreaker(env component.Env, timeout time.Duration) *resilience.Breaker {
	s := resilience.DefaultSettings(timeout)
	s.VolumeThreshold, s.SleepWindow = 20, time.Second
	name := fmt.Sprintf("features.redis.%d", redisBreakers.Add(1))
	return resilience.NewBreaker(name, "redis", s, resilience.NewMetrics(env.Metrics), env.Log)
}

// itemPoll is how often the features service reads the catalogue's changes
// into its in-memory cache: a change made through another replica shows
// within it (its own changes show at once).
const itemPoll = time.Second

// Open implements component.Component.
func (c *Component) Open(ctx context.Context, env component.Env) (_ *component.Service, err error) {
	sm := storeurl.NewMetrics(env.Metrics)
	st, closeStore, err := store.Open(ctx, c.Config.Store, sm)
	if err != nil {
		return nil, err
	}
	closers := []func(){closeStore}
	closeAll := func(context.Context) error {
		for _, f := range closers {
			f()
		}
		return nil
	}
	defer func() {
		if err != nil {
			_ = closeAll(ctx)
		}
	}()
	if c.Config.Data != "" {
		if err := seed(ctx, st, c.Config.Data, env.Progress); err != nil {
			return nil, err
		}
	}
	var d *store.Durable
	if c.Config.RealTime != "" {
		rt, closeRT, err := store.OpenRealTime(ctx, c.Config.RealTime, sm)
		if err != nil {
			return nil, err
		}
		closers = append(closers, closeRT)
		d = &store.Durable{Record: st, RT: rt, Log: env.Log, ItemPoll: itemPoll, RTTimeout: c.Config.RealTimeTimeout,
			SlowFallbacks: slowRedisFallbacks}
		if c.Config.RealTimeTimeout > 0 {
			d.RTBreaker = newRedisBreaker(env, c.Config.RealTimeTimeout)
		}
		n, err := d.SyncItems(ctx)
		if err != nil {
			return nil, fmt.Errorf("features: read the catalogue into memory: %w", err)
		}
		env.Log.Info("catalogue read into memory", "items", n)
		closers = append(closers, d.FollowItems())
		st = d
	}
	registerDurableMetrics(env.Metrics, d)
	opts := DefaultOptions()
	if c.Config.AttributionWindow > 0 {
		opts.Attribution.Window = c.Config.AttributionWindow
	}
	svc := New(st, opts)
	return &component.Service{
		Register: func(s *grpc.Server) { pb.RegisterFeaturesServiceServer(s, NewGRPCServer(MakeEndpoints(svc))) },
		Ready:    func(ctx context.Context) error { return ping(ctx, st) },
		Close:    closeAll,
	}, nil
}

// seedChunk is how many events seed converts and appends at a time, so
// that a large dataset is never held twice as events.
const seedChunk = 1 << 20

// seed loads a MovieLens directory into an in-memory store; a durable store
// is loaded once, by recmesh import, not on every start.
func seed(ctx context.Context, st store.Store, dir string, progress io.Writer) error {
	if _, ok := st.(*store.Memory); !ok {
		return errors.New("features: -data loads only a memory: store; load a durable store with recmesh import")
	}
	ds, err := movielens.Load(dir)
	if err != nil {
		return err
	}
	if err := st.PutItems(ctx, ds.Items()); err != nil {
		return err
	}
	for lo := 0; lo < len(ds.Ratings); lo += seedChunk {
		hi := min(lo+seedChunk, len(ds.Ratings))
		if _, err := st.AppendEvents(ctx, ds.EventsBetween(lo, hi)); err != nil {
			return err
		}
		if progress != nil && len(ds.Ratings) > seedChunk {
			fmt.Fprintf(progress, "features: loading %s: %d/%d events (%.0f%%)\n", dir, hi, len(ds.Ratings), 100*float64(hi)/float64(len(ds.Ratings)))
		}
	}
	if progress != nil {
		fmt.Fprintf(progress, "features: loaded %d items and %d events from %s\n", len(ds.Movies), len(ds.Ratings), dir)
	}
	return nil
}

// ping reports whether st can answer: a Durable store when either of its
// backends answers, any other when its one backend does.
func ping(ctx context.Context, st store.Store) error {
	switch s := st.(type) {
	case *store.Durable:
		// Either one answers the contract: without Redis, history comes
		// from PostgreSQL; without PostgreSQL, from Redis (events then get
		// 503 until it returns). Neither: not ready.
		errRecord, errRT := ping(ctx, s.Record), s.RT.Ping(ctx)
		if errRecord == nil || errRT == nil {
			return nil
		}
		return errors.Join(errRecord, errRT)
	case interface{ Ping(context.Context) error }:
		return s.Ping(ctx)
	}
	return nil
}

// registerDurableMetrics exports the features store's repair counters;
// without a real-time store in front (st nil) both stay 0.
func registerDurableMetrics(reg prometheus.Registerer, st *store.Durable) {
	count := func(f func(*store.Durable) int64) func() float64 {
		return func() float64 {
			if st == nil {
				return 0
			}
			return float64(f(st))
		}
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "recmesh_features_redis_missed_events_total",
			Help: "Accepted events, durable in PostgreSQL, that Redis missed since start; recmesh replay repairs them.",
		}, count((*store.Durable).Stale)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "recmesh_features_history_postgres_reads_total",
			Help: "History reads served by PostgreSQL because Redis failed, since start.",
		}, count((*store.Durable).Fallbacks)),
	)
}
