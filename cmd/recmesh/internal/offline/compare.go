package offline

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/recmesh/recmesh/services/recall"
)

// Stat is a mean and its sample standard deviation over runs (0 for one run).
type Stat struct{ Mean, SD float64 }

func statOf(xs []float64) Stat {
	var s Stat
	for _, x := range xs {
		s.Mean += x
	}
	s.Mean /= float64(len(xs))
	if len(xs) > 1 {
		for _, x := range xs {
			s.SD += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(s.SD / float64(len(xs)-1))
	}
	return s
}

func (s Stat) String() string { return fmt.Sprintf("%.4f ± %.4f", s.Mean, s.SD) }

// Summary is one method's scores over several runs (seeds) on one split.
type Summary struct {
	Name                              string
	NDCG10, HR10, RecallMax, Coverage Stat
	// Runs holds each run's result, in seed order.
	Runs []MethodResult
	// UserNDCG10 and UserHR10 are each tested user's scores, averaged
	// over the runs: the pairs a significance test compares.
	UserNDCG10, UserHR10 []float64
}

// MeanNDCG is the mean NDCG@k curve over the runs, for the plot.
func (s Summary) MeanNDCG() MethodResult {
	m := MethodResult{Name: s.Name, NDCG: make([]float64, len(s.Runs[0].NDCG))}
	for _, r := range s.Runs {
		for k, v := range r.NDCG {
			m.NDCG[k] += v / float64(len(s.Runs))
		}
	}
	return m
}

// Summarise folds runs (each Evaluate's results, one per seed, the same
// methods in the same order, on the same split) into one summary per
// method.
func Summarise(runs [][]MethodResult) []Summary {
	out := make([]Summary, len(runs[0]))
	for i := range out {
		var ndcg, hr, rec, cov []float64
		s := &out[i]
		s.Name = runs[0][i].Name
		for _, run := range runs {
			r := run[i]
			s.Runs = append(s.Runs, r)
			ndcg, hr, rec, cov = append(ndcg, r.NDCG[min(10, len(r.NDCG)-1)]), append(hr, r.HR10), append(rec, r.RecallMax), append(cov, r.Coverage)
		}
		s.NDCG10, s.HR10, s.RecallMax, s.Coverage = statOf(ndcg), statOf(hr), statOf(rec), statOf(cov)
		s.UserNDCG10 = meanOverRuns(s.Runs, func(r MethodResult) []float64 { return r.UserNDCG10 })
		s.UserHR10 = meanOverRuns(s.Runs, func(r MethodResult) []float64 { return r.UserHR10 })
	}
	return out
}

func meanOverRuns(runs []MethodResult, of func(MethodResult) []float64) []float64 {
	out := make([]float64, len(of(runs[0])))
	for _, r := range runs {
		for u, v := range of(r) {
			out[u] += v / float64(len(runs))
		}
	}
	return out
}

// Comparison is a method against another on one metric.
type Comparison struct {
	Method, Against, Metric string
	// Ratio is the method's mean over the other's.
	Ratio float64
	// P is the two-sided p-value of a paired t-test over users (each
	// user's score averaged over the runs) that the means are equal.
	P float64
	// Lost counts the runs in which the method scored below the other.
	Lost int
}

// Compare sets method against each of others, on NDCG@10 and HR@10.
func Compare(sums []Summary, method string, others []string) []Comparison {
	find := func(name string) *Summary {
		i := slices.IndexFunc(sums, func(s Summary) bool { return s.Name == name })
		if i < 0 {
			return nil
		}
		return &sums[i]
	}
	m := find(method)
	if m == nil {
		return nil
	}
	var out []Comparison
	for _, name := range others {
		o := find(name)
		if o == nil {
			continue
		}
		for _, metric := range []struct {
			name  string
			mean  func(*Summary) float64
			users func(*Summary) []float64
			run   func(MethodResult) float64
		}{
			{"NDCG@10", func(s *Summary) float64 { return s.NDCG10.Mean }, func(s *Summary) []float64 { return s.UserNDCG10 },
				func(r MethodResult) float64 { return r.NDCG[min(10, len(r.NDCG)-1)] }},
			{"HR@10", func(s *Summary) float64 { return s.HR10.Mean }, func(s *Summary) []float64 { return s.UserHR10 },
				func(r MethodResult) float64 { return r.HR10 }},
		} {
			c := Comparison{Method: method, Against: name, Metric: metric.name, Ratio: metric.mean(m) / metric.mean(o)}
			_, c.P = PairedT(metric.users(m), metric.users(o))
			for k := range m.Runs {
				if metric.run(m.Runs[k]) < metric.run(o.Runs[k]) {
					c.Lost++
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// PairedT is the paired t-test of a against b: the statistic and its
// two-sided p-value (NaN below two pairs; 1 when every difference is 0).
func PairedT(a, b []float64) (t, p float64) {
	n := len(a)
	if n < 2 || len(b) != n {
		return math.NaN(), math.NaN()
	}
	d := make([]float64, n)
	for i := range a {
		d[i] = a[i] - b[i]
	}
	s := statOf(d)
	if s.SD == 0 {
		if s.Mean == 0 {
			return 0, 1
		}
		return math.Inf(int(math.Copysign(1, s.Mean))), 0
	}
	t = s.Mean / (s.SD / math.Sqrt(float64(n)))
	return t, 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Survival(math.Abs(t))
}

// SingleMethods are the rows of one recall channel alone.
func SingleMethods() []string { return recall.OfflineChannelNames() }

// BestSingle is the single method with the highest mean NDCG@10.
func BestSingle(sums []Summary) string {
	best, score := "", -1.0
	for _, s := range sums {
		if slices.Contains(SingleMethods(), s.Name) && s.NDCG10.Mean > score {
			best, score = s.Name, s.NDCG10.Mean
		}
	}
	return best
}

// SummaryTable renders the summaries (mean ± sd over the runs) and the
// pipeline against every single method and the union, as markdown.
func SummaryTable(sums []Summary, maxK int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| method | NDCG@10 | HR@10 | Recall@%d | coverage@10 |\n|---|---|---|---|---|\n", maxK)
	for _, s := range sums {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", s.Name, s.NDCG10, s.HR10, s.RecallMax, s.Coverage)
	}
	cs := Compare(sums, MethodPipeline, append(SingleMethods(), MethodRecallUnion))
	if len(cs) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "\n%s against each method, over %d run(s) (paired t-test over users; \"lost\" counts runs it scored lower):\n\n", MethodPipeline, len(sums[0].Runs))
	b.WriteString("| against | NDCG@10 ratio | p | lost | HR@10 ratio | p | lost |\n|---|---|---|---|---|---|---|\n")
	best := BestSingle(sums)
	for i := 0; i+1 < len(cs); i += 2 {
		n, h := cs[i], cs[i+1]
		name := n.Against
		if name == best {
			name += " (best single)"
		}
		fmt.Fprintf(&b, "| %s | %.3f× | %s | %d | %.3f× | %s | %d |\n", name, n.Ratio, pValue(n.P), n.Lost, h.Ratio, pValue(h.P), h.Lost)
	}
	return b.String()
}

func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 1e-4:
		return fmt.Sprintf("%.0e", p)
	}
	return fmt.Sprintf("%.4f", p)
}
