package evaluate

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// GainsPlot draws the cumulative gains chart by decile: the share of all
// bads captured when declining the highest-scoring 10%, 20%, … of
// applicants, against a random and a perfect ranking. Scores may be any
// finite numbers; there must be at least one bad.
func GainsPlot(path string, labels, scores []float64) error {
	rows, err := Lift(labels, scores)
	if err != nil {
		return fmt.Errorf("gains plot: %w", err)
	}
	ch, err := gainsChart(rows)
	if err != nil {
		return fmt.Errorf("gains plot: %w", err)
	}
	return save(ch, path)
}

func gainsChart(rows []LiftRow) (*chart, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no deciles", ErrPlot)
	}
	last := rows[len(rows)-1]
	n, bads := last.CumCount, last.CumBads
	if n == 0 || bads == 0 {
		return nil, fmt.Errorf("%w: no bads to capture", ErrPlot)
	}
	pts := plotter.XYs{{}}
	for _, r := range rows {
		pts = append(pts, plotter.XY{X: ratio(r.CumCount, n), Y: r.Gains})
	}
	ch := newChart("Cumulative gains by decile", "Share of applicants declined, highest scores first",
		"Share of all bads captured")
	ch.subtitle = gainsNote(rows, n)
	unitAxes(ch.plot, true)
	random, err := line(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, grey, 1, dashed)
	if err != nil {
		return nil, err
	}
	perfect, err := line(plotter.XYs{{X: 0, Y: 0}, {X: ratio(bads, n), Y: 1}, {X: 1, Y: 1}}, green, 1.2, dotted)
	if err != nil {
		return nil, err
	}
	l, err := line(pts, blue, 2, nil)
	if err != nil {
		return nil, err
	}
	sc, err := dots(pts[1:], blue, 3.5)
	if err != nil {
		return nil, err
	}
	ch.plot.Add(random, perfect, l, sc)
	ch.add("model (one point per decile)", l, sc)
	ch.add("perfect ranking", perfect)
	ch.add("random", random)
	return ch, nil
}

// gainsNote reads the gains at the first and third decile in words.
func gainsNote(rows []LiftRow, n int) string {
	note := fmt.Sprintf("The riskiest %s of applicants hold %s of the bads", pct0(ratio(rows[0].CumCount, n)), pct0(rows[0].Gains))
	if len(rows) > 2 {
		note += fmt.Sprintf(", the riskiest %s hold %s", pct0(ratio(rows[2].CumCount, n)), pct0(rows[2].Gains))
	}
	return note
}

// pct0 formats a share as a whole percentage.
func pct0(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) + "%" }

// LiftPlot draws the lift of each score decile (its bad rate over the
// overall bad rate), the riskiest decile first, with each value above its
// bar. Scores may be any finite numbers; there must be at least one bad.
func LiftPlot(path string, labels, scores []float64) error {
	rows, err := Lift(labels, scores)
	if err != nil {
		return fmt.Errorf("lift plot: %w", err)
	}
	ch, err := liftChart(rows)
	if err != nil {
		return fmt.Errorf("lift plot: %w", err)
	}
	return save(ch, path)
}

func liftChart(rows []LiftRow) (*chart, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no deciles", ErrPlot)
	}
	last := rows[len(rows)-1]
	overall := ratio(last.CumBads, last.CumCount)
	vals := make(plotter.Values, len(rows))
	names := make([]string, len(rows))
	var lab plotter.XYLabels
	top := 1.0
	for i, r := range rows {
		vals[i], names[i] = r.Lift, strconv.Itoa(r.Decile)
		lab.XYs = append(lab.XYs, plotter.XY{X: float64(i), Y: r.Lift})
		lab.Labels = append(lab.Labels, strconv.FormatFloat(r.Lift, 'f', 2, 64))
		top = max(top, r.Lift)
	}
	ch := newChart(fmt.Sprintf("Lift by decile · top decile %.2f×", rows[0].Lift),
		"Score decile (1 = highest scores, the riskiest applicants)", "Lift (bad rate / overall bad rate)")
	ch.subtitle = fmt.Sprintf("Overall bad rate %s; top decile %s, bottom decile %s",
		pct(overall), pct(rows[0].BadRate), pct(last.BadRate))
	p := ch.plot
	barW := (chartW - vg.Points(120)) / vg.Length(len(rows)) * 0.6
	bars, err := plotter.NewBarChart(vals, barW)
	if err != nil {
		return nil, err
	}
	bars.Color, bars.LineStyle.Width = blue, 0
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return nil, err
	}
	styleLabels(labels, noteFont)
	for i := range labels.TextStyle {
		labels.TextStyle[i].YAlign = text.YBottom
	}
	labels.Offset = vg.Point{Y: vg.Points(4)}
	ref, err := line(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(rows)) - 0.5, Y: 1}}, color.Black, 1.2, dashed)
	if err != nil {
		return nil, err
	}
	p.Add(bars, ref, labels)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(rows))-0.5
	// Room above the tallest bar for its label.
	p.Y.Min, p.Y.Max = niceRange(0, top*1.12, false)
	ch.add("lift of the decile", bars)
	ch.add("random (lift 1)", ref)
	return ch, nil
}

// StrategyPlot draws the approval-rate against bad-rate trade-off as the
// cut-off moves (see StrategyCurve), marks where cutoff lands, and shows
// the frontier of a perfect ranking. Scores must be probabilities.
func StrategyPlot(path string, labels, scores []float64, cutoff float64) error {
	ch, err := strategyChart(labels, scores, cutoff)
	if err != nil {
		return fmt.Errorf("strategy plot: %w", err)
	}
	return save(ch, path)
}

func strategyChart(labels, scores []float64, cutoff float64) (*chart, error) {
	if err := checkCutoff(cutoff); err != nil {
		return nil, err
	}
	s, err := newSample(labels, scores, "scores", true)
	if err == nil {
		err = bothClasses(s.bads, s.goods)
	}
	if err != nil {
		return nil, err
	}
	curve := s.strategy()
	pts := make(plotter.XYs, len(curve))
	top := 0.0
	for i, c := range curve {
		pts[i] = plotter.XY{X: c.X, Y: c.Y}
		top = max(top, c.Y)
	}
	n := len(s.order)
	overall, goodShare := ratio(s.bads, n), ratio(s.goods, n)
	// A perfect ranking approves every good before the first bad.
	perfectPts := plotter.XYs{{X: 0, Y: 0}, {X: goodShare, Y: 0}}
	for k := 1; k <= 40; k++ {
		a := goodShare + (1-goodShare)*float64(k)/40
		perfectPts = append(perfectPts, plotter.XY{X: a, Y: (a - goodShare) / a})
	}
	m := atCutoff(labels, scores, cutoff)
	ch := newChart("Approval rate vs bad rate (strategy curve)", "Approval rate (applicants with score < cut-off)",
		"Bad rate among the approved")
	ch.subtitle = fmt.Sprintf("Cut-off %.4g approves %s with a bad rate of %s; approving everyone: %s",
		cutoff, pct(m.ApprovalRate), pct(m.BadRateApproved), pct(overall))
	p := ch.plot
	p.X.Min, p.X.Max = 0, 1
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks{percent: true}, ticks{percent: true}
	p.Y.Min, p.Y.Max = niceRange(0, max(top, overall)*1.05, false)
	perfect, err := line(perfectPts, green, 1.2, dotted)
	if err != nil {
		return nil, err
	}
	l, err := line(pts, blue, 2, nil)
	if err != nil {
		return nil, err
	}
	p.Add(perfect, l)
	ch.add("model", l)
	if m.ApprovalRate > 0 {
		at := plotter.XY{X: m.ApprovalRate, Y: m.BadRateApproved}
		guide, err := line(plotter.XYs{{X: at.X, Y: 0}, at, {X: 0, Y: at.Y}}, darkGrey, 1, dotted)
		if err != nil {
			return nil, err
		}
		mark, err := dots(plotter.XYs{at}, red, 5)
		if err != nil {
			return nil, err
		}
		p.Add(guide, mark)
		ch.add(fmt.Sprintf("cut-off %.4g", cutoff), mark)
	} else {
		// Nothing approved: no bad rate to mark.
		ch.subtitle = fmt.Sprintf("Cut-off %.4g approves nobody; approving everyone: %s", cutoff, pct(overall))
	}
	ch.add("perfect ranking", perfect)
	if !finite(p.Y.Max) || p.Y.Max <= 0 {
		p.Y.Max = math.Max(0.1, overall)
	}
	return ch, nil
}
