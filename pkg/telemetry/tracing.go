// Package telemetry sets up OpenTelemetry tracing and Prometheus metrics for
// one recmesh service. Nothing here is global: each service gets its own
// tracer provider (so that in embedded mode every service still shows up
// under its own name in Jaeger) and its own metrics registry.
package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Propagator carries W3C trace context and baggage across process hops.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// NewTracerProvider returns a tracer provider for service. With an empty
// otlpEndpoint (host:port) spans are created, so trace ids exist and
// propagate, but are not exported. extra exporters (tests use an in-memory
// one) receive every span synchronously. The caller must Shutdown the provider.
// Every span follows its parent's sampling decision; a root span is sampled.
func NewTracerProvider(ctx context.Context, service, otlpEndpoint string, extra ...sdktrace.SpanExporter) (*sdktrace.TracerProvider, error) {
	return NewSampledTracerProvider(ctx, service, otlpEndpoint, 1, extra...)
}

// NewSampledTracerProvider is NewTracerProvider where a root span (the
// gateway's, for a request) is sampled with probability ratio, chosen from
// its trace id; downstream services follow the decision, so a trace is
// whole or absent. A ratio of 1 or more samples everything. With no
// exporter at all nothing is sampled: spans still carry trace ids, which
// propagate, but cost no recording that nobody would read.
func NewSampledTracerProvider(ctx context.Context, service, otlpEndpoint string, ratio float64, extra ...sdktrace.SpanExporter) (*sdktrace.TracerProvider, error) {
	root := sdktrace.AlwaysSample()
	switch {
	case otlpEndpoint == "" && len(extra) == 0:
		root = sdktrace.NeverSample()
	case ratio < 1:
		root = sdktrace.TraceIDRatioBased(ratio)
	}
	res := resource.NewSchemaless(semconv.ServiceName(service))
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(root)),
	}
	if otlpEndpoint != "" {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(otlpEndpoint), otlptracegrpc.WithInsecure())
		if err != nil {
			return nil, fmt.Errorf("otlp exporter for %s: %w", service, err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, e := range extra {
		opts = append(opts, sdktrace.WithSyncer(e))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}
