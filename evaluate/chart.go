package evaluate

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"git.sr.ht/~sbinet/gg"
	xdraw "golang.org/x/image/draw"
	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Every chart shares one look so that a validation report can set them
// side by side: the same 7×5 in canvas at 120 dpi (840×600 pixels), the
// same margin, Liberation Sans at fixed sizes, the title and legend above
// the data area (a legend never covers data), round tick values and a
// light grid. Liberation Sans (SIL Open Font License 1.1) is compiled into
// the binary by gonum.org/v1/plot/font/liberation, through
// codeberg.org/go-fonts/liberation (BSD-3-Clause Go packaging), so charts
// look the same on every machine whatever fonts it has.
const (
	chartW = 7 * vg.Inch
	chartH = 5 * vg.Inch
	dpi    = 120
	// margin is the blank border of every chart; no text reaches into it.
	margin = vg.Length(9)
)

var (
	// fonts is this package's own text handler, so no other user of
	// gonum/plot's package defaults can change how these charts look.
	fonts = text.Plain{Fonts: font.NewCache(liberation.Collection())}
	sans  = font.Font{Typeface: "Liberation", Variant: "Sans"}

	titleFont    = style(13, true, color.Black)
	subtitleFont = style(10, false, darkGrey)
	labelFont    = style(11, false, color.Black)
	tickFont     = style(10, false, darkGrey)
	legendFont   = style(10, false, color.Black)
	noteFont     = style(10, false, color.Black)

	blue     = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange   = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	red      = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	green    = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	grey     = color.RGBA{R: 128, G: 128, B: 128, A: 255}
	darkGrey = color.RGBA{R: 64, G: 64, B: 64, A: 255}
	gridGrey = color.RGBA{R: 225, G: 225, B: 225, A: 255}
	// seriesColors colour learning curves, cycled.
	seriesColors = []color.Color{blue, orange, red, green,
		color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255}}

	dashed = []vg.Length{vg.Points(5), vg.Points(3)}
	dotted = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
)

func style(size float64, bold bool, c color.Color) text.Style {
	f := sans
	f.Size = vg.Points(size)
	if bold {
		f.Weight = stdfont.WeightBold
	}
	return text.Style{Color: c, Font: f, Handler: fonts}
}

// A chart is one figure: a title, an optional subtitle, a legend of one
// or more rows, then the axes and data drawn by a gonum plot whose own
// title and legend stay empty.
type chart struct {
	title, subtitle string
	plot            *plot.Plot
	legend          []legendEntry
}

type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// newChart returns a chart with styled, labelled axes and a grid.
func newChart(title, xLabel, yLabel string) *chart {
	p := plot.New()
	p.BackgroundColor = nil // the chart paints the background
	p.TextHandler = fonts
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = withAlign(labelFont, a.Label.TextStyle)
		a.Label.Padding = vg.Points(4)
		a.Tick.Label = withAlign(tickFont, a.Tick.Label)
		a.Tick.Length = vg.Points(4)
		a.Tick.Color, a.Color = grey, grey
		a.Padding = vg.Points(3)
		a.Tick.Marker = ticks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridGrey, gridGrey
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.6), vg.Points(0.6)
	p.Add(g)
	return &chart{title: title, plot: p}
}

// withAlign is s with the alignment and rotation gonum chose for the
// element it replaces.
func withAlign(s, gonum text.Style) text.Style {
	s.XAlign, s.YAlign, s.Rotation = gonum.XAlign, gonum.YAlign, gonum.Rotation
	return s
}

// add puts an entry in the legend.
func (ch *chart) add(label string, thumbs ...plot.Thumbnailer) {
	ch.legend = append(ch.legend, legendEntry{label, thumbs})
}

// Legend layout, in points.
const (
	thumbW     = vg.Length(20)
	thumbGap   = vg.Length(5)  // thumbnail to its label
	entryGap   = vg.Length(16) // between entries of a row
	rowGap     = vg.Length(3)
	sectionGap = vg.Length(6) // between title, legend and axes
)

// draw lays the chart out in c and returns the data area, where no
// legend entry is ever drawn. Text too wide for c is shortened with an
// ellipsis rather than clipped. c must be white already: render's canvas
// starts white, and filling it again through the rasterizer cost a fifth
// of a chart's time.
func (ch *chart) draw(c draw.Canvas) vg.Rectangle {
	c = draw.Crop(c, margin, -margin, margin, -margin)
	w := c.Max.X - c.Min.X
	top := c.Max.Y
	for _, t := range []struct {
		s   string
		sty text.Style
	}{{ch.title, titleFont}, {ch.subtitle, subtitleFont}} {
		if t.s != "" {
			top = drawLine(c, t.sty, c.Center().X, top, fit(t.sty, t.s, w), text.XCenter) - rowGap
		}
	}
	if len(ch.legend) > 0 {
		top = ch.drawLegend(c, top-sectionGap+rowGap, w) - rowGap
	}
	area := c
	area.Max.Y = top - sectionGap
	// gonum sets the rotated y-axis label's baseline a tenth of its size
	// too far out, past the canvas edge.
	area.Min.X += labelFont.Font.Size / 8
	ch.plot.Draw(area)
	return ch.plot.DataCanvas(area).Rectangle
}

// drawLegend draws the entries in centred rows from top down and returns
// the bottom of the last row.
func (ch *chart) drawLegend(c draw.Canvas, top, w vg.Length) vg.Length {
	type placed struct {
		e     legendEntry
		label string
		w     vg.Length
	}
	var rows [][]placed
	var widths []vg.Length
	maxLabel := w - thumbW - thumbGap
	for _, e := range ch.legend {
		label := fit(legendFont, e.label, maxLabel)
		ew := thumbW + thumbGap + legendFont.Width(label)
		n := len(rows)
		if n == 0 || widths[n-1]+entryGap+ew > w {
			rows, widths = append(rows, nil), append(widths, -entryGap)
			n++
		}
		rows[n-1] = append(rows[n-1], placed{e, label, ew})
		widths[n-1] += entryGap + ew
	}
	ext := legendFont.FontExtents()
	h := ext.Ascent + ext.Descent
	for i, row := range rows {
		x := c.Center().X - widths[i]/2
		for _, p := range row {
			// The thumbnail spans the text's x-height band, centred on it.
			mid := top - ext.Ascent + ext.Ascent*0.35
			icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: mid - ext.Ascent*0.35},
				Max: vg.Point{X: x + thumbW, Y: mid + ext.Ascent*0.35},
			}}
			for _, t := range p.e.thumbs {
				t.Thumbnail(&icon)
			}
			drawLine(c, legendFont, x+thumbW+thumbGap, top, p.label, text.XLeft)
			x += p.w + entryGap
		}
		top -= h + rowGap
	}
	return top + rowGap
}

// drawLine draws one line of text whose ascent starts at top, aligned on
// x by align, and returns the bottom of its descent.
func drawLine(c draw.Canvas, sty text.Style, x, top vg.Length, s string, align text.XAlignment) vg.Length {
	ext := sty.FontExtents()
	base := top - ext.Ascent
	sty.XAlign, sty.YAlign, sty.Rotation = align, text.YBottom, 0
	// gonum's plain handler puts a single line's baseline at
	// y - ascent + size for YBottom.
	c.FillText(sty, vg.Point{X: x, Y: base + ext.Ascent - sty.Font.Size}, s)
	return base - ext.Descent
}

// fit returns s, or s shortened in the middle with an ellipsis so that it
// is at most w wide in sty; the start and end of a long name are what
// tell it apart from its neighbours.
func fit(sty text.Style, s string, w vg.Length) string {
	if sty.Width(s) <= w {
		return s
	}
	r := []rune(s)
	// Drop runes from the middle until it fits; names are short, so the
	// linear search costs nothing next to rendering.
	for keep := len(r) - 1; keep > 0; keep-- {
		head := (keep + 1) / 2
		t := string(r[:head]) + "…" + string(r[len(r)-(keep-head):])
		if sty.Width(t) <= w {
			return t
		}
	}
	return "…"
}

// ticks marks round values, steps of 1, 2, 2.5 or 5 times a power of ten,
// about five intervals over the axis, labelled with the decimals the step
// needs (so 0.0, 0.2, …, 1.0 rather than 0.1, 0.4, 0.7) and steps of a
// thousand or more in k, M, B or T. integer keeps steps whole
// (iterations); percent labels a share 0.25 as "25%".
type ticks struct {
	integer, percent bool
}

func (t ticks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStep(hi-lo, t.integer)
	if !finite(step) || step <= 0 {
		return nil
	}
	unit := unitFor(max(math.Abs(lo), math.Abs(hi)), step)
	var out []plot.Tick
	first := math.Ceil(lo/step - 1e-9)
	// At most 50 steps: over a range a few ulps wide, k+1 == k.
	for i := range 50 {
		k := first + float64(i)
		if k*step > hi+step*1e-9 {
			break
		}
		v := onStep(k, step)
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0.0"
		}
		if span := hi - lo; v < lo-span*1e-9 || v > hi+span*1e-9 {
			continue // rounding off the range where it spans a few ulps
		}
		out = append(out, plot.Tick{Value: v, Label: t.label(v, step, unit)})
	}
	return out
}

// A unit abbreviates large tick labels: 25,000 as 25k.
type unit struct {
	scale  float64
	suffix string
}

// unitFor is the unit for ticks step apart up to top: thousands and up
// once labels would pass four digits (so 1,200 stays, 25,000 is 25k), and
// never one that needs more than two decimals.
func unitFor(top, step float64) unit {
	if top >= 1e4 && top < 1e15 {
		for _, u := range []unit{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
			if top >= u.scale && step >= u.scale/100 {
				return u
			}
		}
	}
	return unit{1, ""}
}

func (t ticks) label(v, step float64, u unit) string {
	if t.percent {
		v, step = 100*v, 100*step
	}
	s := number(v/u.scale, decimals(step/u.scale))
	if v != 0 {
		s += u.suffix
	}
	if t.percent {
		s += "%"
	}
	return s
}

// niceStep is the round step that cuts span into about five intervals.
func niceStep(span float64, integer bool) float64 {
	if !(span > 0) || !finite(span) {
		return 1
	}
	raw := span / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if integer && m == 2.5 && mag < 10 {
			continue
		}
		if s := m * mag; s >= raw*0.999 {
			if integer {
				return math.Max(1, math.Round(s))
			}
			return s
		}
	}
	return 10 * mag
}

// niceRange widens [lo, hi] to the nearest ticks outside it.
func niceRange(lo, hi float64, integer bool) (float64, float64) {
	if !(hi > lo) {
		if lo == 0 {
			return 0, 1
		}
		return lo - math.Abs(lo)/2, hi + math.Abs(hi)/2
	}
	step := niceStep(hi-lo, integer)
	a, b := onStep(math.Floor(lo/step+1e-9), step), onStep(math.Ceil(hi/step-1e-9), step)
	if !finite(a) || !finite(b) {
		return lo, hi
	}
	return a, b
}

// onStep is k·step without the binary noise of the product (0.6, not
// 0.6000000000000001), so a range ends exactly on its last tick.
func onStep(k, step float64) float64 {
	v := k * step
	if math.Abs(v) >= 1e15 || !finite(v) {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals(step), 64), 64)
	if err != nil {
		return v
	}
	return r
}

// decimals is how many decimals a label needs for ticks step apart.
func decimals(step float64) int {
	for d := 0; d < 10; d++ {
		if math.Abs(step*math.Pow10(d)-math.Round(step*math.Pow10(d))) < 1e-6*step*math.Pow10(d) {
			return d
		}
	}
	return 10
}

// number formats v with d decimals, thousands separated by commas and
// very large or small magnitudes in scientific notation.
func number(v float64, d int) string {
	if a := math.Abs(v); a >= 1e15 || (a > 0 && a < 1e-6) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(v, 'f', d, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) > 3 {
		var b strings.Builder
		for i, r := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		intPart = b.String()
	}
	if frac != "" {
		intPart += "." + frac
	}
	if neg {
		intPart = "-" + intPart
	}
	return intPart
}

// pct formats a share as a percentage with one decimal.
func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// line is a styled line plotter.
func line(pts plotter.XYs, c color.Color, width float64, dashes []vg.Length) (edgeLine, error) {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return edgeLine{}, err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(width), dashes
	return edgeLine{l}, nil
}

// edgeLine is a line that gives gonum/plot the glyph boxes of its
// outermost points only. The plot pads its axes so that no glyph box is
// cut off, and a line's boxes are all alike (half its width around each
// point), so the outermost ones alone decide the padding; a box for each
// of a curve's thousands of points (one per distinct test score) cost a
// tenth of drawing a chart.
type edgeLine struct{ *plotter.Line }

// GlyphBoxes returns the boxes of the line's leftmost, rightmost, lowest
// and highest points among those the plot keeps (plot.Plot.GlyphBoxes
// drops boxes outside the axes).
func (l edgeLine) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	r := 0.5 * l.LineStyle.Width
	rect := vg.Rectangle{Min: vg.Point{X: -r, Y: -r}, Max: vg.Point{X: r, Y: r}}
	var ends [4]plot.GlyphBox // left, right, bottom, top
	n := 0
	for i := range l.XYs.Len() {
		x, y := l.XY(i)
		b := plot.GlyphBox{X: p.X.Norm(x), Y: p.Y.Norm(y), Rectangle: rect}
		if r > 0 && (b.X < 0 || b.X > 1 || b.Y < 0 || b.Y > 1) {
			continue
		}
		if n == 0 {
			ends = [4]plot.GlyphBox{b, b, b, b}
		}
		n++
		if b.X < ends[0].X {
			ends[0] = b
		}
		if b.X > ends[1].X {
			ends[1] = b
		}
		if b.Y < ends[2].Y {
			ends[2] = b
		}
		if b.Y > ends[3].Y {
			ends[3] = b
		}
	}
	return ends[:min(n, 4)]
}

// dots is a styled scatter plotter.
func dots(pts plotter.XYs, c color.Color, radius float64) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	s.Color, s.Shape, s.Radius = c, draw.CircleGlyph{}, vg.Points(radius)
	return s, nil
}

// styleLabels gives gonum text labels the chart font, centred on their
// points.
func styleLabels(l *plotter.Labels, sty text.Style) {
	for i := range l.TextStyle {
		s := sty
		s.XAlign, s.YAlign = text.XCenter, text.YCenter
		l.TextStyle[i] = s
	}
}

// render draws ch onto a w×h canvas and returns it; gonum/plot panics on
// some degenerate drawings, which becomes an error rather than a crash of
// the pipeline.
func render(w, h vg.Length, fn func(draw.Canvas)) (img *image.RGBA, err error) {
	size := image.Rect(0, 0, int(w/vg.Inch*dpi+0.5), int(h/vg.Inch*dpi+0.5))
	img, _ = images.Get().(*image.RGBA)
	if img == nil || img.Rect != size {
		img = image.NewRGBA(size)
	}
	// As vgimg.NewWith sets up a context of its own, without copying the
	// image as it would: the image is reused, and NewWith paints it white.
	ctx := gg.NewContextForRGBA(img)
	ctx.SetLineCapButt()
	ctx.InvertY()
	ctx.SetInterpolator(xdraw.NearestNeighbor)
	c := vgimg.NewWith(vgimg.UseImageWithContext(img, ctx), vgimg.UseDPI(dpi))
	defer func() {
		if r := recover(); r != nil {
			images.Put(img)
			img, err = nil, fmt.Errorf("%w: %v", ErrPlot, r)
		}
	}()
	fn(draw.New(c))
	return img, nil
}

// images are chart images to draw on again, each written out already:
// two of 2 MB were allocated per chart, a third of rendering's time with
// the collector's.
var images sync.Pool

// save renders ch at the standard chart size as a PNG at path.
func save(ch *chart, path string) error {
	return savePNG(path, chartW, chartH, func(c draw.Canvas) { ch.draw(c) })
}

func savePNG(path string, w, h vg.Length, fn func(draw.Canvas)) error {
	img, err := render(w, h, fn)
	if err != nil {
		return fmt.Errorf("draw %s: %w", path, err)
	}
	defer images.Put(img)
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	// render paints the canvas white before drawing: a chart is opaque.
	if err := encodePNG(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return nil
}
