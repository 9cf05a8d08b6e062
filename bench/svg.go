package main

import (
	"fmt"
	"math"
	"strings"
)

// svg builds an SVG image from a few primitives. Coordinates are pixels
// from the top left. The height may be set after drawing, once the content
// is known. The image has a white background, so that it reads the same on
// a dark page.
type svg struct {
	w, h int
	b    strings.Builder // the content
}

func newSVG(w, h int) *svg { return &svg{w: w, h: h} }

// String returns the image's text.
func (s *svg) String() string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", s.w, s.h, s.w, s.h) +
		fmt.Sprintf(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", s.w, s.h) +
		s.b.String() + "</svg>\n"
}

// rect draws a rectangle; title, when set, shows as a tooltip.
func (s *svg) rect(x, y, w, h float64, fill, title string) {
	if title == "" {
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, y, w, h, fill)
		return
	}
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n", x, y, w, h, fill, esc(title))
}

// line draws a straight line; dash, when set, is its stroke-dasharray.
func (s *svg) line(x1, y1, x2, y2 float64, stroke string, width float64, dash string) {
	d := ""
	if dash != "" {
		d = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", x1, y1, x2, y2, stroke, width, d)
}

// polyline joins points with straight lines.
func (s *svg) polyline(pts [][2]float64, stroke string, width float64) {
	var p []string
	for _, pt := range pts {
		p = append(p, fmt.Sprintf("%.1f,%.1f", pt[0], pt[1]))
	}
	fmt.Fprintf(&s.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f"/>`+"\n", strings.Join(p, " "), stroke, width)
}

// circle draws a filled dot with a tooltip.
func (s *svg) circle(x, y, r float64, fill, title string) {
	fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"><title>%s</title></circle>`+"\n", x, y, r, fill, esc(title))
}

// text writes a label; anchor is start, middle or end.
func (s *svg) text(x, y float64, anchor string, size int, fill, weight, text string) {
	w := ""
	if weight != "" {
		w = fmt.Sprintf(` font-weight="%s"`, weight)
	}
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d" fill="%s"%s>%s</text>`+"\n", x, y, anchor, size, fill, w, esc(text))
}

// legend draws a row of colour swatches with names, from x, y, and
// returns the y below it. It wraps at the image's width.
func (s *svg) legend(x, y float64, names []string) float64 {
	cx := x
	for _, n := range names {
		w := 22 + textWidth(n, 12) + 18
		if cx+w > float64(s.w)-10 && cx > x {
			cx, y = x, y+20
		}
		s.rect(cx, y-10, 14, 14, storeColor(n), "")
		s.text(cx+20, y+1, "start", 12, "#222222", "", n)
		cx += w
	}
	return y + 20
}

// textWidth estimates the width of text in pixels: enough to lay out
// labels, without a font's metrics.
func textWidth(text string, size int) float64 {
	return float64(len([]rune(text))) * float64(size) * 0.56
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// storeColor is a store's colour in every chart, from a palette that
// people with the common colour-vision deficiencies can tell apart
// (Okabe and Ito); bucketcache gets the strongest.
func storeColor(name string) string {
	switch name {
	case "bucketcache":
		return "#0072B2"
	case "floor":
		return "#7f7f7f"
	case "diskv":
		return "#E69F00"
	case "bbolt":
		return "#009E73"
	case "badger":
		return "#CC79A7"
	case "diskcache":
		return "#D55E00"
	}
	return "#56B4E9"
}

// logScale maps values in [lo, hi] (both powers of ten, lo < hi) to pixels
// in [p0, p1].
type logScale struct {
	lo, hi float64
	p0, p1 float64
}

// newLogScale covers min..max with whole decades.
func newLogScale(min, max, p0, p1 float64) logScale {
	lo := math.Pow(10, math.Floor(math.Log10(min)))
	hi := math.Pow(10, math.Ceil(math.Log10(max)))
	if hi <= lo {
		hi = lo * 10
	}
	return logScale{lo, hi, p0, p1}
}

func (l logScale) at(v float64) float64 {
	f := (math.Log10(v) - math.Log10(l.lo)) / (math.Log10(l.hi) - math.Log10(l.lo))
	return l.p0 + f*(l.p1-l.p0)
}

// decades are the powers of ten from lo to hi.
func (l logScale) decades() []float64 {
	var out []float64
	for v := l.lo; v <= l.hi*1.0001; v *= 10 {
		out = append(out, v)
	}
	return out
}

// niceMax rounds v up to a round number top and returns the step that
// divides it into 3 to 6 round parts, for a linear axis from 0.
func niceMax(v float64) (top, step float64) {
	if v <= 0 {
		return 1, 0.25
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, c := range [][2]float64{{1, 0.2}, {1.5, 0.5}, {2, 0.5}, {2.5, 0.5}, {3, 0.5}, {4, 1}, {5, 1}, {6, 1}, {8, 2}, {10, 2}} {
		if c[0]*p >= v*(1-1e-9) {
			return c[0] * p, c[1] * p
		}
	}
	return 10 * p, 2 * p
}

// siCount writes a rate for an axis: 800, 12k, 1.5M.
func siCount(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), "0"), ".") + "M"
	case v >= 1e3:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e3), "0"), ".") + "k"
	}
	return fmt.Sprintf("%.0f", v)
}

// durLabel writes a latency for a chart with three significant digits,
// in ns, µs or ms.
func durLabel(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e5:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case ns < 1e7:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns < 1e8:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	}
	return fmt.Sprintf("%.0f ms", ns/1e6)
}

// decadeLabel names a power of ten of nanoseconds: 100 ns, 1 µs, 10 ms.
func decadeLabel(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.0f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
