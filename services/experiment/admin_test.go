package experiment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/pkg/pgtest"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/experiment/store"
)

const token = "s3cret"

// backends are the stores the admin API is tested on; Postgres skips
// without RECMESH_POSTGRES_DSN (see depstest).
var backends = map[string]func(t *testing.T) store.Store{
	"memory": func(*testing.T) store.Store { return store.NewMemory() },
	"postgres": func(t *testing.T) store.Store {
		pool := pgtest.Pool(t)
		if _, err := store.Migrate(context.Background(), pool); err != nil {
			t.Fatal(err)
		}
		return store.NewPostgres(pool)
	},
}

type adminClient struct {
	t   *testing.T
	url string
	s   store.Store
	cfg *experiment.Configs
}

func newAdmin(t *testing.T, s store.Store, tok string) *adminClient {
	t.Helper()
	cfgs := experiment.New(&abtest.Config{})
	a := &experiment.Admin{Store: s, Configs: cfgs, Token: tok, Log: rlog.Discard(), Rules: testRules}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &adminClient{t: t, url: srv.URL, s: s, cfg: cfgs}
}

// do sends a request with the given token and returns the status and body.
func (c *adminClient) do(method, path, tok, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// ok sends an authorised request that must succeed and returns the config.
func (c *adminClient) ok(method, path, body string) *abtest.Config {
	c.t.Helper()
	status, b := c.do(method, path, token, body)
	if status != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	var cfg abtest.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		c.t.Fatal(err)
	}
	return &cfg
}

func forEachBackend(t *testing.T, f func(t *testing.T, s store.Store)) {
	for name, mk := range backends {
		t.Run(name, func(t *testing.T) { f(t, mk(t)) })
	}
}

// newSeededAdmin is an admin API over s holding the ranking layer and the
// 50/50 experiment w on 2,000 buckets.
func newSeededAdmin(t *testing.T, s store.Store) *adminClient {
	t.Helper()
	c := newAdmin(t, s, token)
	c.ok("POST", "/admin/v1/layers", layerBody)
	c.ok("POST", "/admin/v1/layers/ranking/experiments", expBody)
	return c
}

const layerBody = `{"name":"ranking","salt":"ranking-salt"}`
const expBody = `{"name":"w","traffic":2000,"variants":[{"name":"a","share":50},{"name":"b","share":50,"params":{"ranking_weights":{"click":0.2,"like":1}}}]}`

func TestAdminCreatesAndAudits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		c := newAdmin(t, s, token)
		c.ok("POST", "/admin/v1/layers", layerBody)
		cfg := c.ok("POST", "/admin/v1/layers/ranking/experiments", expBody)
		vs := cfg.Layers[0].Experiments[0].Variants
		if cfg.Version != 2 || len(vs) != 2 || fmt.Sprint(vs[0].Buckets) != "[{0 1000}]" || fmt.Sprint(vs[1].Buckets) != "[{1000 2000}]" {
			t.Fatalf("after create: %+v", cfg)
		}
		if got, _ := c.cfg.GetConfig(context.Background()); got.Version != 2 {
			t.Errorf("served version %d, want 2 at once", got.Version)
		}
		c.ok("PUT", "/admin/v1/layers/ranking/experiments/w/overrides/42", `{"variant":"b"}`)
		status, b := c.do("GET", "/admin/v1/audit?limit=10", token, "")
		var audit struct{ Entries []store.AuditEntry }
		if err := json.Unmarshal(b, &audit); status != 200 || err != nil {
			t.Fatalf("audit: %d %s", status, b)
		}
		var actions []string
		for _, e := range audit.Entries {
			actions = append(actions, fmt.Sprintf("v%d:%s", e.Version, e.Action))
		}
		if got := strings.Join(actions, " "); got != "v3:set_override v2:add_experiment v1:add_layer" {
			t.Errorf("audit = %s", got)
		}
	})
}

func TestAdminRefusesBadInputAndWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		c := newSeededAdmin(t, s)
		before, _ := s.Load(context.Background())
		cases := []struct {
			name, method, path, tok, body string
			status                        int
			code                          string
		}{
			{"no token", "POST", "/admin/v1/layers", "", `{"name":"x","salt":"y"}`, 401, "unauthenticated"},
			{"wrong token", "POST", "/admin/v1/layers", "nope", `{"name":"x","salt":"y"}`, 403, "permission_denied"},
			{"no token on a read", "GET", "/admin/v1/config", "", "", 401, "unauthenticated"},
			{"overlapping ranges", "POST", "/admin/v1/layers/ranking/experiments", token,
				`{"name":"o","variants":[{"name":"a","buckets":[{"start":1500,"end":2500}]}]}`, 400, "invalid_argument"},
			{"overlapping ranges within", "POST", "/admin/v1/layers/ranking/experiments", token,
				`{"name":"o","variants":[{"name":"a","buckets":[{"start":3000,"end":3500}]},{"name":"b","buckets":[{"start":3400,"end":3600}]}]}`, 400, "invalid_argument"},
			{"shares not 100", "POST", "/admin/v1/layers/ranking/experiments", token,
				`{"name":"s","traffic":1000,"variants":[{"name":"a","share":60},{"name":"b","share":30}]}`, 400, "invalid_argument"},
			{"zero share", "POST", "/admin/v1/layers/ranking/experiments", token,
				`{"name":"s","traffic":1000,"variants":[{"name":"a","share":100},{"name":"b","share":0}]}`, 400, "invalid_argument"},
			{"shares and buckets mixed", "POST", "/admin/v1/layers/ranking/experiments", token,
				`{"name":"s","traffic":1000,"variants":[{"name":"a","share":100,"buckets":[{"start":5000,"end":6000}]}]}`, 400, "invalid_argument"},
			{"unknown field", "POST", "/admin/v1/layers/ranking/experiments", token,
				`{"name":"u","traffic":100,"variants":[{"name":"a","share":100}],"trafic":5}`, 400, "invalid_argument"},
			{"unknown params field", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/a", token,
				`{"params":{"ranking_weight":{"click":1}}}`, 400, "invalid_argument"},
			{"two JSON values", "POST", "/admin/v1/layers", token, `{"name":"x","salt":"y"}{}`, 400, "invalid_argument"},
			{"not JSON", "POST", "/admin/v1/layers", token, `name=x`, 400, "invalid_argument"},
			{"layer without salt", "POST", "/admin/v1/layers", token, `{"name":"x"}`, 400, "invalid_argument"},
			{"salt shared", "POST", "/admin/v1/layers", token, `{"name":"x","salt":"ranking-salt"}`, 400, "invalid_argument"},
			{"duplicate layer", "POST", "/admin/v1/layers", token, layerBody, 409, "conflict"},
			{"duplicate experiment", "POST", "/admin/v1/layers/ranking/experiments", token, expBody, 409, "conflict"},
			{"no free buckets", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/a", token, `{"size":9500}`, 409, "conflict"},
			{"negative size", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/a", token, `{"size":-1}`, 400, "invalid_argument"},
			{"empty update", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/a", token, `{}`, 400, "invalid_argument"},
			{"override to unknown variant", "PUT", "/admin/v1/layers/ranking/experiments/w/overrides/7", token, `{"variant":"zz"}`, 400, "invalid_argument"},
			{"unknown layer", "POST", "/admin/v1/layers/nope/experiments", token, expBody, 404, "not_found"},
			{"unknown variant", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/zz", token, `{"size":10}`, 404, "not_found"},
			{"bad audit limit", "GET", "/admin/v1/audit?limit=0", token, "", 400, "invalid_argument"},
			{"too large", "POST", "/admin/v1/layers", token, `{"name":"` + strings.Repeat("x", experiment.MaxAdminBody) + `"}`, 413, "too_large"},
		}
		for _, tc := range cases {
			status, b := c.do(tc.method, tc.path, tc.tok, tc.body)
			var e apierr.Body
			_ = json.Unmarshal(b, &e)
			if status != tc.status || e.Error.Code != tc.code || e.Error.Message == "" {
				t.Errorf("%s: %d %s, want %d %s", tc.name, status, b, tc.status, tc.code)
			}
		}
		after, _ := s.Load(context.Background())
		if fmt.Sprintf("%+v", before) != fmt.Sprintf("%+v", after) {
			t.Errorf("refused requests changed the config:\nbefore %+v\nafter  %+v", before, after)
		}
		if audit, _ := s.Audit(context.Background(), 100); len(audit) != 2 {
			t.Errorf("refused requests were audited: %d entries", len(audit))
		}
	})
}

var testRules = abtest.ParamRules{Channels: []string{"item_cf", "embedding", "genre", "popular"}, MaxQuota: 2000,
	Objectives: []string{"click", "like"}, Services: []string{"features", "recall", "filter", "ranking"}}

// Variant params are checked when written: a typo is a 400 naming the
// field, and nothing is stored or audited.
func TestAdminRefusesUnknownParams(t *testing.T) {
	c := newSeededAdmin(t, store.NewMemory())
	before, _ := c.s.Load(context.Background())
	full := func(quotas string) string {
		return `{"recall_quotas":` + quotas + `,"ranking_weights":{"click":1,"like":0.3},"max_per_genre":100}`
	}
	cases := []struct{ name, method, path, body, field string }{
		{"unknown channel", "PUT", "/admin/v1/defaults", full(`{"itemcf":100}`), "defaults.recall_quotas.itemcf"},
		{"huge quota", "PUT", "/admin/v1/defaults", full(`{"item_cf":2000000000}`), "defaults.recall_quotas.item_cf"},
		{"negative quota", "PATCH", "/admin/v1/defaults", `{"recall_quotas":{"item_cf":-5}}`, "defaults.recall_quotas.item_cf"},
		{"incomplete PUT", "PUT", "/admin/v1/defaults", `{"recall_quotas":{"item_cf":300}}`, "ranking_weights is missing"},
		{"unknown objective", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/a", `{"params":{"ranking_weights":{"clicks":1}}}`, "params.ranking_weights.clicks"},
		{"unknown route target", "PATCH", "/admin/v1/layers/ranking/experiments/w/variants/a", `{"routes":{"rankng":"v2"}}`, "routes.rankng"},
	}
	for _, tc := range cases {
		status, b := c.do(tc.method, tc.path, token, tc.body)
		var e apierr.Body
		_ = json.Unmarshal(b, &e)
		if status != http.StatusBadRequest || e.Error.Code != "invalid_argument" || !strings.Contains(e.Error.Message, tc.field) {
			t.Errorf("%s: %d %s, want 400 invalid_argument naming %s", tc.name, status, b, tc.field)
		}
	}
	after, _ := c.s.Load(context.Background())
	if fmt.Sprintf("%+v", before) != fmt.Sprintf("%+v", after) {
		t.Errorf("refused requests changed the config")
	}
}

// PATCH changes only the fields it names; the other defaults stay.
func TestPatchDefaultsKeepsTheRest(t *testing.T) {
	c := newSeededAdmin(t, store.NewMemory())
	c.ok("PUT", "/admin/v1/defaults", `{"recall_quotas":{"item_cf":250,"popular":100},"ranking_weights":{"click":1,"like":0.3},"max_per_genre":40}`)
	cfg := c.ok("PATCH", "/admin/v1/defaults", `{"recall_quotas":{"item_cf":300}}`)
	d := cfg.Defaults
	if d.RecallQuotas["item_cf"] != 300 || d.RecallQuotas["popular"] != 100 || d.RankingWeights["like"] != 0.3 || d.MaxPerGenre == nil || *d.MaxPerGenre != 40 {
		t.Errorf("defaults after PATCH = %+v", d)
	}
}

func TestAdminOffWithoutToken(t *testing.T) {
	c := newAdmin(t, store.NewMemory(), "")
	if status, _ := c.do("GET", "/admin/v1/config", "anything", ""); status != http.StatusForbidden {
		t.Errorf("admin API without a configured token answered %d, want 403", status)
	}
}

// owner names the experiment/variant owning bucket b of cfg's first layer.
func owner(cfg *abtest.Config, b int) string {
	for _, e := range cfg.Layers[0].Experiments {
		for _, v := range e.Variants {
			for _, r := range v.Buckets {
				if b >= r.Start && b < r.End {
					return e.Name + "/" + v.Name
				}
			}
		}
	}
	return ""
}

// TestGrowingAndShrinkingNeverReshuffles: after each resize, a user's
// variant differs only if their own bucket changed owner.
func TestGrowingAndShrinkingNeverReshuffles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s store.Store) {
		c := newSeededAdmin(t, s)
		// Another experiment after it, so growth must skip its buckets.
		c.ok("POST", "/admin/v1/layers/ranking/experiments", `{"name":"other","traffic":500,"variants":[{"name":"x","share":100}]}`)
		steps := []struct{ variant, body string }{
			{"a", `{"size":1600}`}, {"b", `{"size":3000}`}, {"a", `{"size":700}`}, {"a", `{"size":1200}`}, {"b", `{"size":0}`},
		}
		prev, _ := s.Load(context.Background())
		for _, st := range steps {
			next := c.ok("PATCH", "/admin/v1/layers/ranking/experiments/w/variants/"+st.variant, st.body)
			moved, changed := 0, 0
			pa, _ := abtest.NewAssigner(prev)
			na, _ := abtest.NewAssigner(next)
			for u := range 20000 {
				user := fmt.Sprint(u)
				b := abtest.Bucket("ranking-salt", user)
				bucketMoved := owner(prev, b) != owner(next, b)
				if bucketMoved {
					moved++
				}
				if fmt.Sprint(pa.Assign(user).Assignments) != fmt.Sprint(na.Assign(user).Assignments) {
					changed++
					if !bucketMoved {
						t.Fatalf("%s %s: user %s changed variant though bucket %d kept its owner", st.variant, st.body, user, b)
					}
				}
			}
			if changed != moved || changed == 0 {
				t.Errorf("%s %s: %d users changed variant, %d had their bucket moved", st.variant, st.body, changed, moved)
			}
			prev = next
		}
		final := prev.Layers[0].Experiments[0].Variants
		// a: [0,1000); grows into [2500,3100) past b and other; shrinking to 700
		// gives back all of that and [700,1000); growing to 1200 takes the
		// lowest free again: [700,1000) then [2500,2700). b ends empty.
		if got := fmt.Sprint(final[0].Buckets, final[1].Buckets); got != "[{0 1000} {2500 2700}] []" {
			t.Errorf("final allocation = %s", got)
		}
	})
}

// The audit log names the holder of the token a change was made with; a
// header cannot claim another name, and a wrong token changes nothing.
func TestAuditActorIsTheTokensHolder(t *testing.T) {
	const alice, bob = "alice-0123456789abcdef", "bob-0123456789abcdef"
	s := store.NewMemory()
	c := newAdmin(t, s, "alice:"+alice+",bob:"+bob)
	send := func(tok, actorHeader, path, body string) int {
		req, _ := http.NewRequest("POST", c.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Actor", actorHeader)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(bob, "alice", "/admin/v1/layers", layerBody); got != http.StatusOK {
		t.Fatalf("bob's change: %d", got)
	}
	if got := send("alice-wrong-token-000", "alice", "/admin/v1/layers/ranking/experiments", expBody); got != http.StatusForbidden {
		t.Fatalf("a wrong token: %d, want 403", got)
	}
	audit, err := s.Audit(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Actor != "bob" {
		t.Errorf("audit = %+v; want one entry by bob (not the claimed alice), nothing from the wrong token", audit)
	}
}

func TestParseAdminTokens(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []experiment.AdminToken
		bad  bool
	}{
		{in: ""},
		{in: "dev-token", want: []experiment.AdminToken{{Name: "admin", Token: "dev-token"}}},
		{in: "alice:0123456789abcdef, ci:fedcba9876543210", want: []experiment.AdminToken{{"alice", "0123456789abcdef"}, {"ci", "fedcba9876543210"}}},
		{in: "alice:short", bad: true},
		{in: "Alice:0123456789abcdef", bad: true},
		{in: "a:0123456789abcdef,b:0123456789abcdef", bad: true},
		{in: "a:0123456789abcdef,a:fedcba9876543210", bad: true},
		{in: "a:0123456789abcdef,", bad: true},
	} {
		got, err := experiment.ParseAdminTokens(tt.in)
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("ParseAdminTokens(%q) = %v, %v", tt.in, got, err)
		}
	}
}
