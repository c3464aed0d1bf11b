package offline

import (
	"math"
	"strings"
	"testing"
)

func TestPairedT(t *testing.T) {
	// d = 1, 0, 2, -1, 2: t = 0.8 / (√1.7 / √5); the two-sided p-value for
	// 4 degrees of freedom by numerical integration of the t density is 0.24198.
	tt, p := PairedT([]float64{1, 2, 3, 4, 5}, []float64{0, 2, 1, 5, 3})
	if math.Abs(tt-1.371989) > 1e-5 || math.Abs(p-0.241982) > 1e-5 {
		t.Errorf("t = %v, p = %v; want 1.371989, 0.241982", tt, p)
	}
	if _, p := PairedT([]float64{1, 2}, []float64{1, 2}); p != 1 {
		t.Errorf("equal samples: p = %v, want 1", p)
	}
	if _, p := PairedT([]float64{1}, []float64{0}); !math.IsNaN(p) {
		t.Errorf("one pair: p = %v, want NaN", p)
	}
}

func TestSummariseAndCompare(t *testing.T) {
	run := func(pipe, cf float64, users ...float64) []MethodResult {
		ndcg := func(v float64) []float64 { n := make([]float64, 11); n[10] = v; return n }
		return []MethodResult{
			{Name: "item_cf", NDCG: ndcg(cf), HR10: cf, UserNDCG10: []float64{cf, cf, cf}, UserHR10: []float64{cf, cf, cf}},
			{Name: MethodPipeline, NDCG: ndcg(pipe), HR10: pipe, UserNDCG10: users, UserHR10: users},
		}
	}
	sums := Summarise([][]MethodResult{run(0.3, 0.2, 0.2, 0.3, 0.4), run(0.1, 0.2, 0.0, 0.1, 0.2)})
	p := sums[1]
	if p.NDCG10.Mean != 0.2 || math.Abs(p.NDCG10.SD-math.Sqrt(0.02)) > 1e-12 || p.UserNDCG10[2] != 0.30000000000000004 && p.UserNDCG10[2] != 0.3 {
		t.Errorf("summary %+v", p)
	}
	cs := Compare(sums, MethodPipeline, []string{"item_cf", "missing"})
	if len(cs) != 2 || cs[0].Metric != "NDCG@10" || cs[0].Lost != 1 || math.Abs(cs[0].Ratio-1) > 1e-12 {
		t.Errorf("comparisons %+v", cs)
	}
	if table := SummaryTable(sums, 50); !strings.Contains(table, "| item_cf (best single) | 1.000× |") || !strings.Contains(table, "0.2000 ± 0.1414") {
		t.Errorf("table:\n%s", table)
	}
}
