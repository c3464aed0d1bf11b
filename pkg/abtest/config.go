package abtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"time"
)

// Config is the whole experiment configuration at one version, after
// Google's overlapping-experiment design: a global holdout, a launch layer,
// and layers of experiments, either in the default domain (Layers) or in a
// domain of their own (Domains).
type Config struct {
	Version  int64  `json:"version"`
	Defaults Params `json:"defaults"`
	// Holdout keeps a share of users on the defaults everywhere: no
	// launch, no experiment, no route.
	Holdout *Holdout `json:"holdout,omitempty"`
	// Launches are the launch layer: params being rolled out, each to its
	// own share of the users not held out, on top of the defaults and
	// under every experiment.
	Launches []Launch `json:"launches,omitempty"`
	// Layers are the default domain's layers: every user not in a domain.
	Layers []Layer `json:"layers"`
	// Domains split a share of traffic into their own set of layers.
	Domains []Domain `json:"domains,omitempty"`
	// DomainSalt buckets users into domains (DefaultDomainSalt when empty).
	DomainSalt string `json:"domain_salt,omitempty"`
	// Scenes are params per scene (a named surface: home, detail, ...),
	// on top of the defaults and under the launches and variants.
	Scenes map[string]Params `json:"scenes,omitempty"`
}

// sceneRE is what a scene name may be.
var sceneRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// ValidScene reports whether s is a well-formed scene name: 1 to 32 of
// a-z, 0-9, '_' and '-'.
func ValidScene(s string) bool { return sceneRE.MatchString(s) }

// Holdout is the global holdout: users whose bucket under Salt is below
// Buckets. Growing it only adds users; shrinking only releases the highest
// buckets.
type Holdout struct {
	Salt    string `json:"salt"`
	Buckets int    `json:"buckets"`
}

// Launch is one rollout of the launch layer: its Params apply to users not
// held out whose bucket under Salt is below Buckets (its ramp).
type Launch struct {
	Name    string `json:"name"`
	Salt    string `json:"salt"`
	Buckets int    `json:"buckets"`
	Params  Params `json:"params"`
}

// Domain owns bucket ranges of the domain space (DomainSalt); its users
// are assigned in its own layers instead of the default domain's.
type Domain struct {
	Name    string  `json:"name"`
	Buckets []Range `json:"buckets"`
	Layers  []Layer `json:"layers"`
}

// DefaultDomainSalt buckets users into domains when the config names none.
const DefaultDomainSalt = "recmesh-domains"

// DomainSaltOrDefault is the salt users are bucketed into domains with.
func (c *Config) DomainSaltOrDefault() string {
	if c.DomainSalt != "" {
		return c.DomainSalt
	}
	return DefaultDomainSalt
}

// RoutedVersions maps each service to the versions some variant routes it
// to, sorted. The gateway keeps requests without a route of their own off
// those versions, so an arm's version serves that arm only.
func (c *Config) RoutedVersions() map[string][]string {
	out := map[string][]string{}
	for _, l := range c.AllLayers() {
		for _, e := range l.Experiments {
			for _, v := range e.Variants {
				for svc, version := range v.Routes {
					if !slices.Contains(out[svc], version) {
						out[svc] = append(out[svc], version)
					}
				}
			}
		}
	}
	for svc := range out {
		slices.Sort(out[svc])
	}
	return out
}

// AllLayers lists every layer: the default domain's, then each domain's.
// The pointers are into c.
func (c *Config) AllLayers() []*Layer {
	out := make([]*Layer, 0, len(c.Layers))
	for i := range c.Layers {
		out = append(out, &c.Layers[i])
	}
	for d := range c.Domains {
		for i := range c.Domains[d].Layers {
			out = append(out, &c.Domains[d].Layers[i])
		}
	}
	return out
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
	// Started is when the experiment was created through the admin API;
	// its results are read from then on.
	Started *time.Time `json:"started,omitempty"`
	// Scenes, when set, are the only scenes the experiment runs on: on any
	// other scene its users get nothing from this layer.
	Scenes []string `json:"scenes,omitempty"`
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
	// FrequencyCap hides an item shown K times within Window without a
	// click for Cooldown; nil keeps the default (none).
	FrequencyCap *FrequencyCap `json:"frequency_cap,omitempty"`
}

// FrequencyCap is a per-user exposure cap. K = 0 switches it off.
type FrequencyCap struct {
	K        int      `json:"k"`
	Window   Duration `json:"window"`
	Cooldown Duration `json:"cooldown"`
}

// Duration is a time.Duration written in JSON as a string ("24h").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "24h"-style strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
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
	if o.FrequencyCap != nil {
		out.FrequencyCap = o.FrequencyCap
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
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("experiment config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes one JSON config strictly (unknown fields and trailing data
// are refused) and validates it.
func Parse(b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse: data after the config object")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks names, salts, bucket ranges and overrides, the holdout,
// the launches and the domains. Layer names and salts are unique across
// every domain.
func (c *Config) Validate() error {
	layers, salts := map[string]bool{HoldoutLayer: true}, map[string]bool{}
	if h := c.Holdout; h != nil {
		if h.Salt == "" || h.Buckets < 0 || h.Buckets > NumBuckets {
			return fmt.Errorf("holdout: needs a salt and buckets within [0,%d]", NumBuckets)
		}
		salts[h.Salt] = true
	}
	for name := range c.Scenes {
		if !ValidScene(name) {
			return fmt.Errorf("scene name %q must be 1 to 32 of a-z, 0-9, '_', '-'", name)
		}
	}
	launches := map[string]bool{}
	for _, l := range c.Launches {
		if l.Name == "" || launches[l.Name] {
			return fmt.Errorf("launch name %q is empty or repeated", l.Name)
		}
		if l.Salt == "" || salts[l.Salt] {
			return fmt.Errorf("launch %q: salt is empty or shared", l.Name)
		}
		if l.Buckets < 0 || l.Buckets > NumBuckets {
			return fmt.Errorf("launch %q: buckets %d not within [0,%d]", l.Name, l.Buckets, NumBuckets)
		}
		launches[l.Name], salts[l.Salt] = true, true
	}
	var domainRanges []owned
	domains := map[string]bool{}
	for _, d := range c.Domains {
		if d.Name == "" || domains[d.Name] {
			return fmt.Errorf("domain name %q is empty or repeated", d.Name)
		}
		domains[d.Name] = true
		for _, r := range d.Buckets {
			if r.Start < 0 || r.End > NumBuckets || r.Start >= r.End {
				return fmt.Errorf("domain %s: bucket range [%d,%d) is not inside [0,%d)", d.Name, r.Start, r.End, NumBuckets)
			}
			domainRanges = append(domainRanges, owned{r, d.Name})
		}
	}
	if err := disjoint(domainRanges); err != nil {
		return fmt.Errorf("domains: %w", err)
	}
	for _, l := range c.AllLayers() {
		if l.Name == "" || layers[l.Name] {
			return fmt.Errorf("layer name %q is empty, reserved or repeated", l.Name)
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

type owned struct {
	Range
	owner string
}

// disjoint refuses overlapping ranges.
func disjoint(all []owned) error {
	sort.Slice(all, func(i, j int) bool { return all[i].Start < all[j].Start })
	for i := 1; i < len(all); i++ {
		if all[i].Start < all[i-1].End {
			return fmt.Errorf("bucket ranges of %s and %s overlap", all[i-1].owner, all[i].owner)
		}
	}
	return nil
}

func (l Layer) validate() error {
	var all []owned
	exps := map[string]bool{}
	for _, e := range l.Experiments {
		if e.Name == "" || exps[e.Name] {
			return fmt.Errorf("experiment name %q is empty or repeated", e.Name)
		}
		exps[e.Name] = true
		for _, sc := range e.Scenes {
			if !ValidScene(sc) {
				return fmt.Errorf("experiment %q: scene name %q must be 1 to 32 of a-z, 0-9, '_', '-'", e.Name, sc)
			}
		}
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
	return disjoint(all)
}

// HoldoutLayer is the layer name the global holdout's assignment carries
// (experiment and variant are named the same); no layer may take it.
const HoldoutLayer = "holdout"
