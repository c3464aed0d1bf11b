package offline

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/recmesh/recmesh/pkg/movielens"
)

// BenchmarkTrainMovieLens fits every artifact on ml-latest-small and
// reports the process's peak resident memory.
//
//	go test -run '^$' -bench TrainMovieLens -benchtime 3x ./internal/offline
func BenchmarkTrainMovieLens(b *testing.B) {
	ds, err := movielens.Load("../../../../data/movielens-small")
	if err != nil {
		b.Fatal(err)
	}
	items, events := ds.Items(), ds.Events()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Fit(context.Background(), items, events, DefaultTrainOptions()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if mb, ok := peakRSSMB(); ok {
		b.ReportMetric(mb, "peak-RSS-MB")
	}
}

// peakRSSMB reads VmHWM, the resident-set high-water mark, from /proc.
func peakRSSMB() (float64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}
