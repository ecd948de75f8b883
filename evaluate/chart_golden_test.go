package evaluate_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
)

// Golden-image tolerance. Rasterising the same drawing on another CPU can
// move anti-aliased edges by a few levels; a changed word, colour, tick or
// layout changes hundreds of pixels by far more.
const (
	// channelTol is how far a colour channel (0-255) may move before the
	// pixel counts as different.
	channelTol = 40
	// maxDiffShare is the share of pixels that may differ.
	maxDiffShare = 0.0002
	// blankBorder is the band, in pixels, along each edge that must stay
	// background: nothing is drawn in a chart's margin.
	blankBorder = 6
)

// TestChartGolden draws every chart from testdata/scores.csv and fixed
// curves and compares the PNGs with testdata/charts/ pixel by pixel.
// Regenerate with go test ./evaluate -run TestChartGolden -update and
// look at every changed image before committing it.
func TestChartGolden(t *testing.T) {
	labels, cols := scores(t)
	dir := plotDir(t)
	paths, err := evaluate.WritePlots(dir, labels, cols["score_a"], 0.3)
	if err != nil {
		t.Fatal(err)
	}
	extra := []struct {
		file string
		draw func(path string) error
	}{
		{"roc_comparison.png", func(p string) error {
			return evaluate.ROCComparison(p, labels, cols["score_a"], cols["score_b"], "champion v3", "challenger v4")
		}},
		{"feature_importance.png", func(p string) error {
			names, vals := importance()
			return evaluate.FeatureImportancePlot(p, "Feature importance (total split gain)", names, vals)
		}},
		{"learning_curve.png", func(p string) error {
			return evaluate.LearningCurvePlot(p, "Learning curve", "Binary log loss", learningSeries(), 90)
		}},
		{evaluate.SummaryFile, func(p string) error { return evaluate.SummaryPlot(p, summary(labels, cols["score_a"])) }},
	}
	for _, e := range extra {
		p := filepath.Join(dir, e.file)
		if err := e.draw(p); err != nil {
			t.Fatalf("%s: %v", e.file, err)
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		name := filepath.Base(p)
		golden := filepath.Join("testdata", "charts", name)
		if testkit.Update() {
			if err := copyFile(p, golden); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, want := decode(t, p), decode(t, golden)
		if msg := compareImages(got, want); msg != "" {
			t.Errorf("%s differs from %s: %s; the new chart is %s (rerun with -update if the change is intended)",
				name, golden, msg, p)
		}
		if msg := borderInk(got, blankBorder); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

// compareImages describes how got differs from want beyond the
// tolerance, or returns "".
func compareImages(got, want image.Image) string {
	if got.Bounds() != want.Bounds() {
		return fmt.Sprintf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	b := got.Bounds()
	var diff, worst int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			d := channelDiff(got.At(x, y), want.At(x, y))
			worst = max(worst, d)
			if d > channelTol {
				diff++
			}
		}
	}
	total := b.Dx() * b.Dy()
	if float64(diff) > maxDiffShare*float64(total) {
		return fmt.Sprintf("%d of %d pixels (%.3f%%) differ by more than %d levels (largest %d), at most %.3f%% may",
			diff, total, 100*float64(diff)/float64(total), channelTol, worst, 100*maxDiffShare)
	}
	return ""
}

func channelDiff(a, b color.Color) int {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	d := 0
	for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
		d = max(d, int(math.Abs(float64(p[0]>>8)-float64(p[1]>>8))))
	}
	return d
}

// borderInk reports a pixel within n pixels of an edge that is not the
// white background: text or lines clipped at the canvas edge.
func borderInk(img image.Image, n int) string {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if x >= b.Min.X+n && x < b.Max.X-n && y >= b.Min.Y+n && y < b.Max.Y-n {
				continue
			}
			if r, g, bl, _ := img.At(x, y).RGBA(); r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				return fmt.Sprintf("ink at pixel (%d, %d), within %d pixels of the edge", x, y, n)
			}
		}
	}
	return ""
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// copyFile re-encodes src at the best compression, to keep the golden
// images small in the repository.
func copyFile(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(out, img); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// importance is German credit's features with made-up, decreasing gains.
func importance() ([]string, []float64) {
	names := []string{"status_of_existing_checking_account", "credit_amount", "duration_in_month", "age_in_years",
		"other_installment_plans", "present_residence_since", "installment_rate_in_percentage_of_disposable_income",
		"savings_account_and_bonds", "housing", "other_debtors_or_guarantors", "credit_history", "purpose",
		"number_of_existing_credits_at_this_bank", "telephone", "present_employment_since",
		"number_of_people_being_liable_to_provide_maintenance_for", "personal_status_and_sex", "property", "job",
		"foreign_worker", "ID"}
	vals := make([]float64, len(names))
	for i := range vals {
		vals[i] = 660 * math.Exp(-0.3*float64(i)) * (1 + 0.1*math.Sin(float64(i)))
	}
	return names, vals
}

// learningSeries is an overfitting train and validation log loss.
func learningSeries() []evaluate.Series {
	var train, valid []float64
	for it := 1; it <= 200; it++ {
		x := float64(it)
		train = append(train, 0.45+0.2*math.Exp(-x/30))
		valid = append(valid, 0.52+0.15*math.Exp(-x/25)+0.0004*math.Max(0, x-90))
	}
	return []evaluate.Series{{Name: "train", Values: train}, {Name: "validation", Values: valid}}
}

func summary(labels, scores []float64) evaluate.Summary {
	return evaluate.Summary{
		Title:  "german_credit · gbdt · run 3f2a9c0d",
		Labels: labels, Scores: scores, Cutoff: 0.3,
		Facts: []evaluate.Fact{
			{Name: "model", Value: "gbdt, 87 iterations (best 37)"},
			{Name: "data", Value: "german_credit.csv (1,000 rows, digest 1a2b3c4d)"},
			{Name: "split", Value: "train 640 · validation 160 · test 200, seed 42"},
			{Name: "parameters", Value: "num_leaves=31, learning_rate=0.05, min_data_in_leaf=20"},
			{Name: "run", Value: "3f2a9c0d1e2f4a5b"},
			{Name: "experiment", Value: "german_credit"},
			{Name: "created", Value: "2025-12-06 03:19 UTC"},
		},
	}
}
