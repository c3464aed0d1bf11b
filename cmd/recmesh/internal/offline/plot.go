package offline

import (
	"fmt"
	"strings"
)

// PlotNDCG draws NDCG@k for k = 1..MaxK, one line per method, as a
// self-contained SVG.
func PlotNDCG(results []MethodResult) string {
	const w, h, left, right, top, bottom = 900.0, 420.0, 60.0, 300.0, 20.0, 40.0
	maxK, maxY := 1, 0.0
	for _, r := range results {
		maxK = max(maxK, len(r.NDCG)-1)
		for _, v := range r.NDCG[1:] {
			maxY = max(maxY, v)
		}
	}
	maxY = max(maxY*1.1, 1e-9)
	x := func(k int) float64 { return left + (w-left-right)*float64(k-1)/float64(max(maxK-1, 1)) }
	y := func(v float64) float64 { return h - bottom - (h-top-bottom)*v/maxY }
	colors := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, top, left, h-bottom)
	for _, k := range []int{1, 10, 20, 30, 40, 50} {
		if k <= maxK {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x(k), h-bottom+16, k)
		}
	}
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.3f</text>`+"\n", left-6, y(v)+4, v)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">k</text>`+"\n", (left+w-right)/2, h-6)
	fmt.Fprintf(&b, `<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" text-anchor="middle">NDCG@k</text>`+"\n", (top+h-bottom)/2, (top+h-bottom)/2)
	for i, r := range results {
		c := colors[i%len(colors)]
		var pts []string
		for k := 1; k < len(r.NDCG); k++ {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(k), y(r.NDCG[k])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", w-right+10, top+16+18*float64(i), c, r.Name)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
