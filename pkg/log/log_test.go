package log

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestRecordsCarryIDs(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "gateway", slog.LevelInfo)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled,
	})
	ctx := WithRequestID(trace.ContextWithSpanContext(context.Background(), sc), "req-1")
	l.InfoContext(ctx, "hello")
	l.DebugContext(ctx, "hidden")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("one JSON record expected, got %q: %v", buf.String(), err)
	}
	for k, want := range map[string]string{
		"service": "gateway", "request_id": "req-1", "msg": "hello",
		"trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String(),
	} {
		if rec[k] != want {
			t.Errorf("%s = %v, want %v", k, rec[k], want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "WARN": slog.LevelWarn, "nonsense": slog.LevelInfo} {
		if got := ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %v, want %v", in, got, want)
		}
	}
}
