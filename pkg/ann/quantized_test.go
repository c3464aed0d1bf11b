package ann

import (
	"math"
	"slices"
	"sync"
	"testing"
)

func TestPQDistanceIsDistanceToTheDecodedVector(t *testing.T) {
	for _, m := range []int{16, 8} { // 16 takes the unrolled path
		const dim = 32
		vecs := randomVectors(2000, dim, 31)
		pq, err := TrainPQ(vecs, dim, PQOptions{M: m, Iters: 4, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		q := randomVectors(1, dim, 32)
		tab := make([]float32, m*pqCentroids)
		pq.Table(q, tab)
		code, back := make([]byte, m), make([]float32, dim)
		var errSum, distSum float64
		for i := 0; i < 200; i++ {
			v := vecs[i*dim : (i+1)*dim]
			pq.Encode(v, code)
			pq.Decode(code, back)
			want, got := Distance(q, back), pq.Distance(tab, code)
			if math.Abs(float64(got-want)) > 1e-3*float64(want) {
				t.Fatalf("M=%d: table distance %v, distance to the decoded vector %v", m, got, want)
			}
			// The code is each sub-vector's nearest centroid.
			for s := 0; s < m; s++ {
				sub := dim / m
				if c := nearest(pq.space(s), sub, v[s*sub:(s+1)*sub]); c != int(code[s]) {
					t.Fatalf("M=%d: sub-vector %d coded %d, nearest centroid is %d", m, s, code[s], c)
				}
			}
			errSum += float64(Distance(v, back))
			distSum += float64(Distance(v, q))
		}
		// Quantization keeps most of the geometry: the reconstruction error
		// is a small share of a typical distance.
		if ratio := errSum / distSum; ratio > 0.25 {
			t.Errorf("M=%d: reconstruction error is %.2f of a typical distance", m, ratio)
		}
	}
}

func TestTrainPQRefusesBadInput(t *testing.T) {
	vecs := randomVectors(100, 8, 1)
	for name, f := range map[string]func() (*PQ, error){
		"M does not divide dim": func() (*PQ, error) { return TrainPQ(vecs, 8, PQOptions{M: 3}) },
		"zero M":                func() (*PQ, error) { return TrainPQ(vecs, 8, PQOptions{}) },
		"ragged vectors":        func() (*PQ, error) { return TrainPQ(vecs[:13], 8, PQOptions{M: 4}) },
		"no vectors":            func() (*PQ, error) { return TrainPQ(nil, 8, PQOptions{M: 4}) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: trained without an error", name)
		}
	}
	// Fewer vectors than centroids is fine: codes reuse the few there are.
	pq, err := TrainPQ(vecs[:10*8], 8, PQOptions{M: 4})
	if err != nil {
		t.Fatal(err)
	}
	code := make([]byte, 4)
	pq.Encode(vecs[:8], code)
	back := make([]float32, 8)
	pq.Decode(code, back)
	if d := Distance(vecs[:8], back); d > 1e-6 {
		t.Errorf("a training vector is %v from its own code", d)
	}
}

func TestTrainPQDeterministicForASeed(t *testing.T) {
	vecs := randomVectors(3000, 16, 5)
	a, _ := TrainPQ(vecs, 16, PQOptions{M: 4, Sample: 1000, Iters: 3, Seed: 9})
	b, _ := TrainPQ(vecs, 16, PQOptions{M: 4, Sample: 1000, Iters: 3, Seed: 9})
	c, _ := TrainPQ(vecs, 16, PQOptions{M: 4, Sample: 1000, Iters: 3, Seed: 10})
	if !slices.Equal(a.cents, b.cents) {
		t.Error("the same seed trained different quantizers")
	}
	if slices.Equal(a.cents, c.cents) {
		t.Error("different seeds trained the same quantizer")
	}
}

func TestQuantizedSearch(t *testing.T) {
	const dim, k = 32, 20
	vecs := randomVectors(4000, dim, 41)
	g := build(vecs, dim, DefaultOptions())
	x, err := NewQuantized(g, PQOptions{M: 16, Iters: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	queries := randomVectors(40, dim, 42)
	recall, plainRecall := recallAt(x.Search, vecs, queries, dim, k, 120), recallAt(g.Search, vecs, queries, dim, k, 120)
	t.Logf("recall@%d: quantized %.3f, plain graph %.3f", k, recall, plainRecall)
	if recall < 0.9 || recall < plainRecall-0.03 {
		t.Errorf("quantized recall@%d = %.3f (plain graph %.3f), want ≥ 0.9 and within 0.03", k, recall, plainRecall)
	}
	// Distances are exact, and each list is nearest first.
	for qi := 0; qi*dim < len(queries); qi++ {
		q := queries[qi*dim : (qi+1)*dim]
		got := x.Search(q, k, 120)
		if len(got) != k {
			t.Fatalf("got %d results, want %d", len(got), k)
		}
		for i, r := range got {
			if want := Distance(q, vecs[int(r.ID)*dim:int(r.ID+1)*dim]); r.Dist != want {
				t.Fatalf("result %d: distance %v, exact %v", i, r.Dist, want)
			}
			if i > 0 && byDist(got[i-1], r) > 0 {
				t.Fatalf("results out of order at %d", i)
			}
		}
	}
	// Concurrent searches share nothing but the pool: each gives the
	// sequential answer.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for qi := w; qi < 40; qi += 4 {
				q := queries[qi*dim : (qi+1)*dim]
				if a, b := x.Search(q, k, 60), x.Search(q, k, 60); !slices.Equal(a, b) {
					t.Errorf("query %d: two searches disagree", qi)
				}
			}
		}()
	}
	wg.Wait()
	// A stored vector finds itself first.
	if r := x.Search(vecs[7*dim:8*dim], 1, 50); len(r) != 1 || r[0].ID != 7 || r[0].Dist != 0 {
		t.Errorf("searching for vector 7 gave %+v", r)
	}
	if r := x.Search(queries[:dim], 0, 50); r != nil {
		t.Errorf("k=0 gave %+v", r)
	}
}
