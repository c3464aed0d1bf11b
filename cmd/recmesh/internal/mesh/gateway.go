package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/gateway/rest"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/listcache/redislists"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/run"
	"github.com/recmesh/recmesh/pkg/telemetry"
	"github.com/recmesh/recmesh/services/recall"
)

// GatewayServer is a running gateway: its hops, background refreshers and
// REST listener.
type GatewayServer struct {
	Gateway   *gateway.Gateway
	closeHops func()
	srv       *http.Server
	ln        net.Listener
	done      chan error
}

// GatewayConfig is the gateway process's configuration: the orchestrator's
// and the REST transport's.
type GatewayConfig struct {
	gateway.Config
	REST rest.Config
}

// DefaultGatewayConfig returns the defaults listed in the README.
func DefaultGatewayConfig() GatewayConfig {
	return GatewayConfig{Config: gateway.DefaultConfig(), REST: rest.DefaultConfig()}
}

// Bind registers both parts' flags.
func (c *GatewayConfig) Bind(f *config.Flags) {
	c.Config.Bind(f)
	c.REST.Bind(f)
}

// StartGateway dials the hops through reg and serves the REST API on
// cfg.REST.Addr. instance prefixes the breaker names (hystrix-go's are
// process-wide).
func StartGateway(ctx context.Context, reg registry.Registry, tp trace.TracerProvider, cfg GatewayConfig, log *slog.Logger, instance string) (*GatewayServer, error) {
	metrics := telemetry.NewRegistry()
	hops, closeHops := gateway.DialHops(reg, tp, metrics)
	if cfg.ListCache.Redis != "" && cfg.ListCache.TTL > 0 {
		lists, closeLists, err := redislists.Open(cfg.ListCache.Redis)
		if err != nil {
			closeHops()
			return nil, err
		}
		// Not answering yet is only logged: the cache is an optimisation,
		// and go-redis reconnects once Redis is back.
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if err := lists.Ping(pctx); err != nil {
			log.Warn("the list cache's Redis does not answer yet", "err", err)
		}
		cancel()
		hops.Lists = lists
		closeDial := closeHops
		closeHops = func() { closeDial(); closeLists() }
	}
	gw, err := gateway.New(cfg.Config, hops, metrics, log, instance)
	if err != nil {
		closeHops()
		return nil, err
	}
	api, err := rest.New(gw, cfg.REST, rest.Options{Metrics: metrics, Tracer: tp, Log: log, Channels: recall.ChannelNames()})
	if err != nil {
		closeHops()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.REST.Addr)
	if err != nil {
		closeHops()
		return nil, fmt.Errorf("gateway: listen %s: %w", cfg.REST.Addr, err)
	}
	gw.Start(ctx)
	s := &GatewayServer{Gateway: gw, closeHops: closeHops, ln: ln, done: make(chan error, 1)}
	s.srv = &http.Server{
		Handler:           api.Handler(promhttp.HandlerFor(prometheus.Gatherer(metrics), promhttp.HandlerOpts{})),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: run.MaxHeaderBytes,
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	log.Info("gateway started", "url", s.URL())
	return s, nil
}

// Addr is the bound REST address.
func (s *GatewayServer) Addr() net.Addr { return s.ln.Addr() }

// URL is the gateway's base URL.
func (s *GatewayServer) URL() string { return "http://" + s.ln.Addr().String() }

// Stop drains the REST listener, stops the refreshers and closes the hops.
func (s *GatewayServer) Stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	s.Gateway.Close()
	s.closeHops()
	return err
}
