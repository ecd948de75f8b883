package evaluate

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ErrPlot marks chart input that cannot be drawn (no series, names and
// values of different lengths, non-finite values).
var ErrPlot = errors.New("cannot plot")

// Plot file names written by WritePlots, in the order of its paths.
const (
	ROCFile               = "roc.png"
	PRFile                = "precision_recall.png"
	CalibrationFile       = "calibration.png"
	KSFile                = "ks.png"
	ScoreDistributionFile = "score_distribution.png"
	ConfusionFile         = "confusion_matrix.png"
	GainsFile             = "gains.png"
	LiftFile              = "lift.png"
	StrategyFile          = "strategy.png"
)

// WritePlots writes the standard charts of one model into dir (created if
// missing) and returns their paths in this order: ROC, precision-recall,
// calibration, KS, score distribution by class, confusion matrix at
// cutoff, cumulative gains, lift by decile, and the approval-rate against
// bad-rate strategy curve.
func WritePlots(dir string, labels, scores []float64, cutoff float64) ([]string, error) {
	r, err := Evaluate(labels, scores, cutoff)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	charts := []struct {
		file  string
		build func() (*chart, error)
	}{
		{ROCFile, func() (*chart, error) { return rocChart("", labels, []namedScores{{"model", scores, blue}}) }},
		{PRFile, func() (*chart, error) { return prChart(labels, scores) }},
		{CalibrationFile, func() (*chart, error) { return calibrationChart(r.Calibration) }},
		{KSFile, func() (*chart, error) { return ksChart(labels, scores) }},
		{ScoreDistributionFile, func() (*chart, error) { return distributionChart(labels, scores, cutoff) }},
		{ConfusionFile, func() (*chart, error) { return confusionChart(r.AtCutoff) }},
		{GainsFile, func() (*chart, error) { return gainsChart(r.Lift) }},
		{LiftFile, func() (*chart, error) { return liftChart(r.Lift) }},
		{StrategyFile, func() (*chart, error) { return strategyChart(labels, scores, cutoff) }},
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
			ch, err := c.build()
			if err == nil {
				err = save(ch, paths[i])
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", c.file, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	return paths, nil
}

// ROCPlot draws the ROC curve of one model, named name in the legend, with
// its AUC, Gini and KS in the title.
func ROCPlot(path string, labels, scores []float64, name string) error {
	ch, err := rocChart("", labels, []namedScores{{name, scores, blue}})
	if err != nil {
		return fmt.Errorf("roc plot: %w", err)
	}
	return save(ch, path)
}

// ROCComparison draws the ROC curves of two models scored on the same rows
// on one chart (champion against challenger), with DeLong's p-value for
// the difference of their AUCs in the title and each AUC and Gini in the
// legend.
func ROCComparison(path string, labels, scoresA, scoresB []float64, nameA, nameB string) error {
	ch, err := rocComparisonChart(labels, scoresA, scoresB, nameA, nameB)
	if err != nil {
		return fmt.Errorf("roc comparison plot: %w", err)
	}
	return save(ch, path)
}

func rocComparisonChart(labels, scoresA, scoresB []float64, nameA, nameB string) (*chart, error) {
	d, err := DeLong(labels, scoresA, scoresB)
	if err != nil {
		return nil, err
	}
	title := fmt.Sprintf("ROC: %s vs %s · DeLong p = %.3g", nameA, nameB, d.P)
	return rocChart(title, labels, []namedScores{{nameA, scoresA, blue}, {nameB, scoresB, orange}})
}

type namedScores struct {
	name   string
	scores []float64
	color  color.Color
}

// rocChart draws one or more models' ROC curves. With one model and no
// title, the title carries its AUC, Gini and KS.
func rocChart(title string, labels []float64, models []namedScores) (*chart, error) {
	ch := newChart(title, "False positive rate (goods declined)", "True positive rate (bads declined)")
	p := ch.plot
	unitAxes(p, false)
	d, err := line(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, grey, 1, dashed)
	if err != nil {
		return nil, err
	}
	p.Add(d)
	for i, m := range models {
		s, err := newSample(labels, m.scores, "scores", false)
		if err != nil {
			return nil, err
		}
		if err := bothClasses(s.bads, s.goods); err != nil {
			return nil, err
		}
		var dash []vg.Length
		if i > 0 {
			dash = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		l, err := line(xys(s.roc()), m.color, 2, dash)
		if err != nil {
			return nil, err
		}
		p.Add(l)
		auc := s.auc()
		ch.subtitle = sampleNote(s)
		if len(models) == 1 {
			ks, _ := s.ks()
			if ch.title == "" {
				ch.title = fmt.Sprintf("ROC curve · AUC %.4f · Gini %.4f · KS %.4f", auc, 2*auc-1, ks)
			}
			ch.add(m.name, l)
		} else {
			ch.add(fmt.Sprintf("%s: AUC %.4f, Gini %.4f", m.name, auc, 2*auc-1), l)
		}
	}
	ch.add("random (AUC 0.5)", d)
	return ch, nil
}

// sampleNote says how many rows and bads a chart was drawn from.
func sampleNote(s *sample) string {
	n := len(s.order)
	return fmt.Sprintf("%s rows, %s bads (%s)", number(float64(n), 0), number(float64(s.bads), 0), pct(ratio(s.bads, n)))
}

// PRPlot draws the precision-recall curve, with the bad rate as the
// baseline of a model that declines at random.
func PRPlot(path string, labels, scores []float64) error {
	ch, err := prChart(labels, scores)
	if err != nil {
		return fmt.Errorf("precision-recall plot: %w", err)
	}
	return save(ch, path)
}

func prChart(labels, scores []float64) (*chart, error) {
	s, err := newSample(labels, scores, "scores", false)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return nil, err
	}
	ch := newChart("Precision-recall curve", "Recall (share of bads declined)", "Precision (bads among declined)")
	ch.subtitle = sampleNote(s)
	unitAxes(ch.plot, false)
	l, err := line(xys(s.pr()), blue, 2, nil)
	if err != nil {
		return nil, err
	}
	rate := ratio(s.bads, len(labels))
	base, err := line(plotter.XYs{{X: 0, Y: rate}, {X: 1, Y: rate}}, grey, 1, dashed)
	if err != nil {
		return nil, err
	}
	ch.plot.Add(base, l)
	ch.add("model", l)
	ch.add(fmt.Sprintf("random (precision = bad rate %.3f)", rate), base)
	return ch, nil
}

// CalibrationPlot draws the reliability diagram of a calibration table:
// observed bad rate against mean predicted probability per decile, with
// the diagonal of perfect calibration and the ECE in the title.
func CalibrationPlot(path string, bins []CalibrationBin) error {
	ch, err := calibrationChart(bins)
	if err != nil {
		return fmt.Errorf("calibration plot: %w", err)
	}
	return save(ch, path)
}

func calibrationChart(bins []CalibrationBin) (*chart, error) {
	if len(bins) == 0 {
		return nil, fmt.Errorf("%w: no bins", ErrPlot)
	}
	pts := make(plotter.XYs, len(bins))
	top, n := 0.0, 0
	for i, b := range bins {
		if !finite(b.MeanPredicted) || !finite(b.ObservedRate) || b.MeanPredicted < 0 || b.MeanPredicted > 1 ||
			b.ObservedRate < 0 || b.ObservedRate > 1 {
			return nil, fmt.Errorf("%w: bin %d is not a pair of rates in [0, 1]", ErrPlot, b.Bin)
		}
		pts[i] = plotter.XY{X: b.MeanPredicted, Y: b.ObservedRate}
		top = max(top, b.MeanPredicted, b.ObservedRate)
		n += b.Count
	}
	ch := newChart(fmt.Sprintf("Calibration by decile · ECE %.4f", ECE(bins)),
		"Mean predicted probability of default", "Observed bad rate")
	ch.subtitle = fmt.Sprintf("%d groups of about %s rows, lowest scores first", len(bins), number(math.Round(float64(n)/float64(len(bins))), 0))
	p := ch.plot
	// Zoom on the used range: PDs of good books rarely pass 0.5.
	_, top = niceRange(0, math.Min(1, top*1.05), false)
	top = math.Min(1, top)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, top, 0, top
	perfect, err := line(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}}, grey, 1, dashed)
	if err != nil {
		return nil, err
	}
	l, err := line(pts, blue, 2, nil)
	if err != nil {
		return nil, err
	}
	sc, err := dots(pts, blue, 3.5)
	if err != nil {
		return nil, err
	}
	p.Add(perfect, l, sc)
	ch.add("model (one point per decile)", l, sc)
	ch.add("perfectly calibrated", perfect)
	return ch, nil
}

// KSPlot draws the cumulative score distributions of bads and goods and
// marks where they are furthest apart (the KS statistic), with KS and
// Gini in the title. Scores must be probabilities.
func KSPlot(path string, labels, scores []float64) error {
	ch, err := ksChart(labels, scores)
	if err != nil {
		return fmt.Errorf("ks plot: %w", err)
	}
	return save(ch, path)
}

func ksChart(labels, scores []float64) (*chart, error) {
	s, err := newSample(labels, scores, "scores", true)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return nil, err
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
	ch := newChart(fmt.Sprintf("KS %.4f at score %.4g · Gini %.4f", ks, at, 2*s.auc()-1),
		"Score (probability of default)", "Cumulative share of the class")
	ch.subtitle = sampleNote(s)
	p := ch.plot
	p.X.Min, p.X.Max = scoreRange(lo, s.scores[s.order[len(s.order)-1]])
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = ticks{percent: true}
	lb, err := line(bad, red, 2, nil)
	if err != nil {
		return nil, err
	}
	lg, err := line(good, blue, 2, nil)
	if err != nil {
		return nil, err
	}
	gap, err := line(plotter.XYs{{X: at, Y: gapBad}, {X: at, Y: gapGood}}, color.Black, 1.5, []vg.Length{vg.Points(4), vg.Points(3)})
	if err != nil {
		return nil, err
	}
	p.Add(lb, lg, gap)
	ch.add("goods", lg)
	ch.add("bads", lb)
	ch.add(fmt.Sprintf("KS distance %.4f", ks), gap)
	return ch, nil
}

// scoreRange is a round range of probabilities holding [lo, hi].
func scoreRange(lo, hi float64) (float64, float64) {
	a, b := niceRange(lo, hi, false)
	return math.Max(0, a), math.Min(1, b)
}

// ScoreDistributionPlot draws the score histograms of bads and goods, each
// normalised to its own total so that class imbalance does not hide the
// bads. Scores must be probabilities.
func ScoreDistributionPlot(path string, labels, scores []float64) error {
	ch, err := distributionChart(labels, scores, math.NaN())
	if err != nil {
		return fmt.Errorf("score distribution plot: %w", err)
	}
	return save(ch, path)
}

// distributionChart marks cutoff unless it is NaN.
func distributionChart(labels, scores []float64, cutoff float64) (*chart, error) {
	s, err := newSample(labels, scores, "scores", true)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return nil, err
	}
	// Bins from 0 to the next tenth above the highest score (and the
	// cut-off), so charts of models with similar scores share their bins.
	const nbins = 25
	top := s.scores[s.order[len(s.order)-1]]
	if finite(cutoff) {
		top = max(top, cutoff)
	}
	lo, hi := 0.0, math.Max(0.1, math.Ceil(top*10)/10)
	width := (hi - lo) / nbins
	var counts [2][nbins]float64 // [good, bad]
	for i, v := range scores {
		b := min(int((v-lo)/width), nbins-1)
		counts[int(labels[i])][max(b, 0)]++
	}
	ch := newChart("Score distribution by class", "Score (probability of default)", "Share of the class")
	ch.subtitle = "Each class sums to 100%, so the bads show however few they are"
	p := ch.plot
	p.Y.Tick.Marker = ticks{percent: true}
	peak := 0.0
	for c, st := range []struct {
		name  string
		n     int
		color color.RGBA
	}{{"goods", s.goods, blue}, {"bads", s.bads, red}} {
		pts := make(plotter.XYs, nbins)
		for b := range nbins {
			pts[b] = plotter.XY{X: lo + (float64(b)+0.5)*width, Y: counts[c][b] / float64(st.n)}
			peak = max(peak, pts[b].Y)
		}
		h, err := plotter.NewHistogram(pts, nbins)
		if err != nil {
			return nil, err
		}
		h.FillColor = color.NRGBA{R: st.color.R, G: st.color.G, B: st.color.B, A: 100}
		h.LineStyle.Color, h.LineStyle.Width = st.color, vg.Points(1)
		p.Add(h)
		ch.add(fmt.Sprintf("%s (n = %s)", st.name, number(float64(st.n), 0)), h)
	}
	p.X.Min, p.X.Max = lo, hi
	_, p.Y.Max = niceRange(0, peak*1.05, false)
	p.Y.Min = 0
	if finite(cutoff) {
		l, err := line(plotter.XYs{{X: cutoff, Y: 0}, {X: cutoff, Y: p.Y.Max}}, color.Black, 1.2, dashed)
		if err != nil {
			return nil, err
		}
		p.Add(l)
		ch.add(fmt.Sprintf("cut-off %.4g", cutoff), l)
	}
	return ch, nil
}

// ConfusionPlot draws the confusion matrix at the cut-off as a heat map
// with the counts and their share of all rows in each cell.
func ConfusionPlot(path string, m CutoffMetrics) error {
	ch, err := confusionChart(m)
	if err != nil {
		return fmt.Errorf("confusion plot: %w", err)
	}
	return save(ch, path)
}

func confusionChart(m CutoffMetrics) (*chart, error) {
	c := m.Confusion
	// cells[row][col]: rows actual good, bad (bottom to top); columns
	// approved, declined.
	cells := [2][2]int{{c.TrueNegative, c.FalsePositive}, {c.FalseNegative, c.TruePositive}}
	total := c.TrueNegative + c.FalsePositive + c.FalseNegative + c.TruePositive
	if total <= 0 || c.TrueNegative < 0 || c.FalsePositive < 0 || c.FalseNegative < 0 || c.TruePositive < 0 {
		return nil, fmt.Errorf("%w: counts %+v", ErrPlot, c)
	}
	ch := newChart(fmt.Sprintf("Confusion matrix at cut-off %.4g", m.Cutoff), "Decision", "Actual class")
	ch.subtitle = fmt.Sprintf("accuracy %.3f · precision %.3f · recall %.3f · approved %s · bad rate among approved %s",
		m.Accuracy, m.Precision, m.Recall, pct(m.ApprovalRate), pct(m.BadRateApproved))
	p := ch.plot
	h := plotter.NewHeatMap(grid(cells), whiteToBlue(64))
	h.Min, h.Max = 0, float64(max(cells[0][0], cells[0][1], cells[1][0], cells[1][1], 1))
	p.Add(h)
	names := [2][2]string{{"true negative", "false positive"}, {"false negative", "true positive"}}
	var lab plotter.XYLabels
	for r := range 2 {
		for col := range 2 {
			lab.XYs = append(lab.XYs, plotter.XY{X: float64(col), Y: float64(r)})
			lab.Labels = append(lab.Labels, fmt.Sprintf("%s\n%s of rows\n%s", number(float64(cells[r][col]), 0),
				pct(ratio(cells[r][col], total)), names[r][col]))
		}
	}
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return nil, err
	}
	cell := noteFont
	cell.Font.Size = vg.Points(12)
	styleLabels(labels, cell)
	for i := range labels.TextStyle {
		r, col := i/2, i%2
		if float64(cells[r][col]) > 0.6*h.Max {
			labels.TextStyle[i].Color = color.White
		}
	}
	p.Add(labels)
	p.NominalX(fmt.Sprintf("approved (score < %.4g)", m.Cutoff), fmt.Sprintf("declined (score ≥ %.4g)", m.Cutoff))
	p.NominalY("good (0)", "bad (1)")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, 1.5, -0.5, 1.5
	return ch, nil
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

// MaxImportanceBars is how many features the importance chart shows, the
// most important first; the subtitle says how many were left out.
const MaxImportanceBars = 20

// FeatureImportancePlot draws horizontal bars of feature importance, the
// largest at the top, at most MaxImportanceBars of them. title says which
// importance it is (e.g. "Feature importance (gain)"). Names and values
// must have the same length. Names wider than 55% of the chart are
// shortened in the middle with an ellipsis.
func FeatureImportancePlot(path, title string, names []string, values []float64) error {
	ch, err := importanceChart(title, names, values)
	if err != nil {
		return fmt.Errorf("feature importance plot: %w", err)
	}
	return save(ch, path)
}

// maxNameShare of the chart's width may go to feature names: enough for
// German credit's longest (number_of_people_being_liable_to_provide_maintenance_for)
// while leaving the bars most of the rest.
const maxNameShare = 0.55

func importanceChart(title string, names []string, values []float64) (*chart, error) {
	if len(names) == 0 || len(names) != len(values) {
		return nil, fmt.Errorf("%w: %d names, %d values", ErrPlot, len(names), len(values))
	}
	for i, v := range values {
		if !plottable(v) {
			return nil, fmt.Errorf("%w: %s = %v", ErrPlot, names[i], v)
		}
	}
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	// Largest first, ties in input order.
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case values[a] > values[b]:
			return -1
		case values[a] < values[b]:
			return 1
		}
		return 0
	})
	shown := idx[:min(len(idx), MaxImportanceBars)]
	// Bars go bottom up, so the largest is drawn last, at the top.
	vals := make(plotter.Values, len(shown))
	sorted := make([]string, len(shown))
	for i, j := range shown {
		k := len(shown) - 1 - i
		vals[k], sorted[k] = values[j], fit(tickFont, names[j], maxNameShare*chartW)
	}
	ch := newChart(title, "Importance", "")
	ch.subtitle = fmt.Sprintf("All %d features", len(names))
	if len(shown) < len(names) {
		ch.subtitle = fmt.Sprintf("The %d most important of %d features", len(shown), len(names))
	}
	p := ch.plot
	// About 60% of each row's height is bar.
	barW := min(vg.Points(14), (chartH-vg.Points(130))/vg.Length(len(shown))*0.6)
	bars, err := plotter.NewBarChart(vals, barW)
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.Color = blue
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalY(sorted...)
	p.Y.Min, p.Y.Max = -0.5, float64(len(shown))-0.5
	p.X.Min, p.X.Max = niceRange(min(0, slices.Min(values)), max(0, slices.Max(values)), false)
	return ch, nil
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
	ch, err := learningChart(title, yLabel, series, best)
	if err != nil {
		return fmt.Errorf("learning curve plot: %w", err)
	}
	return save(ch, path)
}

func learningChart(title, yLabel string, series []Series, best int) (*chart, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("%w: no series", ErrPlot)
	}
	ch := newChart(title, "Iteration", yLabel)
	p := ch.plot
	lo, hi := math.Inf(1), math.Inf(-1)
	iters := 0
	for i, s := range series {
		if len(s.Values) == 0 {
			return nil, fmt.Errorf("%w: series %q is empty", ErrPlot, s.Name)
		}
		pts := make(plotter.XYs, len(s.Values))
		for it, v := range s.Values {
			if !plottable(v) {
				return nil, fmt.Errorf("%w: series %q, iteration %d = %v", ErrPlot, s.Name, it+1, v)
			}
			pts[it] = plotter.XY{X: float64(it + 1), Y: v}
			lo, hi = min(lo, v), max(hi, v)
		}
		iters = max(iters, len(s.Values))
		l, err := line(pts, seriesColors[i%len(seriesColors)], 2, nil)
		if err != nil {
			return nil, err
		}
		p.Add(l)
		ch.add(s.Name, l)
	}
	p.X.Tick.Marker = ticks{integer: true}
	// The axis ends at the last iteration rather than the next round
	// number, which could leave a fifth of the chart empty.
	p.X.Min, p.X.Max = 0, float64(max(iters, best, 1))
	p.Y.Min, p.Y.Max = niceRange(lo, hi, false)
	ch.subtitle = fmt.Sprintf("%d iterations", iters)
	if best > 0 {
		l, err := line(plotter.XYs{{X: float64(best), Y: p.Y.Min}, {X: float64(best), Y: p.Y.Max}}, grey, 1.2, dashed)
		if err != nil {
			return nil, err
		}
		p.Add(l)
		ch.add(fmt.Sprintf("best iteration %d", best), l)
		ch.subtitle = fmt.Sprintf("%d iterations, best %d", iters, best)
	}
	return ch, nil
}

// unitAxes sets both axes to [0, 1], labelled as percentages when percent
// is set.
func unitAxes(p *plot.Plot, percent bool) {
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks{percent: percent}, ticks{percent: percent}
}

func xys(pts []Point) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		out[i] = plotter.XY{X: pt.X, Y: pt.Y}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// plottable reports whether v can be on an axis: ranges wider than a
// float64 holds break tick placement.
func plottable(v float64) bool { return finite(v) && math.Abs(v) <= 1e300 }
