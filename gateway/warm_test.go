package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recmesh/recmesh/pkg/log"
)

// startWith starts a gateway over fakes with the given hops down from the
// start, and a warm-up timeout of wait.
func startWith(t *testing.T, wait time.Duration, down ...string) (*Gateway, fakes) {
	return startWithConfig(t, func(c *Config) { c.WarmupTimeout = wait }, down...)
}

// startWithConfig is startWith with the config changed by edit.
func startWithConfig(t *testing.T, edit func(*Config), down ...string) (*Gateway, fakes) {
	t.Helper()
	f := newFakes()
	for _, h := range down {
		f.setDown(h)
	}
	cfg := DefaultConfig()
	cfg.ConfigPoll, cfg.ConfigWait = 10*time.Millisecond, 50*time.Millisecond
	edit(&cfg)
	g, err := New(cfg, Hops{Features: f, Recall: f, Filter: f, Ranking: f, Experiment: f}, prometheus.NewRegistry(), log.Discard(), uniqueInstance(t))
	if err != nil {
		t.Fatal(err)
	}
	g.Start(context.Background())
	t.Cleanup(g.Close)
	return g, f
}

// waitReady waits up to 5 s for Ready to answer nil.
func waitReady(t *testing.T, g *Gateway) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if g.Ready(context.Background()) == nil {
			return
		}
	}
	t.Fatalf("not ready after 5 s: %v", g.Ready(context.Background()))
}

// A gateway is ready as soon as Start returns when every hop answers; it
// is not ready while a hop has not answered yet, and becomes ready when it
// does, or when the warm-up times out (then the fallbacks serve).
func TestReadyWaitsForTheHopsToAnswer(t *testing.T) {
	g, _ := startWith(t, time.Minute)
	if err := g.Ready(context.Background()); err != nil {
		t.Fatalf("every hop up: not ready after Start: %v", err)
	}

	g, f := startWith(t, time.Minute, HopRanking)
	if err := g.Ready(context.Background()); !errors.Is(err, errWarming) {
		t.Fatalf("ranking down: Ready = %v, want warming up", err)
	}
	f.down.Delete(HopRanking)
	waitReady(t, g)

	g, _ = startWith(t, 200*time.Millisecond, HopRanking)
	if err := g.Ready(context.Background()); !errors.Is(err, errWarming) {
		t.Fatalf("ranking down: Ready = %v, want warming up", err)
	}
	waitReady(t, g) // the warm-up timed out: ready, ranking is its fallback's business
}
