package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/pgtest"
)

// TestPostgresImport imports a small MovieLens directory into a schema of
// its own and checks every row arrived, and that a second import is refused.
func TestPostgresImport(t *testing.T) {
	ctx := context.Background()
	scoped := pgtest.DSN(t)
	db, err := pgxpool.New(ctx, scoped)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	dir := t.TempDir()
	movies := "movieId,title,genres\n1,A (2001),Drama\n2,B (2002),Comedy|Drama\n"
	ratings := "userId,movieId,rating,timestamp\n"
	for i := 0; i < 2500; i++ {
		ratings += fmt.Sprintf("%d,%d,%d,%d\n", 1+i%7, 1+i%2, 1+i%5, 1000+i)
	}
	for name, body := range map[string]string{"movies.csv": movies, "ratings.csv": ratings} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"import", "-store", scoped, "-batch", "1000", dir}, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "import: 2500/2500 events (100%)") {
		t.Errorf("no progress to 100%%:\n%s", errOut.String())
	}
	var events, users, items int
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM users), (SELECT count(*) FROM items)`).
		Scan(&events, &users, &items); err != nil {
		t.Fatal(err)
	}
	if events != 2500 || users != 7 || items != 2 {
		t.Errorf("stored %d events, %d users, %d items; want 2500, 7, 2", events, users, items)
	}
	if err := run(ctx, []string{"import", "-store", scoped, dir}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "already holds 2500 events") {
		t.Errorf("second import = %v, want a refusal", err)
	}
}

// TestPostgresTrainFromEventStore trains once from the MovieLens files and
// once from the same data imported into PostgreSQL: with the same seed the
// artifacts must be byte-identical.
func TestPostgresTrainFromEventStore(t *testing.T) {
	ctx := context.Background()
	scoped := pgtest.DSN(t)
	data := "../../data/movielens-small"
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"import", "-store", scoped, data}, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s", err, errOut.String())
	}
	fromFiles, fromStore := t.TempDir(), t.TempDir()
	if err := run(ctx, []string{"train", "-data", data, "-model-dir", fromFiles}, &out, &errOut); err != nil {
		t.Fatalf("train from files: %v", err)
	}
	errOut.Reset()
	if err := run(ctx, []string{"train", "-source", "postgres", "-store", scoped, "-model-dir", fromStore}, &out, &errOut); err != nil {
		t.Fatalf("train from the event store: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "read event store: 100836/100836 events (100%)") {
		t.Errorf("no progress reading the event store:\n%s", tail(errOut.String(), 500))
	}
	a, err := (artifact.Store{Dir: fromFiles}).OpenCurrent()
	if err != nil {
		t.Fatal(err)
	}
	b, err := (artifact.Store{Dir: fromStore}).OpenCurrent()
	if err != nil {
		t.Fatal(err)
	}
	// The payloads are identical but for the version a JSON one embeds.
	for name := range a.Manifest.Files {
		x, y := payload(t, filepath.Join(fromFiles, a.Manifest.Version, name)), payload(t, filepath.Join(fromStore, b.Manifest.Version, name))
		if x != y {
			t.Errorf("%s differs between training from files and from the event store", name)
		}
	}
	if len(a.Manifest.Files) != 2 || len(b.Manifest.Files) != 2 {
		t.Errorf("manifests list %v and %v", a.Manifest.Files, b.Manifest.Files)
	}
	if err := run(ctx, []string{"train", "-source", "kafka"}, &out, &errOut); err == nil {
		t.Error("an unknown -source was accepted")
	}
}

// payload is an artifact file's bytes; a JSON one is re-encoded without
// its "version".
func payload(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".json") {
		return string(raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "version")
	out, _ := json.Marshal(m)
	return string(out)
}
