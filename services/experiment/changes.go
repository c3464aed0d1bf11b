package experiment

import (
	"slices"
	"time"

	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/apierr"
)

// The admin API's changes. Each is applied to a copy of the current config
// inside the store's transaction; the whole result is validated before it
// is written, so a refused change leaves nothing behind.

// LayerRequest creates a layer, in the default domain or in Domain.
type LayerRequest struct {
	Name   string `json:"name"`
	Salt   string `json:"salt"`
	Domain string `json:"domain,omitempty"`
}

// HoldoutRequest sets the global holdout: Traffic buckets (0 ends it).
// The salt is kept once set; a new holdout gets "holdout" unless Salt
// names another.
type HoldoutRequest struct {
	Traffic int    `json:"traffic"`
	Salt    string `json:"salt,omitempty"`
}

// LaunchRequest creates a launch of the launch layer.
type LaunchRequest struct {
	Name    string        `json:"name"`
	Salt    string        `json:"salt,omitempty"`
	Traffic int           `json:"traffic"`
	Params  abtest.Params `json:"params"`
}

// LaunchUpdate ramps a launch (Traffic) or replaces its params.
type LaunchUpdate struct {
	Traffic *int           `json:"traffic,omitempty"`
	Params  *abtest.Params `json:"params,omitempty"`
}

// DomainRequest creates a domain of Traffic buckets, taken from the
// lowest free buckets of the domain space.
type DomainRequest struct {
	Name    string `json:"name"`
	Traffic int    `json:"traffic"`
}

// DomainUpdate resizes a domain: growing takes the lowest free buckets,
// shrinking gives back its newest; no other user changes domain.
type DomainUpdate struct {
	Size int `json:"size"`
}

// ExperimentRequest creates an experiment. Either Traffic buckets are taken
// from the layer's free pool and split by the variants' percentage Shares,
// or every variant names its Buckets explicitly.
type ExperimentRequest struct {
	Name      string            `json:"name"`
	Traffic   int               `json:"traffic,omitempty"`
	Variants  []VariantRequest  `json:"variants"`
	Overrides map[string]string `json:"overrides,omitempty"`
}

// VariantRequest is one arm of a new experiment.
type VariantRequest struct {
	Name    string            `json:"name"`
	Share   int               `json:"share,omitempty"`
	Buckets []abtest.Range    `json:"buckets,omitempty"`
	Params  abtest.Params     `json:"params"`
	Routes  map[string]string `json:"routes,omitempty"`
}

// VariantUpdate changes a variant: Size resizes it (growing from the free
// pool, shrinking its newest buckets); Params and Routes replace its own.
type VariantUpdate struct {
	Size   *int              `json:"size,omitempty"`
	Params *abtest.Params    `json:"params,omitempty"`
	Routes map[string]string `json:"routes,omitempty"`
}

// OverrideRequest forces a variant for one user.
type OverrideRequest struct {
	Variant string `json:"variant"`
}

func findLayer(c *abtest.Config, name string) (*abtest.Layer, error) {
	for _, l := range c.AllLayers() {
		if l.Name == name {
			return l, nil
		}
	}
	return nil, apierr.NotFound("layer %q does not exist", name)
}

func findDomain(c *abtest.Config, name string) (*abtest.Domain, error) {
	for i := range c.Domains {
		if c.Domains[i].Name == name {
			return &c.Domains[i], nil
		}
	}
	return nil, apierr.NotFound("domain %q does not exist", name)
}

func findLaunch(c *abtest.Config, name string) (*abtest.Launch, error) {
	for i := range c.Launches {
		if c.Launches[i].Name == name {
			return &c.Launches[i], nil
		}
	}
	return nil, apierr.NotFound("launch %q does not exist", name)
}

func findExperiment(c *abtest.Config, layer, name string) (*abtest.Layer, *abtest.Experiment, error) {
	l, err := findLayer(c, layer)
	if err != nil {
		return nil, nil, err
	}
	for i := range l.Experiments {
		if l.Experiments[i].Name == name {
			return l, &l.Experiments[i], nil
		}
	}
	return nil, nil, apierr.NotFound("experiment %q does not exist in layer %q", name, layer)
}

func findVariant(c *abtest.Config, layer, exp, name string) (*abtest.Layer, *abtest.Variant, error) {
	l, e, err := findExperiment(c, layer, exp)
	if err != nil {
		return nil, nil, err
	}
	for i := range e.Variants {
		if e.Variants[i].Name == name {
			return l, &e.Variants[i], nil
		}
	}
	return nil, nil, apierr.NotFound("variant %q does not exist in experiment %q", name, exp)
}

// AddLayer returns the change creating layer r.
func AddLayer(r LayerRequest) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		if r.Name == "" || r.Salt == "" {
			return apierr.Invalid("a layer needs a name and a salt")
		}
		if _, err := findLayer(c, r.Name); err == nil || r.Name == abtest.HoldoutLayer {
			return apierr.Conflict("layer %q already exists or is reserved", r.Name)
		}
		l := abtest.Layer{Name: r.Name, Salt: r.Salt}
		if r.Domain == "" {
			c.Layers = append(c.Layers, l)
			return nil
		}
		d, err := findDomain(c, r.Domain)
		if err != nil {
			return err
		}
		d.Layers = append(d.Layers, l)
		return nil
	}
}

// SetHoldout returns the change setting the global holdout.
func SetHoldout(r HoldoutRequest) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		if r.Traffic < 0 || r.Traffic > abtest.NumBuckets {
			return apierr.Invalid("traffic %d is not within [0,%d] buckets", r.Traffic, abtest.NumBuckets)
		}
		if c.Holdout == nil {
			c.Holdout = &abtest.Holdout{Salt: "holdout"}
		}
		if r.Salt != "" {
			c.Holdout.Salt = r.Salt
		}
		c.Holdout.Buckets = r.Traffic
		return nil
	}
}

// AddLaunch returns the change creating a launch.
func AddLaunch(r LaunchRequest) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		if r.Name == "" {
			return apierr.Invalid("a launch needs a name")
		}
		if _, err := findLaunch(c, r.Name); err == nil {
			return apierr.Conflict("launch %q already exists", r.Name)
		}
		if r.Traffic < 0 || r.Traffic > abtest.NumBuckets {
			return apierr.Invalid("traffic %d is not within [0,%d] buckets", r.Traffic, abtest.NumBuckets)
		}
		salt := r.Salt
		if salt == "" {
			salt = "launch:" + r.Name
		}
		c.Launches = append(c.Launches, abtest.Launch{Name: r.Name, Salt: salt, Buckets: r.Traffic, Params: r.Params})
		return nil
	}
}

// UpdateLaunch returns the change ramping a launch or replacing its params.
func UpdateLaunch(name string, u LaunchUpdate) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		l, err := findLaunch(c, name)
		if err != nil {
			return err
		}
		if u.Traffic == nil && u.Params == nil {
			return apierr.Invalid("nothing to change: give traffic or params")
		}
		if u.Traffic != nil {
			if *u.Traffic < 0 || *u.Traffic > abtest.NumBuckets {
				return apierr.Invalid("traffic %d is not within [0,%d] buckets", *u.Traffic, abtest.NumBuckets)
			}
			l.Buckets = *u.Traffic
		}
		if u.Params != nil {
			l.Params = *u.Params
		}
		return nil
	}
}

// DeleteLaunch returns the change removing a launch (once its params are
// the defaults, or to roll it back).
func DeleteLaunch(name string) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		if _, err := findLaunch(c, name); err != nil {
			return err
		}
		c.Launches = slices.DeleteFunc(c.Launches, func(l abtest.Launch) bool { return l.Name == name })
		return nil
	}
}

// DomainSpace is the domain space as a layer whose one experiment's
// variants are the domains, so domains are allocated (and ramped) by the
// same rules as variants, and drawn as a bucket map like any layer.
func DomainSpace(c *abtest.Config) *abtest.Layer {
	e := abtest.Experiment{Name: "domains"}
	for _, d := range c.Domains {
		e.Variants = append(e.Variants, abtest.Variant{Name: d.Name, Buckets: d.Buckets})
	}
	return &abtest.Layer{Name: "domains", Experiments: []abtest.Experiment{e}}
}

// AddDomain returns the change creating a domain.
func AddDomain(r DomainRequest) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		if r.Name == "" {
			return apierr.Invalid("a domain needs a name")
		}
		if _, err := findDomain(c, r.Name); err == nil {
			return apierr.Conflict("domain %q already exists", r.Name)
		}
		c.Domains = append(c.Domains, abtest.Domain{Name: r.Name})
		return resizeDomain(c, r.Name, r.Traffic)
	}
}

// UpdateDomain returns the change resizing a domain.
func UpdateDomain(name string, u DomainUpdate) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		if _, err := findDomain(c, name); err != nil {
			return err
		}
		return resizeDomain(c, name, u.Size)
	}
}

func resizeDomain(c *abtest.Config, name string, n int) error {
	space := DomainSpace(c)
	vs := space.Experiments[0].Variants
	i := slices.IndexFunc(vs, func(v abtest.Variant) bool { return v.Name == name })
	if err := resize(space, &vs[i], n); err != nil {
		return err
	}
	c.Domains[i].Buckets = vs[i].Buckets
	return nil
}

// SetDefaults returns the change replacing the default params.
func SetDefaults(p abtest.Params) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		c.Defaults = p
		return nil
	}
}

// PatchDefaults returns the change laying p over the defaults: quotas merge
// channel by channel, a weight set replaces the weights, set scalars win
// (abtest.Params.Overlay); what p leaves out stays as it is.
func PatchDefaults(p abtest.Params) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		c.Defaults = c.Defaults.Overlay(p)
		return nil
	}
}

// AddExperiment returns the change creating experiment r in layer.
func AddExperiment(layer string, r ExperimentRequest) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		l, err := findLayer(c, layer)
		if err != nil {
			return err
		}
		if r.Name == "" || len(r.Variants) == 0 {
			return apierr.Invalid("an experiment needs a name and at least one variant")
		}
		if slices.ContainsFunc(l.Experiments, func(e abtest.Experiment) bool { return e.Name == r.Name }) {
			return apierr.Conflict("experiment %q already exists in layer %q", r.Name, layer)
		}
		explicit := slices.ContainsFunc(r.Variants, func(v VariantRequest) bool { return len(v.Buckets) > 0 })
		now := time.Now().UTC().Truncate(time.Millisecond)
		e := abtest.Experiment{Name: r.Name, Overrides: r.Overrides, Started: &now}
		for _, v := range r.Variants {
			if explicit && (len(v.Buckets) == 0 || v.Share != 0 || r.Traffic != 0) {
				return apierr.Invalid("give either traffic and shares, or buckets for every variant, not both")
			}
			e.Variants = append(e.Variants, abtest.Variant{Name: v.Name, Buckets: slices.Clone(v.Buckets), Params: v.Params, Routes: v.Routes})
		}
		l.Experiments = append(l.Experiments, e)
		if explicit {
			return nil // overlaps are refused by the config's validation
		}
		shares := make([]int, len(r.Variants))
		for i, v := range r.Variants {
			shares[i] = v.Share
		}
		sizes, err := splitShares(r.Traffic, shares)
		if err != nil {
			return err
		}
		added := &l.Experiments[len(l.Experiments)-1]
		for i := range added.Variants {
			if err := grow(l, &added.Variants[i], sizes[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// UpdateVariant returns the change applying u to a variant.
func UpdateVariant(layer, exp, variant string, u VariantUpdate) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		l, v, err := findVariant(c, layer, exp, variant)
		if err != nil {
			return err
		}
		if u.Size == nil && u.Params == nil && u.Routes == nil {
			return apierr.Invalid("nothing to change: give size, params or routes")
		}
		if u.Params != nil {
			v.Params = *u.Params
		}
		if u.Routes != nil {
			v.Routes = u.Routes
		}
		if u.Size != nil {
			return resize(l, v, *u.Size)
		}
		return nil
	}
}

// DeleteExperiment returns the change removing an experiment, which frees
// its buckets.
func DeleteExperiment(layer, exp string) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		l, _, err := findExperiment(c, layer, exp)
		if err != nil {
			return err
		}
		l.Experiments = slices.DeleteFunc(l.Experiments, func(e abtest.Experiment) bool { return e.Name == exp })
		return nil
	}
}

// SetOverride returns the change forcing variant r for user (or, with an
// empty variant, removing the user's override).
func SetOverride(layer, exp, user string, r OverrideRequest) func(*abtest.Config) error {
	return func(c *abtest.Config) error {
		_, e, err := findExperiment(c, layer, exp)
		if err != nil {
			return err
		}
		if user == "" {
			return apierr.Invalid("an override needs a user id")
		}
		if r.Variant == "" {
			delete(e.Overrides, user)
			return nil
		}
		if e.Overrides == nil {
			e.Overrides = map[string]string{}
		}
		e.Overrides[user] = r.Variant // an unknown variant is refused by validation
		return nil
	}
}
