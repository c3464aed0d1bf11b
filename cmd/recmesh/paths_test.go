package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestShippedFindsDefaultsBesideTheBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const def = "recmesh-shipped-test.json"
	beside := filepath.Join(filepath.Dir(exe), def)
	if got := shipped(def, def); got != def {
		t.Fatalf("before the file exists: %q, want it as given", got)
	}
	if err := os.WriteFile(beside, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(beside)
	if got := shipped(def, def); got != beside {
		t.Errorf("default beside the binary: %q, want %q", got, beside)
	}
	if got := shipped("mine.json", def); got != "mine.json" {
		t.Errorf("a path the user set: %q, want it as given", got)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile(def, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := shipped(def, def); got != def {
		t.Errorf("default in the working directory: %q, want it from there", got)
	}
}
