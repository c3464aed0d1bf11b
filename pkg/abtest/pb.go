package abtest

import (
	"time"

	pb "github.com/recmesh/recmesh/proto/recmesh/v1"
)

// ToPB encodes a config for the wire.
func (c *Config) ToPB() *pb.ExperimentConfig {
	out := &pb.ExperimentConfig{Version: c.Version, Defaults: c.Defaults.ToPB(), Layers: layersToPB(c.Layers), DomainSalt: c.DomainSalt}
	if h := c.Holdout; h != nil {
		out.Holdout = &pb.Holdout{Salt: h.Salt, Buckets: int32(h.Buckets)}
	}
	for _, l := range c.Launches {
		out.Launches = append(out.Launches, &pb.Launch{Name: l.Name, Salt: l.Salt, Buckets: int32(l.Buckets), Params: l.Params.ToPB()})
	}
	for _, d := range c.Domains {
		out.Domains = append(out.Domains, &pb.Domain{Name: d.Name, Buckets: rangesToPB(d.Buckets), Layers: layersToPB(d.Layers)})
	}
	for name, p := range c.Scenes {
		if out.Scenes == nil {
			out.Scenes = map[string]*pb.Params{}
		}
		out.Scenes[name] = p.ToPB()
	}
	return out
}

func layersToPB(layers []Layer) []*pb.Layer {
	var out []*pb.Layer
	for _, l := range layers {
		pl := &pb.Layer{Name: l.Name, Salt: l.Salt}
		for _, e := range l.Experiments {
			pe := &pb.Experiment{Name: e.Name, Overrides: e.Overrides, Scenes: e.Scenes}
			if e.Started != nil {
				pe.StartedUnixMs = e.Started.UnixMilli()
			}
			for _, v := range e.Variants {
				pe.Variants = append(pe.Variants, &pb.Variant{Name: v.Name, Params: v.Params.ToPB(), Routes: v.Routes, Buckets: rangesToPB(v.Buckets)})
			}
			pl.Experiments = append(pl.Experiments, pe)
		}
		out = append(out, pl)
	}
	return out
}

func rangesToPB(rs []Range) []*pb.BucketRange {
	var out []*pb.BucketRange
	for _, r := range rs {
		out = append(out, &pb.BucketRange{Start: int32(r.Start), End: int32(r.End)})
	}
	return out
}

// ConfigFromPB decodes a config from the wire. The caller validates it.
func ConfigFromPB(in *pb.ExperimentConfig) *Config {
	c := &Config{Version: in.GetVersion(), Defaults: ParamsFromPB(in.GetDefaults()), Layers: layersFromPB(in.GetLayers()), DomainSalt: in.GetDomainSalt()}
	if h := in.GetHoldout(); h != nil {
		c.Holdout = &Holdout{Salt: h.GetSalt(), Buckets: int(h.GetBuckets())}
	}
	for _, l := range in.GetLaunches() {
		c.Launches = append(c.Launches, Launch{Name: l.GetName(), Salt: l.GetSalt(), Buckets: int(l.GetBuckets()), Params: ParamsFromPB(l.GetParams())})
	}
	for _, d := range in.GetDomains() {
		c.Domains = append(c.Domains, Domain{Name: d.GetName(), Buckets: rangesFromPB(d.GetBuckets()), Layers: layersFromPB(d.GetLayers())})
	}
	for name, p := range in.GetScenes() {
		if c.Scenes == nil {
			c.Scenes = map[string]Params{}
		}
		c.Scenes[name] = ParamsFromPB(p)
	}
	return c
}

func layersFromPB(in []*pb.Layer) []Layer {
	var out []Layer
	for _, pl := range in {
		l := Layer{Name: pl.GetName(), Salt: pl.GetSalt()}
		for _, pe := range pl.GetExperiments() {
			e := Experiment{Name: pe.GetName(), Overrides: pe.GetOverrides(), Scenes: pe.GetScenes()}
			if ms := pe.GetStartedUnixMs(); ms != 0 {
				t := time.UnixMilli(ms).UTC()
				e.Started = &t
			}
			for _, pv := range pe.GetVariants() {
				e.Variants = append(e.Variants, Variant{Name: pv.GetName(), Params: ParamsFromPB(pv.GetParams()), Routes: pv.GetRoutes(),
					Buckets: rangesFromPB(pv.GetBuckets())})
			}
			l.Experiments = append(l.Experiments, e)
		}
		out = append(out, l)
	}
	return out
}

func rangesFromPB(in []*pb.BucketRange) []Range {
	var out []Range
	for _, r := range in {
		out = append(out, Range{Start: int(r.GetStart()), End: int(r.GetEnd())})
	}
	return out
}

// ToPB encodes params.
func (p Params) ToPB() *pb.Params {
	out := &pb.Params{RankingWeights: p.RankingWeights, RankingModel: p.RankingModel}
	if len(p.RecallQuotas) > 0 {
		out.RecallQuotas = make(map[string]int32, len(p.RecallQuotas))
		for k, v := range p.RecallQuotas {
			out.RecallQuotas[k] = int32(v)
		}
	}
	if p.MaxPerGenre != nil {
		m := int32(*p.MaxPerGenre)
		out.MaxPerGenre = &m
	}
	if f := p.FrequencyCap; f != nil {
		out.FrequencyCap = &pb.FrequencyCap{K: int32(f.K), WindowMs: time.Duration(f.Window).Milliseconds(), CooldownMs: time.Duration(f.Cooldown).Milliseconds()}
	}
	return out
}

// ParamsFromPB decodes params.
func ParamsFromPB(in *pb.Params) Params {
	p := Params{RankingWeights: in.GetRankingWeights(), RankingModel: in.GetRankingModel()}
	if q := in.GetRecallQuotas(); len(q) > 0 {
		p.RecallQuotas = make(map[string]int, len(q))
		for k, v := range q {
			p.RecallQuotas[k] = int(v)
		}
	}
	if in != nil && in.MaxPerGenre != nil {
		m := int(in.GetMaxPerGenre())
		p.MaxPerGenre = &m
	}
	if f := in.GetFrequencyCap(); f != nil {
		p.FrequencyCap = &FrequencyCap{K: int(f.GetK()), Window: Duration(time.Duration(f.GetWindowMs()) * time.Millisecond),
			Cooldown: Duration(time.Duration(f.GetCooldownMs()) * time.Millisecond)}
	}
	return p
}
