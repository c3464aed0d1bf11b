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

// LayerRequest creates a layer.
type LayerRequest struct {
	Name string `json:"name"`
	Salt string `json:"salt"`
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
	for i := range c.Layers {
		if c.Layers[i].Name == name {
			return &c.Layers[i], nil
		}
	}
	return nil, apierr.NotFound("layer %q does not exist", name)
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
		if _, err := findLayer(c, r.Name); err == nil {
			return apierr.Conflict("layer %q already exists", r.Name)
		}
		c.Layers = append(c.Layers, abtest.Layer{Name: r.Name, Salt: r.Salt})
		return nil
	}
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
