// Package run owns a service process's lifecycle: the gRPC listener with the
// standard health service, the HTTP admin port (/healthz, /readyz, /metrics),
// registration in the registry, and graceful shutdown.
package run

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/recmesh/recmesh/pkg/codec"
	"github.com/recmesh/recmesh/pkg/registry"
	"github.com/recmesh/recmesh/pkg/telemetry"
)

// Spec describes one service to serve.
type Spec struct {
	// Name is the service name in the registry and in traces.
	Name string
	// Version is published as the version=… tag.
	Version string
	// GRPCAddr and AdminAddr are host:port; port 0 picks a free one.
	GRPCAddr  string
	AdminAddr string
	// Register installs the service's gRPC handlers.
	Register func(*grpc.Server)
	// Ready reports whether the service can take traffic; nil means always.
	// The gRPC health service follows it (SERVING or NOT_SERVING), checked
	// every ReadyEvery, so the registry's check routes around an instance
	// that cannot answer its contract.
	Ready func(context.Context) error
	// ReadyEvery is how often Ready is asked for the gRPC health status
	// (DefaultReadyEvery when 0).
	ReadyEvery time.Duration
	// Admin mounts extra routes on the admin port (the experiment service's
	// admin API, say); nil adds none.
	Admin func(*http.ServeMux)
	// PprofToken turns on /debug/pprof/ on the admin port, for requests
	// with "Authorization: Bearer <PprofToken>"; empty leaves it off (404).
	PprofToken string
	// Meta is published with the instance in the registry.
	Meta map[string]string
	// Advertise is the host published in the registry for both ports;
	// empty publishes the bound one, or this machine's IP when bound to a
	// wildcard (see AdvertisedAddr).
	Advertise string
	// Registry receives the instance; nil skips registration.
	Registry registry.Registry
	// Metrics receives the gRPC server metrics; it must be fresh for each
	// start. Extra, when set, is served beside it on /metrics (the
	// service's own metrics, which outlive a restart).
	Metrics *prometheus.Registry
	Extra   prometheus.Gatherer
	Tracer  trace.TracerProvider
	Logger  *slog.Logger
}

// MaxHeaderBytes bounds the request headers every HTTP server of recmesh reads.
const MaxHeaderBytes = 64 << 10

// DefaultReadyEvery is how often readiness is checked for gRPC health: as
// often as Consul's check runs by default (2 s), halved, so a change shows in
// the next check or the one after.
const DefaultReadyEvery = time.Second

// Running is a started service.
type Running struct {
	spec     Spec
	grpc     *grpc.Server
	health   *health.Server
	ready    prometheus.Gauge
	stopped  chan struct{} // closed by Stop: ends the readiness loop
	serving  bool
	admin    *http.Server
	grpcLn   net.Listener
	adminLn  net.Listener
	instance registry.Instance
	done     chan error
}

// Start listens, serves and registers the service. It returns once both
// listeners are bound, so the addresses are known.
func Start(ctx context.Context, s Spec) (*Running, error) {
	grpcLn, err := net.Listen("tcp", s.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen gRPC %s: %w", s.Name, s.GRPCAddr, err)
	}
	adminLn, err := net.Listen("tcp", s.AdminAddr)
	if err != nil {
		_ = grpcLn.Close()
		return nil, fmt.Errorf("%s: listen admin %s: %w", s.Name, s.AdminAddr, err)
	}
	instance, err := s.instance(grpcLn.Addr(), adminLn.Addr())
	if err != nil {
		_, _ = grpcLn.Close(), adminLn.Close()
		return nil, err
	}
	rpcMetrics := telemetry.NewRPCMetrics(s.Metrics)
	srv := grpc.NewServer(
		grpc.ForceServerCodecV2(codec.Codec{}),
		grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(s.Tracer), otelgrpc.WithPropagators(telemetry.Propagator()))),
		grpc.ChainUnaryInterceptor(recoverInterceptor(s.Logger), rpcMetrics.UnaryInterceptor(), expiredInterceptor),
	)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	s.Register(srv)

	r := &Running{spec: s, grpc: srv, health: hs, grpcLn: grpcLn, adminLn: adminLn, done: make(chan error, 2), instance: instance,
		stopped: make(chan struct{}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{Name: "recmesh_service_ready",
			Help: "1 while the service's readiness check passes and its gRPC health is SERVING."})}
	if s.Metrics != nil {
		s.Metrics.MustRegister(r.ready)
	}
	r.checkReady(ctx, true)
	go r.followReadiness()
	r.admin = &http.Server{Handler: r.adminMux(), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: MaxHeaderBytes}
	go func() { r.done <- srv.Serve(grpcLn) }()
	go func() {
		err := r.admin.Serve(adminLn)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		r.done <- err
	}()

	if s.Registry != nil {
		if err := s.Registry.Register(ctx, r.instance); err != nil {
			_ = r.Stop(ctx)
			return nil, fmt.Errorf("%s: register: %w", s.Name, err)
		}
	}
	s.Logger.Info("service started", "grpc", r.GRPCAddr(), "admin", "http://"+r.AdminAddr(), "version", s.Version)
	return r, nil
}

// instance is what the registry gets for s: Instance, plus s.Meta.
func (s Spec) instance(grpcBound, adminBound net.Addr) (registry.Instance, error) {
	in, err := Instance(s.Name, s.Version, s.Advertise, grpcBound, adminBound)
	if err != nil {
		return in, err
	}
	for k, v := range s.Meta {
		in.Meta[k] = v
	}
	return in, nil
}

// checkReady sets the gRPC health status from Ready; only a change is
// logged (first: the start, logged when not ready).
func (r *Running) checkReady(ctx context.Context, first bool) {
	every := r.spec.ReadyEvery
	if every <= 0 {
		every = DefaultReadyEvery
	}
	var err error
	if r.spec.Ready != nil {
		ctx, cancel := context.WithTimeout(ctx, every)
		err = r.spec.Ready(ctx)
		cancel()
	}
	serving := err == nil
	if !first && serving == r.serving {
		return
	}
	r.serving = serving
	status, gauge := healthpb.HealthCheckResponse_SERVING, 1.0
	if !serving {
		status, gauge = healthpb.HealthCheckResponse_NOT_SERVING, 0
		r.spec.Logger.Warn("not ready: gRPC health is NOT_SERVING", "err", err)
	} else if !first {
		r.spec.Logger.Info("ready again: gRPC health is SERVING")
	}
	r.ready.Set(gauge)
	r.health.SetServingStatus("", status)
	r.health.SetServingStatus(r.spec.Name, status)
}

// followReadiness keeps the gRPC health status in step with Ready until Stop.
func (r *Running) followReadiness() {
	every := r.spec.ReadyEvery
	if every <= 0 {
		every = DefaultReadyEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stopped:
			return
		case <-t.C:
			r.checkReady(context.Background(), false)
		}
	}
}

// GRPCAddr is the bound gRPC address.
func (r *Running) GRPCAddr() string { return r.grpcLn.Addr().String() }

// AdminAddr is the bound admin HTTP address.
func (r *Running) AdminAddr() string { return r.adminLn.Addr().String() }

// Stop deregisters the instance, marks it not serving, drains in-flight
// calls until ctx ends, then closes everything.
func (r *Running) Stop(ctx context.Context) error {
	var errs []error
	if r.spec.Registry != nil {
		if err := r.spec.Registry.Deregister(ctx, r.instance); err != nil {
			errs = append(errs, fmt.Errorf("deregister: %w", err))
		}
	}
	select {
	case <-r.stopped:
	default:
		close(r.stopped)
	}
	r.health.Shutdown()
	stopped := make(chan struct{})
	go func() { r.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		r.grpc.Stop()
		<-stopped
	}
	if ctx.Err() != nil {
		_ = r.admin.Close() // out of time: the calls in flight were cut already
	} else if err := r.admin.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("admin shutdown: %w", err))
	}
	for i := 0; i < 2; i++ {
		if err := <-r.done; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			errs = append(errs, err)
		}
	}
	r.spec.Logger.Info("service stopped")
	return errors.Join(errs...)
}

func (r *Running) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, req *http.Request) {
		if r.spec.Ready != nil {
			if err := r.spec.Ready(req.Context()); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	var g prometheus.Gatherer = r.spec.Metrics
	if r.spec.Extra != nil {
		g = prometheus.Gatherers{r.spec.Metrics, r.spec.Extra}
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	// Profiles of the whole process: off unless a token is set, and then
	// only for its bearer (a profile reveals code, and costs CPU).
	if tok := r.spec.PprofToken; tok != "" {
		mux.Handle("GET /debug/pprof/", bearer(tok, http.HandlerFunc(pprof.Index)))
		mux.Handle("GET /debug/pprof/profile", bearer(tok, http.HandlerFunc(pprof.Profile)))
		mux.Handle("GET /debug/pprof/trace", bearer(tok, http.HandlerFunc(pprof.Trace)))
	}
	if r.spec.Admin != nil {
		r.spec.Admin(mux)
	}
	return mux
}

// recoverInterceptor turns a handler panic into codes.Internal instead of
// killing the process.
func recoverInterceptor(l *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				l.ErrorContext(ctx, "panic in handler", "method", info.FullMethod, "panic", fmt.Sprint(p))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return h(ctx, req)
	}
}

// expiredInterceptor drops a call whose deadline passed or whose caller
// gave up while it waited to be scheduled: under saturation that work
// would be thrown away by the caller anyway.
func expiredInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, status.FromContextError(err).Err()
	}
	return h(ctx, req)
}

// bearer admits only requests with "Authorization: Bearer <token>": 401
// without one, 403 with another.
func bearer(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || got == "":
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "missing Authorization: Bearer <pprof token>", http.StatusUnauthorized)
		case subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1:
			http.Error(w, "wrong pprof token", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}
