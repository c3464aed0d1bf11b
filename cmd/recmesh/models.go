package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/config"
)

// runPublish makes a stored version current; running services swap it in.
func runPublish(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var models string
	f := config.NewFlags("publish")
	f.FS.SetOutput(stderr)
	f.String(&models, "model-dir", "var/models", "artifact directory")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if f.FS.NArg() != 1 {
		return fmt.Errorf("usage: recmesh publish [-model-dir DIR] VERSION")
	}
	st := artifact.Store{Dir: models}
	if err := st.SetCurrent(f.FS.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s\n", f.FS.Arg(0))
	return nil
}

// runRollback makes the version before the current one current again.
func runRollback(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var models string
	f := config.NewFlags("rollback")
	f.FS.SetOutput(stderr)
	f.String(&models, "model-dir", "var/models", "artifact directory")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	v, err := artifact.Store{Dir: models}.Rollback()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rolled back to %s\n", v)
	return nil
}
