package experiment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/experiment/store"
)

// adminRoutes are the admin API's writing routes FuzzAdminBodies sends to.
var adminRoutes = []struct{ method, path string }{
	{"PUT", "/admin/v1/defaults"}, {"PATCH", "/admin/v1/defaults"}, {"POST", "/admin/v1/layers"},
	{"POST", "/admin/v1/layers/ranking/experiments"}, {"PATCH", "/admin/v1/layers/ranking/experiments/w/variants/b"},
	{"PUT", "/admin/v1/layers/ranking/experiments/w/overrides/u1"}, {"PUT", "/admin/v1/holdout"},
	{"POST", "/admin/v1/launches"}, {"PATCH", "/admin/v1/launches/l1"}, {"POST", "/admin/v1/domains"},
	{"PATCH", "/admin/v1/domains/d1"},
}

// Every admin body either changes the config to one that validates, with
// one audit entry, or is refused with a 4xx JSON error of a known code and
// changes nothing: never a panic, never a 5xx, never a half-applied change.
func FuzzAdminBodies(f *testing.F) {
	f.Add(uint8(2), []byte(layerBody))
	f.Add(uint8(3), []byte(expBody))
	f.Add(uint8(4), []byte(`{"size":500}`))
	f.Add(uint8(1), []byte(`{"recall_quotas":{"item_cf":10},"frequency_cap":{"k":2,"window":"1h","cooldown":"10m"}}`))
	f.Add(uint8(5), []byte(`{"variant":"b"}`))
	f.Add(uint8(6), []byte(`{"buckets":10}`))
	f.Add(uint8(7), []byte(`{"name":"l1","traffic":100,"params":{"max_per_genre":3}}`))
	f.Add(uint8(9), []byte(`{"name":"d1","buckets":100}`))
	f.Add(uint8(0), []byte(`{"ranking_weights":{"click":1}} trailing`))
	known := map[string]bool{}
	for _, k := range apierr.Kinds() {
		known[(&apierr.Error{Kind: k}).Code()] = true
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		ctx := context.Background()
		s := store.NewMemory()
		a := &experiment.Admin{Store: s, Configs: experiment.New(&abtest.Config{}), Token: token, Log: rlog.Discard(), Rules: testRules}
		mux := http.NewServeMux()
		a.Register(mux)
		do := func(method, path string, b []byte) (int, []byte) {
			req := httptest.NewRequest(method, path, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			out, _ := io.ReadAll(w.Result().Body)
			return w.Code, out
		}
		// A config to change: a layer with a 50/50 experiment.
		for _, seed := range []struct{ path, body string }{{"/admin/v1/layers", layerBody}, {"/admin/v1/layers/ranking/experiments", expBody}} {
			if code, out := do("POST", seed.path, []byte(seed.body)); code != http.StatusOK {
				t.Fatalf("seed %s: %d %s", seed.path, code, out)
			}
		}
		before, _ := s.Version(ctx)
		audit, _ := s.Audit(ctx, 1000)
		rt := adminRoutes[int(route)%len(adminRoutes)]
		code, out := do(rt.method, rt.path, body)
		after, _ := s.Version(ctx)
		audit2, _ := s.Audit(ctx, 1000)
		if code == http.StatusOK {
			var c abtest.Config
			if err := json.Unmarshal(out, &c); err != nil {
				t.Fatalf("%s %s: 200 with a body that is no config: %v", rt.method, rt.path, err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("%s %s %q: accepted a config that does not validate: %v", rt.method, rt.path, body, err)
			}
			if after != before+1 || len(audit2) != len(audit)+1 {
				t.Fatalf("an accepted change moved the version %d→%d and the audit %d→%d", before, after, len(audit), len(audit2))
			}
			return
		}
		var e apierr.Body
		if err := json.Unmarshal(out, &e); err != nil || !known[e.Error.Code] || code < 400 || code >= 500 {
			t.Fatalf("%s %s %q: %d %s; want 200, or a 4xx JSON error of a known code", rt.method, rt.path, body, code, out)
		}
		if after != before || len(audit2) != len(audit) {
			t.Fatalf("a refused change moved the version %d→%d or the audit %d→%d", before, after, len(audit), len(audit2))
		}
	})
}
