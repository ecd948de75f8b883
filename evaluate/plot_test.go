package evaluate_test

import (
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/evaluate"
)

// plotDir is where the charts go: a temporary directory, or
// EVALUATE_PLOT_DIR to keep them for a look.
func plotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("EVALUATE_PLOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// checkPNG decodes path and checks its size and that it is not blank.
func checkPNG(t *testing.T, path string, minW, minH int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() < minW || b.Dy() < minH || b.Dx() > 4000 || b.Dy() > 4000 {
		t.Errorf("%s is %d×%d pixels, want at least %d×%d", path, b.Dx(), b.Dy(), minW, minH)
	}
	if colours := distinctColours(img, 50); colours < 10 {
		t.Errorf("%s has only %d colours: blank chart?", path, colours)
	}
	st, _ := f.Stat()
	if st.Size() < 10_000 {
		t.Errorf("%s is only %d bytes", path, st.Size())
	}
}

func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func TestWritePlots(t *testing.T) {
	labels, cols := scores(t)
	dir := filepath.Join(plotDir(t), "model")
	paths, err := evaluate.WritePlots(dir, labels, cols["score_a"], 0.3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{evaluate.ROCFile, evaluate.PRFile, evaluate.CalibrationFile, evaluate.KSFile,
		evaluate.ScoreDistributionFile, evaluate.ConfusionFile, evaluate.GainsFile, evaluate.LiftFile,
		evaluate.StrategyFile}
	if len(paths) != len(want) {
		t.Fatalf("paths %v, want %d files", paths, len(want))
	}
	for i, p := range paths {
		if p != filepath.Join(dir, want[i]) {
			t.Errorf("path %d = %s, want %s", i, p, want[i])
		}
		checkPNG(t, p, 600, 500)
	}
}

func TestExtraPlots(t *testing.T) {
	labels, cols := scores(t)
	dir := plotDir(t)
	roc := filepath.Join(dir, "roc_comparison.png")
	if err := evaluate.ROCComparison(roc, labels, cols["score_a"], cols["score_b"], "champion v3", "challenger v4"); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, roc, 800, 550)

	fi := filepath.Join(dir, "feature_importance.png")
	names := []string{"duration", "credit_amount", "checking_status", "age", "purpose", "savings_status",
		"employment", "installment_commitment", "credit_history", "property_magnitude", "housing",
		"existing_credits", "job", "num_dependents", "own_telephone", "foreign_worker", "other_parties",
		"residence_since", "other_payment_plans", "personal_status"}
	vals := make([]float64, len(names))
	for i := range vals {
		vals[i] = 1000 * math.Exp(-0.25*float64(i)) * (1 + 0.1*math.Sin(float64(i)))
	}
	if err := evaluate.FeatureImportancePlot(fi, "Feature importance (gain)", names, vals); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, fi, 800, 550)

	for _, c := range []struct {
		file string
		draw func(string) error
	}{
		{"gains_any_scores.png", func(p string) error { return evaluate.GainsPlot(p, labels, cols["score_b"]) }},
		{"lift_any_scores.png", func(p string) error { return evaluate.LiftPlot(p, labels, cols["score_b"]) }},
		{"strategy_t.png", func(p string) error { return evaluate.StrategyPlot(p, labels, cols["score_t"], 0.45) }},
	} {
		if err := c.draw(filepath.Join(dir, c.file)); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		checkPNG(t, filepath.Join(dir, c.file), 840, 600)
	}

	lc := filepath.Join(dir, "learning_curve.png")
	var train, valid []float64
	for it := 1; it <= 200; it++ {
		x := float64(it)
		train = append(train, 0.45+0.2*math.Exp(-x/30))
		valid = append(valid, 0.52+0.15*math.Exp(-x/25)+0.0004*math.Max(0, x-90))
	}
	err := evaluate.LearningCurvePlot(lc, "Learning curve", "Binary log loss",
		[]evaluate.Series{{Name: "train", Values: train}, {Name: "valid", Values: valid}}, 90)
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, lc, 800, 550)
}

func TestPlotErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "x.png")
	labels := []float64{0, 1, 0, 1}
	s := []float64{0.1, 0.2, 0.3, 0.4}
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"WritePlots single class", second(evaluate.WritePlots(dir, []float64{0, 0}, []float64{0.1, 0.2}, 0.5)), evaluate.ErrSingleClass},
		{"ROC NaN", evaluate.ROCPlot(p, labels, []float64{0, math.NaN(), 0, 0}, "m"), evaluate.ErrScore},
		{"comparison mismatch", evaluate.ROCComparison(p, labels, s, s[:3], "a", "b"), evaluate.ErrLengthMismatch},
		{"PR empty", evaluate.PRPlot(p, nil, nil), evaluate.ErrEmpty},
		{"KS single class", evaluate.KSPlot(p, []float64{1, 1}, []float64{0.1, 0.2}), evaluate.ErrSingleClass},
		{"distribution label 3", evaluate.ScoreDistributionPlot(p, []float64{3, 1}, []float64{0.1, 0.2}), evaluate.ErrLabel},
		{"calibration no bins", evaluate.CalibrationPlot(p, nil), evaluate.ErrPlot},
		{"calibration NaN", evaluate.CalibrationPlot(p, []evaluate.CalibrationBin{{Bin: 1, Count: 1, MeanPredicted: math.NaN()}}), evaluate.ErrPlot},
		{"confusion empty", evaluate.ConfusionPlot(p, evaluate.CutoffMetrics{}), evaluate.ErrPlot},
		{"importance mismatch", evaluate.FeatureImportancePlot(p, "t", []string{"a"}, nil), evaluate.ErrPlot},
		{"importance Inf", evaluate.FeatureImportancePlot(p, "t", []string{"a"}, []float64{math.Inf(1)}), evaluate.ErrPlot},
		{"learning no series", evaluate.LearningCurvePlot(p, "t", "y", nil, 0), evaluate.ErrPlot},
		{"learning empty series", evaluate.LearningCurvePlot(p, "t", "y", []evaluate.Series{{Name: "a"}}, 0), evaluate.ErrPlot},
		{"learning NaN", evaluate.LearningCurvePlot(p, "t", "y", []evaluate.Series{{Name: "a", Values: []float64{math.NaN()}}}, 0), evaluate.ErrPlot},
		{"gains no bads", evaluate.GainsPlot(p, []float64{0, 0}, []float64{0.1, 0.2}), evaluate.ErrSingleClass},
		{"lift mismatch", evaluate.LiftPlot(p, labels, s[:2]), evaluate.ErrLengthMismatch},
		{"strategy cut-off 2", evaluate.StrategyPlot(p, labels, s, 2), evaluate.ErrCutoff},
		{"strategy not probabilities", evaluate.StrategyPlot(p, labels, []float64{0, 3, 0, 1}, 0.5), evaluate.ErrProbability},
		{"summary NaN", evaluate.SummaryPlot(p, evaluate.Summary{Labels: labels, Scores: []float64{0, math.NaN(), 0, 0}, Cutoff: 0.5}), evaluate.ErrScore},
		{"summary single class", evaluate.SummaryPlot(p, evaluate.Summary{Labels: []float64{1, 1}, Scores: []float64{0.1, 0.2}, Cutoff: 0.5}), evaluate.ErrSingleClass},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("a failed plot left %s behind", p)
	}
	if err := evaluate.ROCPlot(filepath.Join(dir, "missing", "dir", "x.png"), labels, s, "m"); err == nil {
		t.Error("ROCPlot into a missing directory: no error")
	}
}

// TestPlotDegenerate draws charts of constant, tiny and extreme input,
// which must give PNGs or errors, never panics.
func TestPlotDegenerate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		name           string
		labels, scores []float64
	}{
		{"two rows", []float64{0, 1}, []float64{0.2, 0.7}},
		{"all tied", []float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}},
		{"zeros and ones", []float64{0, 1, 1, 0}, []float64{0, 1, 0, 1}},
	} {
		if _, err := evaluate.WritePlots(filepath.Join(dir, tt.name), tt.labels, tt.scores, 0.5); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// Ranges that overflow a float64 would hang gonum/plot's tick labelling.
	huge := []float64{-math.MaxFloat64, math.MaxFloat64, 0, 1}
	for _, tt := range []struct {
		name string
		err  error
		want error // nil: a chart is drawn
	}{
		{"ROC huge scores", evaluate.ROCPlot(filepath.Join(dir, "roc.png"), []float64{0, 1, 0, 1}, huge, "m"), nil},
		{"KS huge scores", evaluate.KSPlot(filepath.Join(dir, "ks.png"), []float64{0, 1, 0, 1}, huge), evaluate.ErrProbability},
		{"distribution huge scores", evaluate.ScoreDistributionPlot(filepath.Join(dir, "d.png"), []float64{0, 1, 0, 1}, huge), evaluate.ErrProbability},
		{"importance huge", evaluate.FeatureImportancePlot(filepath.Join(dir, "fi.png"), "t", []string{"a", "b"}, huge[:2]), evaluate.ErrPlot},
		{"importance zeros", evaluate.FeatureImportancePlot(filepath.Join(dir, "fi0.png"), "t", []string{"a", "b"}, []float64{0, 0}), nil},
		{"learning huge", evaluate.LearningCurvePlot(filepath.Join(dir, "lch.png"), "t", "y", []evaluate.Series{{Name: "h", Values: huge}}, 0), evaluate.ErrPlot},
		{"learning one point", evaluate.LearningCurvePlot(filepath.Join(dir, "lc.png"), "t", "y", []evaluate.Series{{Name: "flat", Values: []float64{1}}}, 5), nil},
		{"learning wide", evaluate.LearningCurvePlot(filepath.Join(dir, "lcw.png"), "t", "y", []evaluate.Series{{Name: "w", Values: []float64{-1e300, 1e300}}}, 0), nil},
	} {
		if tt.want == nil && tt.err != nil {
			t.Errorf("%s: %v", tt.name, tt.err)
		}
		if tt.want != nil && !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

// TestStrategyCurve checks every point of the curve against the cut-off
// metrics at its threshold, computed independently by AtCutoff.
func TestStrategyCurve(t *testing.T) {
	t.Parallel()
	labels, cols := scores(t)
	for _, col := range []string{"score_a", "score_t"} {
		pts, err := evaluate.StrategyCurve(labels, cols[col])
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) < 2 || pts[len(pts)-1].X != 1 {
			t.Fatalf("%s: curve of %d points ends at approval %v, want 1", col, len(pts), pts[len(pts)-1].X)
		}
		for i, p := range pts {
			if i > 0 && (p.X <= pts[i-1].X || p.Threshold <= pts[i-1].Threshold) {
				t.Fatalf("%s: point %d %+v does not follow %+v", col, i, p, pts[i-1])
			}
			if p.Threshold > 1 {
				continue // approving everyone needs a cut-off above 1
			}
			m, err := evaluate.AtCutoff(labels, cols[col], p.Threshold)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(m.ApprovalRate-p.X) > 1e-12 || math.Abs(m.BadRateApproved-p.Y) > 1e-12 {
				t.Errorf("%s: at cut-off %v the curve says approval %v, bad rate %v; AtCutoff says %v, %v",
					col, p.Threshold, p.X, p.Y, m.ApprovalRate, m.BadRateApproved)
			}
		}
	}
	if _, err := evaluate.StrategyCurve([]float64{0, 1}, []float64{0.5, 1.5}); !errors.Is(err, evaluate.ErrProbability) {
		t.Errorf("scores above 1: error %v, want ErrProbability", err)
	}
}
