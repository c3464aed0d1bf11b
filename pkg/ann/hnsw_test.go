package ann

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
)

func randomVectors(n, dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, seed))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func build(vecs []float32, dim int, o Options) *HNSW {
	h := New(dim, o)
	for i := 0; i*dim < len(vecs); i++ {
		h.Add(vecs[i*dim : (i+1)*dim])
	}
	return h
}

// truthSet is the ids of the exact k nearest of vecs to q.
func truthSet(vecs []float32, dim int, q []float32, k int) map[int32]bool {
	truth := map[int32]bool{}
	for _, r := range Exact(vecs, dim, q, k) {
		truth[r.ID] = true
	}
	return truth
}

// searchFunc is a graph's Search.
type searchFunc func(q []float32, k, ef int) []Result

// recallAt is the share of the exact k nearest that search finds.
func recallAt(search searchFunc, vecs, queries []float32, dim, k, ef int) float64 {
	found, total := 0, 0
	for qi := 0; qi*dim < len(queries); qi++ {
		q := queries[qi*dim : (qi+1)*dim]
		truth := truthSet(vecs, dim, q, k)
		for _, r := range search(q, k, ef) {
			if truth[r.ID] {
				found++
			}
		}
		total += k
	}
	return float64(found) / float64(total)
}

func TestRecallAgainstExact(t *testing.T) {
	const dim = 32
	vecs := randomVectors(3000, dim, 1)
	h := build(vecs, dim, DefaultOptions())
	queries := randomVectors(50, dim, 2)
	tests := []struct {
		k, ef int
		min   float64
	}{{10, 100, 0.9}, {10, 10, 0.5}, {50, 200, 0.9}}
	for _, tt := range tests {
		if r := recallAt(h.Search, vecs, queries, dim, tt.k, tt.ef); r < tt.min {
			t.Errorf("recall@%d with ef=%d = %.3f, want ≥ %.2f", tt.k, tt.ef, r, tt.min)
		}
	}
	// Searching for a stored vector finds itself first.
	for _, id := range []int32{0, 1234, 2999} {
		if got := h.Search(h.vec(id), 1, 50); len(got) != 1 || got[0].ID != id || got[0].Dist != 0 {
			t.Errorf("self search for %d = %+v", id, got)
		}
	}
}

func TestDeterministicForASeed(t *testing.T) {
	vecs := randomVectors(500, 8, 3)
	a, b := build(vecs, 8, DefaultOptions()), build(vecs, 8, DefaultOptions())
	q := randomVectors(1, 8, 4)
	ra, rb := a.Search(q, 20, 40), b.Search(q, 20, 40)
	for i := range ra {
		if ra[i] != rb[i] {
			t.Fatalf("two builds with one seed differ at %d: %+v vs %+v", i, ra[i], rb[i])
		}
	}
}

func TestMIPSFindsLargestInnerProduct(t *testing.T) {
	const dim = 16
	items := randomVectors(2000, dim, 5)
	for i := 0; i < len(items); i += dim * 7 { // uneven norms, as MF produces
		for j := 0; j < dim; j++ {
			items[i+j] *= 3
		}
	}
	tr := NewMIPS(items, dim)
	h := New(dim+1, DefaultOptions())
	for i := 0; i*dim < len(items); i++ {
		h.Add(tr.Item(items[i*dim : (i+1)*dim]))
	}
	agree := 0
	queries := randomVectors(100, dim, 6)
	for qi := 0; qi < 100; qi++ {
		q := queries[qi*dim : (qi+1)*dim]
		best, bestDot := int32(-1), float32(-1e30)
		for i := 0; i*dim < len(items); i++ {
			var dot float32
			for j := 0; j < dim; j++ {
				dot += q[j] * items[i*dim+j]
			}
			if dot > bestDot {
				best, bestDot = int32(i), dot
			}
		}
		if got := h.Search(tr.Query(q), 1, 100); len(got) == 1 && got[0].ID == best {
			agree++
		}
	}
	if agree < 90 {
		t.Errorf("MIPS top-1 agrees with brute force for %d of 100 queries, want ≥ 90", agree)
	}
}

func TestConcurrentSearch(t *testing.T) {
	const dim = 16
	vecs := randomVectors(2000, dim, 7)
	h := build(vecs, dim, DefaultOptions())
	q := randomVectors(1, dim, 8)
	want := h.Search(q, 10, 50)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got := h.Search(q, 10, 50)
				for j := range want {
					if got[j] != want[j] {
						t.Errorf("concurrent search differs: %+v vs %+v", got[j], want[j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestSnapshotRestore(t *testing.T) {
	const dim = 8
	vecs := randomVectors(800, dim, 21)
	h := build(vecs, dim, DefaultOptions())
	r, err := Restore(h.Snapshot(), vecs)
	if err != nil {
		t.Fatal(err)
	}
	q := randomVectors(1, dim, 22)
	a, b := h.Search(q, 15, 40), r.Search(q, 15, 40)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("restored graph answers differently at %d: %+v vs %+v", i, a[i], b[i])
		}
	}
	bad := h.Snapshot()
	if _, err := Restore(bad, vecs[:len(vecs)-dim]); err == nil {
		t.Error("a snapshot was restored over too few vectors")
	}
	bad.Links = append([][][]int32{{{9999}}}, bad.Links[1:]...)
	if _, err := Restore(bad, vecs); err == nil {
		t.Error("a snapshot with a dangling link was restored")
	}
}

func TestBuildOnOneWorkerIsAdd(t *testing.T) {
	vecs := randomVectors(800, 8, 6)
	added, built := build(vecs, 8, DefaultOptions()), Build(vecs, 8, DefaultOptions(), 1, nil)
	a, b := added.Snapshot(), built.Snapshot()
	if a.Entry != b.Entry || a.MaxLevel != b.MaxLevel || !reflect.DeepEqual(a.Links, b.Links) {
		t.Fatalf("Build on one worker differs from Add: entry %d/%d, max level %d/%d", a.Entry, b.Entry, a.MaxLevel, b.MaxLevel)
	}
}

func TestBuildOnManyWorkersKeepsRecall(t *testing.T) {
	const dim = 32
	vecs := randomVectors(3000, dim, 1)
	var reported []int
	h := Build(vecs, dim, DefaultOptions(), 4, func(done int) { reported = append(reported, done) })
	if h.Len() != 3000 || len(reported) == 0 || reported[len(reported)-1] != 3000 {
		t.Fatalf("built %d nodes, progress %v", h.Len(), reported)
	}
	if _, err := Restore(h.Snapshot(), vecs); err != nil {
		t.Fatalf("the built graph does not restore: %v", err)
	}
	queries := randomVectors(50, dim, 2)
	for _, tt := range []struct {
		k, ef int
		min   float64
	}{{10, 100, 0.9}, {50, 200, 0.9}} {
		if r := recallAt(h.Search, vecs, queries, dim, tt.k, tt.ef); r < tt.min {
			t.Errorf("recall@%d with ef=%d = %.3f, want ≥ %.2f", tt.k, tt.ef, r, tt.min)
		}
	}
}

// A graph restored from a snapshot (which keeps no distances) still takes
// new vectors.
func TestAddAfterRestore(t *testing.T) {
	const dim = 8
	vecs := randomVectors(300, dim, 5)
	g := Build(vecs, dim, DefaultOptions(), 2, nil)
	r, err := Restore(g.Snapshot(), vecs)
	if err != nil {
		t.Fatal(err)
	}
	extra := randomVectors(50, dim, 6)
	for i := range 50 {
		r.Add(extra[i*dim : (i+1)*dim])
	}
	all := append(slices.Clone(vecs), extra...)
	hits := 0
	for i := range 50 {
		q := extra[i*dim : (i+1)*dim]
		if got := r.Search(q, 1, 50); len(got) == 1 && got[0].ID == Exact(all, dim, q, 1)[0].ID {
			hits++
		}
	}
	if hits < 48 {
		t.Errorf("%d of 50 added vectors found as their own nearest", hits)
	}
}
