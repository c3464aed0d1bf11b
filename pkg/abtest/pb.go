package abtest

import pb "github.com/recmesh/recmesh/proto/recmesh/v1"

// ToPB encodes a config for the wire.
func (c *Config) ToPB() *pb.ExperimentConfig {
	out := &pb.ExperimentConfig{Version: c.Version, Defaults: c.Defaults.ToPB()}
	for _, l := range c.Layers {
		pl := &pb.Layer{Name: l.Name, Salt: l.Salt}
		for _, e := range l.Experiments {
			pe := &pb.Experiment{Name: e.Name, Overrides: e.Overrides}
			for _, v := range e.Variants {
				pv := &pb.Variant{Name: v.Name, Params: v.Params.ToPB(), Routes: v.Routes}
				for _, r := range v.Buckets {
					pv.Buckets = append(pv.Buckets, &pb.BucketRange{Start: int32(r.Start), End: int32(r.End)})
				}
				pe.Variants = append(pe.Variants, pv)
			}
			pl.Experiments = append(pl.Experiments, pe)
		}
		out.Layers = append(out.Layers, pl)
	}
	return out
}

// ConfigFromPB decodes a config from the wire. The caller validates it.
func ConfigFromPB(in *pb.ExperimentConfig) *Config {
	c := &Config{Version: in.GetVersion(), Defaults: ParamsFromPB(in.GetDefaults())}
	for _, pl := range in.GetLayers() {
		l := Layer{Name: pl.GetName(), Salt: pl.GetSalt()}
		for _, pe := range pl.GetExperiments() {
			e := Experiment{Name: pe.GetName(), Overrides: pe.GetOverrides()}
			for _, pv := range pe.GetVariants() {
				v := Variant{Name: pv.GetName(), Params: ParamsFromPB(pv.GetParams()), Routes: pv.GetRoutes()}
				for _, r := range pv.GetBuckets() {
					v.Buckets = append(v.Buckets, Range{Start: int(r.GetStart()), End: int(r.GetEnd())})
				}
				e.Variants = append(e.Variants, v)
			}
			l.Experiments = append(l.Experiments, e)
		}
		c.Layers = append(c.Layers, l)
	}
	return c
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
	return p
}
