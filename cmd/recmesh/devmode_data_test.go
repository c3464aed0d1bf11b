package main

// Dev-mode checks of the data path: traces in Jaeger, events in PostgreSQL
// and Redis.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recmesh/recmesh/pkg/depstest"
	"github.com/recmesh/recmesh/pkg/domain"
)

// jaegerTrace is the part of Jaeger's /api/traces answer the test reads.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		Tags []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

func (d *devMesh) checkJaeger(t *testing.T) {
	query := depstest.Env(t, "RECMESH_JAEGER_QUERY")
	rep, status := d.recommend("jaeger-trace") // no cached list yet: every hop runs
	if status != http.StatusOK || rep.TraceID == "" {
		t.Fatalf("recommend: %d %+v", status, rep)
	}
	want := []string{"features", "filter", "gateway", "ranking", "recall"}
	var found *jaegerTrace
	var services []string
	deadline := time.Now().Add(30 * time.Second) // spans are exported in batches
	for found == nil || !slices.Equal(services, want) {
		if time.Now().After(deadline) {
			t.Fatalf("trace %s in Jaeger has services %v after 30 s, want %v", rep.TraceID, services, want)
		}
		time.Sleep(500 * time.Millisecond)
		r, err := http.Get(query + "/api/traces?service=gateway&limit=100&lookback=1h&operation=" + url.QueryEscape("GET /v1/recommendations"))
		if err != nil {
			continue
		}
		var body struct{ Data []jaegerTrace }
		err = json.NewDecoder(r.Body).Decode(&body)
		r.Body.Close()
		if err != nil {
			continue
		}
		for i := range body.Data {
			if body.Data[i].TraceID == rep.TraceID {
				found = &body.Data[i]
				services = nil
				for _, s := range found.Spans {
					if name := found.Processes[s.ProcessID].ServiceName; !slices.Contains(services, name) {
						services = append(services, name)
					}
				}
				slices.Sort(services)
			}
		}
	}
	ids := map[string]bool{}
	for _, s := range found.Spans {
		ids[s.SpanID] = true
	}
	roots := 0
	for _, s := range found.Spans {
		if len(s.References) == 0 {
			roots++
			if s.OperationName != "GET /v1/recommendations" || found.Processes[s.ProcessID].ServiceName != "gateway" {
				t.Errorf("root span is %s of %s", s.OperationName, found.Processes[s.ProcessID].ServiceName)
			}
			var ab []string
			for _, tag := range s.Tags {
				if strings.HasPrefix(tag.Key, "ab.") {
					ab = append(ab, fmt.Sprint(tag.Key, "=", tag.Value))
				}
			}
			if len(ab) == 0 {
				t.Errorf("root span carries no variant attributes: %+v", s.Tags)
			}
			t.Logf("root span variants: %v", ab)
			continue
		}
		if ref := s.References[0]; ref.RefType != "CHILD_OF" || !ids[ref.SpanID] {
			t.Errorf("span %s (%s) is not linked to a parent in the trace: %+v", s.OperationName, found.Processes[s.ProcessID].ServiceName, s.References)
		}
	}
	if roots != 1 {
		t.Errorf("trace has %d root spans, want 1", roots)
	}
	t.Logf("trace %s: %d spans from %v", rep.TraceID, len(found.Spans), services)
}

func (d *devMesh) checkDurability(t *testing.T) {
	const batches, per = 20, 50
	var mu sync.Mutex
	accepted := 0
	var wg sync.WaitGroup
	now := time.Now().Unix()
	for b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var evs []domain.Event
			for i := range per {
				evs = append(evs, domain.Event{UserID: fmt.Sprint("dur-", b%7), ItemID: int64(1 + (b*per+i)%300), Type: "click", Value: 1, TS: now + int64(i)})
			}
			body, _ := json.Marshal(map[string]any{"events": evs})
			r, err := http.Post(d.gateway+"/v1/events", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Body.Close()
			var rep struct{ Accepted int }
			_ = json.NewDecoder(r.Body).Decode(&rep)
			if r.StatusCode != http.StatusOK {
				t.Errorf("events batch %d: status %d", b, r.StatusCode)
			}
			mu.Lock()
			accepted += rep.Accepted
			mu.Unlock()
		}()
	}
	wg.Wait()
	var stored int
	if err := d.pg.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE user_id LIKE 'dur-%'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	t.Logf("accepted %d events through the gateway; PostgreSQL holds %d", accepted, stored)
	if accepted != batches*per || stored != accepted {
		t.Fatalf("accepted %d of %d, stored %d", accepted, batches*per, stored)
	}
	// Redis took every batch, and the features service says so on /metrics.
	metrics := d.metrics(t, "features")
	for _, line := range []string{"recmesh_features_redis_missed_events_total 0", "recmesh_features_history_postgres_reads_total 0"} {
		if !slices.Contains(strings.Split(metrics, "\n"), line) {
			t.Errorf("features /metrics lacks %q", line)
		}
	}

	rebuilt := d.prefix + "replay:"
	d.runCmd(t, "replay", "-realtime", strings.Replace(d.realtime, d.prefix, rebuilt, 1))
	ctx := context.Background()
	keys, err := d.rdb.Keys(ctx, d.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, k := range keys {
		if strings.HasPrefix(k, rebuilt) {
			continue
		}
		other := rebuilt + strings.TrimPrefix(k, d.prefix)
		if diff := compareKey(ctx, d.rdb, k, other); diff != "" {
			t.Fatalf("live %s and replayed %s differ: %s", k, other, diff)
		}
		compared++
	}
	t.Logf("replayed Redis state equals the live state on all %d keys", compared)
	if compared < 100 {
		t.Errorf("only %d live keys compared", compared)
	}
}

// compareKey compares two Redis keys of the same type; "" means equal.
func compareKey(ctx context.Context, rdb *redis.Client, a, b string) string {
	typ := rdb.Type(ctx, a).Val()
	if tb := rdb.Type(ctx, b).Val(); tb != typ {
		return fmt.Sprintf("types %s and %s", typ, tb)
	}
	switch typ {
	case "list":
		// Concurrent batches reach Redis in an order that need not be the
		// log's, and History orders a recent list by timestamp; so the same
		// entries in any order are the same state.
		x, y := rdb.LRange(ctx, a, 0, -1).Val(), rdb.LRange(ctx, b, 0, -1).Val()
		slices.Sort(x)
		slices.Sort(y)
		if !slices.Equal(x, y) {
			return fmt.Sprintf("lists of %d and %d entries differ", len(x), len(y))
		}
	case "set":
		x, y := rdb.SMembers(ctx, a).Val(), rdb.SMembers(ctx, b).Val()
		slices.Sort(x)
		slices.Sort(y)
		if !slices.Equal(x, y) {
			return fmt.Sprintf("sets of %d and %d", len(x), len(y))
		}
	case "string":
		if x, y := rdb.Get(ctx, a).Val(), rdb.Get(ctx, b).Val(); x != y {
			return fmt.Sprintf("%q and %q", x, y)
		}
	case "zset":
		x, y := rdb.ZRangeWithScores(ctx, a, 0, -1).Val(), rdb.ZRangeWithScores(ctx, b, 0, -1).Val()
		if len(x) != len(y) {
			return fmt.Sprintf("%d and %d members", len(x), len(y))
		}
		ys := map[any]float64{}
		for _, z := range y {
			ys[z.Member] = z.Score
		}
		for _, z := range x {
			if s, ok := ys[z.Member]; !ok || math.Abs(s-z.Score) > 1e-9*math.Max(1, math.Abs(s)) {
				return fmt.Sprintf("member %v: %g and %g", z.Member, z.Score, s)
			}
		}
	default:
		return "unexpected type " + typ
	}
	return ""
}

// metrics is the /metrics page of service's one instance, found through
// the admin address it publishes in Consul.
func (d *devMesh) metrics(t *testing.T, service string) string {
	t.Helper()
	entries := d.healthy(t, service)
	if len(entries) != 1 {
		t.Fatalf("%s: %d healthy instances", service, len(entries))
	}
	r, err := http.Get("http://" + entries[0].Service.Meta["admin"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("%s /metrics: status %d, %v", service, r.StatusCode, err)
	}
	return string(body)
}

// checkPrometheus: the dev mode's Prometheus, running the compose stack's
// own prometheus.yml pointed at this Consul, scrapes every service and the
// gateway at the admin address each published, with no target listed by hand.
func (d *devMesh) checkPrometheus(t *testing.T) {
	prom := depstest.Env(t, "RECMESH_PROMETHEUS")
	want := map[string]string{} // job → admin address published in Consul
	for _, s := range []string{"features", "recall", "filter", "ranking", "experiment", "gateway"} {
		want[s] = d.waitHealthy(t, s, 1)[0].Service.Meta["admin"]
	}
	var missing []string
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		resp, err := http.Get(prom + "/api/v1/targets?state=active")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Data struct {
				ActiveTargets []struct {
					Labels map[string]string `json:"labels"`
					Health string            `json:"health"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		up := map[string]bool{}
		for _, tg := range body.Data.ActiveTargets {
			if tg.Health == "up" {
				up[tg.Labels["job"]+" "+tg.Labels["instance"]] = true
			}
		}
		missing = missing[:0]
		for job, addr := range want {
			if !up[job+" "+addr] {
				missing = append(missing, job+" "+addr)
			}
		}
		if len(missing) == 0 {
			return
		}
	}
	t.Errorf("Prometheus does not scrape %v", missing)
}
