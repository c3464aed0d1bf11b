package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/pkg/abtest"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/services/recall"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var data, out, experiments, seedList, cutoff, mf string
	o := offline.DefaultEvalOptions()
	f := newFlags("eval", stderr)
	f.String(&data, "data", defaultData, "MovieLens directory (movies.csv, ratings.csv)")
	f.String(&out, "out", "", "directory for eval.md and ndcg.svg; empty writes only the tables to stdout")
	f.String(&seedList, "seeds", "1,2,3", "comma-separated seeds; each trains and scores once, and the tables show mean ± sd over them")
	f.String(&o.Split, "split", offline.SplitPerUser, "user: each user's newest -test-share interactions are the test; global: every interaction from -cutoff on is")
	f.Float(&o.TestShare, "test-share", o.TestShare, "share held out: of each user's interactions (user split), or of all of them when -cutoff is empty (global split)")
	f.String(&cutoff, "cutoff", "", "global split's cut-off date (YYYY-MM-DD, UTC); empty: the date after which -test-share of the interactions lie")
	f.Bool(&o.Validation, "validation", false, "score on a validation slice carved from the training part (split again the same way); the test part is never read. Choose hyperparameters this way, then report test once")
	f.Int(&o.MinEvents, "min-events", o.MinEvents, "interactions a user needs to be tested (user split); users with fewer train only and are counted")
	f.String(&experiments, "experiments", defaultExperiments, "experiment config; each variant that sets ranking weights gets a pipeline row; empty for none")
	f.String(&mf, "mf", recall.MethodALS, mfUsage)
	if err := f.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Train.Build.MF, err = mfOptions(mf); err != nil {
		return err
	}
	if o.Split != offline.SplitPerUser && o.Split != offline.SplitGlobal {
		return fmt.Errorf("-split %q: want %s or %s", o.Split, offline.SplitPerUser, offline.SplitGlobal)
	}
	if o.TestShare <= 0 || o.TestShare >= 1 {
		return fmt.Errorf("-test-share %v: want within (0, 1)", o.TestShare)
	}
	seeds, err := parseSeeds(seedList)
	if err != nil {
		return err
	}
	if cutoff != "" {
		t, err := time.Parse(time.DateOnly, cutoff)
		if err != nil {
			return fmt.Errorf("-cutoff %q: want YYYY-MM-DD", cutoff)
		}
		o.Cutoff = t.Unix()
	}
	ds, err := movielens.Load(shipped(data, defaultData))
	if err != nil {
		return err
	}
	if experiments != "" {
		cfg, err := abtest.LoadFile(shipped(experiments, defaultExperiments))
		if err != nil {
			return err
		}
		o.Variants = weightVariants(cfg)
	}
	split, err := offline.PrepareEval(ds.Events(), o)
	if err != nil {
		return err
	}
	var runs [][]offline.MethodResult
	for i, seed := range seeds {
		o.Train.SetSeed(seed)
		o.Train.Progress, o.Train.Job = stderr, fmt.Sprintf("eval, seed %d (%d of %d)", seed, i+1, len(seeds))
		results, err := offline.Evaluate(ctx, ds.Items(), split, o)
		if err != nil {
			return err
		}
		runs = append(runs, results)
	}
	sums := offline.Summarise(runs)
	report := fmt.Sprintf("%s.\nSeeds %s: mean ± sd over them.\n\n", split.Report, seedList)
	table := report + offline.SummaryTable(sums, o.MaxK)
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
	means := make([]offline.MethodResult, len(sums))
	for i, s := range sums {
		means[i] = s.MeanNDCG()
	}
	return os.WriteFile(filepath.Join(out, "ndcg.svg"), []byte(offline.PlotNDCG(means)), 0o644)
}

// parseSeeds reads -seeds: distinct unsigned integers, at least one.
func parseSeeds(list string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(list, ",") {
		s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil || slices.Contains(out, s) {
			return nil, fmt.Errorf("-seeds %q: want distinct non-negative integers separated by commas", list)
		}
		out = append(out, s)
	}
	return out, nil
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
