package load

import (
	"fmt"
	"html"
	"io"
	"math"
)

// Series is one labelled result on a plot.
type Series struct {
	Label  string
	Result *Result
}

// palette colours the series in order.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"}

// WriteSVG draws the latency curves of the series: latency (ms) against the
// percentile, spread on a log scale of 1/(1-p) so the tail is readable.
func WriteSVG(w io.Writer, series ...Series) error {
	const W, H, left, right, top, bottom = 720.0, 420.0, 64.0, 16.0, 24.0, 48.0
	xOf := func(p float64) float64 { return math.Log10(1 / (1 - math.Min(p, 99.99)/100)) } // 0…4
	maxMs := 1.0
	for _, s := range series {
		for _, pt := range s.Result.Percentiles {
			maxMs = math.Max(maxMs, pt.Ms)
		}
	}
	maxMs = niceCeil(maxMs)
	px := func(x float64) float64 { return left + x/4*(W-left-right) }
	py := func(ms float64) float64 { return H - bottom - ms/maxMs*(H-top-bottom) }
	var err error
	out := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	out(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", W, H)
	out(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	for i, label := range []string{"0%", "90%", "99%", "99.9%", "99.99%"} {
		x := px(float64(i))
		out(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			x, top, x, H-bottom, x, H-bottom+16, label)
	}
	for i := 0; i <= 4; i++ {
		ms := maxMs * float64(i) / 4
		y := py(ms)
		out(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="end">%g</text>`+"\n",
			left, y, W-right, y, left-6, y+4, ms)
	}
	out(`<text x="%.1f" y="%.1f" text-anchor="middle">percentile</text>`+"\n", (W+left)/2, H-12)
	out(`<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" text-anchor="middle">latency (ms)</text>`+"\n", (H)/2, H/2)
	for i, s := range series {
		colour := palette[i%len(palette)]
		out(`<polyline fill="none" stroke="%s" stroke-width="2" points="`, colour)
		for _, pt := range s.Result.Percentiles {
			out("%.1f,%.1f ", px(xOf(pt.Percentile)), py(pt.Ms))
		}
		out(`"/>` + "\n")
		out(`<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", left+8, top+14+float64(i)*16, colour, html.EscapeString(s.Label))
	}
	out("</svg>\n")
	return err
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
