package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/reasons"
	"github.com/creditrisk/engine/scorecard"
)

// TestScorecardEndToEnd trains `--model scorecard`, then checks that
// `pipeline predict --explain --reason-codes 3` writes each row's probability, score and
// the statements of its points lost, and that mlflow.pyfunc (MLflow 3.x and
// 2.9.2, reading the CSV as a Python user would: testdata/pyfunc_csv.py) gives the same
// probabilities as `pipeline predict`.
func TestScorecardEndToEnd(t *testing.T) {
	localTracking(t)
	out := t.TempDir()
	code, stdout, stderr := pipeline(t, "train", "--model", "scorecard", "--out", out, "--output", "json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var res struct {
		ModelDir string             `json:"model_dir"`
		Metrics  map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || !(res.Metrics["test_auc"] > 0.7) {
		t.Fatalf("train --output json: %q: %v", stdout, err)
	}
	for _, f := range []string{"scorecard/scorecard.csv", "scorecard/scorecard.png", "scorecard/iv.csv", "scorecard/iv.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run artifact: %v", err)
		}
	}
	holdout := filepath.Join(out, "holdout.csv")
	scored := filepath.Join(out, "scored.csv")
	if code, _, stderr := pipeline(t, "predict", "--model", res.ModelDir, "--data", holdout, "--out", scored, "--explain", "--reason-codes", "3"); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	recs := readCSV(t, scored)
	header := recs[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %v", name, header)
		}
		return i
	}
	pCol, sCol, r1 := col("probability_of_default"), col("score"), col("reason_1_statement")
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	sc := m.(*scorecard.Model)
	tab, err := data.LoadFile(holdout, data.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	set := reasons.Default()
	probs := make([]float64, tab.Rows())
	for i := range tab.Rows() {
		x, _, err := m.Schema().EncodeRow(tab.Record(i))
		if err != nil {
			t.Fatal(err)
		}
		_, score, _ := sc.Points(x)
		rec := recs[i+1]
		probs[i], _ = strconv.ParseFloat(rec[pCol], 64)
		if want, _ := m.Predict([][]float64{x}); probs[i] != want[0] || rec[sCol] != strconv.Itoa(score) {
			t.Fatalf("row %d: probability %s, score %s; want %v, %d", i, rec[pCol], rec[sCol], want[0], score)
		}
		lost, _ := sc.Reasons(x)
		var want []string
		for _, r := range lost {
			if text, _ := set.Statement(r.Feature, r.Direction); text != "" && len(want) < 3 {
				want = append(want, text)
			}
		}
		for k := range 3 {
			w := ""
			if k < len(want) {
				w = want[k]
			}
			if rec[r1+4*k] != w {
				t.Fatalf("row %d reason_%d_statement %q, want %q", i, k+1, rec[r1+4*k], w)
			}
		}
	}
	for name, python := range map[string]func(testing.TB) string{"mlflow3": testkit.Python, "mlflow2": testkit.Python2} {
		t.Run("pyfunc_"+name, func(t *testing.T) {
			outJSON := filepath.Join(t.TempDir(), "pyfunc.json")
			testkit.RunPython(t, 3*time.Minute, python(t), nil, filepath.Join("testdata", "pyfunc_csv.py"), res.ModelDir, holdout, outJSON)
			var got []float64
			b, _ := os.ReadFile(outJSON)
			if err := json.Unmarshal(b, &got); err != nil || len(got) != len(probs) {
				t.Fatalf("pyfunc: %v, %d predictions for %d rows", err, len(got), len(probs))
			}
			worst := 0.0
			for i := range probs {
				worst = math.Max(worst, math.Abs(got[i]-probs[i]))
			}
			if worst > 1e-12 {
				t.Errorf("pyfunc differs from pipeline predict by up to %g", worst)
			}
			t.Logf("%s: %d rows, largest difference from pipeline predict %g", name, len(probs), worst)
		})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
