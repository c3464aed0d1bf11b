package mesh

import (
	"slices"
	"testing"

	"github.com/recmesh/recmesh/pkg/config"
)

// Every component has its own name, and all of them bind on one flag set
// (as recmesh all does) without a clash: a flag two services share must
// mean the same thing, with the same type, in both.
func TestComponentsBindTogether(t *testing.T) {
	names := Services()
	if len(names) == 0 || len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) {
		t.Fatalf("service names %v are empty or repeated", names)
	}
	f := config.NewFlags("all")
	var g GatewayConfig
	g.Bind(f)
	for _, c := range Components() {
		c.Bind(f)
	}
	for _, shared := range []string{"store", "model-dir", "model-poll"} {
		if f.FS.Lookup(shared) == nil {
			t.Errorf("no -%s flag", shared)
		}
	}
	rules := ParamRules()
	if len(rules.Channels) == 0 || len(rules.Objectives) == 0 || len(rules.Services) == 0 {
		t.Errorf("param rules %+v", rules)
	}
}
