package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// NewRegistry returns a metrics registry with the Go runtime and process
// collectors, for one service's /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// LatencyBuckets suit hops with budgets of a few to tens of milliseconds.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}

// RPCMetrics counts and times the gRPC calls a server handles.
type RPCMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewRPCMetrics registers the server RPC metrics in reg.
func NewRPCMetrics(reg prometheus.Registerer) *RPCMetrics {
	m := &RPCMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recmesh_rpc_server_requests_total", Help: "gRPC requests handled, by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "recmesh_rpc_server_duration_seconds", Help: "gRPC handling time, by method.", Buckets: LatencyBuckets,
		}, []string{"method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// UnaryInterceptor records every unary call.
func (m *RPCMetrics) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.duration.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
		return resp, err
	}
}
