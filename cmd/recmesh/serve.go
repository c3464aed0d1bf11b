package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/mesh"
	"github.com/recmesh/recmesh/pkg/component"
	"github.com/recmesh/recmesh/pkg/config"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/registry"
	pkgrun "github.com/recmesh/recmesh/pkg/run"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

// discoveryConfig is how a process finds and joins the mesh.
type discoveryConfig struct {
	ConsulAddr    string
	CheckInterval time.Duration
	OTLPEndpoint  string
	LogLevel      string
	Advertise     string
}

func (d *discoveryConfig) bind(f *config.Flags) {
	f.String(&d.ConsulAddr, "consul-addr", "127.0.0.1:8500", "Consul agent HTTP address (host:port) to register in and discover through")
	f.Duration(&d.CheckInterval, "check-interval", 2*time.Second, "how often Consul health-checks this instance over gRPC")
	f.String(&d.OTLPEndpoint, "otlp-endpoint", "", "OTLP/gRPC host:port to export traces to (Jaeger); empty exports none")
	f.String(&d.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.String(&d.Advertise, "advertise-host", "", "host or IP published in Consul for this instance; empty: the listen host, or this machine's first non-loopback IP when listening on all interfaces (containers, pods)")
}

func (d *discoveryConfig) registry(stderr io.Writer) (*registry.Consul, error) {
	o := registry.DefaultConsulOptions()
	o.CheckInterval = d.CheckInterval
	o.Logger = rlog.New(stderr, "consul", rlog.ParseLevel(d.LogLevel))
	return registry.NewConsul(d.ConsulAddr, o)
}

// nodeConfig is the configuration of one service process; the service's
// own configuration is bound by its component.
type nodeConfig struct {
	Discovery  discoveryConfig
	Version    string
	GRPCAddr   string
	AdminAddr  string
	PprofToken string `secret:"true"`
}

// runNode runs one service as its own process until ctx ends (SIGTERM),
// then deregisters it from Consul and drains it.
func runNode(ctx context.Context, comp component.Component, args []string, stdout, stderr io.Writer) error {
	var c nodeConfig
	service := comp.Name()
	port := 9101 + slices.Index(mesh.Services(), service)
	f := newFlags(service, stderr)
	c.Discovery.bind(f)
	f.String(&c.Version, "version", "v1", "version tag published in Consul (version=…); variants can route to it")
	f.String(&c.GRPCAddr, "grpc-addr", fmt.Sprintf("127.0.0.1:%d", port), "gRPC listen address")
	f.String(&c.AdminAddr, "admin-addr", fmt.Sprintf("127.0.0.1:%d", port+100), "admin HTTP listen address (/healthz, /readyz, /metrics)")
	f.String(&c.PprofToken, "pprof-token", "", "bearer token that turns on /debug/pprof/ on the admin port(s); empty: pprof off")
	comp.Bind(f)
	if err := f.Parse(args); err != nil {
		return err
	}
	level := rlog.ParseLevel(c.Discovery.LogLevel)
	log := rlog.New(stderr, service, level)
	config.Log(log, "configuration", &c)
	config.Log(log, "configuration of "+service, comp)
	reg, err := c.Discovery.registry(stderr)
	if err != nil {
		return err
	}
	defer reg.Close()
	n, err := mesh.StartNode(ctx, mesh.NodeOptions{
		Component: comp, Version: c.Version, GRPCAddr: c.GRPCAddr, AdminAddr: c.AdminAddr, PprofToken: c.PprofToken, Advertise: c.Discovery.Advertise, Registry: reg,
		OTLPEndpoint: c.Discovery.OTLPEndpoint, Log: stderr, LogLevel: level,
	})
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
	Version   string
	Gateway   mesh.GatewayConfig
}

// runGateway runs the edge gateway as its own process, finding the
// services through Consul.
func runGateway(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c gatewayConfig
	f := newFlags("gateway", stderr)
	c.Discovery.bind(f)
	f.String(&c.Version, "version", "v1", "version tag published in Consul (version=…)")
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
	// stop drains the gateway and flushes its traces, within 10 s; first
	// it runs before (taking the gateway out of Consul, say).
	stop := func(first func(context.Context) error) error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(first(sctx), gw.Stop(sctx), tp.Shutdown(sctx))
	}
	// The gateway registers too, checked over HTTP on /readyz (its metrics
	// are on the same port), so operators and Prometheus find it like any
	// service.
	in, err := pkgrun.Instance("gateway", c.Version, c.Discovery.Advertise, gw.Addr(), gw.Addr())
	if err == nil {
		in.HTTPCheck = "/readyz"
		err = reg.Register(ctx, in)
	}
	if err != nil {
		return stop(func(context.Context) error { return err })
	}
	fmt.Fprintf(stdout, "gateway serving on %s\n", gw.URL())
	<-ctx.Done()
	// Out of Consul first, so no one is sent here while it drains.
	return stop(func(ctx context.Context) error { return reg.Deregister(ctx, in) })
}
