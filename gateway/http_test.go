package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience"
)

func TestAdmission(t *testing.T) {
	f := newFakes()
	cfg := DefaultConfig()
	cfg.APIKeys, cfg.RateLimit = "k1, k2", 2
	reg := prometheus.NewRegistry()
	g, err := New(cfg, Hops{Features: f, Recall: f, Filter: f, Ranking: f, Experiment: f}, resilience.NewMetrics(reg), reg, noop.NewTracerProvider(), log.Discard())
	if err != nil {
		t.Fatal(err)
	}
	g.Start(context.Background())
	defer g.Close()
	srv := httptest.NewServer(g.Handler(http.NotFoundHandler()))
	defer srv.Close()

	call := func(key, bearer string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/recommendations?user_id=u1", nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e apierr.Body
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error.Code
	}
	tests := []struct {
		name, key, bearer string
		status            int
		code              string
	}{
		{"no key", "", "", 401, "unauthenticated"},
		{"wrong key", "nope", "", 401, "unauthenticated"},
		{"header key", "k1", "", 200, ""},
		{"bearer key", "", "k2", 200, ""},
	}
	for _, tt := range tests {
		if status, code := call(tt.key, tt.bearer); status != tt.status || code != tt.code {
			t.Errorf("%s: %d %q, want %d %q", tt.name, status, code, tt.status, tt.code)
		}
	}
	// k1 has a burst of 2 and used 1; within the same second the third call is limited.
	limited := false
	for i := 0; i < 3 && !limited; i++ {
		status, code := call("k1", "")
		limited = status == 429 && code == "rate_limited"
	}
	if !limited {
		t.Error("k1 was never rate limited at 2 requests per second")
	}
	if status, _ := call("k2", ""); status != 200 {
		t.Errorf("k2 was limited by k1's bucket: %d", status)
	}
}
