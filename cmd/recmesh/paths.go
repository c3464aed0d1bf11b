package main

import (
	"os"
	"path/filepath"
)

// The defaults of the path flags that name files shipped with recmesh,
// relative to the repository's root.
const (
	defaultData        = "data/movielens-small"
	defaultExperiments = "config/experiments.json"
)

// shipped resolves a shipped default path (defaultData, ...) for a binary
// run from anywhere: from the working directory when it is there (the
// repository's root, as make runs it), else beside the binary (bin/recmesh
// finds ../data), else as given, so the error names it. Any other path, a
// flag the user set, is used as given.
func shipped(path, def string) string {
	if path != def || filepath.IsAbs(path) {
		return path
	}
	if exists(path) {
		return path
	}
	exe, err := os.Executable()
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	dir := filepath.Dir(exe)
	for _, root := range []string{dir, filepath.Dir(dir)} {
		if p := filepath.Join(root, path); exists(p) {
			return p
		}
	}
	return path
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
