package abtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"sort"
)

// Config is the whole experiment configuration at one version.
type Config struct {
	Version  int64   `json:"version"`
	Defaults Params  `json:"defaults"`
	Layers   []Layer `json:"layers"`
}

// Layer is an independent traffic space; a user gets at most one variant in it.
type Layer struct {
	Name        string       `json:"name"`
	Salt        string       `json:"salt"`
	Experiments []Experiment `json:"experiments"`
}

// Experiment owns bucket ranges of its layer through its variants.
type Experiment struct {
	Name     string    `json:"name"`
	Variants []Variant `json:"variants"`
	// Overrides force a variant (by name) for a user id.
	Overrides map[string]string `json:"overrides,omitempty"`
}

// Variant is one arm of an experiment.
type Variant struct {
	Name    string  `json:"name"`
	Buckets []Range `json:"buckets"`
	Params  Params  `json:"params"`
	// Routes maps a service name to the version tag this variant sends it to.
	Routes map[string]string `json:"routes,omitempty"`
}

// Range is the half-open bucket range [Start, End).
type Range struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Size is the number of buckets in the range.
func (r Range) Size() int { return r.End - r.Start }

// Params are the knobs a variant sets for the hops of a request.
type Params struct {
	// RecallQuotas caps each recall channel's contribution.
	RecallQuotas map[string]int `json:"recall_quotas,omitempty"`
	// RankingWeights are the fusion weights of the ranking objectives.
	RankingWeights map[string]float64 `json:"ranking_weights,omitempty"`
	// RankingModel pins a ranking model version; empty means the current one.
	RankingModel string `json:"ranking_model,omitempty"`
	// MaxPerGenre caps candidates per genre in the filter; nil keeps the default.
	MaxPerGenre *int `json:"max_per_genre,omitempty"`
}

// Overlay returns p with o's settings on top: quotas merge key by key, a
// non-empty weight set replaces the whole set (weights only mean something
// together), and set scalars win.
func (p Params) Overlay(o Params) Params {
	out := p
	if len(o.RecallQuotas) > 0 {
		out.RecallQuotas = maps.Clone(p.RecallQuotas)
		if out.RecallQuotas == nil {
			out.RecallQuotas = map[string]int{}
		}
		maps.Copy(out.RecallQuotas, o.RecallQuotas)
	}
	if len(o.RankingWeights) > 0 {
		out.RankingWeights = o.RankingWeights
	}
	if o.RankingModel != "" {
		out.RankingModel = o.RankingModel
	}
	if o.MaxPerGenre != nil {
		out.MaxPerGenre = o.MaxPerGenre
	}
	return out
}

// LoadFile reads a JSON config and validates it. Unknown fields are refused,
// so a typo cannot silently switch an experiment off.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read experiment config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse experiment config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("experiment config %s: %w", path, err)
	}
	return &c, nil
}

// Validate checks names, salts, bucket ranges and overrides.
func (c *Config) Validate() error {
	layers, salts := map[string]bool{}, map[string]bool{}
	for _, l := range c.Layers {
		if l.Name == "" || layers[l.Name] {
			return fmt.Errorf("layer name %q is empty or repeated", l.Name)
		}
		if l.Salt == "" || salts[l.Salt] {
			return fmt.Errorf("layer %q: salt is empty or shared with another layer", l.Name)
		}
		layers[l.Name], salts[l.Salt] = true, true
		if err := l.validate(); err != nil {
			return fmt.Errorf("layer %q: %w", l.Name, err)
		}
	}
	return nil
}

func (l Layer) validate() error {
	type owned struct {
		Range
		owner string
	}
	var all []owned
	exps := map[string]bool{}
	for _, e := range l.Experiments {
		if e.Name == "" || exps[e.Name] {
			return fmt.Errorf("experiment name %q is empty or repeated", e.Name)
		}
		exps[e.Name] = true
		vars := map[string]bool{}
		for _, v := range e.Variants {
			if v.Name == "" || vars[v.Name] {
				return fmt.Errorf("experiment %q: variant name %q is empty or repeated", e.Name, v.Name)
			}
			vars[v.Name] = true
			for _, r := range v.Buckets {
				if r.Start < 0 || r.End > NumBuckets || r.Start >= r.End {
					return fmt.Errorf("variant %s/%s: bucket range [%d,%d) is not inside [0,%d)", e.Name, v.Name, r.Start, r.End, NumBuckets)
				}
				all = append(all, owned{r, e.Name + "/" + v.Name})
			}
		}
		for user, v := range e.Overrides {
			if !vars[v] {
				return fmt.Errorf("experiment %q: override for %q names unknown variant %q", e.Name, user, v)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Start < all[j].Start })
	for i := 1; i < len(all); i++ {
		if all[i].Start < all[i-1].End {
			return fmt.Errorf("bucket ranges of %s and %s overlap", all[i-1].owner, all[i].owner)
		}
	}
	return nil
}

// HoldoutLayer is the layer name the global holdout's assignment carries
// (experiment and variant are named the same); no layer may take it.
const HoldoutLayer = "holdout"
