package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// With no exporter, spans are not recorded but still carry trace ids;
// with one, the ratio decides.
func TestSpansAreRecordedOnlyForAnExporter(t *testing.T) {
	ctx := context.Background()
	none, err := NewSampledTracerProvider(ctx, "s", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = none.Shutdown(ctx) }()
	_, span := none.Tracer("t").Start(ctx, "op")
	if span.IsRecording() || !span.SpanContext().TraceID().IsValid() {
		t.Fatalf("no exporter: recording %v, trace id %v", span.IsRecording(), span.SpanContext().TraceID())
	}
	span.End()
	mem := tracetest.NewInMemoryExporter()
	with, err := NewSampledTracerProvider(ctx, "s", "", 1, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = with.Shutdown(ctx) }()
	_, span = with.Tracer("t").Start(ctx, "op")
	span.End()
	if got := len(mem.GetSpans()); got != 1 {
		t.Fatalf("an exporter got %d spans, want 1", got)
	}
}
