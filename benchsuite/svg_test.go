package benchsuite

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// parseSVG checks that b is well-formed XML with an <svg> root and returns
// the polylines' points by series name.
func parseSVG(t *testing.T, b []byte) map[string]string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	lines := map[string]string{}
	var series, root string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, b)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
		}
		for _, a := range se.Attr {
			switch {
			case se.Name.Local == "g" && a.Name.Local == "data-name":
				series = a.Value
			case se.Name.Local == "polyline" && a.Name.Local == "points":
				lines[series] = a.Value
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return lines
}

func TestWriteSVGDrawsEverySeriesWithItsPoints(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chart Chart
		want  map[string]int // points drawn per series
	}{
		{"linear", Chart{Title: "t", Series: []Series{
			{Name: "p50", Points: []XY{{1, 1}, {2, 3}, {3, 2}}},
			{Name: "p99 <&>", Points: []XY{{1, 5}, {2, 9}}},
		}}, map[string]int{"p50": 3, "p99 <&>": 2}},
		{"log axes leave out what they cannot draw", Chart{LogX: true, LogY: true, Series: []Series{
			{Name: "p99", Points: []XY{{100, 2}, {1000, 0}, {10000, 250}}},
		}}, map[string]int{"p99": 2}},
		{"a single point", Chart{Series: []Series{{Name: "one", Points: []XY{{5, 5}}}}}, map[string]int{"one": 1}},
		{"no series", Chart{Title: "empty"}, map[string]int{}},
	} {
		var b bytes.Buffer
		if err := tc.chart.WriteSVG(&b); err != nil {
			t.Fatal(err)
		}
		lines := parseSVG(t, b.Bytes())
		if len(lines) != len(tc.want) {
			t.Errorf("%s: %d series drawn, want %d", tc.name, len(lines), len(tc.want))
		}
		for name, n := range tc.want {
			if got := len(strings.Fields(lines[name])); got != n {
				t.Errorf("%s: series %q has %d points, want %d", tc.name, name, got, n)
			}
			if strings.Contains(lines[name], "NaN") || strings.Contains(lines[name], "Inf") {
				t.Errorf("%s: series %q has a point off the chart: %s", tc.name, name, lines[name])
			}
		}
	}
}

func TestHigherValuesAreDrawnHigher(t *testing.T) {
	for _, logY := range []bool{false, true} {
		a := newAxis([]float64{1, 1000}, logY, 400, 40, true)
		if !(a.tr(1000) < a.tr(10) && a.tr(10) < a.tr(1)) {
			t.Errorf("logY=%v: y(1000)=%v y(10)=%v y(1)=%v: larger values must have smaller y", logY, a.tr(1000), a.tr(10), a.tr(1))
		}
		if y := a.tr(1000); y < 40 || y > 400 {
			t.Errorf("logY=%v: the largest value is drawn at %v, outside the plot 40..400", logY, y)
		}
	}
}

func TestReportChartsHaveOnePairOfLinesPerCurve(t *testing.T) {
	charts := sampleReport().Charts()
	for file, want := range map[string][]string{
		OfferedLoadSVG: {"hot tier p50", "hot tier p99"},
		ConcurrencySVG: {"p99", "average"},
	} {
		c, ok := charts[file]
		if !ok {
			t.Fatalf("no chart %s", file)
		}
		var b bytes.Buffer
		if err := c.WriteSVG(&b); err != nil {
			t.Fatal(err)
		}
		lines := parseSVG(t, b.Bytes())
		for _, name := range want {
			if len(strings.Fields(lines[name])) != 2 {
				t.Errorf("%s: series %q: points %q, want 2", file, name, lines[name])
			}
		}
	}
}
