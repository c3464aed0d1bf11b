package ann_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/ann"
	"github.com/recmesh/recmesh/pkg/ann/annbench"
)

// BenchmarkANN is the ANN table on a structured set: RECMESH_ANN_N items
// (20,000 unless set; the README's table is 1,000,000) and 200 users of
// 64 dimensions from a latent model of rank 16 (annbench.LowRank), through
// the MIPS transform. RECMESH_ANN_EF lists the search list sizes,
// RECMESH_ANN_EFC and RECMESH_ANN_M set the graph's; RECMESH_ANN_LIBRARY=0
// leaves coder/hnsw out (it builds on one core).
//
//	RECMESH_ANN_N=1000000 go test -run '^$' -bench ANN -benchtime 1x -timeout 3h ./ann
func BenchmarkANN(b *testing.B) {
	n := envInt(b, "RECMESH_ANN_N", 20_000)
	efs := []int{100, 150, 200, 300, 400}
	if v := os.Getenv("RECMESH_ANN_EF"); v != "" {
		efs = nil
		for _, f := range strings.Split(v, ",") {
			efs = append(efs, atoi(b, f))
		}
	}
	items, users := annbench.LowRank(n, 200, 64, 16, 1)
	s := annbench.MIPS("low-rank 64-d", items, 64, users)
	b.Logf("%d cores", runtime.GOMAXPROCS(0))
	g := ann.DefaultOptions()
	g.EfConstruction = envInt(b, "RECMESH_ANN_EFC", g.EfConstruction)
	g.M = envInt(b, "RECMESH_ANN_M", g.M)
	annbench.Run(b, s, annbench.Options{Efs: efs, Graph: g, Library: os.Getenv("RECMESH_ANN_LIBRARY") != "0"})
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		return atoi(b, v)
	}
	return def
}

func atoi(b *testing.B, s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		b.Fatalf("%q: want a positive integer", s)
	}
	return n
}
