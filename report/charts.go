package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/scorecard"
)

// maxEffects is how many features the effects chart and table show.
const maxEffects = 15

// charts draws the report's PNG charts (with the evaluate and scorecard
// packages' plots, the ones the run logs) and keeps their bytes.
func (rep *Report) charts(d *model.Dir, work string) error {
	dir := filepath.Join(work, "charts")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("report: charts: %w", err)
	}
	var errs []error
	draw := func(name string, fn func(path string) error) {
		p := filepath.Join(dir, fmt.Sprintf("chart%03d.png", len(rep.Charts)+len(errs)))
		if err := fn(p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			return
		}
		rep.Charts[name] = b
	}
	for _, p := range []*Performance{rep.Test, rep.Holdout} {
		if p == nil {
			continue
		}
		l, s := p.labels, p.scores
		draw(p.Name+"/roc", func(path string) error { return evaluate.ROCPlot(path, l, s, rep.Model.Name+" v"+rep.Model.Version) })
		draw(p.Name+"/ks", func(path string) error { return evaluate.KSPlot(path, l, s) })
		draw(p.Name+"/calibration", func(path string) error { return evaluate.CalibrationPlot(path, p.Calibration) })
		draw(p.Name+"/lift", func(path string) error { return evaluate.LiftPlot(path, l, s) })
		draw(p.Name+"/distribution", func(path string) error { return evaluate.ScoreDistributionPlot(path, l, s) })
	}
	if sc, ok := d.Model.(*scorecard.Model); ok {
		draw("scorecard/iv", sc.IVPlot)
		for _, f := range rep.Scorecard.Features {
			draw("scorecard/binning/"+f.Name, func(path string) error { return sc.BinningPlot(path, f.Name) })
		}
	} else if len(rep.Effects) > 0 {
		n := min(maxEffects, len(rep.Effects))
		names, values := make([]string, n), make([]float64, n)
		for i, e := range rep.Effects[:n] {
			names[i], values[i] = e.Feature, e.Value
		}
		draw("effects", func(path string) error {
			return evaluate.FeatureImportancePlot(path, "Top features ("+rep.EffectMeasure+")", names, values)
		})
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("report: charts: %w", err)
	}
	return nil
}
