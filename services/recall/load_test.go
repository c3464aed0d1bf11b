package recall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/recmesh/recmesh/pkg/ann/annbench"
	"github.com/recmesh/recmesh/pkg/artifact"
	"github.com/recmesh/recmesh/pkg/artifact/artifacttest"
)

func TestLoadIndexRefusesMalformedEmbeddings(t *testing.T) {
	items, evs := fixture()
	good := BuildIndexFile(items, evs, DefaultBuildOptions(), nil)
	st := artifact.Store{Dir: t.TempDir()}
	publish := func(version string, f *IndexFile) *artifact.Set {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return artifacttest.Publish(t, st, version, map[string][]byte{IndexFileName: b})
	}
	idx, err := LoadIndex(publish("v1", good))
	if err != nil || idx.Version != "v1" || idx.emb == nil {
		t.Fatalf("LoadIndex(good) = %+v, %v", idx, err)
	}
	bad := *good
	e := *good.Embeddings
	e.Items = e.Items[:len(e.Items)-1]
	bad.Embeddings = &e
	if _, err := LoadIndex(publish("v2", &bad)); err == nil || !strings.Contains(err.Error(), "item values") {
		t.Errorf("LoadIndex(truncated vectors) = %v, want a refusal", err)
	}
	if _, err := LoadIndex(publish("v3", &IndexFile{})); err == nil {
		t.Error("LoadIndex accepted an index with no items")
	}
}

// An index written before categories were called categories still loads
// them (an upgrade must not wait for a retraining).
func TestLoadIndexReadsLegacyGenres(t *testing.T) {
	st := artifact.Store{Dir: t.TempDir()}
	legacy := `{"items":[{"item_id":1,"title":"A","genres":["Drama","War"],"popularity":2}],"neighbours":{}}`
	idx, err := LoadIndex(artifacttest.Publish(t, st, "v1", map[string][]byte{IndexFileName: []byte(legacy)}))
	if err != nil || strings.Join(idx.Items[1].Categories, ",") != "Drama,War" || len(idx.ByGenre["War"]) != 1 {
		t.Fatalf("legacy index: %+v, %v", idx, err)
	}
}

// The binary payload train writes holds what the JSON one does, and a set
// with both reads the binary one.
func TestBinaryIndexLoadsAsJSON(t *testing.T) {
	items, evs := fixture()
	f := BuildIndexFile(items, evs, DefaultBuildOptions(), nil)
	jb, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	st := artifact.Store{Dir: t.TempDir()}
	fromJSON, err := ReadIndexFile(artifacttest.Publish(t, st, "v1", map[string][]byte{IndexFileName: jb}))
	if err != nil {
		t.Fatal(err)
	}
	fromGob, err := ReadIndexFile(artifacttest.Publish(t, st, "v2", map[string][]byte{IndexFileName: []byte(`{"items":[]}`), IndexBinaryName: gb}))
	if err != nil {
		t.Fatal(err)
	}
	if len(fromGob.Items) == 0 || !reflect.DeepEqual(fromGob.Items, fromJSON.Items) || !reflect.DeepEqual(fromGob.Neighbours, fromJSON.Neighbours) ||
		!reflect.DeepEqual(fromGob.Embeddings, fromJSON.Embeddings) {
		t.Fatalf("the binary index differs from the JSON one: %d items against %d", len(fromGob.Items), len(fromJSON.Items))
	}
	for range 3 { // map order must not reach the bytes
		if again, _ := f.Encode(); !bytes.Equal(again, gb) {
			t.Fatal("the same index encoded to different bytes")
		}
	}
	if _, err := ReadIndexFile(artifacttest.Publish(t, st, "v3", map[string][]byte{IndexBinaryName: gb[:len(gb)/2]})); err == nil {
		t.Error("a truncated binary index was read")
	}
}

// BenchmarkLoadIndex loads the current model of RECMESH_BENCH_MODELS (a
// model directory, such as one `recmesh train` wrote from `recmesh synth`
// data) and reports the time to load it and the heap it holds per item:
//
//	RECMESH_BENCH_MODELS=/tmp/models-1m go test -run '^$' -bench LoadIndex -benchtime 1x .
func BenchmarkLoadIndex(b *testing.B) {
	dir := os.Getenv("RECMESH_BENCH_MODELS")
	if dir == "" {
		b.Skip("RECMESH_BENCH_MODELS names no model directory")
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		set, err := artifact.Store{Dir: dir}.OpenCurrent()
		if err != nil {
			b.Fatal(err)
		}
		idx, err := LoadIndex(set)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(took.Seconds(), "s/load")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(idx.Items)), "heap-B/item")
		b.ReportMetric(float64(len(idx.Items)), "items")
		runtime.KeepAlive(idx)
	}
}

// BenchmarkEmbeddingANN is the ANN table on the MF embeddings a model of
// RECMESH_BENCH_MODELS holds (what `recmesh train` learnt), through the
// MIPS transform, with its users' vectors as queries (at most 1,000):
//
//	./bin/recmesh train -model-dir /tmp/models-ml
//	RECMESH_BENCH_MODELS=/tmp/models-ml go test -run '^$' -bench EmbeddingANN -benchtime 1x .
func BenchmarkEmbeddingANN(b *testing.B) {
	dir := os.Getenv("RECMESH_BENCH_MODELS")
	if dir == "" {
		b.Skip("RECMESH_BENCH_MODELS names no model directory")
	}
	set, err := artifact.Store{Dir: dir}.OpenCurrent()
	if err != nil {
		b.Fatal(err)
	}
	f, err := ReadIndexFile(set)
	if err != nil {
		b.Fatal(err)
	}
	e := f.Embeddings
	if e == nil {
		b.Fatal("the model has no embeddings")
	}
	var users [][]float32
	for u := 0; u < len(e.UserIDs) && u < 1000; u++ {
		users = append(users, e.Users[u*e.Dim:(u+1)*e.Dim])
	}
	s := annbench.MIPS(fmt.Sprintf("MF embeddings of %s", set.Manifest.Version), e.Items, e.Dim, users)
	annbench.Run(b, s, annbench.Options{Efs: []int{100, 200, 400}, Library: true})
}
