package abtest

import (
	"fmt"
	"slices"
)

// Assignment is the variant a unit got in one layer.
type Assignment struct {
	Layer      string `json:"layer"`
	Experiment string `json:"experiment"`
	Variant    string `json:"variant"`
}

// Assigner answers assignments for one config version in O(layers) time.
// It is immutable and safe for concurrent use.
type Assigner struct {
	cfg    *Config
	layers []compiledLayer
	// domains are each domain's compiled layers; domainOf maps a bucket of
	// the domain space to its domain, -1 for the default domain.
	domains  [][]compiledLayer
	domainOf [NumBuckets]int16
	reserved map[string][]string
}

type slot struct{ exp, variant int16 }

type compiledLayer struct {
	layer *Layer
	// byBucket maps a bucket to its owner; exp is -1 for free buckets.
	byBucket [NumBuckets]slot
}

// NewAssigner validates cfg and precomputes its bucket tables.
func NewAssigner(cfg *Config) (*Assigner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Assigner{cfg: cfg, reserved: cfg.RoutedVersions()}
	var err error
	if a.layers, err = compileLayers(cfg.Layers); err != nil {
		return nil, err
	}
	if len(cfg.Domains) > 32767 {
		return nil, fmt.Errorf("too many domains")
	}
	for b := range a.domainOf {
		a.domainOf[b] = -1
	}
	for di, d := range cfg.Domains {
		cls, err := compileLayers(d.Layers)
		if err != nil {
			return nil, err
		}
		a.domains = append(a.domains, cls)
		for _, r := range d.Buckets {
			for b := r.Start; b < r.End; b++ {
				a.domainOf[b] = int16(di)
			}
		}
	}
	return a, nil
}

func compileLayers(layers []Layer) ([]compiledLayer, error) {
	out := make([]compiledLayer, len(layers))
	for li := range layers {
		l := &layers[li]
		cl := &out[li]
		cl.layer = l
		for b := range cl.byBucket {
			cl.byBucket[b] = slot{-1, -1}
		}
		if len(l.Experiments) > 32767 {
			return nil, fmt.Errorf("layer %q has too many experiments", l.Name)
		}
		for ei, e := range l.Experiments {
			for vi, v := range e.Variants {
				for _, r := range v.Buckets {
					for b := r.Start; b < r.End; b++ {
						cl.byBucket[b] = slot{int16(ei), int16(vi)}
					}
				}
			}
		}
	}
	return out, nil
}

// Reserved maps a service to the versions some variant routes to, sorted
// (see Config.RoutedVersions).
func (a *Assigner) Reserved() map[string][]string { return a.reserved }

// Config is the config the assigner was built from.
func (a *Assigner) Config() *Config { return a.cfg }

// Result is everything the assignment of one unit decides.
type Result struct {
	Assignments []Assignment
	// Params are the defaults with every assigned variant's params on top, in layer order.
	Params Params
	// Routes maps a service to the version tag the unit's variants ask for.
	Routes map[string]string
	// HeldOut is true for a unit in the global holdout.
	HeldOut bool
	// Launches names the launches that apply to the unit, in config order.
	Launches []string
	// Domain is the unit's domain; empty for the default domain.
	Domain string
}

// HoldoutAssignment is the one assignment a held-out unit carries.
var HoldoutAssignment = Assignment{Layer: HoldoutLayer, Experiment: HoldoutLayer, Variant: HoldoutLayer}

// Assign places unit on no particular scene (AssignIn with scene "").
func (a *Assigner) Assign(unit string) Result { return a.AssignIn(unit, "") }

// AssignIn places unit on scene: a unit in the global holdout gets the
// defaults (with the scene's params) and the holdout assignment only; any
// other gets the defaults, the scene's params, the launches that reach it,
// and at most one variant per layer of its domain, from experiments that
// run on the scene. An override for the unit wins over its bucket.
func (a *Assigner) AssignIn(unit, scene string) Result {
	res := Result{Params: a.cfg.Defaults}
	if sp, ok := a.cfg.Scenes[scene]; ok && scene != "" {
		res.Params = res.Params.Overlay(sp)
	}
	if h := a.cfg.Holdout; h != nil && h.Buckets > 0 && Bucket(h.Salt, unit) < h.Buckets {
		res.HeldOut = true
		res.Assignments = []Assignment{HoldoutAssignment}
		return res
	}
	for _, l := range a.cfg.Launches {
		if l.Buckets > 0 && Bucket(l.Salt, unit) < l.Buckets {
			res.Params = res.Params.Overlay(l.Params)
			res.Launches = append(res.Launches, l.Name)
		}
	}
	layers := a.layers
	if len(a.domains) > 0 {
		if d := a.domainOf[Bucket(a.cfg.DomainSaltOrDefault(), unit)]; d >= 0 {
			layers = a.domains[d]
			res.Domain = a.cfg.Domains[d].Name
		}
	}
	for li := range layers {
		cl := &layers[li]
		e, v, ok := cl.overridden(unit)
		if !ok {
			s := cl.byBucket[Bucket(cl.layer.Salt, unit)]
			if s.exp < 0 {
				continue
			}
			e, v = &cl.layer.Experiments[s.exp], &cl.layer.Experiments[s.exp].Variants[s.variant]
		}
		if len(e.Scenes) > 0 && !slices.Contains(e.Scenes, scene) {
			continue // the experiment does not run on this scene
		}
		res.Assignments = append(res.Assignments, Assignment{Layer: cl.layer.Name, Experiment: e.Name, Variant: v.Name})
		res.Params = res.Params.Overlay(v.Params)
		for svc, version := range v.Routes {
			if res.Routes == nil {
				res.Routes = map[string]string{}
			}
			res.Routes[svc] = version
		}
	}
	return res
}

func (cl *compiledLayer) overridden(unit string) (*Experiment, *Variant, bool) {
	for ei := range cl.layer.Experiments {
		e := &cl.layer.Experiments[ei]
		name, ok := e.Overrides[unit]
		if !ok {
			continue
		}
		for vi := range e.Variants {
			if e.Variants[vi].Name == name {
				return e, &e.Variants[vi], true
			}
		}
	}
	return nil, nil, false
}
