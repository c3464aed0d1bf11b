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
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/resilience"
	"github.com/recmesh/recmesh/pkg/telemetry"
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

// StartGateway dials the hops through reg and serves the REST API on
// cfg.Addr. instance prefixes the breaker names (hystrix-go's are
// process-wide).
func StartGateway(ctx context.Context, reg registry.Registry, tp trace.TracerProvider, cfg gateway.Config, log *slog.Logger, instance string) (*GatewayServer, error) {
	metrics := telemetry.NewRegistry()
	hm := resilience.NewMetrics(metrics)
	hops, closeHops := gateway.DialHops(reg, tp, hm, log, instance, cfg)
	gw, err := gateway.New(cfg, hops, hm, metrics, tp, log)
	if err != nil {
		closeHops()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		closeHops()
		return nil, fmt.Errorf("gateway: listen %s: %w", cfg.Addr, err)
	}
	gw.Start(ctx)
	s := &GatewayServer{Gateway: gw, closeHops: closeHops, ln: ln, done: make(chan error, 1)}
	s.srv = &http.Server{
		Handler:           gw.Handler(promhttp.HandlerFor(prometheus.Gatherer(metrics), promhttp.HandlerOpts{})),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	log.Info("gateway started", "url", s.URL())
	return s, nil
}

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
