// Package annbench measures approximate nearest-neighbour search on one
// set of vectors, side by side and in one run: recmesh's HNSW graph
// (pkg/ann) and github.com/coder/hnsw,
// each against exact search, the reference. The sets are what the
// embedding channel searches: item vectors through the MIPS transform,
// queried with user vectors.
package annbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/hnsw"

	"github.com/recmesh/recmesh/pkg/ann"
)

// TruthK is the length of the exact lists recall is measured against.
const TruthK = 100

// Set is the vectors an index is built over and the queries it is asked,
// with the exact answers.
type Set struct {
	Name    string
	Dim     int
	Items   []float32 // n × Dim, in id order
	Queries [][]float32
	// Truth are each query's exact TruthK nearest item ids, nearest first.
	Truth [][]int32
}

// Len is the number of items.
func (s *Set) Len() int { return len(s.Items) / s.Dim }

// LowRank draws n item vectors and q user vectors of dim values from a
// latent model of the given rank: a latent vector z (a cluster centre of
// 64, plus spread) maps to dim values through one random projection, plus
// a little noise of full rank. Items' latent norms vary (lognormal), as
// popular items' do in trained embeddings. It is what trained MF vectors
// look like, and not i.i.d. noise, the worst case for any index.
func LowRank(n, q, dim, rank int, seed uint64) (items []float32, users [][]float32) {
	rng := rand.New(rand.NewPCG(seed, 0x1a7e47))
	proj := make([]float64, dim*rank)
	for i := range proj {
		proj[i] = rng.NormFloat64() / math.Sqrt(float64(rank))
	}
	const clusters = 64
	centres := make([]float64, clusters*rank)
	for i := range centres {
		centres[i] = rng.NormFloat64()
	}
	z := make([]float64, rank)
	draw := func(out []float32, scale float64) {
		c := rng.IntN(clusters)
		for k := range z {
			z[k] = scale * (centres[c*rank+k] + 0.7*rng.NormFloat64())
		}
		for d := range out {
			v := 0.0
			for k, zk := range z {
				v += proj[d*rank+k] * zk
			}
			out[d] = float32(v + 0.05*rng.NormFloat64())
		}
	}
	items = make([]float32, n*dim)
	for i := range n {
		draw(items[i*dim:(i+1)*dim], math.Exp(0.3*rng.NormFloat64()))
	}
	for range q {
		u := make([]float32, dim)
		draw(u, 1)
		users = append(users, u)
	}
	return items, users
}

// MIPS is the set the embedding channel searches for items (n × dim) and
// users: the items and queries through ann's MIPS transform, so the
// nearest item is the one with the largest inner product. Its exact
// answers are computed on every core.
func MIPS(name string, items []float32, dim int, users [][]float32) *Set {
	t := ann.NewMIPS(items, dim)
	s := &Set{Name: name, Dim: dim + 1, Items: make([]float32, 0, len(items)/dim*(dim+1))}
	for i := 0; i*dim < len(items); i++ {
		s.Items = append(s.Items, t.Item(items[i*dim:(i+1)*dim])...)
	}
	for _, u := range users {
		s.Queries = append(s.Queries, t.Query(u))
	}
	s.Truth = make([][]int32, len(s.Queries))
	parallel(len(s.Queries), func(i int) {
		for _, r := range ann.Exact(s.Items, s.Dim, s.Queries[i], TruthK) {
			s.Truth[i] = append(s.Truth[i], r.ID)
		}
	})
	return s
}

// Options say what Run measures.
type Options struct {
	// Efs are the search list sizes tried on each graph (each at least TruthK).
	Efs []int
	// Graph builds recmesh's graphs (zero: ann.DefaultOptions()).
	Graph ann.Options
	// Library adds github.com/coder/hnsw, built on one core (its Add is
	// not safe for concurrent use).
	Library bool
}

// Run measures, as sub-benchmarks: exact search; each index's build (on
// every core where it can) with its memory per vector; and each index's
// search of TruthK neighbours at every ef on one goroutine, with recall@10
// and recall@100 against the exact lists. An op is a build, or one pass
// over the queries (ns/query and queries/s are reported); run it with
// -benchtime 1x, or -count for medians.
// Memory is the graph's, per vector: the vectors themselves (4·Dim bytes
// each) are the same for every index.
func Run(b *testing.B, s *Set, o Options) {
	if o.Graph == (ann.Options{}) {
		o.Graph = ann.DefaultOptions()
	}
	b.Logf("%s: %d items of %d dimensions (MIPS-augmented), %d queries", s.Name, s.Len(), s.Dim, len(s.Queries))
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			for _, q := range s.Queries {
				ann.Exact(s.Items, s.Dim, q, TruthK)
			}
		}
		perQuery(b, len(s.Queries))
	})
	var g *ann.HNSW
	b.Run("recmesh/build", func(b *testing.B) {
		before := heap()
		for b.Loop() {
			g = ann.Build(s.Items, s.Dim, o.Graph, runtime.GOMAXPROCS(0), nil)
		}
		// Build copies the vectors; the library keeps the caller's.
		b.ReportMetric(float64(heap()-before)/float64(s.Len())-float64(4*s.Dim), "graph-B/vector")
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "cores")
	})
	for _, ef := range o.Efs {
		b.Run(fmt.Sprintf("recmesh/ef=%d", ef), func(b *testing.B) {
			search(b, s, func(q []float32) []int32 { return ids(g.Search(q, TruthK, ef)) })
		})
	}
	if o.Library {
		var lib *hnsw.Graph[int32]
		b.Run("coder-hnsw/build", func(b *testing.B) {
			before := heap()
			for b.Loop() {
				lib = libraryGraph(s, o.Graph)
			}
			b.ReportMetric(float64(heap()-before)/float64(s.Len()), "graph-B/vector")
			b.ReportMetric(1, "cores")
		})
		for _, ef := range o.Efs {
			b.Run(fmt.Sprintf("coder-hnsw/ef=%d", ef), func(b *testing.B) {
				lib.EfSearch = ef
				search(b, s, func(q []float32) []int32 {
					nodes := lib.Search(q, TruthK)
					out := make([]int32, len(nodes))
					for i, n := range nodes {
						out[i] = n.Key
					}
					return out
				})
			})
		}
	}
}

// libraryGraph builds coder/hnsw's graph over s with recmesh's settings
// (o): M, the search list while building (its EfSearch serves both),
// levels at 1/ln M, squared Euclidean distance, a fixed seed.
func libraryGraph(s *Set, o ann.Options) *hnsw.Graph[int32] {
	g := hnsw.NewGraph[int32]()
	g.M, g.Ml, g.EfSearch = o.M, 1/math.Log(float64(o.M)), o.EfConstruction
	g.Distance = ann.Distance
	g.Rng.Seed(1)
	for i := range s.Len() {
		g.Add(hnsw.MakeNode(int32(i), s.Items[i*s.Dim:(i+1)*s.Dim]))
	}
	return g
}

// perQuery reports a loop over the queries as one query's time and queries
// a second on one goroutine.
func perQuery(b *testing.B, queries int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N*queries)
	b.ReportMetric(ns, "ns/query")
	b.ReportMetric(1e9/ns, "queries/s")
}

// search times find over every query (one op), and reports its recall
// at 10 and TruthK (measured once, before timing).
func search(b *testing.B, s *Set, find func(q []float32) []int32) {
	var r10, r100 float64
	for i, q := range s.Queries {
		got := find(q)
		r10 += overlap(got[:min(10, len(got))], s.Truth[i][:10]) / 10
		r100 += overlap(got, s.Truth[i]) / TruthK
	}
	for b.Loop() {
		for _, q := range s.Queries {
			find(q)
		}
	}
	perQuery(b, len(s.Queries))
	b.ReportMetric(r10/float64(len(s.Queries)), "recall@10")
	b.ReportMetric(r100/float64(len(s.Queries)), "recall@100")
}

func overlap(got, want []int32) float64 {
	n := 0
	for _, id := range got {
		if slices.Contains(want, id) {
			n++
		}
	}
	return float64(n)
}

func ids(rs []ann.Result) []int32 {
	out := make([]int32, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// heap is the live heap after a collection.
func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// parallel runs f(0..n-1) on every core.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}
