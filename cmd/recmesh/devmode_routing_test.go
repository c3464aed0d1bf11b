package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/recmesh/recmesh/gateway"
	"github.com/recmesh/recmesh/pkg/artifact"
)

func routingVariant(rep gateway.Reply) string {
	for _, a := range rep.Experiments {
		if a.Layer == "routing" {
			return a.Variant
		}
	}
	return ""
}

// checkVersionRouting registers a second ranking version (v2, its own
// model) in Consul and routes one arm of an experiment to it: every
// request of that arm is served by v2, everyone else's by v1. With v2
// gone, its arm is degraded to recall order (200, degraded:["ranking"])
// and the other arm stays whole.
func (d *devMesh) checkVersionRouting(t *testing.T) {
	rep, _ := d.recommend("routing-probe")
	v1Model := rep.ModelVersion
	const v2Model = "v29990101T000000Z"
	v2Dir := filepath.Join(d.dir, "models-v2")
	if err := (artifact.Store{Dir: v2Dir}).PublishCopy(artifact.Store{Dir: filepath.Join(d.dir, "models")}, v2Model); err != nil {
		t.Fatal(err)
	}
	v2 := d.start(t, "ranking-v2", "ranking", "-grpc-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-model-dir", v2Dir, "-version", "v2")
	entries := d.waitHealthy(t, "ranking", 2)
	versions := []string{}
	for _, e := range entries {
		versions = append(versions, e.Service.Tags...)
	}
	if !slices.Contains(versions, "version=v2") || !slices.Contains(versions, "version=v1") {
		t.Fatalf("ranking tags in Consul: %v", versions)
	}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/layers", `{"name":"routing","salt":"routing-it"}`},
		{"POST", "/admin/v1/layers/routing/experiments", `{"name":"ranking-v2","traffic":10000,"variants":[` +
			`{"name":"v1","share":50},{"name":"v2","share":50,"routes":{"ranking":"v2"}}]}`},
	} {
		if status, body := d.admin(t, req.method, req.path, devToken, req.body); status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", req.method, req.path, status, body)
		}
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if rep, _ := d.recommend("routing-probe"); routingVariant(rep) != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the routing experiment never reached the gateway")
		}
	}
	// Each phase asks users of its own: a user's cached list would answer
	// without ranking.
	served := func(prefix string, wantV2Down bool) map[string]int {
		arms := map[string]int{}
		for i := range 60 {
			user := fmt.Sprint(prefix, i)
			rep, status := d.recommend(user)
			if status != http.StatusOK {
				t.Fatalf("%s: status %d", user, status)
			}
			arm := routingVariant(rep)
			arms[arm]++
			switch {
			case arm == "v2" && wantV2Down:
				if !slices.Equal(rep.Degraded, []string{"ranking"}) || len(rep.Items) == 0 {
					t.Errorf("%s (v2 arm, v2 down): degraded %v, %d items; want [ranking] and items in recall order", user, rep.Degraded, len(rep.Items))
				}
			case arm == "v2":
				if rep.ModelVersion != v2Model || len(rep.Degraded) != 0 {
					t.Errorf("%s (v2 arm): model %q, degraded %v; want %s", user, rep.ModelVersion, rep.Degraded, v2Model)
				}
			case arm == "v1":
				if rep.ModelVersion != v1Model || len(rep.Degraded) != 0 {
					t.Errorf("%s (v1 arm): model %q, degraded %v; want %s", user, rep.ModelVersion, rep.Degraded, v1Model)
				}
			default:
				t.Errorf("%s has no routing variant: %+v", user, rep.Experiments)
			}
		}
		return arms
	}
	arms := served("route-", false)
	t.Logf("v2 up: %v", arms)
	if arms["v1"] < 10 || arms["v2"] < 10 {
		t.Fatalf("arms = %v", arms)
	}
	_ = v2.cmd.Process.Signal(syscall.SIGTERM)
	<-v2.done
	d.waitHealthy(t, "ranking", 1)
	arms = served("route-down-", true)
	t.Logf("v2 down: %v", arms)
	if status, body := d.admin(t, "DELETE", "/admin/v1/layers/routing/experiments/ranking-v2", devToken, ""); status != http.StatusOK {
		t.Errorf("stop the routing experiment: %d %s", status, body)
	}
}
