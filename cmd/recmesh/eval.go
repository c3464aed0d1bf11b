package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/movielens"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var data, out, experiments string
	var seed int
	f := newFlags("eval", stderr)
	f.String(&data, "data", "data/movielens-small", "MovieLens directory (movies.csv, ratings.csv)")
	f.String(&out, "out", "", "directory for eval.md and ndcg.svg; empty writes only the table to stdout")
	f.Int(&seed, "seed", 1, "random seed of training")
	f.String(&experiments, "experiments", "config/experiments.json", "experiment config; each variant that sets ranking weights gets a pipeline row; empty for none")
	if err := f.Parse(args); err != nil {
		return err
	}
	ds, err := movielens.Load(data)
	if err != nil {
		return err
	}
	o := offline.DefaultEvalOptions()
	o.Train.Seed, o.Train.Progress = uint64(seed), stderr
	if experiments != "" {
		cfg, err := abtest.LoadFile(experiments)
		if err != nil {
			return err
		}
		o.Variants = weightVariants(cfg)
	}
	results, err := offline.Evaluate(ctx, ds.Items(), offline.PrepareEval(ds.Events(), o), o)
	if err != nil {
		return err
	}
	table := offline.Table(results, o.MaxK)
	fmt.Fprint(stdout, table)
	if out == "" {
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "eval.md"), []byte(table), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "ndcg.svg"), []byte(offline.PlotNDCG(results)), 0o644)
}

// weightVariants lists every variant that sets ranking weights, with the
// config's defaults under it, as the gateway would assign them.
func weightVariants(cfg *abtest.Config) []offline.WeightVariant {
	var out []offline.WeightVariant
	for _, l := range cfg.Layers {
		for _, e := range l.Experiments {
			for _, v := range e.Variants {
				if len(v.Params.RankingWeights) > 0 {
					out = append(out, offline.WeightVariant{Name: e.Name + "/" + v.Name, Weights: cfg.Defaults.Overlay(v.Params).RankingWeights})
				}
			}
		}
	}
	return out
}
