// Package mesh starts recmesh's services and gateway in one process, each on
// its own loopback port with its own gRPC code path, found through a static
// registry: the embedded mode behind `recmesh all`.
package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/artifact"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/movielens"
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
	"github.com/recmesh/recmesh/services/ranking"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// Services lists the services in start order.
var Services = []string{featuresapi.Name, recallapi.Name, filterapi.Name, rankingapi.Name, experimentapi.Name}

// Options configure the embedded mesh.
type Options struct {
	// DataDir is a MovieLens directory loaded into the features store.
	DataDir string
	// ModelDir holds model artifacts; the first version is trained if none is published.
	ModelDir string
	// ModelPoll is how often a newly published model version is looked for.
	ModelPoll time.Duration
	// Experiments is the experiment config file the store is seeded from.
	Experiments string
	// AdminToken guards the experiment admin API; empty switches it off.
	AdminToken string `secret:"true"`
	// Blocklist holds item ids the filter drops for everyone.
	Blocklist []int64
	// MaxPerGenre is the filter's default cap of candidates per genre.
	MaxPerGenre int
	// GRPCAddrs and AdminAddrs map a service to its listen addresses; a
	// missing service listens on 127.0.0.1:0.
	GRPCAddrs, AdminAddrs map[string]string
	// OTLPEndpoint exports traces when set (host:port).
	OTLPEndpoint string
	// SpanExporter, when set, also receives every span (tests use an in-memory one).
	SpanExporter sdktrace.SpanExporter
	// Instance names this mesh's breakers; hystrix-go's are process-wide.
	Instance string
	Gateway  GatewayConfig
	// Log receives every service's records.
	Log      io.Writer
	LogLevel slog.Level
	// Progress receives training progress; nil discards it.
	Progress io.Writer
}

// Mesh is a running embedded mesh.
type Mesh struct {
	opts      Options
	reg       *registry.Static
	providers []*sdktrace.TracerProvider

	mu      sync.Mutex
	specs   map[string]run.Spec
	running map[string]*run.Running

	gws         *GatewayServer
	experiments *experiment.Configs
	expStore    *expstore.Memory
	stopWatch   context.CancelFunc
	watchers    sync.WaitGroup
}

// Start loads the data and models, starts every service and the gateway,
// and returns once the gateway is listening.
func Start(ctx context.Context, o Options) (_ *Mesh, err error) {
	m := &Mesh{opts: o, reg: registry.NewStatic(), specs: map[string]run.Spec{}, running: map[string]*run.Running{}}
	defer func() {
		if err != nil {
			_ = m.Stop(context.Background())
		}
	}()
	ds, err := movielens.Load(o.DataDir)
	if err != nil {
		return nil, err
	}
	items, events := offline.Items(ds), offline.Events(ds)
	models := artifact.Store{Dir: o.ModelDir}
	set, err := models.OpenCurrent()
	if errors.Is(err, artifact.ErrNoVersion) {
		topt := offline.DefaultTrainOptions()
		topt.Progress = o.Progress
		if _, err = offline.Train(ctx, items, events, models, topt); err != nil {
			return nil, err
		}
		set, err = models.OpenCurrent()
	}
	if err != nil {
		return nil, err
	}
	index, err := recall.LoadIndex(set)
	if err != nil {
		return nil, err
	}
	ranker, err := loadRanker(models, set)
	if err != nil {
		return nil, err
	}
	configured, err := abtest.LoadFile(o.Experiments)
	if err != nil {
		return nil, err
	}

	featureStore := store.NewMemory()
	if err := featureStore.PutItems(ctx, items); err != nil {
		return nil, err
	}
	if err := featureStore.AppendEvents(ctx, events); err != nil {
		return nil, err
	}
	featureSvc := features.New(featureStore, features.DefaultOptions())
	recaller := recall.New(index)
	filterer := filter.New(o.MaxPerGenre, o.Blocklist)
	// The embedded mode keeps the experiment config in memory, seeded from
	// the file; the admin API works on it when AdminToken is set.
	m.expStore = expstore.NewMemory()
	if _, err := expstore.Seed(ctx, m.expStore, configured, "seed:"+o.Experiments); err != nil {
		return nil, err
	}
	seeded, err := m.expStore.Load(ctx)
	if err != nil {
		return nil, err
	}
	experiments := experiment.New(seeded)
	m.experiments = experiments

	register := map[string]func(*grpc.Server){
		featuresapi.Name:   featuresHandlers(featureSvc),
		recallapi.Name:     recallHandlers(recaller),
		filterapi.Name:     filterHandlers(filterer),
		rankingapi.Name:    rankingHandlers(ranker),
		experimentapi.Name: experimentHandlers(experiments),
	}
	ready := map[string]func(context.Context) error{recallapi.Name: recaller.Ready, rankingapi.Name: ranker.Ready}
	admin := map[string]func(*http.ServeMux){experimentapi.Name: (&experiment.Admin{
		Store: m.expStore, Configs: experiments, Token: o.AdminToken, Log: rlog.New(o.Log, experimentapi.Name, o.LogLevel),
	}).Register}
	for _, name := range Services {
		tp, err := m.tracer(ctx, name)
		if err != nil {
			return nil, err
		}
		m.specs[name] = run.Spec{
			Name: name, Version: "v1", GRPCAddr: addr(o.GRPCAddrs, name), AdminAddr: addr(o.AdminAddrs, name),
			Register: register[name], Ready: ready[name], Admin: admin[name], Registry: m.reg, Metrics: telemetry.NewRegistry(),
			Tracer: tp, Logger: rlog.New(o.Log, name, o.LogLevel),
		}
		if err := m.StartService(ctx, name); err != nil {
			return nil, err
		}
	}
	m.watchModels(models, set.Manifest.Version, recaller, ranker)
	return m, m.startGateway(ctx)
}

// loadRanker loads the current ranking model and the newest older ones, so
// that variants can pin them from the start.
func loadRanker(models artifact.Store, current *artifact.Set) (*ranking.Ranker, error) {
	r := ranking.New(nil)
	versions, err := models.Versions()
	if err != nil {
		return nil, err
	}
	var older []string
	for _, v := range versions {
		if v < current.Manifest.Version {
			older = append(older, v)
		}
	}
	for _, v := range older[max(0, len(older)-(ranking.DefaultKeep-1)):] {
		set, err := models.Open(v)
		if err != nil {
			continue // an unreadable old version is only unpinnable
		}
		if m, err := ranking.LoadModel(set); err == nil {
			r.Publish(m, ranking.DefaultKeep)
		}
	}
	cur, err := ranking.LoadModel(current)
	if err != nil {
		return nil, err
	}
	r.Publish(cur, ranking.DefaultKeep)
	return r, nil
}

// watchModels swaps newly published versions into recall and ranking, each
// with its own watcher, as separate processes would.
func (m *Mesh) watchModels(models artifact.Store, loaded string, recaller *recall.Recaller, ranker *ranking.Ranker) {
	every := m.opts.ModelPoll
	if every <= 0 {
		every = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopWatch = cancel
	watchers := []*artifact.Watcher{
		recallWatcher(models, every, loaded, recaller, m.specs[recallapi.Name].Logger),
		rankingWatcher(models, every, loaded, ranker, m.specs[rankingapi.Name].Logger),
	}
	for _, w := range watchers {
		m.watchers.Add(1)
		go func() {
			defer m.watchers.Done()
			w.Run(ctx)
		}()
	}
}

func addr(m map[string]string, name string) string {
	if a, ok := m[name]; ok && a != "" {
		return a
	}
	return "127.0.0.1:0"
}

func (m *Mesh) tracer(ctx context.Context, name string) (*sdktrace.TracerProvider, error) {
	var extra []sdktrace.SpanExporter
	if m.opts.SpanExporter != nil {
		extra = append(extra, m.opts.SpanExporter)
	}
	ratio := 1.0
	if name == "gateway" {
		ratio = m.opts.Gateway.TraceSample
	}
	tp, err := telemetry.NewSampledTracerProvider(ctx, name, m.opts.OTLPEndpoint, ratio, extra...)
	if err != nil {
		return nil, err
	}
	m.providers = append(m.providers, tp)
	return tp, nil
}

func (m *Mesh) startGateway(ctx context.Context) error {
	tp, err := m.tracer(ctx, "gateway")
	if err != nil {
		return err
	}
	m.gws, err = StartGateway(ctx, m.reg, tp, m.opts.Gateway, rlog.New(m.opts.Log, "gateway", m.opts.LogLevel), m.opts.Instance)
	return err
}

// URL is the gateway's base URL.
func (m *Mesh) URL() string { return m.gws.URL() }

// AdminURL is a service's admin base URL, or "" when it is stopped.
func (m *Mesh) AdminURL(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.running[name]; ok {
		return "http://" + r.AdminAddr()
	}
	return ""
}

// SetExperiments replaces the experiment config's layers and defaults
// through the store, as an operator would, and returns the new version; the
// gateway's watch picks it up.
func (m *Mesh) SetExperiments(cfg *abtest.Config) (int64, error) {
	next, err := m.expStore.Update(context.Background(), expstore.Change{Actor: "test", Action: "set", Detail: cfg,
		Apply: func(c *abtest.Config) error {
			c.Defaults, c.Layers = cfg.Defaults, cfg.Layers
			return nil
		}})
	if err != nil {
		return 0, err
	}
	return next.Version, m.experiments.Set(next)
}

// Gateway is the running gateway.
func (m *Mesh) Gateway() *gateway.Gateway { return m.gws.Gateway }

// StartService starts (or restarts) one service.
func (m *Mesh) StartService(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	spec, ok := m.specs[name]
	if !ok {
		return fmt.Errorf("unknown service %q", name)
	}
	if _, ok := m.running[name]; ok {
		return nil
	}
	spec.Metrics = telemetry.NewRegistry() // a restarted service registers its metrics afresh
	r, err := run.Start(ctx, spec)
	if err != nil {
		return err
	}
	m.running[name] = r
	return nil
}

// StopService stops one service, as a crash or a rollout would.
func (m *Mesh) StopService(ctx context.Context, name string) error {
	m.mu.Lock()
	r, ok := m.running[name]
	delete(m.running, name)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	return r.Stop(ctx)
}

// Stop stops the gateway, then every service, then flushes traces.
func (m *Mesh) Stop(ctx context.Context) error {
	var errs []error
	if m.gws != nil {
		errs = append(errs, m.gws.Stop(ctx))
	}
	if m.stopWatch != nil {
		m.stopWatch()
		m.watchers.Wait()
	}
	for i := len(Services) - 1; i >= 0; i-- {
		errs = append(errs, m.StopService(ctx, Services[i]))
	}
	for _, tp := range m.providers {
		errs = append(errs, tp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
