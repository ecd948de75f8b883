package evaluate

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"golang.org/x/image/font/sfnt"
)

// textRecorder is a vg.Canvas that draws nothing and records where every
// string lands on the page: its box from the font's metrics (advance
// width, ascent, descent) through the transforms in force, and any rune
// the font has no glyph for.
type textRecorder struct {
	m     affine
	stack []affine
	texts []drawnText
}

type drawnText struct {
	s       string
	size    vg.Length
	box     vg.Rectangle
	missing []rune
}

// affine maps (x, y) to (a·x + c·y + e, b·x + d·y + f).
type affine struct{ a, b, c, d, e, f float64 }

var identity = affine{a: 1, d: 1}

// then is the transform that applies n first and m after.
func (m affine) then(n affine) affine {
	return affine{
		a: m.a*n.a + m.c*n.b, b: m.b*n.a + m.d*n.b,
		c: m.a*n.c + m.c*n.d, d: m.b*n.c + m.d*n.d,
		e: m.a*n.e + m.c*n.f + m.e, f: m.b*n.e + m.d*n.f + m.f,
	}
}

func (m affine) apply(p vg.Point) vg.Point {
	x, y := float64(p.X), float64(p.Y)
	return vg.Point{X: vg.Length(m.a*x + m.c*y + m.e), Y: vg.Length(m.b*x + m.d*y + m.f)}
}

func newTextRecorder() *textRecorder { return &textRecorder{m: identity} }

func (r *textRecorder) SetLineWidth(vg.Length)              {}
func (r *textRecorder) SetLineDash([]vg.Length, vg.Length)  {}
func (r *textRecorder) SetColor(color.Color)                {}
func (r *textRecorder) Stroke(vg.Path)                      {}
func (r *textRecorder) Fill(vg.Path)                        {}
func (r *textRecorder) DrawImage(vg.Rectangle, image.Image) {}
func (r *textRecorder) Push()                               { r.stack = append(r.stack, r.m) }
func (r *textRecorder) Pop() {
	r.m = r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
}
func (r *textRecorder) Rotate(rad float64) {
	s, c := math.Sincos(rad)
	r.m = r.m.then(affine{a: c, b: s, c: -s, d: c})
}
func (r *textRecorder) Translate(p vg.Point) {
	r.m = r.m.then(affine{a: 1, d: 1, e: float64(p.X), f: float64(p.Y)})
}
func (r *textRecorder) Scale(x, y float64) { r.m = r.m.then(affine{a: x, d: y}) }

func (r *textRecorder) FillString(f font.Face, pt vg.Point, s string) {
	if f.Font.Size == 0 {
		return
	}
	ext := f.Extents()
	w := f.Width(s)
	box := vg.Rectangle{Min: vg.Point{X: vg.Length(math.Inf(1)), Y: vg.Length(math.Inf(1))},
		Max: vg.Point{X: vg.Length(math.Inf(-1)), Y: vg.Length(math.Inf(-1))}}
	for _, c := range []vg.Point{
		{X: pt.X, Y: pt.Y - ext.Descent}, {X: pt.X + w, Y: pt.Y - ext.Descent},
		{X: pt.X, Y: pt.Y + ext.Ascent}, {X: pt.X + w, Y: pt.Y + ext.Ascent},
	} {
		q := r.m.apply(c)
		box.Min.X, box.Min.Y = min(box.Min.X, q.X), min(box.Min.Y, q.Y)
		box.Max.X, box.Max.Y = max(box.Max.X, q.X), max(box.Max.Y, q.Y)
	}
	var missing []rune
	var buf sfnt.Buffer
	for _, c := range s {
		if i, err := f.Face.GlyphIndex(&buf, c); err != nil || i == 0 {
			missing = append(missing, c)
		}
	}
	r.texts = append(r.texts, drawnText{s: s, size: f.Font.Size, box: box, missing: missing})
}

// checkTexts asserts that every text lies inside the canvas less inset,
// has a glyph for each rune, and overlaps no other text (lines of one
// multi-line label may touch by the font's line gap).
func checkTexts(t *testing.T, name string, texts []drawnText, w, h, inset vg.Length) {
	t.Helper()
	if len(texts) == 0 {
		t.Errorf("%s: no text drawn", name)
	}
	const eps = 0.01
	for _, x := range texts {
		b := x.box
		if b.Min.X < inset-eps || b.Min.Y < inset-eps || b.Max.X > w-inset+eps || b.Max.Y > h-inset+eps {
			t.Errorf("%s: %q at %v..%v is outside the %v×%v canvas less %v margin", name, x.s, b.Min, b.Max, w, h, inset)
		}
		if len(x.missing) > 0 {
			t.Errorf("%s: %q: no glyph for %q", name, x.s, x.missing)
		}
	}
	for i, a := range texts {
		for _, b := range texts[i+1:] {
			// Shrink each box by a fifth of its font size vertically, where
			// ascent and descent leave room above and below the ink.
			ox := min(a.box.Max.X, b.box.Max.X) - max(a.box.Min.X, b.box.Min.X)
			oy := min(a.box.Max.Y-a.size/5, b.box.Max.Y-b.size/5) - max(a.box.Min.Y+a.size/5, b.box.Min.Y+b.size/5)
			if ox > 0.5 && oy > 0.5 {
				t.Errorf("%s: %q and %q overlap by %.1f×%.1f pt", name, a.s, b.s, ox, oy)
			}
		}
	}
}

// drawChart draws ch on a recorder at the standard size and returns the
// texts and the data area.
func drawChart(t *testing.T, ch *chart) ([]drawnText, vg.Rectangle) {
	t.Helper()
	r := newTextRecorder()
	var data vg.Rectangle
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("draw panicked: %v", p)
			}
		}()
		data = ch.draw(draw.NewCanvas(r, chartW, chartH))
	}()
	return r.texts, data
}

// stress is input chosen to push text out of a chart: long names, many
// entries, huge counts.
func stressCharts(t *testing.T) map[string]func() (*chart, error) {
	labels, scores := make([]float64, 2000), make([]float64, 2000)
	other := make([]float64, 2000)
	for i := range labels {
		x := float64(i) / 2000
		scores[i] = x
		other[i] = math.Mod(x*7.3, 1)
		if math.Mod(x*13.7, 1) < x {
			labels[i] = 1
		}
	}
	long := strings.Repeat("number_of_people_being_liable_to_provide_maintenance_for_", 3)
	var names []string
	var values []float64
	for i := range 60 {
		names = append(names, fmt.Sprintf("%s%d", long, i))
		values = append(values, 1e7*math.Exp(-float64(i)/9))
	}
	var many []Series
	for i := range 9 {
		v := make([]float64, 1234)
		for j := range v {
			v[j] = 0.7 - 0.2*math.Exp(-float64(j)/(50+float64(i)*10))
		}
		many = append(many, Series{Name: fmt.Sprintf("validation fold %d (%s)", i, long[:40]), Values: v})
	}
	r, err := Evaluate(labels, scores, 0.35)
	if err != nil {
		t.Fatal(err)
	}
	huge := *r
	huge.AtCutoff.Confusion = Confusion{TruePositive: 987_654_321, FalsePositive: 123_456_789, TrueNegative: 2_000_000_000, FalseNegative: 1}
	return map[string]func() (*chart, error){
		"roc":         func() (*chart, error) { return rocChart("", labels, []namedScores{{long, scores, blue}}) },
		"comparison":  func() (*chart, error) { return rocComparisonChart(labels, scores, other, long, "champion "+long) },
		"pr":          func() (*chart, error) { return prChart(labels, scores) },
		"calibration": func() (*chart, error) { return calibrationChart(r.Calibration) },
		"ks":          func() (*chart, error) { return ksChart(labels, scores) },
		"distribution": func() (*chart, error) {
			return distributionChart(labels, scores, 0.999)
		},
		"confusion":      func() (*chart, error) { return confusionChart(huge.AtCutoff) },
		"gains":          func() (*chart, error) { return gainsChart(r.Lift) },
		"lift":           func() (*chart, error) { return liftChart(r.Lift) },
		"strategy":       func() (*chart, error) { return strategyChart(labels, scores, 0.35) },
		"strategy none":  func() (*chart, error) { return strategyChart(labels, scores, 0) },
		"importance":     func() (*chart, error) { return importanceChart("Feature importance ("+long+")", names, values) },
		"importance one": func() (*chart, error) { return importanceChart("t", []string{"a"}, []float64{-3}) },
		"learning":       func() (*chart, error) { return learningChart("Learning curve", "binary log loss", many, 1111) },
	}
}

// TestChartText draws every chart, with ordinary and with hostile input,
// and checks that no text leaves the canvas (or enters its margin),
// overlaps another, lacks a glyph, and that legends stay out of the data.
func TestChartText(t *testing.T) {
	charts := stressCharts(t)
	for name, build := range charts {
		t.Run(name, func(t *testing.T) {
			ch, err := build()
			if err != nil {
				t.Fatal(err)
			}
			texts, data := drawChart(t, ch)
			checkTexts(t, name, texts, chartW, chartH, margin)
			checkLegend(t, name, ch, texts, data)
		})
	}
}

// checkLegend asserts that each legend entry was drawn, whole or
// shortened, and lies outside the data area.
func checkLegend(t *testing.T, name string, ch *chart, texts []drawnText, data vg.Rectangle) {
	t.Helper()
	for _, e := range ch.legend {
		found := false
		for _, x := range texts {
			if x.s != e.label && !(strings.Contains(x.s, "…") && strings.HasPrefix(e.label, strings.SplitN(x.s, "…", 2)[0])) {
				continue
			}
			found = true
			if x.box.Min.Y < data.Max.Y && x.box.Max.Y > data.Min.Y && x.box.Min.X < data.Max.X && x.box.Max.X > data.Min.X {
				t.Errorf("%s: legend entry %q at %v..%v is inside the data area %v..%v", name, x.s, x.box.Min, x.box.Max, data.Min, data.Max)
			}
		}
		if !found {
			t.Errorf("%s: legend entry %q not drawn", name, e.label)
		}
	}
}

// TestSummaryText checks the summary page as TestChartText checks the
// charts, with a long title and more facts than fit.
func TestSummaryText(t *testing.T) {
	labels, scores := make([]float64, 500), make([]float64, 500)
	for i := range labels {
		scores[i] = float64(i) / 500
		if i%3 == 0 || i > 400 {
			labels[i] = 1
		}
	}
	long := strings.Repeat("a very long value without end ", 10)
	s := Summary{Title: "credit-risk · " + long, Labels: labels, Scores: scores, Cutoff: 0.5}
	for i := range 30 {
		s.Facts = append(s.Facts, Fact{Name: fmt.Sprintf("fact %d %s", i, long[:i]), Value: long})
	}
	r, err := Evaluate(labels, scores, s.Cutoff)
	if err != nil {
		t.Fatal(err)
	}
	panels, err := summaryPanels(s, r)
	if err != nil {
		t.Fatal(err)
	}
	rec := newTextRecorder()
	drawSummary(draw.NewCanvas(rec, summaryW, summaryH), s, r, panels)
	checkTexts(t, "summary", rec.texts, summaryW, summaryH, 2*margin)
	var facts int
	for _, x := range rec.texts {
		if strings.HasPrefix(x.s, "fact ") {
			facts++
		}
	}
	if facts != MaxSummaryFacts-1 {
		t.Errorf("summary shows %d facts, want %d and a line saying how many more", facts, MaxSummaryFacts-1)
	}
}

func TestTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		t      ticks
		want   string
	}{
		{0, 1, ticks{}, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{0, 0.8, ticks{}, "0.0 0.2 0.4 0.6 0.8"},
		{0.07, 0.83, ticks{}, "0.2 0.4 0.6 0.8"},
		{0, 1, ticks{percent: true}, "0% 20% 40% 60% 80% 100%"},
		{0, 0.15, ticks{percent: true}, "0% 5% 10% 15%"},
		{0, 0.25, ticks{percent: true}, "0% 5% 10% 15% 20% 25%"},
		{0, 200, ticks{integer: true}, "0 50 100 150 200"},
		{0, 90, ticks{integer: true}, "0 20 40 60 80"},
		{0, 3, ticks{integer: true}, "0 1 2 3"},
		{0, 1, ticks{integer: true}, "0 1"},
		{0.45, 0.7, ticks{}, "0.45 0.50 0.55 0.60 0.65 0.70"},
		{0, 25000, ticks{}, "0 5k 10k 15k 20k 25k"},
		{0, 2.5e6, ticks{}, "0.0 0.5M 1.0M 1.5M 2.0M 2.5M"},
		{0, 1200, ticks{}, "0 250 500 750 1,000"},
		{0, 1e7, ticks{}, "0 2M 4M 6M 8M 10M"},
		{-1e300, 1e300, ticks{}, "-1e+300 -5e+299 0 5e+299 1e+300"},
		{1, 1, ticks{}, "1"},
	} {
		var got []string
		for _, k := range tt.t.Ticks(tt.lo, tt.hi) {
			got = append(got, k.Label)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%+v.Ticks(%v, %v) = %s, want %s", tt.t, tt.lo, tt.hi, g, tt.want)
		}
	}
}

func TestNiceRange(t *testing.T) {
	for _, tt := range []struct {
		lo, hi  float64
		integer bool
		a, b    float64
	}{
		{0.26, 0.6, false, 0.2, 0.6},
		{0.26, 0.49, false, 0.25, 0.5},
		{0.07, 0.83, false, 0, 1},
		{1, 87, true, 0, 100},
		{0, 0, false, 0, 1},
		{5, 5, false, 2.5, 7.5},
	} {
		a, b := niceRange(tt.lo, tt.hi, tt.integer)
		if math.Abs(a-tt.a) > 1e-12 || math.Abs(b-tt.b) > 1e-12 {
			t.Errorf("niceRange(%v, %v) = %v, %v, want %v, %v", tt.lo, tt.hi, a, b, tt.a, tt.b)
		}
	}
}

func TestFit(t *testing.T) {
	long := "number_of_people_being_liable_to_provide_maintenance_for"
	for _, w := range []vg.Length{1, 40, 100, 200, 1000} {
		got := fit(tickFont, long, w)
		if tickFont.Width(got) > w && got != "…" {
			t.Errorf("fit(%d pt) = %q is %v wide", int(w), got, tickFont.Width(got))
		}
		if w == 1000 && got != long {
			t.Errorf("fit(1000 pt) = %q, want it whole", got)
		}
		if w == 200 && (!strings.HasPrefix(got, "number_of") || !strings.HasSuffix(got, "nance_for")) {
			t.Errorf("fit(200 pt) = %q, want its start and end kept", got)
		}
	}
}

// FuzzTicks feeds axis ranges of any size: ticks must stay few, inside
// the range, in order and labelled, and never hang.
func FuzzTicks(f *testing.F) {
	f.Add(0.0, 1.0, false, false)
	f.Add(0.07, 0.83, false, true)
	f.Add(1.0, 87.0, true, false)
	f.Add(-1e300, 1e300, false, false)
	f.Add(1e300, 1e300*(1+1e-15), false, false)
	f.Fuzz(func(t *testing.T, lo, hi float64, integer, percent bool) {
		if !plottable(lo) || !plottable(hi) || hi <= lo {
			return
		}
		tk := ticks{integer: integer, percent: percent}
		got := tk.Ticks(lo, hi)
		if len(got) > 50 {
			t.Fatalf("Ticks(%v, %v) gave %d ticks", lo, hi, len(got))
		}
		for i, k := range got {
			if k.Label == "" {
				t.Errorf("tick %v has no label", k.Value)
			}
			span := hi - lo
			if k.Value < lo-span*1e-6 || k.Value > hi+span*1e-6 {
				t.Errorf("Ticks(%v, %v): %v is outside", lo, hi, k.Value)
			}
			if i > 0 && k.Value < got[i-1].Value {
				t.Errorf("Ticks(%v, %v): %v after %v", lo, hi, k.Value, got[i-1].Value)
			}
		}
		a, b := niceRange(lo, hi, integer)
		if !(a <= lo && b >= hi) && finite(a) && finite(b) && (hi-lo) > 1e-300 {
			if a > lo+(hi-lo)*1e-9 || b < hi-(hi-lo)*1e-9 {
				t.Errorf("niceRange(%v, %v) = %v, %v does not hold it", lo, hi, a, b)
			}
		}
	})
}

// FuzzFit shortens any name, such as a CSV header, to the width asked.
func FuzzFit(f *testing.F) {
	f.Add("number_of_people_being_liable_to_provide_maintenance_for", 100.0)
	f.Add("ID", 1.0)
	f.Add("\xff\xfe broken utf-8", 30.0)
	f.Fuzz(func(t *testing.T, s string, w float64) {
		if !(w > 0 && w < 2000) || len(s) > 500 {
			return
		}
		got := fit(tickFont, s, vg.Length(w))
		if got != "…" && tickFont.Width(got) > vg.Length(w) {
			t.Errorf("fit(%q, %v) = %q, %v wide", s, w, got, tickFont.Width(got))
		}
		if tickFont.Width(s) <= vg.Length(w) && got != s {
			t.Errorf("fit(%q, %v) = %q, but it fitted whole", s, w, got)
		}
	})
}
