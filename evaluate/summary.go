package evaluate

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SummaryFile is the usual name of the one-page run summary.
const SummaryFile = "summary.png"

// Summary page size: 16×11.25 in at 120 dpi (1920×1350 pixels), a
// landscape page whose six panels are each about the size of a chart.
const (
	summaryW = 16 * vg.Inch
	summaryH = 11.25 * vg.Inch
	// MaxSummaryFacts is how many facts the page has room for; the last
	// place says how many more there were.
	MaxSummaryFacts = 12
)

// Fact is one named line of a run's description, such as "data" and
// "german_credit.csv (1,000 rows)".
type Fact struct {
	Name, Value string
}

// Summary is what the one-page summary of a run shows, as plain values so
// that any caller can draw one.
type Summary struct {
	// Title heads the page, e.g. "credit-risk · gbdt · run 3f2a9c".
	Title string
	// Facts describe the run in reading order (model family, data, split,
	// parameters, run ID, ...); at most MaxSummaryFacts are shown.
	Facts []Fact
	// Labels (1 = bad) and Scores (probabilities of default) of the
	// evaluation sample, usually the test split.
	Labels, Scores []float64
	// Cutoff declines scores at or above it.
	Cutoff float64
}

var (
	pageTitleFont = style(17, true, color.Black)
	tileValueFont = style(17, true, color.Black)
	tileNameFont  = style(9.5, false, darkGrey)
	factNameFont  = style(10, true, darkGrey)
	factFont      = style(10, false, color.Black)
	tileFill      = color.RGBA{R: 243, G: 246, B: 250, A: 255}
)

// SummaryPlot draws the one-page summary of a run as a PNG at path: the
// title, the headline metrics, the facts, and six charts (ROC, KS,
// calibration, score distribution, cumulative gains and the strategy
// curve) in the same style as the single charts.
func SummaryPlot(path string, s Summary) error {
	r, err := Evaluate(s.Labels, s.Scores, s.Cutoff)
	if err != nil {
		return fmt.Errorf("summary plot: %w", err)
	}
	panels, err := summaryPanels(s, r)
	if err != nil {
		return fmt.Errorf("summary plot: %w", err)
	}
	if err := savePNG(path, summaryW, summaryH, func(c draw.Canvas) { drawSummary(c, s, r, panels) }); err != nil {
		return fmt.Errorf("summary plot: %w", err)
	}
	return nil
}

// summaryPanels builds the six charts with short titles: the headline
// numbers their full titles carry are in the tiles above them.
func summaryPanels(s Summary, r *Report) ([]*chart, error) {
	builds := []struct {
		title string
		build func() (*chart, error)
	}{
		{"ROC curve", func() (*chart, error) {
			return rocChart("", s.Labels, []namedScores{{"model", s.Scores, blue}})
		}},
		{fmt.Sprintf("KS %.4f at score %.4g", r.KS, r.KSScore), func() (*chart, error) { return ksChart(s.Labels, s.Scores) }},
		{"Calibration by decile", func() (*chart, error) { return calibrationChart(r.Calibration) }},
		{"Score distribution by class", func() (*chart, error) { return distributionChart(s.Labels, s.Scores, s.Cutoff) }},
		{"Cumulative gains by decile", func() (*chart, error) { return gainsChart(r.Lift) }},
		{"Approval rate vs bad rate", func() (*chart, error) { return strategyChart(s.Labels, s.Scores, s.Cutoff) }},
	}
	panels := make([]*chart, len(builds))
	for i, b := range builds {
		ch, err := b.build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.title, err)
		}
		ch.title, ch.subtitle = b.title, ""
		panels[i] = ch
	}
	return panels, nil
}

// drawSummary draws the page on c, which is white (see chart.draw).
func drawSummary(c draw.Canvas, s Summary, r *Report, panels []*chart) {
	page := draw.Crop(c, 2*margin, -2*margin, 2*margin, -2*margin)
	w := page.Max.X - page.Min.X
	top := page.Max.Y

	title := s.Title
	if title == "" {
		title = "Model evaluation"
	}
	top = drawLine(page, pageTitleFont, page.Min.X, top, fit(pageTitleFont, title, w), text.XLeft)
	sub := fmt.Sprintf("Evaluated on %s rows with %s bads (bad rate %s); cut-off %.4g declines scores at or above it",
		number(float64(r.N), 0), number(float64(r.Bads), 0), pct(r.BadRate), r.AtCutoff.Cutoff)
	top = drawLine(page, subtitleFont, page.Min.X, top-rowGap, fit(subtitleFont, sub, w), text.XLeft)

	top = drawTiles(page, top-2*sectionGap, w, r)
	top = drawFacts(page, top-2*sectionGap, w, s.Facts)

	// Six panels, three across, in what is left.
	cols, rows := 3, 2
	pw := w / vg.Length(cols)
	ph := (top - sectionGap - page.Min.Y) / vg.Length(rows)
	for i, ch := range panels {
		x := page.Min.X + vg.Length(i%cols)*pw
		y := top - sectionGap - vg.Length(i/cols+1)*ph
		ch.draw(draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y},
			Max: vg.Point{X: x + pw, Y: y + ph},
		}})
	}
}

// drawTiles draws the headline metrics in a row of tiles and returns the
// bottom of the row.
func drawTiles(c draw.Canvas, top, w vg.Length, r *Report) vg.Length {
	m := r.AtCutoff
	tiles := []struct{ name, value string }{
		{"AUC", fmt.Sprintf("%.4f", r.AUC)},
		{"Gini", fmt.Sprintf("%.4f", r.Gini)},
		{"KS", fmt.Sprintf("%.4f", r.KS)},
		{"Log loss", fmt.Sprintf("%.4f", r.LogLoss)},
		{"Brier score", fmt.Sprintf("%.4f", r.Brier)},
		{"ECE (calibration)", fmt.Sprintf("%.4f", r.ECE)},
		{"Bad rate", pct(r.BadRate)},
		{fmt.Sprintf("Approved at cut-off %.4g", m.Cutoff), pct(m.ApprovalRate)},
		{"Bad rate of the approved", pct(m.BadRateApproved)},
	}
	const gap = vg.Length(6)
	pad := vg.Length(6)
	tw := (w - gap*vg.Length(len(tiles)-1)) / vg.Length(len(tiles))
	ve, ne := tileValueFont.FontExtents(), tileNameFont.FontExtents()
	h := pad + ve.Ascent + ve.Descent + rowGap + ne.Ascent + ne.Descent + pad
	for i, t := range tiles {
		x := c.Min.X + vg.Length(i)*(tw+gap)
		box := vg.Rectangle{Min: vg.Point{X: x, Y: top - h}, Max: vg.Point{X: x + tw, Y: top}}
		c.SetColor(tileFill)
		c.Fill(box.Path())
		mid := x + tw/2
		y := drawLine(c, tileValueFont, mid, top-pad, fit(tileValueFont, t.value, tw-2*pad), text.XCenter)
		drawLine(c, tileNameFont, mid, y-rowGap, fit(tileNameFont, t.name, tw-2*pad), text.XCenter)
	}
	return top - h
}

// drawFacts draws up to MaxSummaryFacts facts in three columns and
// returns the bottom of the last line.
func drawFacts(c draw.Canvas, top, w vg.Length, facts []Fact) vg.Length {
	if len(facts) == 0 {
		return top
	}
	shown := facts
	if len(facts) > MaxSummaryFacts {
		shown = append(facts[:MaxSummaryFacts-1:MaxSummaryFacts-1],
			Fact{"more", fmt.Sprintf("%d further facts not shown", len(facts)-(MaxSummaryFacts-1))})
	}
	const cols = 3
	cw := w / cols
	lines := int(math.Ceil(float64(len(shown)) / cols))
	ext := factFont.FontExtents()
	lh := ext.Ascent + ext.Descent + rowGap
	// Names get at most a third of the column.
	var nameW vg.Length
	for _, f := range shown {
		nameW = max(nameW, factNameFont.Width(f.Name+" "))
	}
	nameW = min(nameW, cw/3)
	for i, f := range shown {
		// Column-major, so facts read down the first column first.
		col, row := i/lines, i%lines
		x := c.Min.X + vg.Length(col)*cw
		y := top - vg.Length(row)*lh
		drawLine(c, factNameFont, x, y, fit(factNameFont, f.Name, nameW-factNameFont.Width(" ")), text.XLeft)
		drawLine(c, factFont, x+nameW, y, fit(factFont, f.Value, cw-nameW-vg.Length(12)), text.XLeft)
	}
	return top - vg.Length(lines)*lh + rowGap
}
