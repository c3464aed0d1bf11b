package experiment

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/storeurl"
	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
	"github.com/recmesh/recmesh/services/experiment/experimentapi"
	"github.com/recmesh/recmesh/services/experiment/store"
	"github.com/recmesh/recmesh/services/features/featuresapi"
)

// Config is the experiment service's configuration.
type Config struct {
	// Store is the URL of the config store: memory: or postgres://….
	Store string `secret:"url"`
	// Experiments is the config file an empty store is seeded from; empty seeds nothing.
	Experiments string
	// AdminToken guards the admin REST API; empty switches it off.
	AdminToken string `secret:"true"`
	// StorePoll is how often the store is checked for changes made through
	// other instances.
	StorePoll time.Duration
	// ResultsRefresh is how often every experiment's results are
	// recomputed for Prometheus.
	ResultsRefresh time.Duration
	// Rules check variant params when they are written through the admin
	// API (known channels, objectives and services); set by the process
	// that knows them.
	Rules abtest.ParamRules `json:"-"`
}

// Component is the experiment service as a component.
type Component struct {
	Config Config

	store   store.Store
	configs *Configs
	admin   *Admin
}

var _ component.Component = (*Component)(nil)

// NewComponent returns the experiment component with its defaults.
func NewComponent() *Component { return &Component{} }

// Name implements component.Component.
func (*Component) Name() string { return experimentapi.Name }

// Bind implements component.Component.
func (c *Component) Bind(f *config.Flags) {
	storeurl.BindFlag(f, &c.Config.Store)
	f.String(&c.Config.Experiments, "experiments", "config/experiments.json", "experiment config an empty store is seeded from; empty seeds nothing")
	f.String(&c.Config.AdminToken, "admin-token", "", "bearer token of the experiment admin API and console (on the experiment admin port): one token, or name:token pairs, comma-separated, so the audit log names who changed what; empty switches it off")
	f.Duration(&c.Config.StorePoll, "store-poll", time.Second, "how often the experiment store is checked for changes made through other instances")
	f.Duration(&c.Config.ResultsRefresh, "results-refresh", 30*time.Second, "how often every experiment's results are recomputed from the exposure log for /metrics")
}

// Open implements component.Component: it opens the store, seeds it when
// empty, and follows it.
func (c *Component) Open(ctx context.Context, env component.Env) (_ *component.Service, err error) {
	if _, err := ParseAdminTokens(c.Config.AdminToken); err != nil {
		return nil, fmt.Errorf("-admin-token: %w", err)
	}
	sm := storeurl.NewMetrics(env.Metrics)
	st, closeStore, err := store.Open(ctx, c.Config.Store, sm)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeStore()
		}
	}()
	if c.Config.Experiments != "" {
		seed, err := abtest.LoadFile(c.Config.Experiments)
		if err != nil {
			return nil, err
		}
		if err := c.Config.Rules.CheckConfig(seed); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Config.Experiments, err)
		}
		if ok, err := store.Seed(ctx, st, seed, "seed:"+c.Config.Experiments); err != nil {
			return nil, err
		} else if ok {
			env.Log.Info("experiment store seeded", "file", c.Config.Experiments)
		}
	}
	cfgs := New(nil)
	stop, err := cfgs.Follow(ctx, st, c.Config.StorePoll, env.Log)
	if err != nil {
		return nil, err
	}
	c.store, c.configs = st, cfgs
	admin := &Admin{Store: st, Configs: cfgs, Token: c.Config.AdminToken, Log: env.Log, Rules: c.Config.Rules}
	c.admin = admin
	closeResults := func() {}
	if env.Registry != nil {
		// Results are read from the features service's exposure log.
		client, closeClient := featuresapi.Dial(env.Registry, env.Tracer)
		admin.Exposures = client
		every := c.Config.ResultsRefresh
		if every <= 0 {
			every = 30 * time.Second
		}
		exp := newResultsExporter(admin.Exposures, cfgs, every, env.Log)
		env.Metrics.MustRegister(exp)
		closeResults = func() {
			exp.close()
			closeClient()
		}
	}
	return &component.Service{
		Register: func(s *grpc.Server) {
			pb.RegisterExperimentServiceServer(s, NewGRPCServer(MakeGetConfigEndpoint(cfgs), MakeWatchConfigEndpoint(cfgs)))
		},
		Admin: admin.Register,
		Ready: func(ctx context.Context) error {
			if p, ok := st.(interface{ Ping(context.Context) error }); ok {
				return p.Ping(ctx)
			}
			return nil
		},
		Close: func(context.Context) error {
			closeResults()
			stop()
			closeStore()
			return nil
		},
	}, nil
}

// Store and Configs are the opened component's store and served config
// (nil before Open); the embedded mode's tests change experiments through
// them.
func (c *Component) Store() store.Store { return c.store }

// Admin is the opened component's admin API (nil before Open), which the
// operator console drives.
func (c *Component) Admin() *Admin { return c.admin }

// Configs is the config the opened component serves.
func (c *Component) Configs() *Configs { return c.configs }
