package main

import (
	"context"
	"fmt"
	"io"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/storeurl"
)

// runInit prepares a fresh deployment, and is safe to run again on every
// start (the compose init container, the Kubernetes Job, make dev): it
// migrates the schema, imports the sample when the event log is empty,
// rebuilds Redis from the log, and trains and publishes a model from the
// event store when none is published.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dsn, realtime, data, models string
	f := newFlags("init", stderr)
	storeurl.BindFlag(f, &dsn)
	f.String(&realtime, "realtime", "", "Redis URL of the features real-time state to rebuild from the log; empty skips it")
	f.String(&data, "data", defaultData, "MovieLens directory imported when the event log is empty; empty imports nothing")
	f.String(&models, "model-dir", "var/models", "model artifact directory; a model is trained when it has no current version")
	if err := f.Parse(args); err != nil {
		return err
	}
	data = shipped(data, defaultData)
	if !storeurl.IsPostgres(dsn) {
		return fmt.Errorf("recmesh init prepares a PostgreSQL store: set -store postgres://… (or RECMESH_STORE), not %q", storeurl.Redact(dsn))
	}
	store := []string{"-store", dsn}
	steps := []struct {
		name string
		skip bool
		run  func() error
	}{
		{"migrate", false, func() error { return runMigrate(ctx, store, stdout, stderr) }},
		{"import", data == "", func() error { return runImport(ctx, append(store, "-if-empty", data), stdout, stderr) }},
		{"replay", realtime == "", func() error { return runReplay(ctx, append(store, "-realtime", realtime), stdout, stderr) }},
		{"train", hasModel(models), func() error {
			return runTrain(ctx, append(store, "-source", "postgres", "-model-dir", models), stdout, stderr)
		}},
	}
	for i, s := range steps {
		if s.skip {
			fmt.Fprintf(stderr, "init: step %d/%d %s: nothing to do\n", i+1, len(steps), s.name)
			continue
		}
		fmt.Fprintf(stderr, "init: step %d/%d %s\n", i+1, len(steps), s.name)
		if err := s.run(); err != nil {
			return fmt.Errorf("init %s: %w", s.name, err)
		}
	}
	fmt.Fprintln(stdout, "init: done")
	return nil
}

// hasModel reports whether dir has a current model version.
func hasModel(dir string) bool {
	_, err := artifact.Store{Dir: dir}.Current()
	return err == nil
}
