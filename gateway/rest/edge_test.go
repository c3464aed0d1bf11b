package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/log"
)

// spy is every hop down, but it records the baggage and trace the features
// hop was called with.
type spy struct {
	down
	mu      sync.Mutex
	baggage string
	traceID string
}

func (s *spy) GetUserFeatures(ctx context.Context, _ string, _ int) (domain.UserFeatures, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baggage = baggage.FromContext(ctx).String()
	s.traceID = trace.SpanContextFromContext(ctx).TraceID().String()
	return domain.UserFeatures{}, errDown
}

// A caller cannot choose its variants through baggage: the gateway drops
// incoming baggage at the edge (and keeps the caller's trace).
func TestIncomingBaggageIsDropped(t *testing.T) {
	s := &spy{}
	reg := prometheus.NewRegistry()
	g, err := gateway.New(gateway.DefaultConfig(), gateway.Hops{Features: s, Recall: s, Filter: s, Ranking: s, Experiment: s},
		reg, log.Discard(), "rest-baggage")
	if err != nil {
		t.Fatal(err)
	}
	g.Start(context.Background())
	defer g.Close()
	a, err := New(g, DefaultConfig(), Options{Metrics: reg, Tracer: noop.NewTracerProvider(), Log: log.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/v1/recommendations?user_id=1", nil)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req.Header.Set("traceparent", fmt.Sprintf("00-%s-00f067aa0ba902b7-01", traceID))
	req.Header.Set("baggage", "ab.ranking=evil.treatment,user=someone")
	w := httptest.NewRecorder()
	a.Handler(http.NotFoundHandler()).ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Contains(s.baggage, "evil") || strings.Contains(s.baggage, "someone") {
		t.Errorf("the features hop got the caller's baggage %q", s.baggage)
	}
	if s.traceID != traceID {
		t.Errorf("trace %q, want the caller's %s continued", s.traceID, traceID)
	}
}

// Without API keys, each client address has its own bucket (from the
// trusted proxy's header when one is named), so one busy caller does not
// starve the others.
func TestRateLimitPerClientAddressWithoutKeys(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RateLimit, cfg.ClientIPHeader = 2, "X-Forwarded-For"
	srv := newServer(t, cfg)
	call := func(xff string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/recommendations?user_id=u1", nil)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	limited := false
	for i := 0; i < 4 && !limited; i++ {
		limited = call("198.51.100.7, 203.0.113.1") == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("203.0.113.1 was never limited at 2 requests per second")
	}
	// The spoofable first entry does not pick the bucket; the proxy's last one does.
	if got := call("203.0.113.9, 203.0.113.1"); got != http.StatusTooManyRequests {
		t.Errorf("a forged first entry escaped the limit: %d", got)
	}
	if got := call("203.0.113.2"); got != http.StatusOK {
		t.Errorf("another client was limited by the first one's bucket: %d", got)
	}
}

func TestLimiterForgetsIdleCallers(t *testing.T) {
	l := newLimiter(1000)
	for i := range maxCallers + 10 {
		l.allow(fmt.Sprint("c", i))
	}
	if n := len(l.by); n > maxCallers {
		t.Errorf("%d buckets kept, want at most %d", n, maxCallers)
	}
}
