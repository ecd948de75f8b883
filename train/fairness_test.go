package train

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/tracking"
)

// TestFairnessAgainstPandas trains with German credit's worked example,
// personal_status_and_sex and age bands of age_in_years, kept out of the
// features; the logged fair-lending metrics must equal a direct pandas
// computation on the holdout and the model's predictions, and the columns
// must be measured without being features.
func TestFairnessAgainstPandas(t *testing.T) {
	py := testkit.Python(t)
	cfg := DefaultConfig()
	cfg.Model.Family = model.FamilyScorecard
	cfg.Fairness.Protected = []report.Protected{{Column: "personal_status_and_sex"}, {Column: "age_in_years", Bands: []float64{25, 35, 50}}}
	res, err := Run(t.Context(), cfg, Options{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.Fairness.Protected {
		if slices.Contains(m.Schema().Names(), p.Column) {
			t.Errorf("%s is a model feature; protected columns are measured only by default", p.Column)
		}
	}
	holdout := filepath.Join(res.OutDir, tracking.HoldoutFile)
	b, err := m.Schema().LoadBatchFile(holdout)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := m.Predict(b.X)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, v any) string {
		js, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, js, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spec := map[string]any{"cutoff": cfg.Evaluation.Cutoff, "label": "creditability", "positive": "bad", "protected": cfg.Fairness.Protected}
	out := filepath.Join(dir, "pandas.json")
	testkit.RunPython(t, 3*time.Minute, py, nil, filepath.Join("testdata", "fairness_pandas.py"),
		holdout, write("scores.json", scores), write("spec.json", spec), out)
	var want map[string]json.RawMessage
	raw, _ := os.ReadFile(out)
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	checked := 0
	near := func(key string, got, w float64) {
		t.Helper()
		checked++
		if math.Abs(got-w) > 1e-12 {
			t.Errorf("%s: logged %v, pandas %v", key, got, w)
		}
	}
	for _, p := range cfg.Fairness.Protected {
		var groups map[string]map[string]float64
		if err := json.Unmarshal(want[p.Column], &groups); err != nil {
			t.Fatal(err)
		}
		if len(groups) < 3 {
			t.Fatalf("%s: pandas found %d groups", p.Column, len(groups))
		}
		prefix := report.MetricPrefix(p.Column)
		for g, fig := range groups {
			for k, w := range fig {
				key := prefix + k + "/" + evaluate.MetricKey(g)
				got, ok := res.Metrics[key]
				if !ok {
					t.Errorf("no metric %s", key)
					continue
				}
				near(key, got, w)
			}
		}
		for _, k := range []string{"tpr_gap", "min_adverse_impact_ratio"} {
			var w float64
			_ = json.Unmarshal(want[p.Column+"/"+k], &w)
			near(prefix+k, res.Metrics[prefix+k], w)
		}
	}
	t.Logf("%d fair-lending metrics equal pandas'", checked)
}
