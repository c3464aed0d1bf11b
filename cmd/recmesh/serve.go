package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/pkg/config"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/telemetry"
	"github.com/recmesh/recmesh/services/experiment/experimentapi"
	"github.com/recmesh/recmesh/services/features/featuresapi"
	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/filter"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

// discoveryConfig is how a process finds and joins the mesh.
type discoveryConfig struct {
	ConsulAddr    string
	CheckInterval time.Duration
	OTLPEndpoint  string
	LogLevel      string
}

func (d *discoveryConfig) bind(f *config.Flags) {
	f.String(&d.ConsulAddr, "consul-addr", "127.0.0.1:8500", "Consul agent HTTP address (host:port) to register in and discover through")
	f.Duration(&d.CheckInterval, "check-interval", 2*time.Second, "how often Consul health-checks this instance over gRPC")
	f.String(&d.OTLPEndpoint, "otlp-endpoint", "", "OTLP/gRPC host:port to export traces to (Jaeger); empty exports none")
	f.String(&d.LogLevel, "log-level", "info", "debug, info, warn or error")
}

func (d *discoveryConfig) registry(stderr io.Writer) (*registry.Consul, error) {
	o := registry.DefaultConsulOptions()
	o.CheckInterval = d.CheckInterval
	o.Logger = rlog.New(stderr, "consul", rlog.ParseLevel(d.LogLevel))
	return registry.NewConsul(d.ConsulAddr, o)
}

// nodeConfig is the configuration of one service process.
type nodeConfig struct {
	Discovery  discoveryConfig
	Version    string
	GRPCAddr   string
	AdminAddr  string
	RedisAddr  string
	RedisPfx   string
	ModelDir   string
	ModelPoll  time.Duration
	Blocklist  string
	MaxGenre   int
	Seed       string
	AdminToken string `secret:"true"`
	StorePoll  time.Duration
}

// runNode runs one service as its own process until ctx ends (SIGTERM),
// then deregisters it from Consul and drains it.
func runNode(ctx context.Context, service string, args []string, stdout, stderr io.Writer) error {
	var c nodeConfig
	port := 9101 + slices.Index(mesh.Services, service)
	f := newFlags(service, stderr)
	c.Discovery.bind(f)
	f.String(&c.Version, "version", "v1", "version tag published in Consul (version=…); variants can route to it")
	f.String(&c.GRPCAddr, "grpc-addr", fmt.Sprintf("127.0.0.1:%d", port), "gRPC listen address")
	f.String(&c.AdminAddr, "admin-addr", fmt.Sprintf("127.0.0.1:%d", port+100), "admin HTTP listen address (/healthz, /readyz, /metrics)")
	var openPG func(context.Context) (*pgxpool.Pool, error)
	switch service {
	case featuresapi.Name:
		openPG = postgresFlags(f)
		f.String(&c.RedisAddr, "redis-addr", "127.0.0.1:6379", "Redis host:port of the real-time state")
		f.String(&c.RedisPfx, "redis-prefix", store.DefaultRealTimeOptions().Prefix, "prefix of every Redis key (recmesh replay takes the same flag)")
	case recallapi.Name, rankingapi.Name:
		f.String(&c.ModelDir, "model-dir", "var/models", "model artifact directory (recmesh train writes it)")
		f.Duration(&c.ModelPoll, "model-poll", 2*time.Second, "how often a newly published model version is looked for")
	case filterapi.Name:
		f.String(&c.Blocklist, "blocklist", "", "file of item ids (one per line, # comments) dropped for everyone")
		f.Int(&c.MaxGenre, "max-per-genre", 100, "default cap of candidates per genre; a variant can override it")
	case experimentapi.Name:
		openPG = postgresFlags(f)
		f.String(&c.Seed, "seed", "config/experiments.json", "experiment config an empty store is seeded from; empty seeds nothing")
		f.String(&c.AdminToken, "admin-token", "", "bearer token of the admin REST API on the admin port; empty switches it off")
		f.Duration(&c.StorePoll, "store-poll", time.Second, "how often the store is checked for changes made through other instances")
	}
	if err := f.Parse(args); err != nil {
		return err
	}
	level := rlog.ParseLevel(c.Discovery.LogLevel)
	log := rlog.New(stderr, service, level)
	config.Log(log, "configuration", &c)
	reg, err := c.Discovery.registry(stderr)
	if err != nil {
		return err
	}
	defer reg.Close()
	o := mesh.NodeOptions{
		Service: service, Version: c.Version, GRPCAddr: c.GRPCAddr, AdminAddr: c.AdminAddr, Registry: reg,
		OTLPEndpoint: c.Discovery.OTLPEndpoint, Log: stderr, LogLevel: level,
		ModelDir: c.ModelDir, ModelPoll: c.ModelPoll, MaxPerGenre: c.MaxGenre,
		Seed: c.Seed, AdminToken: c.AdminToken, StorePoll: c.StorePoll,
	}
	if openPG != nil {
		pool, err := openPG(ctx)
		if err != nil {
			return err
		}
		defer pool.Close()
		if _, err := migrateAll(ctx, pool); err != nil {
			return err
		}
		o.Postgres = pool
	}
	if c.RedisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: c.RedisAddr})
		defer rdb.Close()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis %s: %w", c.RedisAddr, err)
		}
		o.Redis, o.RedisPrefix = rdb, c.RedisPfx
	}
	if service == filterapi.Name {
		if o.Blocklist, err = filter.LoadBlocklist(c.Blocklist); err != nil {
			return err
		}
	}
	n, err := mesh.StartNode(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s serving gRPC on %s, admin on http://%s\n", service, c.Version, n.GRPCAddr(), n.AdminAddr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return n.Stop(sctx)
}

// gatewayConfig is the configuration of the gateway process.
type gatewayConfig struct {
	Discovery discoveryConfig
	Gateway   mesh.GatewayConfig
}

// runGateway runs the edge gateway as its own process, finding the
// services through Consul.
func runGateway(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c gatewayConfig
	f := newFlags("gateway", stderr)
	c.Discovery.bind(f)
	c.Gateway.Bind(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	level := rlog.ParseLevel(c.Discovery.LogLevel)
	log := rlog.New(stderr, "gateway", level)
	config.Log(log, "configuration", &c)
	reg, err := c.Discovery.registry(stderr)
	if err != nil {
		return err
	}
	defer reg.Close()
	tp, err := telemetry.NewSampledTracerProvider(ctx, "gateway", c.Discovery.OTLPEndpoint, c.Gateway.TraceSample)
	if err != nil {
		return err
	}
	gw, err := mesh.StartGateway(ctx, reg, tp, c.Gateway, log, "gateway")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gateway serving on %s\n", gw.URL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(gw.Stop(sctx), tp.Shutdown(sctx))
}
