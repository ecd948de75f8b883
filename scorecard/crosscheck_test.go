package scorecard_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/scorecard"
)

// optbinningResult is what testdata/optbinning_ref.py writes.
type optbinningResult struct {
	NTrain     int                `json:"n_train"`
	NTest      int                `json:"n_test"`
	EventsTest int                `json:"events_test"`
	AUCTest    float64            `json:"auc_test"`
	AUCTrain   float64            `json:"auc_train"`
	IV         map[string]float64 `json:"iv"`
	NBins      map[string]int     `json:"n_bins"`
	Selected   []string           `json:"selected"`
}

// TestCrossCheckOptbinning trains our scorecard and optbinning's
// (BinningProcess with IV ≥ 0.02 selection, LogisticRegression, PDO 20,
// odds 50 at 600 points) on the same rows, a seeded stratified 80/20
// split written as a split manifest that both sides read, and wants test
// AUCs within 0.01 of each other, on German credit and on Taiwan.
func TestCrossCheckOptbinning(t *testing.T) {
	py := testkit.Python(t)
	if out, err := exec.CommandContext(t.Context(), py, "-c", "import optbinning").CombinedOutput(); err != nil {
		msg := "optbinning is not importable by PIPELINE_PYTHON=%s (%v: %s); scripts/stack up installs it from requirements/mlflow3.txt"
		if testkit.Enabled() {
			t.Fatalf(msg+" (PIPELINE_INTEGRATION=1, so this fails instead of skipping)", py, err, strings.TrimSpace(string(out)))
		}
		t.Skipf(msg, py, err, strings.TrimSpace(string(out)))
	}
	for _, c := range []struct {
		name   string
		path   func(t *testing.T) string
		opts   data.Options
		ignore string
	}{
		{"german", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "german_credit.csv")
			if err := os.WriteFile(p, data.DefaultCSV(), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, data.DefaultOptions(), ""},
		{"taiwan", func(t *testing.T) string { return testkit.Path(t, "taiwan_default.csv") },
			data.Options{Label: "default payment next month", Positive: "1", Types: map[string]data.Kind{"ID": data.Ignore}}, "ID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := c.path(t)
			c.opts.Name = ""
			tab, err := data.LoadFile(path, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			split, err := tab.Split(data.Fractions{Train: 0.8, Test: 0.2}, 42)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			manifest := filepath.Join(dir, "split_manifest.json")
			if err := data.NewManifest(tab, tab.Digest(), split).WriteFile(manifest); err != nil {
				t.Fatal(err)
			}
			// Our side reads the rows back from the manifest too.
			man, err := data.ReadManifest(manifest)
			if err != nil {
				t.Fatal(err)
			}
			if split, err = man.Splits(tab); err != nil {
				t.Fatal(err)
			}
			train, test := tab.Subset(split.Train), tab.Subset(split.Test)
			m, err := scorecard.Train(t.Context(), train, nil)
			if err != nil {
				t.Fatal(err)
			}
			probs, err := m.Predict(test.Matrix(nil))
			if err != nil {
				t.Fatal(err)
			}
			auc, err := evaluate.AUC(test.Label, probs)
			if err != nil {
				t.Fatal(err)
			}

			var cats []string
			for _, col := range tab.Columns {
				if col.Kind == data.Categorical {
					cats = append(cats, col.Name)
				}
			}
			out := filepath.Join(dir, "optbinning.json")
			cmd := exec.CommandContext(t.Context(), py, filepath.Join("testdata", "optbinning_ref.py"),
				path, tab.LabelCol, tab.Positive, manifest, out, c.ignore, strings.Join(cats, ","))
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("optbinning_ref.py: %v\n%s", err, b)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var ref optbinningResult
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatal(err)
			}
			events := 0
			for _, y := range test.Label {
				events += int(y)
			}
			if ref.NTrain != train.Rows() || ref.NTest != test.Rows() || ref.EventsTest != events {
				t.Fatalf("Python saw %d/%d rows (%d test events), we %d/%d (%d): not the same rows",
					ref.NTrain, ref.NTest, ref.EventsTest, train.Rows(), test.Rows(), events)
			}
			var ours []string
			for _, f := range m.Features() {
				if f.Selected {
					ours = append(ours, f.Name)
				}
				t.Logf("  %-45.45s IV %.4f (optbinning %.4f), %d bins (%d), selected %v", f.Name, f.IV, ref.IV[f.Name], len(f.Bins), ref.NBins[f.Name], f.Selected)
			}
			slices.Sort(ours)
			t.Logf("%s: test AUC ours %.4f, optbinning %.4f (train %.4f); selected %d features, optbinning %d",
				c.name, auc, ref.AUCTest, ref.AUCTrain, len(ours), len(ref.Selected))
			if d := math.Abs(auc - ref.AUCTest); d > 0.01 {
				t.Errorf("test AUC %.4f, optbinning %.4f: %.4f apart, more than 0.01", auc, ref.AUCTest, d)
			}
		})
	}
}
