package artifact

import (
	"context"
	"errors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPublishOpenAndTamper(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if _, err := s.Current(); !errors.Is(err, ErrNoVersion) {
		t.Fatalf("Current on empty store = %v, want ErrNoVersion", err)
	}
	m := Manifest{Version: NewVersion(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Params: map[string]any{"k": 1}}
	if err := s.Publish(m, map[string][]byte{"a.json": []byte(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(m, nil); err == nil {
		t.Error("publishing the same version twice succeeded")
	}
	set, err := s.OpenCurrent()
	if err != nil {
		t.Fatal(err)
	}
	if set.Manifest.Version != "v20260102T030405Z" {
		t.Errorf("version %q", set.Manifest.Version)
	}
	var x struct{ X int }
	if err := set.ReadJSON("a.json", &x); err != nil || x.X != 1 {
		t.Fatalf("ReadJSON = %+v, %v", x, err)
	}
	if err := set.ReadJSON("missing.json", &x); err == nil {
		t.Error("ReadJSON of a file not in the manifest succeeded")
	}
	if err := os.WriteFile(filepath.Join(s.Dir, m.Version, "a.json"), []byte(`{"x":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(m.Version); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("Open of a tampered set = %v, want checksum error", err)
	}
	for _, bad := range []string{"../x", "", "a/b"} {
		if _, err := s.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestVersionsRollbackAndWatcher(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	for _, v := range []string{"v1", "v2", "v3"} {
		if err := s.Publish(Manifest{Version: v}, map[string][]byte{"f": []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := s.Versions()
	if err != nil || strings.Join(vs, ",") != "v1,v2,v3" {
		t.Fatalf("Versions = %v, %v", vs, err)
	}
	var loaded []string
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	w := &Watcher{Store: s, Every: time.Hour, Log: slog.New(slog.DiscardHandler), Loaded: "v3", Metrics: m, Load: func(set *Set) error {
		b, err := set.ReadFile("f")
		if err != nil {
			return err
		}
		if string(b) == "v1" {
			return errors.New("v1 is refused")
		}
		loaded = append(loaded, string(b))
		return nil
	}}
	w.Check(context.Background()) // v3 is already in service
	if v, err := s.Rollback(); err != nil || v != "v2" {
		t.Fatalf("Rollback = %q, %v", v, err)
	}
	w.Check(context.Background())
	if _, err := s.Rollback(); err != nil {
		t.Fatal(err)
	}
	w.Check(context.Background()) // v1 fails to load: v2 stays
	if strings.Join(loaded, ",") != "v2" || w.Loaded != "v2" {
		t.Errorf("loaded %v, in service %s; want [v2] and v2", loaded, w.Loaded)
	}
	// The metrics say v2 is served, after one reload and one refusal.
	want := `
# HELP recmesh_model_info 1 for the model version this instance serves.
# TYPE recmesh_model_info gauge
recmesh_model_info{model_version="v2"} 1
# HELP recmesh_model_reloads_total Newly published model versions swapped in (ok) or refused (error).
# TYPE recmesh_model_reloads_total counter
recmesh_model_reloads_total{outcome="error"} 1
recmesh_model_reloads_total{outcome="ok"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "recmesh_model_info", "recmesh_model_reloads_total"); err != nil {
		t.Error(err)
	}
	if _, err := s.Rollback(); err == nil {
		t.Error("rolled back past the first version")
	}
}
