package serve

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestPythonWrittenDir serves the model package's fixture written by
// Python's mlflow.lightgbm (no checksums.json, no schema.json) and answers
// as Python's LightGBM did, through /invocations with category strings and
// through /predict.
func TestPythonWrittenDir(t *testing.T) {
	fixture := filepath.Join("..", "model", "testdata")
	src, err := NewSource(filepath.Join(fixture, "python_lgbm"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newServer(t, src, Options{AllowUnverified: true})
	if _, err := s.Reload(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	var want struct{ Probabilities []float64 }
	b, err := os.ReadFile(filepath.Join(fixture, "python_lgbm_predictions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	req, err := os.ReadFile(filepath.Join(fixture, "python_lgbm", "serving_input_example.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	w := do(t, h, "POST", "/invocations", ctJSON, string(req))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	got := decode[struct{ Predictions []float64 }](t, w.Body).Predictions
	if len(got) != 3 {
		t.Fatalf("%d predictions", len(got))
	}
	for i := range got {
		if math.Abs(got[i]-want.Probabilities[i]) > 1e-12 {
			t.Errorf("/invocations row %d: %v, Python's LightGBM %v", i, got[i], want.Probabilities[i])
		}
		w := do(t, h, "POST", "/predict", ctJSON, mustJSON(t, record(t, i)))
		if p := decode[PredictResponse](t, w.Body).ProbabilityOfDefault; math.Abs(p-want.Probabilities[i]) > 1e-12 {
			t.Errorf("/predict row %d: %v, Python's LightGBM %v", i, p, want.Probabilities[i])
		}
	}
}

// TestPyfuncParity: /invocations answers what mlflow.pyfunc answers for the
// same request on the same Go-written model directory.
func TestPyfuncParity(t *testing.T) {
	python := testkit.Python(t)
	dir := writeModel(t, t.TempDir(), 20, "")
	tb := table(t)
	rows := make([]int, 60)
	for i := range rows {
		rows[i] = i * 16
	}
	x := tb.Matrix(rows)
	data := make([][]any, len(x))
	for i, r := range x {
		for _, v := range r {
			if math.IsNaN(v) {
				data[i] = append(data[i], nil)
			} else {
				data[i] = append(data[i], v)
			}
		}
	}
	req := mustJSON(t, map[string]any{"dataframe_split": map[string]any{"columns": tb.FeatureNames(), "data": data}})
	reqPath, outPath := filepath.Join(t.TempDir(), "req.json"), filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(reqPath, []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, filepath.Join("testdata", "pyfunc_score.py"), dir, reqPath, outPath).CombinedOutput(); err != nil {
		t.Fatalf("pyfunc: %v\n%s", err, out)
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ Predictions []float64 }
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	src, _ := NewSource(dir, nil)
	s, _ := newServer(t, src, Options{MaxBatch: 100})
	if _, err := s.Reload(ctx, false); err != nil {
		t.Fatal(err)
	}
	w := do(t, s.Handler(), "POST", "/invocations", ctJSON, req)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	got := decode[struct{ Predictions []float64 }](t, w.Body).Predictions
	if len(got) != len(want.Predictions) {
		t.Fatalf("%d predictions, pyfunc %d", len(got), len(want.Predictions))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want.Predictions[i]))
	}
	if worst > 1e-12 {
		t.Errorf("largest difference from mlflow.pyfunc: %g", worst)
	}
	t.Logf("%d rows, largest difference from mlflow.pyfunc %g", len(got), worst)
}
