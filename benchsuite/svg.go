package benchsuite

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Chart is a line chart written as a standalone SVG file: no plotting
// dependency, and the file diffs as text in the repository.
type Chart struct {
	Title          string
	XLabel, YLabel string
	LogX, LogY     bool // logarithmic axes (values must be > 0)
	Series         []Series
}

// Series is one line of a chart.
type Series struct {
	Name   string
	Points []XY
}

// XY is one point.
type XY struct{ X, Y float64 }

// palette: distinguishable in print and for the common colour blindnesses.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"}

const (
	svgW, svgH                     = 720, 420
	padL, padR, padT, padB float64 = 70, 180, 40, 50
)

// axis maps data values to pixels on one axis.
type axis struct {
	lo, hi float64 // data range (log10 of it on a log axis)
	log    bool
	p0, p1 float64 // pixel range
}

func (a axis) tr(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	if a.hi == a.lo {
		return (a.p0 + a.p1) / 2
	}
	return a.p0 + (v-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}

// ticks are the values to label: powers of ten (with 2 and 5) on a log axis,
// about five round steps on a linear one.
func (a axis) ticks() []float64 {
	var out []float64
	if a.log {
		for e := math.Floor(a.lo); e <= math.Ceil(a.hi); e++ {
			for _, m := range []float64{1, 2, 5} {
				v := m * math.Pow(10, e)
				if lv := math.Log10(v); lv >= a.lo-1e-9 && lv <= a.hi+1e-9 {
					out = append(out, v)
				}
			}
		}
		return out
	}
	step := niceStep((a.hi - a.lo) / 5)
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func newAxis(vals []float64, log bool, p0, p1 float64, zero bool) axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if log {
			if v <= 0 {
				continue
			}
			v = math.Log10(v)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if log {
		lo, hi = math.Floor(lo), math.Ceil(hi)
		if lo == hi {
			hi++
		}
	} else {
		if zero {
			lo = min(lo, 0)
		}
		if hi == lo {
			hi = lo + 1
		}
		step := niceStep((hi - lo) / 5)
		hi = math.Ceil(hi/step) * step
	}
	return axis{lo: lo, hi: hi, log: log, p0: p0, p1: p1}
}

func label(v float64) string {
	if v >= 1000 && math.Mod(v, 1000) == 0 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// WriteSVG renders the chart. Points with a non-positive value on a log
// axis are left out (they cannot be drawn there).
func (c *Chart) WriteSVG(w io.Writer) error {
	var xs, ys []float64
	for _, s := range c.Series {
		for _, p := range s.Points {
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	ax := newAxis(xs, c.LogX, padL, svgW-padR, false)
	ay := newAxis(ys, c.LogY, svgH-padB, padT, true)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%g" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", padL, esc(c.Title))
	// Grid and tick labels.
	for _, t := range ax.ticks() {
		x := ax.tr(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/>`+"\n", x, padT, x, svgH-padB)
		fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n", x, svgH-padB+16, label(t))
	}
	for _, t := range ay.ticks() {
		y := ay.tr(t)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/>`+"\n", padL, y, svgW-padR, y)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, label(t))
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#333"/>`+"\n", padL, padT, svgW-padR-padL, svgH-padB-padT)
	fmt.Fprintf(&b, `<text x="%g" y="%d" text-anchor="middle">%s</text>`+"\n", (padL+svgW-padR)/2, svgH-12, esc(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(18 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (padT+svgH-padB)/2, esc(c.YLabel))
	// Lines, markers, legend.
	for i, s := range c.Series {
		color := palette[i%len(palette)]
		var pts bytes.Buffer
		for _, p := range s.Points {
			if (c.LogX && p.X <= 0) || (c.LogY && p.Y <= 0) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", ax.tr(p.X), ay.tr(p.Y))
		}
		fmt.Fprintf(&b, `<g class="series" data-name="%s"><polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, esc(s.Name), color, bytes.TrimSpace(pts.Bytes()))
		for _, p := range s.Points {
			if (c.LogX && p.X <= 0) || (c.LogY && p.Y <= 0) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, ax.tr(p.X), ay.tr(p.Y), color)
		}
		b.WriteString("</g>\n")
		ly := padT + 10 + float64(i)*20
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="2"/>`, svgW-padR+12, ly, svgW-padR+32, ly, color)
		fmt.Fprintf(&b, `<text x="%g" y="%g">%s</text>`+"\n", svgW-padR+38, ly+4, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}
