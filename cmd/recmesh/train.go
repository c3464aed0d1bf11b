package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/offline"
	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/domain"
	"github.com/recmesh/recmesh/pkg/movielens"
	"github.com/recmesh/recmesh/services/features/store"
	"github.com/recmesh/recmesh/services/recall"
)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var data, models, source, cpuProfile, mf string
	var seed int
	f := newFlags("train", stderr)
	f.String(&source, "source", "movielens", "where the data comes from: movielens (the -data directory) or postgres (the event store at -store)")
	f.String(&data, "data", defaultData, "MovieLens directory (movies.csv, ratings.csv), with -source movielens")
	open := postgresFlags(f, "train -source postgres")
	f.String(&models, "model-dir", "var/models", "artifact directory the new version is published to")
	f.Int(&seed, "seed", 1, "random seed; the same seed and data give the same model")
	f.String(&mf, "mf", recall.MethodALS, mfUsage)
	f.String(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it); empty: none")
	if err := f.Parse(args); err != nil {
		return err
	}
	data = shipped(data, defaultData)
	if cpuProfile != "" {
		stop, err := profileCPU(cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var items []domain.Item
	var events []domain.Event
	switch source {
	case "movielens":
		ds, err := movielens.Load(data)
		if err != nil {
			return err
		}
		items, events = ds.Items(), ds.Events()
	case "postgres":
		pool, err := open(ctx)
		if err != nil {
			return err
		}
		defer pool.Close()
		if items, events, err = loadEventStore(ctx, pool, stderr); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-source must be movielens or postgres, not %q", source)
	}
	o := offline.DefaultTrainOptions()
	var err error
	if o.Build.MF, err = mfOptions(mf); err != nil {
		return err
	}
	o.SetSeed(uint64(seed))
	o.Progress = stderr
	m, err := offline.Train(ctx, items, events, artifact.Store{Dir: models}, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s to %s\n", m.Version, models)
	return nil
}

// mfUsage documents -mf, which train and eval share.
const mfUsage = "how the embeddings are learnt: als (implicit alternating least squares) or bpr (Bayesian personalised ranking, the learner before ALS)"

// mfOptions are the default options of the -mf learner.
func mfOptions(method string) (recall.MFOptions, error) {
	switch method {
	case recall.MethodALS:
		return recall.DefaultMFOptions(), nil
	case recall.MethodBPR:
		return recall.DefaultBPROptions(), nil
	}
	return recall.MFOptions{}, fmt.Errorf("-mf %q: want %s or %s", method, recall.MethodALS, recall.MethodBPR)
}

// profileCPU starts a CPU profile written to path; stop ends it.
func profileCPU(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// loadEventStore reads the catalogue and the whole event log, with progress.
func loadEventStore(ctx context.Context, pool *pgxpool.Pool, stderr io.Writer) ([]domain.Item, []domain.Event, error) {
	pg := store.NewPostgres(pool)
	items, err := pg.Catalogue(ctx)
	if err != nil {
		return nil, nil, err
	}
	total, err := pg.EventCount(ctx)
	if err != nil {
		return nil, nil, err
	}
	events := make([]domain.Event, 0, total)
	err = pg.ScanEvents(ctx, 50000, func(batch []domain.Event) error {
		events = append(events, batch...)
		progress(stderr, "read event store", "events", int64(len(events)), total)
		return nil
	})
	return items, events, err
}
