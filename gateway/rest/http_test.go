package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/resilience/resiliencetest"
	"github.com/recmesh/recmesh/services/filter/filterapi"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
	"github.com/recmesh/recmesh/services/recall/recallapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, resiliencetest.LeakOptions()...) }

// down is every hop failing: the orchestrator still answers (all fallbacks),
// which is all the transport's tests need.
type down struct{}

var errDown = errors.New("down")

func (down) GetUserFeatures(context.Context, string, int) (domain.UserFeatures, error) {
	return domain.UserFeatures{}, errDown
}
func (down) IngestEvents(context.Context, domain.EventBatch) (int, error) { return 0, errDown }
func (down) GetItem(context.Context, int64) (domain.Item, error)          { return domain.Item{}, errDown }
func (down) Recall(context.Context, recallapi.Request) (recallapi.Response, error) {
	return recallapi.Response{}, errDown
}
func (down) Filter(context.Context, filterapi.Request) (filterapi.Response, error) {
	return filterapi.Response{}, errDown
}
func (down) Rank(context.Context, rankingapi.Request) (rankingapi.Response, error) {
	return rankingapi.Response{}, errDown
}
func (down) GetConfig(context.Context) (*abtest.Config, error) { return nil, errDown }
func (down) WatchConfig(ctx context.Context, _ int64, _ time.Duration) (*abtest.Config, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

var seq int

func newServer(t testing.TB, cfg Config) *httptest.Server {
	t.Helper()
	seq++
	reg := prometheus.NewRegistry()
	d := down{}
	g, err := gateway.New(gateway.DefaultConfig(), gateway.Hops{Features: d, Recall: d, Filter: d, Ranking: d, Experiment: d},
		reg, log.Discard(), fmt.Sprint("rest-", t.Name(), seq))
	if err != nil {
		t.Fatal(err)
	}
	g.Start(context.Background())
	a, err := New(g, cfg, Options{Metrics: reg, Tracer: noop.NewTracerProvider(), Log: log.Discard(), Channels: []string{"item_cf", "popular"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(http.NotFoundHandler()))
	t.Cleanup(func() { srv.Close(); g.Close() })
	return srv
}

// The OpenAPI document lists the channels it was given and every error code.
func TestOpenAPIEnumsDeriveFromCode(t *testing.T) {
	srv := newServer(t, DefaultConfig())
	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Components struct {
			Schemas struct {
				Item struct {
					Properties struct {
						Sources struct {
							Items struct{ Enum []string } `json:"items"`
						} `json:"sources"`
					} `json:"properties"`
				}
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct{ Enum []string } `json:"code"`
							} `json:"properties"`
						} `json:"error"`
					} `json:"properties"`
				}
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas.Item.Properties.Sources.Items.Enum; !slices.Equal(got, []string{"item_cf", "popular"}) {
		t.Errorf("sources enum %v", got)
	}
	if got := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum; len(got) != len(apierr.Kinds()) || !slices.Contains(got, "conflict") {
		t.Errorf("error code enum %v", got)
	}
}

func TestAdmission(t *testing.T) {
	cfg := DefaultConfig()
	cfg.APIKeys, cfg.RateLimit = "k1, k2", 2
	srv := newServer(t, cfg)

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
