package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/artifact"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/run"
	"github.com/recmesh/recmesh/pkg/telemetry"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/experiment/experimentapi"
	expstore "github.com/recmesh/recmesh/services/experiment/store"
	"github.com/recmesh/recmesh/services/features"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/filter"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// NodeOptions configure one service running as its own process (dev and
// production modes).
type NodeOptions struct {
	// Service is one of Services.
	Service string
	// Version is published as the version=… tag.
	Version             string
	GRPCAddr, AdminAddr string
	Registry            registry.Registry
	OTLPEndpoint        string
	Log                 io.Writer
	LogLevel            slog.Level

	// Postgres backs features and experiment; Redis backs features.
	Postgres    *pgxpool.Pool
	Redis       redis.UniversalClient
	RedisPrefix string
	// ModelDir and ModelPoll serve recall and ranking.
	ModelDir  string
	ModelPoll time.Duration
	// Blocklist and MaxPerGenre configure filter.
	Blocklist   []int64
	MaxPerGenre int
	// Seed is the experiment config file an empty experiment store starts
	// from; AdminToken guards the admin API; StorePoll is how often the
	// store is checked for changes made through other instances.
	Seed       string
	AdminToken string `secret:"true"`
	StorePoll  time.Duration
}

// Node is one running service.
type Node struct {
	running *run.Running
	tp      *sdktrace.TracerProvider
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// StartNode starts the service o.Service, registers it and returns once it
// is serving.
func StartNode(ctx context.Context, o NodeOptions) (_ *Node, err error) {
	n := &Node{}
	bg, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	defer func() {
		if err != nil {
			cancel()
			n.wg.Wait()
		}
	}()
	log := rlog.New(o.Log, o.Service, o.LogLevel)
	spec := run.Spec{Name: o.Service, Version: o.Version, GRPCAddr: o.GRPCAddr, AdminAddr: o.AdminAddr,
		Registry: o.Registry, Metrics: telemetry.NewRegistry(), Logger: log}
	switch o.Service {
	case featuresapi.Name:
		if o.Postgres == nil || o.Redis == nil {
			return nil, errors.New("features needs PostgreSQL and Redis")
		}
		rto := store.DefaultRealTimeOptions()
		if o.RedisPrefix != "" {
			rto.Prefix = o.RedisPrefix
		}
		st := &store.Durable{PG: store.NewPostgres(o.Postgres), RT: store.NewRealTime(o.Redis, rto), Log: log, ItemTTL: 5 * time.Minute}
		registerDurableMetrics(spec.Metrics, st)
		spec.Register = featuresHandlers(features.New(st, features.DefaultOptions()))
		spec.Ready = func(ctx context.Context) error { return errors.Join(o.Postgres.Ping(ctx), o.Redis.Ping(ctx).Err()) }
	case recallapi.Name, rankingapi.Name:
		models := artifact.Store{Dir: o.ModelDir}
		set, err := models.OpenCurrent()
		if err != nil {
			return nil, fmt.Errorf("%s: %w (train one with recmesh train)", o.Service, err)
		}
		var w *artifact.Watcher
		if o.Service == recallapi.Name {
			idx, err := recall.LoadIndex(set)
			if err != nil {
				return nil, err
			}
			r := recall.New(idx)
			spec.Register, spec.Ready = recallHandlers(r), r.Ready
			w = recallWatcher(models, o.ModelPoll, set.Manifest.Version, r, log)
		} else {
			r, err := loadRanker(models, set)
			if err != nil {
				return nil, err
			}
			spec.Register, spec.Ready = rankingHandlers(r), r.Ready
			w = rankingWatcher(models, o.ModelPoll, set.Manifest.Version, r, log)
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			w.Run(bg)
		}()
	case filterapi.Name:
		spec.Register = filterHandlers(filter.New(o.MaxPerGenre, o.Blocklist))
	case experimentapi.Name:
		if o.Postgres == nil {
			return nil, errors.New("experiment needs PostgreSQL")
		}
		st := expstore.NewPostgres(o.Postgres)
		if o.Seed != "" {
			seed, err := abtest.LoadFile(o.Seed)
			if err != nil {
				return nil, err
			}
			if ok, err := expstore.Seed(ctx, st, seed, "seed:"+o.Seed); err != nil {
				return nil, err
			} else if ok {
				log.Info("experiment store seeded", "file", o.Seed)
			}
		}
		cfgs := experiment.New(nil)
		if err := cfgs.Follow(bg, st, o.StorePoll, log); err != nil {
			return nil, fmt.Errorf("experiment: load config: %w", err)
		}
		spec.Register = experimentHandlers(cfgs)
		spec.Admin = (&experiment.Admin{Store: st, Configs: cfgs, Token: o.AdminToken, Log: log}).Register
		spec.Ready = func(ctx context.Context) error { return o.Postgres.Ping(ctx) }
	default:
		return nil, fmt.Errorf("unknown service %q; one of %v", o.Service, Services)
	}
	n.tp, err = telemetry.NewTracerProvider(ctx, o.Service, o.OTLPEndpoint)
	if err != nil {
		return nil, err
	}
	spec.Tracer = n.tp
	if n.running, err = run.Start(ctx, spec); err != nil {
		_ = n.tp.Shutdown(context.Background())
		return nil, err
	}
	return n, nil
}

// GRPCAddr and AdminAddr are the bound addresses.
func (n *Node) GRPCAddr() string  { return n.running.GRPCAddr() }
func (n *Node) AdminAddr() string { return n.running.AdminAddr() }

// Stop deregisters, drains and stops the service, then flushes its traces.
func (n *Node) Stop(ctx context.Context) error {
	err := n.running.Stop(ctx)
	n.cancel()
	n.wg.Wait()
	return errors.Join(err, n.tp.Shutdown(ctx))
}

// registerDurableMetrics exports the features store's repair counters.
func registerDurableMetrics(reg prometheus.Registerer, st *store.Durable) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "recmesh_features_redis_missed_events_total",
			Help: "Accepted events, durable in PostgreSQL, that Redis missed since start; recmesh replay repairs them.",
		}, func() float64 { return float64(st.Stale()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "recmesh_features_history_postgres_reads_total",
			Help: "History reads served by PostgreSQL because Redis failed, since start.",
		}, func() float64 { return float64(st.Fallbacks()) }),
	)
}
