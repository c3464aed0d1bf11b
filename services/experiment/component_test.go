package experiment_test

import (
	"context"
	"github.com/prometheus/client_golang/prometheus"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/component"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/experiment"
)

// The component seeds an empty store from its file, serves that config,
// and refuses to start on a seed file whose params break the rules or on a
// store URL it does not serve.
func TestComponentOpen(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"defaults":{"recall_quotas":{"item_cf":300}},"layers":[]}`)
	typo := write("typo.json", `{"defaults":{"recall_quotas":{"itemcf":300}},"layers":[]}`)
	// A fresh registry each time: every Open registers its metrics.
	env := func() component.Env { return component.Env{Log: rlog.Discard(), Metrics: prometheus.NewRegistry()} }
	open := func(store, seed string) (*experiment.Component, *component.Service, error) {
		c := experiment.NewComponent()
		c.Config = experiment.Config{Store: store, Experiments: seed, StorePoll: 10 * time.Millisecond, Rules: testRules}
		svc, err := c.Open(context.Background(), env())
		return c, svc, err
	}
	c, svc, err := open("memory:", good)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Configs().GetConfig(context.Background())
	if err != nil || cfg.Defaults.RecallQuotas["item_cf"] != 300 || cfg.Version == 0 {
		t.Errorf("served config %+v, %v", cfg, err)
	}
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := open("memory:", typo); err == nil || !strings.Contains(err.Error(), "defaults.recall_quotas.itemcf") {
		t.Errorf("a seed with an unknown channel: %v", err)
	}
	if _, _, err := open("mysql://db", good); err == nil {
		t.Error("an unknown store scheme was accepted")
	}
}
