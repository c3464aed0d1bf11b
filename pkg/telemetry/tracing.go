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
func NewTracerProvider(ctx context.Context, service, otlpEndpoint string, extra ...sdktrace.SpanExporter) (*sdktrace.TracerProvider, error) {
	res := resource.NewSchemaless(semconv.ServiceName(service))
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
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
