// Package mesh runs recmesh's services: all of them and the gateway in one
// process, each on its own loopback port with its own gRPC code path, found
// through a static registry (the embedded mode behind `recmesh all`), or
// one of them as its own process registered in Consul (node.go).
package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/component"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/run"
	"github.com/recmesh/recmesh/pkg/telemetry"
	"github.com/recmesh/recmesh/services/experiment"
	expstore "github.com/recmesh/recmesh/services/experiment/store"
)

// Options configure the embedded mesh.
type Options struct {
	// Components are the services to run, configured (see Components).
	Components []component.Component
	// DataDir and ModelDir serve the first start: when ModelDir has no
	// published version, one is trained from DataDir before the services
	// open.
	DataDir, ModelDir string
	// GRPCAddrs and AdminAddrs map a service to its listen addresses; a
	// missing service listens on 127.0.0.1:0.
	GRPCAddrs, AdminAddrs map[string]string
	// PprofToken turns on pprof on every admin port (see run.Spec).
	PprofToken string
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
	// Progress receives training and loading progress; nil discards it.
	Progress io.Writer
}

// Mesh is a running embedded mesh.
type Mesh struct {
	opts      Options
	reg       *registry.Static
	providers []*sdktrace.TracerProvider

	mu       sync.Mutex
	specs    map[string]run.Spec
	services map[string]*component.Service
	running  map[string]*run.Running
	order    []string

	gws *GatewayServer
}

// Start trains a first model if there is none, opens and starts every
// component and the gateway, and returns once the gateway is listening.
func Start(ctx context.Context, o Options) (_ *Mesh, err error) {
	m := &Mesh{opts: o, reg: registry.NewStatic(), specs: map[string]run.Spec{}, services: map[string]*component.Service{},
		running: map[string]*run.Running{}}
	defer func() {
		if err != nil {
			_ = m.Stop(context.Background())
		}
	}()
	if err := trainIfNone(ctx, o); err != nil {
		return nil, err
	}
	if err := m.openAll(ctx, o.Components); err != nil {
		return nil, err
	}
	for _, c := range o.Components {
		if err := m.StartService(ctx, c.Name()); err != nil {
			return nil, err
		}
	}
	return m, m.startGateway(ctx)
}

// trainIfNone trains and publishes a first model version from o.DataDir
// when o.ModelDir has none, as a first `make run` needs.
func trainIfNone(ctx context.Context, o Options) error {
	models := artifact.Store{Dir: o.ModelDir}
	if _, err := models.Current(); !errors.Is(err, artifact.ErrNoVersion) {
		return err
	}
	ds, err := movielens.Load(o.DataDir)
	if err != nil {
		return err
	}
	topt := offline.DefaultTrainOptions()
	topt.Progress = o.Progress
	_, err = offline.Train(ctx, ds.Items(), ds.Events(), models, topt)
	return err
}

// openAll opens the components at once, since loading data and models is
// most of a large catalogue's start-up and they do not wait on each other
// (a service reaches another only once started), and keeps each one that
// opened, in order, so that Stop closes it.
func (m *Mesh) openAll(ctx context.Context, comps []component.Component) error {
	envs := make([]component.Env, len(comps))
	owns := make([]*prometheus.Registry, len(comps))
	tps := make([]*sdktrace.TracerProvider, len(comps))
	for i, c := range comps {
		tp, err := m.tracer(ctx, c.Name())
		if err != nil {
			return err
		}
		owns[i], tps[i] = prometheus.NewRegistry(), tp
		envs[i] = component.Env{Log: rlog.New(m.opts.Log, c.Name(), m.opts.LogLevel), Metrics: owns[i],
			Progress: m.opts.Progress, Registry: m.reg, Tracer: tp}
	}
	svcs := make([]*component.Service, len(comps))
	errs := make([]error, len(comps))
	var wg sync.WaitGroup
	for i, c := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if svcs[i], errs[i] = c.Open(ctx, envs[i]); errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", c.Name(), errs[i])
			}
		}()
	}
	wg.Wait()
	for i, c := range comps {
		if svcs[i] != nil {
			m.keep(c.Name(), svcs[i], envs[i].Log, owns[i], tps[i])
		}
	}
	return errors.Join(errs...)
}

// keep records an opened service and what starting it needs.
func (m *Mesh) keep(name string, svc *component.Service, log *slog.Logger, own *prometheus.Registry, tp *sdktrace.TracerProvider) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.services[name] = svc
	m.order = append(m.order, name)
	m.specs[name] = run.Spec{
		Name: name, Version: "v1", GRPCAddr: addr(m.opts.GRPCAddrs, name), AdminAddr: addr(m.opts.AdminAddrs, name),
		PprofToken: m.opts.PprofToken, Register: svc.Register, Ready: svc.Ready, Admin: svc.Admin, Registry: m.reg, Extra: own,
		Tracer: tp, Logger: log,
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
	if err != nil {
		return err
	}
	// The gateway is in the registry too, as in the dev mode: the console finds it there.
	in, err := run.Instance("gateway", "v1", "", m.gws.Addr(), m.gws.Addr())
	if err != nil {
		return err
	}
	return m.reg.Register(ctx, in)
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
// through the experiment component's store, as an operator would, and
// returns the new version; the gateway's watch picks it up.
func (m *Mesh) SetExperiments(cfg *abtest.Config) (int64, error) {
	var exp interface {
		Store() expstore.Store
		Configs() *experiment.Configs
	}
	for _, c := range m.opts.Components {
		if e, ok := c.(interface {
			Store() expstore.Store
			Configs() *experiment.Configs
		}); ok {
			exp = e
		}
	}
	if exp == nil || exp.Store() == nil {
		return 0, errors.New("no experiment service runs in this mesh")
	}
	next, err := exp.Store().Update(context.Background(), expstore.Change{Actor: "test", Action: "set", Detail: cfg,
		Apply: func(c *abtest.Config) error {
			c.Defaults, c.Layers = cfg.Defaults, cfg.Layers
			return nil
		}})
	if err != nil {
		return 0, err
	}
	return next.Version, exp.Configs().Set(next)
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
	spec.Metrics = telemetry.NewRegistry() // a restarted server registers its metrics afresh
	r, err := run.Start(ctx, spec)
	if err != nil {
		return err
	}
	m.running[name] = r
	return nil
}

// StopService stops one service's servers, as a crash or a rollout would;
// the service itself stays open for StartService.
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

// Stop stops the gateway, then every service in reverse order (servers,
// then the service's own background work and stores), then flushes traces.
func (m *Mesh) Stop(ctx context.Context) error {
	var errs []error
	if m.gws != nil {
		errs = append(errs, m.gws.Stop(ctx))
	}
	for i := len(m.order) - 1; i >= 0; i-- {
		name := m.order[i]
		errs = append(errs, m.StopService(ctx, name), m.services[name].Shutdown(ctx))
	}
	for _, tp := range m.providers {
		errs = append(errs, tp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
