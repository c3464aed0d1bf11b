package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/experiment/console"
	"github.com/recmesh/recmesh/services/experiment/store"
)

const token = "s3cret"

type stats struct{}

func (stats) ExposureStats(_ context.Context, q domain.ExposureQuery) ([]domain.ArmStats, error) {
	a, b := domain.ArmStats{Arm: "control"}, domain.ArmStats{Arm: "treatment"}
	for i := range 100 {
		a.AddUser(10, float64(i%3), 0)
		b.AddUser(10, float64(i%4), 1)
	}
	return []domain.ArmStats{a, b}, nil
}

type fixture struct {
	t       *testing.T
	srv     *httptest.Server
	client  *http.Client
	admin   *experiment.Admin
	preview chan string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, preview: make(chan string, 10)}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.preview <- r.Header.Get(console.PreviewHeader)
		_ = json.NewEncoder(w).Encode(map[string]any{"request_id": "r1", "model_version": "v7", "degraded": []string{"ranking"},
			"items": []map[string]any{{"item_id": 42, "title": "The Answer", "score": 0.5, "sources": []string{"item_cf", "popular"}}}})
	}))
	t.Cleanup(gw.Close)
	st := store.NewMemory()
	cfg := &abtest.Config{Layers: []abtest.Layer{{Name: "ranking", Salt: "s"}}}
	if _, err := st.Update(context.Background(), store.Change{Actor: "t", Action: "seed", Apply: func(c *abtest.Config) error {
		c.Layers = cfg.Layers
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	loaded, _ := st.Load(context.Background())
	f.admin = &experiment.Admin{Store: st, Configs: experiment.New(loaded), Token: token, Log: rlog.Discard(), Exposures: stats{}}
	c := &console.Console{Admin: f.admin, Log: rlog.Discard(), Gateway: func(context.Context) string { return gw.URL }}
	mux := http.NewServeMux()
	if err := c.Register(mux); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	jar, _ := cookiejar.New(nil)
	f.client = &http.Client{Jar: jar}
	return f
}

func (f *fixture) do(method, path string, form url.Values, origin bool) (int, string) {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin {
		req.Header.Set("Origin", f.srv.URL)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConsoleNeedsTheToken(t *testing.T) {
	f := newFixture(t)
	if _, body := f.do("GET", "/console/", nil, false); !strings.Contains(body, `name="token"`) {
		t.Fatalf("signed out, the console did not send the sign-in page: %.200s", body)
	}
	if status, _ := f.do("POST", "/console/login", url.Values{"token": {"wrong"}}, true); status != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", status)
	}
	if status, _ := f.do("POST", "/console/login", url.Values{"token": {token}}, false); status != http.StatusForbidden {
		t.Errorf("a sign-in without an origin: %d, want 403", status)
	}
	if status, body := f.do("POST", "/console/login", url.Values{"token": {token}}, true); status != http.StatusOK || !strings.Contains(body, "Layer ranking") {
		t.Fatalf("sign in: %d %.300s", status, body)
	}
	if strings.Contains(f.client.Jar.Cookies(mustURL(f.srv.URL + "/console/"))[0].Value, token) {
		t.Error("the cookie holds the token itself")
	}
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }

func TestConsoleCreatesRampsShowsAndStops(t *testing.T) {
	f := newFixture(t)
	f.do("POST", "/console/login", url.Values{"token": {token}}, true)
	status, body := f.do("POST", "/console/layers/ranking/experiments", url.Values{"name": {"w"}, "traffic": {"2000"},
		"variants": {"control:50, treatment:50"}, "params": {`{"ranking_weights":{"like":1}}`}}, true)
	if status != http.StatusOK || !strings.Contains(body, `id="size-ranking-w-control">1000<`) {
		t.Fatalf("create: %d %.500s", status, body)
	}
	cfg, _ := f.admin.Configs.GetConfig(context.Background())
	if v := cfg.Layers[0].Experiments[0].Variants[1]; v.Params.RankingWeights["like"] != 1 {
		t.Errorf("treatment params = %+v", v.Params)
	}
	if status, body := f.do("POST", "/console/layers/ranking/experiments/w/variants/control", url.Values{"size": {"1500"}}, true); status != http.StatusOK ||
		!strings.Contains(body, `id="size-ranking-w-control">1500<`) {
		t.Fatalf("ramp: %d", status)
	}
	if status, body := f.do("POST", "/console/layers/ranking/experiments/w/variants/control", url.Values{"size": {"99999"}}, true); status != http.StatusBadRequest ||
		!strings.Contains(body, "invalid_argument") {
		t.Errorf("a bad ramp: %d %.300s", status, body)
	}
	if status, _ := f.do("POST", "/console/layers/ranking/experiments/w/variants/control", url.Values{"size": {"10"}}, false); status != http.StatusForbidden {
		t.Errorf("a cross-origin ramp: %d, want 403", status)
	}
	_, body = f.do("GET", "/console/layers/ranking/experiments/w", nil, false)
	for _, want := range []string{`id="variant-control"`, `<td class="n users">100</td>`, `<td class="n ctr">0.0990</td>`, `id="srm" class="ok"`} {
		if !strings.Contains(body, want) {
			t.Errorf("results page lacks %q", want)
		}
	}
	_, body = f.do("GET", "/console/audit", nil, false)
	if !strings.Contains(body, "update_variant") || !strings.Contains(body, "console") {
		t.Errorf("audit page: %.300s", body)
	}
	_, body = f.do("GET", "/console/try?user_id=7", nil, false)
	if !strings.Contains(body, "The Answer") || !strings.Contains(body, `<span id="degraded">ranking</span>`) || !strings.Contains(body, "item_cf, popular") {
		t.Errorf("try page: %.800s", body)
	}
	if got := <-f.preview; got != "1" {
		t.Errorf("the preview header was %q", got)
	}
	if status, body := f.do("POST", "/console/layers/ranking/experiments/w/stop", url.Values{}, true); status != http.StatusOK || strings.Contains(body, `id="exp-ranking-w"`) {
		t.Errorf("stop: %d", status)
	}
}
