package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
)

// A variant routed to a version with no healthy instance degrades its own
// arm (recall order, degraded:["ranking"]), and never the users of the
// default version, however long it stays down: each version has its breaker.
func TestARoutedVersionDownDegradesOnlyItsArm(t *testing.T) {
	g, _, f := newGatewayWithFakes(t, HopExperiment) // the config below stays: no watch replaces it
	// A watch that began before the experiment hop went down may still
	// return the fakes' config (version 7) and replace the one below: wait
	// for the next watch, which begins after that one is applied and fails.
	for start := f.watches.Load(); f.watches.Load() < start+1; {
		time.Sleep(time.Millisecond)
	}
	cfg := &abtest.Config{Version: 9, Layers: []abtest.Layer{{Name: "routing", Salt: "r", Experiments: []abtest.Experiment{{
		Name: "v2", Variants: []abtest.Variant{
			{Name: "old", Buckets: []abtest.Range{{Start: 0, End: 5000}}},
			{Name: "new", Buckets: []abtest.Range{{Start: 5000, End: 10000}}, Routes: map[string]string{"ranking": "v2"}},
		}}}}}}
	g.useConfig(context.Background(), cfg)
	f.setDown(HopRanking + "@v2")
	arms := map[string]int{}
	for u := range 400 {
		user := fmt.Sprint("u", u)
		rep, err := g.Recommend(context.Background(), Query{UserID: user, N: 3})
		if err != nil {
			t.Fatal(err)
		}
		arm := rep.Experiments[0].Variant
		arms[arm]++
		degraded := len(rep.Degraded) == 1 && rep.Degraded[0] == HopRanking
		if arm == "new" && !degraded {
			t.Fatalf("%s in the v2 arm: degraded %v, want [ranking]", user, rep.Degraded)
		}
		if arm == "old" && (len(rep.Degraded) != 0 || rep.ModelVersion != "m1") {
			t.Fatalf("%s in the v1 arm after %v requests: degraded %v", user, arms, rep.Degraded)
		}
	}
	if arms["new"] < 100 || arms["old"] < 100 {
		t.Fatalf("arms = %v", arms)
	}
	if g.breakers.ranking.Open() {
		t.Error("the default ranking breaker opened")
	}
	if b := g.breaker(g.breakers.ranking, HopRanking, 0, map[string]string{HopRanking: "v2"}); !b.Open() {
		t.Error("the v2 breaker did not open")
	}
}
