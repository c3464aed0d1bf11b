package main

import (
	"context"
	"fmt"
	"io"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/movielens"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var data, models string
	var seed int
	f := newFlags("train", stderr)
	f.String(&data, "data", "data/movielens-small", "MovieLens directory (movies.csv, ratings.csv)")
	f.String(&models, "model-dir", "var/models", "artifact directory the new version is published to")
	f.Int(&seed, "seed", 1, "random seed; the same seed and data give the same model")
	if err := f.Parse(args); err != nil {
		return err
	}
	ds, err := movielens.Load(data)
	if err != nil {
		return err
	}
	o := offline.DefaultTrainOptions()
	o.Seed, o.Progress = uint64(seed), stderr
	m, err := offline.Train(ctx, offline.Items(ds), offline.Events(ds), artifact.Store{Dir: models}, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s to %s\n", m.Version, models)
	return nil
}
