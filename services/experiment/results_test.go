package experiment_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/domain"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/experiment"
	"github.com/recmesh/recmesh/services/experiment/store"
)

// fixedStats answers ExposureStats with fixed arms and records the query.
type fixedStats struct {
	arms []domain.ArmStats
	q    domain.ExposureQuery
}

func (f *fixedStats) ExposureStats(_ context.Context, q domain.ExposureQuery) ([]domain.ArmStats, error) {
	f.q = q
	return f.arms, nil
}

// arm is n users with e exposures each, of which c are clicked by half the
// users and 2c by the other half.
func arm(name string, n int64, e, c float64) domain.ArmStats {
	a := domain.ArmStats{Arm: name}
	for i := range n {
		cc := c
		if i%2 == 0 {
			cc = 2 * c
		}
		a.AddUser(e, cc, 0)
	}
	return a
}

func getResults(t *testing.T, src experiment.ExposureStats, cfg *abtest.Config, query string) (int, experiment.Results) {
	t.Helper()
	a := &experiment.Admin{Store: store.NewMemory(), Configs: experiment.New(cfg), Token: token, Log: rlog.Discard(), Exposures: src}
	mux := http.NewServeMux()
	a.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &adminClient{t: t, url: srv.URL}
	status, b := c.do("GET", "/admin/v1/layers/ranking/experiments/w/results"+query, token, "")
	var r experiment.Results
	if status == http.StatusOK {
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	return status, r
}

func resultsConfig() *abtest.Config {
	return &abtest.Config{Version: 1, Layers: []abtest.Layer{{Name: "ranking", Salt: "s", Experiments: []abtest.Experiment{{
		Name: "w", Variants: []abtest.Variant{
			{Name: "a", Buckets: []abtest.Range{{Start: 0, End: 1000}}},
			{Name: "b", Buckets: []abtest.Range{{Start: 1000, End: 3000}}}, // twice a's share
		}}}}}}
}

func TestResultsPerVariantComparisonsAndSRM(t *testing.T) {
	src := &fixedStats{arms: []domain.ArmStats{arm("a", 1000, 10, 1), arm("b", 2000, 10, 1.2), arm(domain.HoldoutArm, 100, 10, 1)}}
	status, r := getResults(t, src, resultsConfig(), "")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if len(r.Variants) != 3 || r.Variants[0].Name != "a" || r.Variants[1].Name != "b" || !r.Variants[2].Holdout {
		t.Fatalf("variants = %+v", r.Variants)
	}
	a := r.Variants[0]
	if a.Users != 1000 || a.Exposures != 10000 || a.Clicks != 1500 || math.Abs(float64(a.CTR)-0.15) > 1e-12 {
		t.Errorf("a = %+v", a)
	}
	if !(a.CTRCI[0] < a.CTR && a.CTR < a.CTRCI[1]) || float64(a.CTRCI[1]-a.CTRCI[0]) > 0.02 {
		t.Errorf("a's interval = %v", a.CTRCI)
	}
	if len(r.Comparisons) != 2 || r.Comparisons[0].Variant != "b" || r.Comparisons[0].Against != "a" {
		t.Fatalf("comparisons = %+v", r.Comparisons)
	}
	b := r.Comparisons[0]
	if math.Abs(float64(b.CTRLift)-0.2) > 1e-9 || !(b.CTRLiftCI[0] > 0 && b.CTRLiftCI[1] > 0.2) || b.CTRPValue > 1e-6 {
		t.Errorf("b vs a = %+v", b)
	}
	if h := r.Comparisons[1]; h.Variant != domain.HoldoutArm || math.Abs(float64(h.CTRLift)) > 1e-9 || h.CTRPValue < 0.9 {
		t.Errorf("holdout vs a = %+v", h)
	}
	// users 1000:2000 against shares 1000:2000 buckets: no mismatch
	if r.SRM == nil || r.SRM.Alarm || r.SRM.PValue < 0.99 || r.SRM.Expected["b"] != 2000 || r.SRM.Observed["a"] != 1000 {
		t.Errorf("srm = %+v", r.SRM)
	}
	if r.Variants[0].LikeRate != 0 {
		t.Errorf("like rate %v, want 0", r.Variants[0].LikeRate)
	}
}

func TestResultsSRMAlarmOnABrokenSplit(t *testing.T) {
	src := &fixedStats{arms: []domain.ArmStats{arm("a", 10000, 10, 1), arm("b", 18000, 10, 1)}} // 10% of b lost
	_, r := getResults(t, src, resultsConfig(), "")
	if r.SRM == nil || !r.SRM.Alarm || r.SRM.PValue > 0.001 {
		t.Errorf("srm = %+v, want an alarm", r.SRM)
	}
}

func TestResultsSinceAndStartAndErrors(t *testing.T) {
	cfg := resultsConfig()
	src := &fixedStats{arms: []domain.ArmStats{arm("a", 10, 1, 0)}}
	if status, _ := getResults(t, src, cfg, "?since=2026-11-01T00:00:00Z"); status != http.StatusOK || src.q.SinceMillis != 1793491200000 {
		t.Errorf("since: status %d, query %+v", status, src.q)
	}
	if status, r := getResults(t, src, cfg, "?since=1h"); status != http.StatusOK || r.Since == nil || src.q.SinceMillis == 0 {
		t.Errorf("since=1h: status %d, query %+v", status, src.q)
	}
	if status, _ := getResults(t, src, cfg, "?since=yesterday"); status != http.StatusBadRequest {
		t.Errorf("bad since: status %d, want 400", status)
	}
	if status, _ := getResults(t, nil, cfg, ""); status != http.StatusServiceUnavailable {
		t.Errorf("no exposure log: status %d, want 503", status)
	}
	// a stopped experiment is read from the log, without SRM
	if status, r := getResults(t, src, &abtest.Config{Version: 2}, ""); status != http.StatusOK || r.Running || r.SRM != nil || len(r.Variants) != 1 {
		t.Errorf("stopped: %d %+v", status, r)
	}
	if status, _ := getResults(t, &fixedStats{}, &abtest.Config{Version: 2}, ""); status != http.StatusNotFound {
		t.Errorf("unknown experiment: status %d, want 404", status)
	}
}
