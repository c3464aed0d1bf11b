package dashboards

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/prometheus/promql/parser"
)

const repo = "../../../.."

// TestFilesMatchTheDefinitions fails when deploy/grafana/dashboards was
// not regenerated (go generate ./cmd/recmesh/internal/dashboards).
func TestFilesMatchTheDefinitions(t *testing.T) {
	dir := filepath.Join(repo, "deploy/grafana/dashboards")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(All()) {
		t.Errorf("%d files in %s, %d dashboards defined", len(files), dir, len(All()))
	}
	for _, d := range All() {
		want, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, d.FileName()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from its definition (err %v): run go generate ./cmd/recmesh/internal/dashboards", d.FileName(), err)
		}
	}
}

// TestEveryPanelHasAUnitADescriptionAndAQuery holds the panels to what an
// operator needs to read them.
func TestEveryPanelHasAUnitADescriptionAndAQuery(t *testing.T) {
	for _, d := range All() {
		for _, r := range d.Rows {
			for _, p := range r.Panels {
				if p.Unit == "" || p.Description == "" || len(p.Queries) == 0 {
					t.Errorf("%s / %s: unit %q, description %q, %d queries", d.Title, p.Title, p.Unit, p.Description, len(p.Queries))
				}
			}
		}
	}
	broken := All()[0]
	broken.Rows[0].Panels[0].Unit = ""
	if _, err := broken.JSON(); err == nil {
		t.Error("a panel without a unit rendered")
	}
}

// metricNames parses expr and returns the metric names it selects.
func metricNames(expr string) ([]string, error) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if v, ok := n.(*parser.VectorSelector); ok {
			names = append(names, v.Name)
		}
		return nil
	})
	return names, nil
}

// exported lists the metrics the code exports: every recmesh_ name written
// in the non-test Go sources, and the Go and process collectors' names.
func exported(t *testing.T) map[string]bool {
	names := map[string]bool{}
	re := regexp.MustCompile(`"(recmesh_[a-z0-9_]+)"`)
	err := filepath.WalkDir(repo, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "var" || e.Name() == ".git" || e.Name() == "data") {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "/dashboards/") {
			return nil
		}
		b, err := os.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	descs := make(chan *prometheus.Desc, 1000)
	collectors.NewGoCollector().Describe(descs)
	collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}).Describe(descs)
	close(descs)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if m := fq.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	names["up"] = true // Prometheus's own per target
	return names
}

// TestQueriesParseAndNameExportedMetrics parses every panel query with
// Prometheus's parser and checks each metric it names is one the code
// exports (a histogram's _bucket, _sum and _count included).
func TestQueriesParseAndNameExportedMetrics(t *testing.T) {
	have := exported(t)
	if !have["recmesh_hop_requests_total"] || !have["go_goroutines"] || have["recmesh_no_such_metric"] {
		t.Fatalf("the exported list is wrong: %d names", len(have))
	}
	used := map[string]bool{}
	for _, expr := range Exprs(All()) {
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		for _, n := range names {
			base := n
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(n, s); ok && have[b] {
					base = b
				}
			}
			if !have[base] {
				t.Errorf("%s names %s, which no code exports", expr, n)
			}
			used[base] = true
		}
	}
	// Every recmesh metric is on some dashboard.
	for n := range have {
		if strings.HasPrefix(n, "recmesh_") && !used[n] {
			t.Errorf("%s is exported but on no dashboard", n)
		}
	}
	if _, err := metricNames(`sum(rate(x[1m])`); err == nil {
		t.Error("a broken query parsed")
	}
}

func TestHopsCoverTheRecommendationPath(t *testing.T) {
	d := hops()
	var rows []string
	for _, r := range d.Rows {
		rows = append(rows, r.Title)
	}
	if !slices.Equal(rows, Hops) {
		t.Errorf("rows %v, want %v", rows, Hops)
	}
}
