package mesh

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/config"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/pkg/resilience/resiliencetest"
	"github.com/recmesh/recmesh/services/ranking/rankingapi"
)

const dataDir = "../../../../data/movielens-small"

// blockedItem is Pulp Fiction, which cold-start users would otherwise see near the top.
const blockedItem = 296

var (
	m        *Mesh
	modelDir string
	dataset  *movielens.Dataset
	spans    = tracetest.NewInMemoryExporter()
)

// TestMain starts one embedded mesh, with a model trained from scratch, for
// every test in the package, and checks nothing leaks once it stops.
func TestMain(tm *testing.M) {
	code, err := withMesh(tm)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesh:", err)
		os.Exit(1)
	}
	if code == 0 {
		if err := goleak.Find(resiliencetest.LeakOptions()...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func withMesh(tm *testing.M) (int, error) {
	var err error
	if dataset, err = movielens.Load(dataDir); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "recmesh-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	g := DefaultGatewayConfig()
	g.REST.Addr = "127.0.0.1:0"
	g.ConfigPoll = 100 * time.Millisecond
	g.ConfigWait = 2 * time.Second
	g.BreakerSleep = 200 * time.Millisecond
	g.REST.MaxBodyBytes = 4096
	// Generous budgets: this machine is shared, and a timeout would turn a
	// correctness check into a degraded answer.
	g.Budgets = gateway.Budgets{Request: 5 * time.Second, Features: time.Second, Recall: 2 * time.Second, Filter: time.Second, Ranking: 2 * time.Second, Write: 5 * time.Second}
	modelDir = dir + "/models"
	blocklist := dir + "/blocklist"
	if err := os.WriteFile(blocklist, []byte(fmt.Sprintf("# test\n%d\n", blockedItem)), 0o644); err != nil {
		return 0, err
	}
	// The components are configured through their flags, as recmesh all does.
	comps := Components()
	f := config.NewFlags("e2e")
	for _, c := range comps {
		c.Bind(f)
	}
	if err := f.Parse([]string{"-store", "memory:", "-data", dataDir, "-model-dir", modelDir, "-model-poll", "50ms",
		"-experiments", "../../../../config/experiments.json", "-blocklist", blocklist, "-max-per-genre", "100",
		"-admin-token", adminToken, "-results-refresh", "200ms"}); err != nil {
		return 0, err
	}
	m, err = Start(context.Background(), Options{
		Components: comps, DataDir: dataDir, ModelDir: modelDir,
		Instance: "e2e", Gateway: g, Log: io.Discard, LogLevel: slog.LevelError, SpanExporter: spans,
	})
	if err != nil {
		return 0, err
	}
	if err := startAPI(); err != nil {
		_ = m.Stop(context.Background())
		return 0, err
	}
	code := tm.Run()
	if code == 0 {
		code = checkAPI()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return code, m.Stop(ctx)
}

func recommend(t *testing.T, user string, n int) gateway.Reply {
	t.Helper()
	status, body := get(t, fmt.Sprintf("/v1/recommendations?user_id=%s&n=%d", user, n))
	if status != http.StatusOK {
		t.Fatalf("user %s: status %d: %s", user, status, body)
	}
	var r gateway.Reply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := httpc.Get(m.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func post(t *testing.T, path, body string) (int, []byte) {
	t.Helper()
	resp, err := httpc.Post(m.URL()+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func itemIDs(r gateway.Reply) []int64 {
	out := make([]int64, len(r.Items))
	for i, it := range r.Items {
		out[i] = it.ItemID
	}
	return out
}

func TestPersonalisedListsDiffer(t *testing.T) {
	a, b := recommend(t, "1", 20), recommend(t, "414", 20)
	if len(a.Items) != 20 || len(b.Items) != 20 {
		t.Fatalf("got %d and %d items, want 20 each", len(a.Items), len(b.Items))
	}
	if slices.Equal(itemIDs(a), itemIDs(b)) {
		t.Fatalf("users 1 and 414 got the same list: %v", itemIDs(a))
	}
	for _, r := range []gateway.Reply{a, b} {
		if len(r.Degraded) != 0 || r.TraceID == "" || r.RequestID == "" || r.ModelVersion == "" || len(r.Experiments) == 0 {
			t.Errorf("reply metadata: %+v", r)
		}
		for _, it := range r.Items {
			if it.Title == "" || len(it.Sources) == 0 {
				t.Errorf("item without title or sources: %+v", it)
			}
		}
	}
	personal := 0
	for _, it := range a.Items {
		if slices.Contains(it.Sources, "item_cf") || slices.Contains(it.Sources, "genre") {
			personal++
		}
	}
	if personal == 0 {
		t.Errorf("no item of user 1 came from a personal channel: %+v", a.Items)
	}
}

func TestNeverRecommendsRatedItems(t *testing.T) {
	rated := map[string]map[int64]bool{}
	for _, r := range dataset.Ratings {
		u := strconv.FormatInt(r.UserID, 10)
		if rated[u] == nil {
			rated[u] = map[int64]bool{}
		}
		rated[u][r.MovieID] = true
	}
	// Every 20th user, plus the heaviest raters, who are the likeliest to
	// collide with what recall proposes.
	users := []string{"414", "599", "474", "448"}
	for u := 1; u <= 610; u += 20 {
		users = append(users, strconv.Itoa(u))
	}
	for _, u := range users {
		r := recommend(t, u, 100)
		if len(r.Items) == 0 {
			t.Errorf("user %s got no items", u)
		}
		for _, it := range r.Items {
			if rated[u][it.ItemID] {
				t.Errorf("user %s was recommended item %d, which they rated", u, it.ItemID)
			}
		}
	}
}

func setWeights(t *testing.T, name int64, weights map[string]float64) {
	t.Helper()
	cfg := &abtest.Config{Layers: []abtest.Layer{{Name: "ranking", Salt: "e2e", Experiments: []abtest.Experiment{{
		Name: "fusion", Variants: []abtest.Variant{{Name: fmt.Sprint("w", name), Buckets: []abtest.Range{{Start: 0, End: abtest.NumBuckets}},
			Params: abtest.Params{RankingWeights: weights}}},
	}}}}}
	version, err := m.SetExperiments(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.Gateway().ConfigVersion() != version {
		if time.Now().After(deadline) {
			t.Fatalf("gateway still on config %d, want %d", m.Gateway().ConfigVersion(), version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVariantWeightsChangeTheOrder(t *testing.T) {
	setWeights(t, 100, map[string]float64{"click": 1})
	clickOnly := recommend(t, "1", 20)
	setWeights(t, 101, map[string]float64{"like": 1})
	likeOnly := recommend(t, "1", 20)
	if slices.Equal(itemIDs(clickOnly), itemIDs(likeOnly)) {
		t.Fatalf("changing the fusion weights did not change the order: %v", itemIDs(clickOnly))
	}
	if v := likeOnly.Experiments[0].Variant; v != "w101" {
		t.Errorf("reply names variant %q, want w101", v)
	}
}

func TestRankingFallbackAndRecovery(t *testing.T) {
	ctx := context.Background()
	if err := m.StopService(ctx, rankingapi.Name); err != nil {
		t.Fatal(err)
	}
	r := recommend(t, "ranking-down", 10) // a user with no cached list: the pipeline runs
	if !slices.Equal(r.Degraded, []string{"ranking"}) || len(r.Items) != 10 {
		t.Fatalf("with ranking stopped: degraded %v, %d items; want [ranking] and 10 items", r.Degraded, len(r.Items))
	}
	if err := m.StartService(ctx, rankingapi.Name); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r = recommend(t, "ranking-down", 10) // degraded replies are not cached
		if len(r.Degraded) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still degraded %v after ranking came back", r.Degraded)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.ModelVersion == "" || r.Items[0].Score == 0 {
		t.Errorf("recovered reply is not ranked: %+v", r)
	}
}

func TestEventsReachTheFeatures(t *testing.T) {
	user := "e2e-new-user"
	status, body := post(t, "/v1/events", `{"events":[{"user_id":"e2e-new-user","item_id":1,"type":"like"},{"user_id":"e2e-new-user","item_id":3114,"type":"click"}]}`)
	if status != http.StatusOK || !strings.Contains(string(body), `"accepted":2`) {
		t.Fatalf("ingest: %d %s", status, body)
	}
	r := recommend(t, user, 50)
	cf := 0
	for _, it := range r.Items {
		if it.ItemID == 1 || it.ItemID == 3114 {
			t.Errorf("recommended item %d the user just interacted with", it.ItemID)
		}
		if slices.Contains(it.Sources, "item_cf") {
			cf++
		}
	}
	if cf == 0 {
		t.Errorf("no item-CF candidates after two interactions: %+v", r.Items)
	}
}

func TestBadInputIsA4xxWithACode(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"no user", "GET", "/v1/recommendations", "", 400, "invalid_argument"},
		{"n zero", "GET", "/v1/recommendations?user_id=1&n=0", "", 400, "invalid_argument"},
		{"n too big", "GET", "/v1/recommendations?user_id=1&n=101", "", 400, "invalid_argument"},
		{"n garbage", "GET", "/v1/recommendations?user_id=1&n=ten", "", 400, "invalid_argument"},
		{"user too long", "GET", "/v1/recommendations?user_id=" + strings.Repeat("u", 200), "", 400, "invalid_argument"},
		{"user control char", "GET", "/v1/recommendations?user_id=a%00b", "", 400, "invalid_argument"},
		{"events not json", "POST", "/v1/events", "{", 400, "invalid_argument"},
		{"events unknown field", "POST", "/v1/events", `{"evnts":[]}`, 400, "invalid_argument"},
		{"events empty", "POST", "/v1/events", `{"events":[]}`, 400, "invalid_argument"},
		{"events two values", "POST", "/v1/events", `{"events":[]} {}`, 400, "invalid_argument"},
		{"event bad type", "POST", "/v1/events", `{"events":[{"user_id":"u","item_id":1,"type":"stare"}]}`, 400, "invalid_argument"},
		{"event no item", "POST", "/v1/events", `{"events":[{"user_id":"u","type":"click"}]}`, 400, "invalid_argument"},
		{"body too large", "POST", "/v1/events", `{"events":[` + strings.Repeat(`{"user_id":"u","item_id":1,"type":"click"},`, 200) + `]}`, 413, "too_large"},
		{"item garbage", "GET", "/v1/items/abc", "", 400, "invalid_argument"},
		{"item unknown", "GET", "/v1/items/999999999", "", 404, "not_found"},
		{"no route", "GET", "/v2/nothing", "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, m.URL()+tt.path, bytes.NewBufferString(tt.body))
			resp, err := httpc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("body is not a JSON error: %v", err)
			}
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, e.Error, tt.status, tt.code)
			}
			if strings.Contains(e.Error.Message, "rpc error") {
				t.Errorf("message leaks transport details: %q", e.Error.Message)
			}
		})
	}
}

func TestOperationalEndpoints(t *testing.T) {
	for path, want := range map[string]string{
		"/healthz":      "ok",
		"/readyz":       "ready",
		"/openapi.json": `"/v1/recommendations"`,
		"/metrics":      "recmesh_hop_requests_total",
	} {
		status, body := get(t, path)
		if status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s = %d, want 200 containing %q", path, status, want)
		}
	}
	resp, err := http.Get(m.AdminURL("recall") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `recmesh_rpc_server_requests_total{code="OK",method="/recmesh.v1.RecallService/Recall"}`) {
		t.Errorf("recall's /metrics lacks its RPC counter")
	}
}

// TestOneRequestIsOneTrace checks W3C context crosses every gRPC hop: the
// spans of one request, from every service, share the gateway's trace id,
// each hop's server span is a child of the gateway's client span, and the
// root span carries the user's variants.
func TestOneRequestIsOneTrace(t *testing.T) {
	r := recommend(t, "one-trace", 5) // a user with no cached list: every hop runs
	if len(r.Degraded) != 0 {
		t.Fatalf("degraded reply %v: a hop failed, so its spans are missing", r.Degraded)
	}
	var byID map[string]tracetest.SpanStub
	var services map[string]bool
	var root *tracetest.SpanStub
	// A service's server span ends just after its answer is on the wire,
	// so the reply can arrive a moment before the span is recorded.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		byID, services, root = map[string]tracetest.SpanStub{}, map[string]bool{}, nil
		for _, s := range spans.GetSpans() {
			if s.SpanContext.TraceID().String() != r.TraceID {
				continue
			}
			byID[s.SpanContext.SpanID().String()] = s
			name, _ := s.Resource.Set().Value(semconv.ServiceNameKey)
			services[name.AsString()] = true
			if !s.Parent.IsValid() {
				root = &s
			}
		}
		if len(services) == 5 || time.Now().After(deadline) {
			break
		}
	}
	for _, svc := range []string{"gateway", "features", "recall", "filter", "ranking"} {
		if !services[svc] {
			t.Errorf("trace %s has no span from %s (has %v)", r.TraceID, svc, services)
		}
	}
	if root == nil {
		t.Fatalf("trace %s has no root span", r.TraceID)
	}
	for id, s := range byID {
		if s.Parent.IsValid() {
			if _, ok := byID[s.Parent.SpanID().String()]; !ok {
				t.Errorf("span %s (%s) has a parent outside the trace", id, s.Name)
			}
		}
	}
	attrs := map[string]string{}
	for _, a := range root.Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	for _, e := range r.Experiments {
		if got, want := attrs["ab."+e.Layer], e.Experiment+"/"+e.Variant; got != want {
			t.Errorf("root span ab.%s = %q, want %q", e.Layer, got, want)
		}
	}
}

func TestBlocklistedItemsNeverShow(t *testing.T) {
	for _, u := range []string{"someone-new", "1", "414"} {
		for _, it := range recommend(t, u, 100).Items {
			if it.ItemID == blockedItem {
				t.Errorf("user %s was shown blocklisted item %d", u, blockedItem)
			}
		}
	}
}

// republish stores a copy of the current version under a new name and
// publishes it, as `recmesh train` would with a new model.
func republish(t *testing.T, version string) {
	t.Helper()
	st := artifact.Store{Dir: modelDir}
	if err := st.PublishCopy(st, version); err != nil {
		t.Fatal(err)
	}
}

func waitForVersion(t *testing.T, version string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for recommend(t, "1", 5).ModelVersion != version {
		if time.Now().After(deadline) {
			t.Fatalf("replies never switched to model %s", version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPublishUnderLoad publishes a new version while clients keep asking:
// no request may fail or degrade, and replies must switch to the new
// version. Then a variant pins the old one, and a rollback restores it.
func TestPublishUnderLoad(t *testing.T) {
	before := recommend(t, "1", 5).ModelVersion
	next := "v99990101T000000Z" // sorts after any version made from a real clock today
	stop := make(chan struct{})
	type tally struct{ ok, failed, degraded int }
	results := make(chan tally, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			var tl tally
			for i := 0; ; i++ {
				select {
				case <-stop:
					results <- tl
					return
				default:
				}
				resp, err := httpc.Get(fmt.Sprintf("%s/v1/recommendations?user_id=%d&n=10", m.URL(), 1+(w*97+i)%610))
				if err != nil {
					tl.failed++
					continue
				}
				var r gateway.Reply
				if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&r) != nil {
					tl.failed++
				} else if len(r.Degraded) > 0 {
					tl.degraded++
				} else {
					tl.ok++
				}
				resp.Body.Close()
			}
		}(w)
	}
	time.Sleep(200 * time.Millisecond)
	republish(t, next)
	waitForVersion(t, next)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	var total tally
	for w := 0; w < 4; w++ {
		tl := <-results
		total.ok, total.failed, total.degraded = total.ok+tl.ok, total.failed+tl.failed, total.degraded+tl.degraded
	}
	t.Logf("during the swap: %d ok, %d failed, %d degraded", total.ok, total.failed, total.degraded)
	if total.failed != 0 || total.degraded != 0 || total.ok == 0 {
		t.Errorf("publishing under load: %+v, want only ok replies", total)
	}

	// A variant can pin the old version while the new one is current.
	cfg := &abtest.Config{Version: 200, Layers: []abtest.Layer{{Name: "ranking", Salt: "pin", Experiments: []abtest.Experiment{{
		Name: "pin", Variants: []abtest.Variant{{Name: "old", Buckets: []abtest.Range{{Start: 0, End: abtest.NumBuckets}},
			Params: abtest.Params{RankingModel: before}}},
	}}}}}
	if _, err := m.SetExperiments(cfg); err != nil {
		t.Fatal(err)
	}
	waitForVersion(t, before)
	if _, err := m.SetExperiments(&abtest.Config{}); err != nil {
		t.Fatal(err)
	}
	waitForVersion(t, next)

	if v, err := (artifact.Store{Dir: modelDir}).Rollback(); err != nil || v != before {
		t.Fatalf("Rollback = %q, %v; want %s", v, err, before)
	}
	waitForVersion(t, before)
}
