package abtest

import (
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/apierr"
)

func TestParamRules(t *testing.T) {
	rules := ParamRules{Channels: []string{"item_cf", "popular"}, MaxQuota: 2000, Objectives: []string{"click", "like"}, Services: []string{"recall", "ranking"}}
	neg := -1
	variant := func(p Params, routes map[string]string) *Config {
		return &Config{Layers: []Layer{{Name: "l", Salt: "s", Experiments: []Experiment{{Name: "e",
			Variants: []Variant{{Name: "v", Params: p, Routes: routes}}}}}}}
	}
	tests := []struct {
		name  string
		cfg   *Config
		field string // "" means accepted
	}{
		{"good", variant(Params{RecallQuotas: map[string]int{"item_cf": 300}, RankingWeights: map[string]float64{"like": 1}}, map[string]string{"recall": "v2"}), ""},
		{"unknown channel", &Config{Defaults: Params{RecallQuotas: map[string]int{"itemcf": 5}}}, "defaults.recall_quotas.itemcf"},
		{"huge quota", &Config{Defaults: Params{RecallQuotas: map[string]int{"item_cf": 2_000_000_000}}}, "defaults.recall_quotas.item_cf"},
		{"negative quota", variant(Params{RecallQuotas: map[string]int{"popular": -5}}, nil), "variants[v].params.recall_quotas.popular"},
		{"unknown objective", variant(Params{RankingWeights: map[string]float64{"clicks": 1}}, nil), "params.ranking_weights.clicks"},
		{"negative weight", variant(Params{RankingWeights: map[string]float64{"click": -1}}, nil), "params.ranking_weights.click"},
		{"negative genre cap", variant(Params{MaxPerGenre: &neg}, nil), "params.max_per_genre"},
		{"unknown route target", variant(Params{}, map[string]string{"recal": "v2"}), "routes.recal"},
		{"empty version", variant(Params{}, map[string]string{"recall": ""}), "routes.recall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := rules.CheckConfig(tt.cfg)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := apierr.As(err)
			if !ok || e.Kind != apierr.KindInvalid || !strings.Contains(e.Message, tt.field) {
				t.Errorf("err %v, want invalid_argument naming %s", err, tt.field)
			}
		})
	}
}
