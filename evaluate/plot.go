package evaluate

import (
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart size and resolution: 7×5 in at 120 dpi is 840×600 pixels.
const (
	chartW = 7 * vg.Inch
	chartH = 5 * vg.Inch
	dpi    = 120
)

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	red    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	grey   = color.RGBA{R: 128, G: 128, B: 128, A: 255}
	// series colours for learning curves, cycled.
	seriesColors = []color.Color{blue, orange, red, color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255}, color.RGBA{R: 140, G: 86, B: 75, A: 255}}
)

// ErrPlot marks chart input that cannot be drawn (no series, names and
// values of different lengths, non-finite values).
var ErrPlot = errors.New("cannot plot")

// Plot file names written by WritePlots.
const (
	ROCFile               = "roc.png"
	PRFile                = "precision_recall.png"
	CalibrationFile       = "calibration.png"
	KSFile                = "ks.png"
	ScoreDistributionFile = "score_distribution.png"
	ConfusionFile         = "confusion_matrix.png"
)

// WritePlots writes the standard charts of one model into dir (created if
// missing) and returns their paths in this order: ROC, precision-recall,
// calibration, KS, score distribution by class, confusion matrix at cutoff.
func WritePlots(dir string, labels, scores []float64, cutoff float64) ([]string, error) {
	r, err := Evaluate(labels, scores, cutoff)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	charts := []struct {
		file string
		draw func(path string) error
	}{
		{ROCFile, func(p string) error { return ROCPlot(p, labels, scores, "model") }},
		{PRFile, func(p string) error { return PRPlot(p, labels, scores) }},
		{CalibrationFile, func(p string) error { return CalibrationPlot(p, r.Calibration) }},
		{KSFile, func(p string) error { return KSPlot(p, labels, scores) }},
		{ScoreDistributionFile, func(p string) error { return ScoreDistributionPlot(p, labels, scores) }},
		{ConfusionFile, func(p string) error { return ConfusionPlot(p, r.AtCutoff) }},
	}
	// Rendering dominates the cost of an evaluation and the charts are
	// independent, so they are drawn on all cores.
	paths := make([]string, len(charts))
	errs := make([]error, len(charts))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, c := range charts {
		paths[i] = filepath.Join(dir, c.file)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = c.draw(paths[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return paths, nil
}

// ROCPlot draws the ROC curve of one model, named name in the legend with
// its AUC.
func ROCPlot(path string, labels, scores []float64, name string) error {
	p, err := rocChart("ROC curve", labels, []namedScores{{name, scores, blue}})
	if err != nil {
		return fmt.Errorf("roc plot: %w", err)
	}
	return save(p, path, chartW, chartH)
}

// ROCComparison draws the ROC curves of two models scored on the same rows
// on one chart (champion against challenger), with both AUCs and DeLong's
// p-value for their difference in the title.
func ROCComparison(path string, labels, scoresA, scoresB []float64, nameA, nameB string) error {
	d, err := DeLong(labels, scoresA, scoresB)
	if err != nil {
		return fmt.Errorf("roc comparison plot: %w", err)
	}
	title := fmt.Sprintf("ROC: %s vs %s (DeLong p = %.3g)", nameA, nameB, d.P)
	p, err := rocChart(title, labels, []namedScores{{nameA, scoresA, blue}, {nameB, scoresB, orange}})
	if err != nil {
		return fmt.Errorf("roc comparison plot: %w", err)
	}
	return save(p, path, chartW, chartH)
}

type namedScores struct {
	name   string
	scores []float64
	color  color.Color
}

func rocChart(title string, labels []float64, models []namedScores) (*plot.Plot, error) {
	p := newPlot(title, "False positive rate (goods declined)", "True positive rate (bads declined)")
	unitAxes(p)
	if err := diagonal(p, "random (AUC = 0.5)"); err != nil {
		return nil, err
	}
	for i, m := range models {
		s, err := newSample(labels, m.scores, "scores", false)
		if err != nil {
			return nil, err
		}
		if err := bothClasses(s.bads, s.goods); err != nil {
			return nil, err
		}
		l, err := plotter.NewLine(xys(s.roc()))
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = m.color, vg.Points(2)
		if i > 0 {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (AUC = %.4f)", m.name, s.auc()), l)
	}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), vg.Points(10)
	return p, nil
}

// PRPlot draws the precision-recall curve, with the bad rate as the
// baseline of a model that declines at random.
func PRPlot(path string, labels, scores []float64) error {
	s, err := newSample(labels, scores, "scores", false)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return fmt.Errorf("precision-recall plot: %w", err)
	}
	p := newPlot("Precision-recall curve", "Recall (share of bads declined)", "Precision (bads among declined)")
	unitAxes(p)
	l, err := plotter.NewLine(xys(s.pr()))
	if err != nil {
		return fmt.Errorf("precision-recall plot: %w", err)
	}
	l.Color, l.Width = blue, vg.Points(2)
	rate := ratio(s.bads, len(labels))
	base, err := plotter.NewLine(plotter.XYs{{X: 0, Y: rate}, {X: 1, Y: rate}})
	if err != nil {
		return fmt.Errorf("precision-recall plot: %w", err)
	}
	base.Color, base.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(l, base)
	p.Legend.Add("model", l)
	p.Legend.Add(fmt.Sprintf("bad rate %.3f (random)", rate), base)
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(10)
	return save(p, path, chartW, chartH)
}

// CalibrationPlot draws the reliability diagram of a calibration table:
// observed bad rate against mean predicted probability per decile, with
// the diagonal of perfect calibration and the ECE in the title.
func CalibrationPlot(path string, bins []CalibrationBin) error {
	if len(bins) == 0 {
		return fmt.Errorf("calibration plot: %w: no bins", ErrPlot)
	}
	pts := make(plotter.XYs, len(bins))
	top := 0.0
	for i, b := range bins {
		if !finite(b.MeanPredicted) || !finite(b.ObservedRate) || b.MeanPredicted < 0 || b.MeanPredicted > 1 ||
			b.ObservedRate < 0 || b.ObservedRate > 1 {
			return fmt.Errorf("calibration plot: %w: bin %d is not a pair of rates in [0, 1]", ErrPlot, b.Bin)
		}
		pts[i] = plotter.XY{X: b.MeanPredicted, Y: b.ObservedRate}
		top = max(top, b.MeanPredicted, b.ObservedRate)
	}
	p := newPlot(fmt.Sprintf("Calibration by decile (ECE = %.4f)", ECE(bins)),
		"Mean predicted probability of default", "Observed bad rate")
	// Zoom on the used range: PDs of good books rarely pass 0.5.
	top = math.Min(1, math.Ceil(top*10+0.5)/10)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, top, 0, top
	perfect, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}})
	if err != nil {
		return fmt.Errorf("calibration plot: %w", err)
	}
	perfect.Color, perfect.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(4)}
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return fmt.Errorf("calibration plot: %w", err)
	}
	l.Color, l.Width = blue, vg.Points(2)
	sc.Color, sc.Shape, sc.Radius = blue, draw.CircleGlyph{}, vg.Points(3)
	p.Add(perfect, l, sc)
	p.Legend.Add("perfectly calibrated", perfect)
	p.Legend.Add("model (deciles)", l, sc)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(10), -vg.Points(10)
	return save(p, path, chartW, chartH)
}

// KSPlot draws the cumulative score distributions of bads and goods and
// marks where they are furthest apart (the KS statistic). Scores must be
// probabilities.
func KSPlot(path string, labels, scores []float64) error {
	s, err := newSample(labels, scores, "scores", true)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return fmt.Errorf("ks plot: %w", err)
	}
	ks, at := s.ks()
	lo := s.scores[s.order[0]]
	bad, good := plotter.XYs{{X: lo, Y: 0}}, plotter.XYs{{X: lo, Y: 0}}
	var cb, cg int
	var gapBad, gapGood float64
	s.ties(func(from, to, bads int) {
		v := s.scores[s.order[from]]
		cb += bads
		cg += to - from - bads
		fb, fg := ratio(cb, s.bads), ratio(cg, s.goods)
		bad = append(bad, plotter.XY{X: v, Y: fb})
		good = append(good, plotter.XY{X: v, Y: fg})
		if v == at {
			gapBad, gapGood = fb, fg
		}
	})
	p := newPlot(fmt.Sprintf("KS = %.4f at score %.4g", ks, at), "Score (probability of default)", "Cumulative share")
	p.Y.Min, p.Y.Max = 0, 1
	lb, err := plotter.NewLine(bad)
	if err != nil {
		return fmt.Errorf("ks plot: %w", err)
	}
	lg, err := plotter.NewLine(good)
	if err != nil {
		return fmt.Errorf("ks plot: %w", err)
	}
	lb.Color, lb.Width = red, vg.Points(2)
	lg.Color, lg.Width = blue, vg.Points(2)
	gap, err := plotter.NewLine(plotter.XYs{{X: at, Y: gapBad}, {X: at, Y: gapGood}})
	if err != nil {
		return fmt.Errorf("ks plot: %w", err)
	}
	gap.Color, gap.Width, gap.Dashes = color.Black, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(lb, lg, gap)
	p.Legend.Add("bads", lb)
	p.Legend.Add("goods", lg)
	p.Legend.Add("KS distance", gap)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), vg.Points(10)
	return save(p, path, chartW, chartH)
}

// ScoreDistributionPlot draws the score histograms of bads and goods, each
// normalised to its own total so that class imbalance does not hide the
// bads. Scores must be probabilities.
func ScoreDistributionPlot(path string, labels, scores []float64) error {
	s, err := newSample(labels, scores, "scores", true)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return fmt.Errorf("score distribution plot: %w", err)
	}
	// Bins from 0 to the next tenth above the highest score, so charts of
	// models with similar scores share their bins.
	const nbins = 25
	lo, hi := 0.0, math.Max(0.1, math.Ceil(s.scores[s.order[len(s.order)-1]]*10)/10)
	width := (hi - lo) / nbins
	var counts [2][nbins]float64 // [good, bad]
	for i, v := range scores {
		b := min(int((v-lo)/width), nbins-1)
		counts[int(labels[i])][max(b, 0)]++
	}
	p := newPlot("Score distribution by class", "Score (probability of default)", "Share of class")
	p.X.Min, p.X.Max = lo, hi
	for c, st := range []struct {
		name  string
		n     int
		color color.Color
	}{{"goods", s.goods, blue}, {"bads", s.bads, red}} {
		pts := make(plotter.XYs, nbins)
		for b := range nbins {
			pts[b] = plotter.XY{X: lo + (float64(b)+0.5)*width, Y: counts[c][b] / float64(st.n)}
		}
		h, err := plotter.NewHistogram(pts, nbins)
		if err != nil {
			return fmt.Errorf("score distribution plot: %w", err)
		}
		r, g, b, _ := st.color.RGBA()
		h.FillColor = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 110}
		h.LineStyle.Color = st.color
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (n = %d)", st.name, st.n), h)
	}
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(10)
	return save(p, path, chartW, chartH)
}

// ConfusionPlot draws the confusion matrix at the cut-off as a heat map
// with the counts and their share of all rows in each cell.
func ConfusionPlot(path string, m CutoffMetrics) error {
	c := m.Confusion
	// cells[row][col]: rows actual good, bad (bottom to top); columns
	// approved, declined.
	cells := [2][2]int{{c.TrueNegative, c.FalsePositive}, {c.FalseNegative, c.TruePositive}}
	total := c.TrueNegative + c.FalsePositive + c.FalseNegative + c.TruePositive
	if total <= 0 || c.TrueNegative < 0 || c.FalsePositive < 0 || c.FalseNegative < 0 || c.TruePositive < 0 {
		return fmt.Errorf("confusion plot: %w: counts %+v", ErrPlot, c)
	}
	p := newPlot(fmt.Sprintf("Confusion matrix at cut-off %.4g (accuracy %.3f)", m.Cutoff, m.Accuracy),
		"Decision", "Actual")
	h := plotter.NewHeatMap(grid(cells), whiteToBlue(64))
	h.Min, h.Max = 0, float64(max(cells[0][0], cells[0][1], cells[1][0], cells[1][1], 1))
	p.Add(h)
	names := [2][2]string{{"true negative", "false positive"}, {"false negative", "true positive"}}
	var lab plotter.XYLabels
	for r := range 2 {
		for col := range 2 {
			lab.XYs = append(lab.XYs, plotter.XY{X: float64(col), Y: float64(r)})
			lab.Labels = append(lab.Labels, fmt.Sprintf("%d\n%.1f%%\n%s", cells[r][col],
				100*float64(cells[r][col])/float64(total), names[r][col]))
		}
	}
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return fmt.Errorf("confusion plot: %w", err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Font.Size = vg.Points(13)
		labels.TextStyle[i].XAlign, labels.TextStyle[i].YAlign = text.XCenter, text.YCenter
		labels.TextStyle[i].Color = color.Black
		r, col := i/2, i%2
		if float64(cells[r][col]) > 0.6*h.Max {
			labels.TextStyle[i].Color = color.White
		}
	}
	p.Add(labels)
	p.NominalX("approved (score < cut-off)", "declined (score ≥ cut-off)")
	p.NominalY("good (0)", "bad (1)")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, 1.5, -0.5, 1.5
	return save(p, path, 6*vg.Inch, 5*vg.Inch)
}

type grid [2][2]int

func (g grid) Dims() (c, r int)   { return 2, 2 }
func (g grid) Z(c, r int) float64 { return float64(g[r][c]) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// whiteToBlue is a light-to-dark palette, so dark cells hold large counts.
type whiteToBlue int

func (n whiteToBlue) Colors() []color.Color {
	cs := make([]color.Color, n)
	for i := range cs {
		t := float64(i) / float64(n-1)
		cs[i] = color.RGBA{
			R: uint8(247 - t*(247-8)),
			G: uint8(251 - t*(251-48)),
			B: uint8(255 - t*(255-107)),
			A: 255,
		}
	}
	return cs
}

// FeatureImportancePlot draws horizontal bars of feature importance, the
// largest at the top. title says which importance it is (e.g. "Feature
// importance (gain)"). Names and values must have the same length.
func FeatureImportancePlot(path, title string, names []string, values []float64) error {
	if len(names) == 0 || len(names) != len(values) {
		return fmt.Errorf("feature importance plot: %w: %d names, %d values", ErrPlot, len(names), len(values))
	}
	for i, v := range values {
		if !plottable(v) {
			return fmt.Errorf("feature importance plot: %w: %s = %v", ErrPlot, names[i], v)
		}
	}
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	// Ascending, so the largest bar is drawn at the top.
	slices.SortStableFunc(idx, func(a, b int) int {
		if values[a] != values[b] {
			if values[a] < values[b] {
				return -1
			}
			return 1
		}
		return b - a
	})
	vals := make(plotter.Values, len(idx))
	sorted := make([]string, len(idx))
	for i, j := range idx {
		vals[i], sorted[i] = values[j], names[j]
	}
	p := newPlot(title, "Importance", "")
	bars, err := plotter.NewBarChart(vals, vg.Points(12))
	if err != nil {
		return fmt.Errorf("feature importance plot: %w", err)
	}
	bars.Horizontal = true
	bars.Color = blue
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalY(sorted...)
	// Leave room past the longest bar: the autoscaled axis ends on it.
	p.X.Min = min(0, slices.Min(values))
	p.X.Max = max(p.X.Max, slices.Max(values)*1.05)
	h := max(chartH, vg.Length(len(names))*vg.Points(18)+vg.Inch)
	return save(p, path, chartW, h)
}

// Series is one learning curve: a value per boosting iteration, the first
// for iteration 1.
type Series struct {
	Name   string
	Values []float64
}

// LearningCurvePlot draws series (e.g. train and valid log loss, or AUC)
// against the boosting iteration. yLabel names the metric; best, when
// positive, marks the chosen (early-stopping) iteration with a vertical
// line.
func LearningCurvePlot(path, title, yLabel string, series []Series, best int) error {
	if len(series) == 0 {
		return fmt.Errorf("learning curve plot: %w: no series", ErrPlot)
	}
	p := newPlot(title, "Iteration", yLabel)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		if len(s.Values) == 0 {
			return fmt.Errorf("learning curve plot: %w: series %q is empty", ErrPlot, s.Name)
		}
		pts := make(plotter.XYs, len(s.Values))
		for it, v := range s.Values {
			if !plottable(v) {
				return fmt.Errorf("learning curve plot: %w: series %q, iteration %d = %v", ErrPlot, s.Name, it+1, v)
			}
			pts[it] = plotter.XY{X: float64(it + 1), Y: v}
			lo, hi = min(lo, v), max(hi, v)
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("learning curve plot: %w", err)
		}
		l.Color, l.Width = seriesColors[i%len(seriesColors)], vg.Points(2)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	if best > 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: float64(best), Y: lo}, {X: float64(best), Y: hi}})
		if err != nil {
			return fmt.Errorf("learning curve plot: %w", err)
		}
		l.Color, l.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(4)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("best iteration %d", best), l)
	}
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), -vg.Points(10)
	return save(p, path, chartW, chartH)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Label.TextStyle.Font.Size, p.Y.Label.TextStyle.Font.Size = vg.Points(12), vg.Points(12)
	p.Add(plotter.NewGrid())
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	return p
}

func unitAxes(p *plot.Plot) {
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
}

func diagonal(p *plot.Plot, name string) error {
	d, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	d.Color, d.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(4)}
	p.Add(d)
	p.Legend.Add(name, d)
	return nil
}

func xys(pts []Point) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		out[i] = plotter.XY{X: pt.X, Y: pt.Y}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// plottable reports whether v can be on an axis: gonum/plot's tick
// labelling loops forever when the axis range overflows a float64.
func plottable(v float64) bool { return finite(v) && math.Abs(v) <= 1e300 }

// save renders p as a PNG at path. gonum/plot panics on some degenerate
// drawings; that becomes an error rather than a crash of the pipeline.
func save(p *plot.Plot, path string, w, h vg.Length) (err error) {
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("draw %s: %w: %v", path, ErrPlot, r)
			}
		}()
		p.Draw(draw.New(c))
	}()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	// Charts are mostly flat colour: the fastest compression makes files
	// barely larger and takes a fraction of the default's time.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(f, c.Image()); err != nil {
		f.Close()
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return nil
}
