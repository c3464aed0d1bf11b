// Command gen writes every recmesh dashboard as Grafana JSON into -out.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/recmesh/recmesh/cmd/recmesh/internal/dashboards"
)

func main() {
	out := flag.String("out", "deploy/grafana/dashboards", "directory the dashboard files are written to")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range dashboards.All() {
		b, err := d.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, d.FileName()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
