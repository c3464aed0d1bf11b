package load

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what a run measured. Latencies are in milliseconds.
type Result struct {
	Mode        string  `json:"mode"` // "closed" or "open"
	Connections int     `json:"connections"`
	Rate        float64 `json:"rate,omitempty"` // open loop's target, per second
	Seconds     float64 `json:"seconds"`
	Sent        int     `json:"sent"`
	// Throughput counts every answer; Goodput only whole ones (200, not
	// degraded, a full page).
	Throughput float64 `json:"throughput_rps"`
	Goodput    float64 `json:"goodput_rps"`
	Latency    Latency `json:"latency_ms"`
	// OKLatency is the latency of 200 replies only: what an admitted request saw.
	OKLatency Latency `json:"ok_latency_ms"`
	// Codes counts answers by HTTP status, or "timeout" and "transport" for
	// requests that got none.
	Codes map[string]int `json:"codes"`
	// DegradedReplies counts 200 replies that named any degraded hop;
	// Degraded counts them per hop (a reply may name several).
	DegradedReplies int `json:"degraded_replies"`
	// ShortReplies counts 200 replies with fewer items than asked (n):
	// a user with little left to show, which a feed sees as a gap.
	ShortReplies  int            `json:"short_replies"`
	DegradedShare float64        `json:"degraded_share"`
	Degraded      map[string]int `json:"degraded"`
	// Percentiles is the latency curve for the plot: percentile → ms.
	Percentiles []Point `json:"percentiles"`

	hist, okHist *hdrhistogram.Histogram
	n            int // items asked per request
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Point is one point of the latency curve.
type Point struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

func newHist() *hdrhistogram.Histogram {
	// 1 µs to 2 minutes, 3 significant digits.
	return hdrhistogram.New(1, int64(2*time.Minute/time.Microsecond), 3)
}

func newResult(cfg Config) *Result {
	mode := "closed"
	if cfg.Rate > 0 {
		mode = "open"
	}
	return &Result{Mode: mode, Connections: cfg.Connections, Rate: cfg.Rate,
		Codes: map[string]int{}, Degraded: map[string]int{}, hist: newHist(), okHist: newHist(), n: cfg.N}
}

func (r *Result) add(o outcome) {
	r.Sent++
	r.Codes[o.code]++
	us := max(o.latency.Microseconds(), 1)
	_ = r.hist.RecordValue(us) // beyond two minutes is clamped out; the timeout is far below
	if o.code != "200" {
		return
	}
	_ = r.okHist.RecordValue(us)
	if len(o.degraded) > 0 {
		r.DegradedReplies++
	} else if o.items < r.n {
		r.ShortReplies++
	}
	for _, h := range o.degraded {
		r.Degraded[h]++
	}
}

func summary(h *hdrhistogram.Histogram) Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)),
		P99: ms(h.ValueAtQuantile(99)), P999: ms(h.ValueAtQuantile(99.9)),
		Max: ms(h.Max()), Mean: h.Mean() / 1000}
}

func (r *Result) finish(d time.Duration) {
	r.Seconds = d.Seconds()
	answered := r.Sent - r.Codes["timeout"] - r.Codes["transport"]
	r.Throughput = float64(answered) / max(r.Seconds, 1e-9)
	r.Goodput = float64(r.Codes["200"]-r.DegradedReplies-r.ShortReplies) / max(r.Seconds, 1e-9)
	if ok := r.Codes["200"]; ok > 0 {
		r.DegradedShare = float64(r.DegradedReplies) / float64(ok)
	}
	r.Latency, r.OKLatency = summary(r.hist), summary(r.okHist)
	r.Percentiles = r.Percentiles[:0]
	for _, p := range curve {
		r.Percentiles = append(r.Percentiles, Point{p, float64(r.hist.ValueAtQuantile(p)) / 1000})
	}
}

// curve is where the latency curve is sampled: evenly on a log scale of
// 1/(1-p), as HdrHistogram plots are.
var curve = []float64{0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100}

// Errors is the number of requests not answered 200.
func (r *Result) Errors() int { return r.Sent - r.Codes["200"] }

// WriteText prints the result as a table.
func (r *Result) WriteText(w io.Writer) {
	loop := fmt.Sprintf("closed loop, %d connections", r.Connections)
	if r.Mode == "open" {
		loop = fmt.Sprintf("open loop, %.0f/s target, at most %d in flight", r.Rate, r.Connections)
	}
	fmt.Fprintf(w, "%s, %.1fs\n", loop, r.Seconds)
	fmt.Fprintf(w, "  requests    %d sent, %.1f/s answered, %.1f/s whole (200, not degraded, a full page)\n", r.Sent, r.Throughput, r.Goodput)
	l := r.Latency
	fmt.Fprintf(w, "  latency ms  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n", l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	fmt.Fprintf(w, "  codes       %s\n", counts(r.Codes))
	fmt.Fprintf(w, "  degraded    %d of %d replies (%.2f%%)", r.DegradedReplies, r.Codes["200"], 100*r.DegradedShare)
	if len(r.Degraded) > 0 {
		fmt.Fprintf(w, ": %s", counts(r.Degraded))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  short       %d of %d replies had fewer items than asked\n", r.ShortReplies, r.Codes["200"])
}

// counts prints a map as "k=v k=v" in key order.
func counts(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// WriteRatios prints other's figures as multiples of base's: the mesh tax
// when base is the embedded mode and other the dev mode.
func WriteRatios(w io.Writer, base, other Series) {
	ratio := func(a, b float64) string {
		if a == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", b/a)
	}
	b, o := base.Result, other.Result
	fmt.Fprintf(w, "%s against %s:\n", other.Label, base.Label)
	fmt.Fprintf(w, "  throughput  %s\n", ratio(b.Throughput, o.Throughput))
	fmt.Fprintf(w, "  goodput     %s\n", ratio(b.Goodput, o.Goodput))
	fmt.Fprintf(w, "  p50         %s\n", ratio(b.Latency.P50, o.Latency.P50))
	fmt.Fprintf(w, "  p99         %s\n", ratio(b.Latency.P99, o.Latency.P99))
	fmt.Fprintf(w, "  degraded    %.2f%% against %.2f%%\n", 100*o.DegradedShare, 100*b.DegradedShare)
}

// WriteTable prints pairs of runs (base, other: the embedded and the dev
// mode at one load level each) one level a row: each side's throughput,
// p50, p99 and degraded share, and other's p99 and throughput as
// multiples of base's.
func WriteTable(w io.Writer, pairs [][2]Series) {
	if len(pairs) == 0 {
		return
	}
	b, o := pairs[0][0].Label, pairs[0][1].Label
	fmt.Fprintf(w, "%-12s | %-34s | %-34s | %s against %s\n", "load", b, o, o, b)
	fmt.Fprintf(w, "%-12s | %8s %7s %7s %9s | %8s %7s %7s %9s | %7s %10s\n", "", "req/s", "p50 ms", "p99 ms", "degraded",
		"req/s", "p50 ms", "p99 ms", "degraded", "p99", "throughput")
	side := func(r *Result) string {
		return fmt.Sprintf("%8.0f %7.2f %7.2f %8.2f%%", r.Throughput, r.Latency.P50, r.Latency.P99, 100*r.DegradedShare)
	}
	ratio := func(a, b float64) string {
		if a == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", b/a)
	}
	for _, p := range pairs {
		br, or := p[0].Result, p[1].Result
		level := fmt.Sprintf("%d conns", br.Connections)
		if br.Mode == "open" {
			level = fmt.Sprintf("%.0f/s", br.Rate)
		}
		fmt.Fprintf(w, "%-12s | %s | %s | %7s %10s\n", level, side(br), side(or), ratio(br.Latency.P99, or.Latency.P99), ratio(br.Throughput, or.Throughput))
	}
}
