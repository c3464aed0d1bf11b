package abtest

import (
	"fmt"
	"math"
	"slices"

	"github.com/recmesh/recmesh/pkg/apierr"
)

// ParamRules say what variant params and routes may name. They are checked
// when a config is written (the admin API, a seed file), not when it is
// served: a typo must be refused with its field named, not degrade every
// user of an arm to a fallback.
type ParamRules struct {
	// Channels are the recall channels a quota may name.
	Channels []string
	// MaxQuota bounds each channel's quota.
	MaxQuota int
	// Objectives are the ranking objectives a weight may name.
	Objectives []string
	// Services are the services a route may send to a version.
	Services []string
}

// MaxFrequencyCapK bounds a frequency cap's k: the exposures kept per user
// for caps (500) must be able to hold k of an item.
const MaxFrequencyCapK = 100

// MaxWeight bounds a fusion weight: weights are relative, so anything larger
// is a typo, not a setting.
const MaxWeight = 1e6

// CheckConfig checks the defaults and every variant's params and routes,
// and names the first bad field, e.g.
// layers[ranking].experiments[w].variants[a].params.recall_quotas.itemcf.
// It is a KindInvalid error.
func (r ParamRules) CheckConfig(c *Config) error {
	if err := r.CheckParams("defaults", c.Defaults); err != nil {
		return err
	}
	for _, name := range sortedKeys(c.Scenes) {
		if err := r.CheckParams(fmt.Sprintf("scenes[%s]", name), c.Scenes[name]); err != nil {
			return err
		}
	}
	for _, l := range c.Launches {
		if err := r.CheckParams(fmt.Sprintf("launches[%s].params", l.Name), l.Params); err != nil {
			return err
		}
	}
	for _, l := range c.AllLayers() {
		for _, e := range l.Experiments {
			for _, v := range e.Variants {
				at := fmt.Sprintf("layers[%s].experiments[%s].variants[%s]", l.Name, e.Name, v.Name)
				if err := r.CheckParams(at+".params", v.Params); err != nil {
					return err
				}
				if err := r.checkRoutes(at+".routes", v.Routes); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CheckParams checks one params object found at field.
func (r ParamRules) CheckParams(field string, p Params) error {
	for _, ch := range sortedKeys(p.RecallQuotas) {
		at := field + ".recall_quotas." + ch
		if len(r.Channels) > 0 && !slices.Contains(r.Channels, ch) {
			return apierr.Invalid("%s: unknown recall channel %q; one of %v", at, ch, r.Channels)
		}
		if n := p.RecallQuotas[ch]; n < 0 || (r.MaxQuota > 0 && n > r.MaxQuota) {
			return apierr.Invalid("%s: quota %d is not between 0 and %d", at, n, r.MaxQuota)
		}
	}
	for _, o := range sortedKeys(p.RankingWeights) {
		at := field + ".ranking_weights." + o
		if len(r.Objectives) > 0 && !slices.Contains(r.Objectives, o) {
			return apierr.Invalid("%s: unknown ranking objective %q; one of %v", at, o, r.Objectives)
		}
		if w := p.RankingWeights[o]; w < 0 || w > MaxWeight || math.IsNaN(w) {
			return apierr.Invalid("%s: weight %g is not between 0 and %g", at, w, float64(MaxWeight))
		}
	}
	if p.MaxPerGenre != nil && *p.MaxPerGenre < 0 {
		return apierr.Invalid("%s.max_per_genre: must not be negative", field)
	}
	if f := p.FrequencyCap; f != nil && (f.K < 0 || f.K > MaxFrequencyCapK || (f.K > 0 && (f.Window <= 0 || f.Cooldown <= 0))) {
		return apierr.Invalid("%s.frequency_cap: k must be within [0,%d] and, when k > 0, window and cooldown positive", field, MaxFrequencyCapK)
	}
	return nil
}

func (r ParamRules) checkRoutes(field string, routes map[string]string) error {
	for _, svc := range sortedKeys(routes) {
		if len(r.Services) > 0 && !slices.Contains(r.Services, svc) {
			return apierr.Invalid("%s.%s: unknown service %q; one of %v", field, svc, svc, r.Services)
		}
		if routes[svc] == "" {
			return apierr.Invalid("%s.%s: the version tag is empty", field, svc)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
