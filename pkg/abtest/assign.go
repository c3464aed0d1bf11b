package abtest

import "fmt"

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
	a := &Assigner{cfg: cfg, layers: make([]compiledLayer, len(cfg.Layers))}
	for li := range cfg.Layers {
		l := &cfg.Layers[li]
		cl := &a.layers[li]
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
	return a, nil
}

// Config is the config the assigner was built from.
func (a *Assigner) Config() *Config { return a.cfg }

// Result is everything the assignment of one unit decides.
type Result struct {
	Assignments []Assignment
	// Params are the defaults with every assigned variant's params on top, in layer order.
	Params Params
	// Routes maps a service to the version tag the unit's variants ask for.
	Routes map[string]string
}

// Assign places unit in at most one variant per layer. An override for the
// unit wins over its bucket.
func (a *Assigner) Assign(unit string) Result {
	res := Result{Params: a.cfg.Defaults}
	for li := range a.layers {
		cl := &a.layers[li]
		e, v, ok := cl.overridden(unit)
		if !ok {
			s := cl.byBucket[Bucket(cl.layer.Salt, unit)]
			if s.exp < 0 {
				continue
			}
			e, v = &cl.layer.Experiments[s.exp], &cl.layer.Experiments[s.exp].Variants[s.variant]
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
