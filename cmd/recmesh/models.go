package main

import (
	"context"
	"fmt"
	"io"

	"github.com/recmesh/recmesh/pkg/artifact"
)

// modelStore parses a command's -model-dir flag.
func modelStore(name string, args []string, stderr io.Writer) (artifact.Store, []string, error) {
	var dir string
	f := newFlags(name, stderr)
	f.String(&dir, "model-dir", "var/models", "artifact directory")
	err := f.Parse(args)
	return artifact.Store{Dir: dir}, f.FS.Args(), err
}

// runPublish makes a stored version current; running services swap it in.
func runPublish(_ context.Context, args []string, stdout, stderr io.Writer) error {
	st, rest, err := modelStore("publish", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("usage: recmesh publish [-model-dir DIR] VERSION")
	}
	if err := st.SetCurrent(rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s\n", rest[0])
	return nil
}

// runRollback makes the version before the current one current again.
func runRollback(_ context.Context, args []string, stdout, stderr io.Writer) error {
	st, _, err := modelStore("rollback", args, stderr)
	if err != nil {
		return err
	}
	v, err := st.Rollback()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rolled back to %s\n", v)
	return nil
}
