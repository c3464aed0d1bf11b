package features_test

import (
	"context"
	"github.com/prometheus/client_golang/prometheus"
	"testing"

	"github.com/recmesh/recmesh/pkg/component"
	rlog "github.com/recmesh/recmesh/pkg/log"
	"github.com/recmesh/recmesh/services/features"
)

// A memory: store is loaded from -data; a URL of no known scheme, or a
// dataset that is not there, stops the service from starting.
func TestComponentOpen(t *testing.T) {
	// A fresh registry each time: every Open registers its metrics.
	env := func() component.Env { return component.Env{Log: rlog.Discard(), Metrics: prometheus.NewRegistry()} }
	open := func(cfg features.Config) (*component.Service, error) {
		c := features.NewComponent()
		c.Config = cfg
		return c.Open(context.Background(), env())
	}
	svc, err := open(features.Config{Store: "memory:", Data: "../../data/movielens-small"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Ready(context.Background()); err != nil {
		t.Errorf("not ready: %v", err)
	}
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []features.Config{
		{Store: "cassandra://x"},
		{Store: "memory:", Data: t.TempDir()},
		{Store: "memory:", RealTime: "not a url"},
	} {
		if _, err := open(cfg); err == nil {
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}
