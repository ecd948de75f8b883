package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

// checkPythonDir loads a directory written by Python's mlflow.lightgbm (no
// schema.json: the features come from the signature and the category
// levels from model.lgb's pandas_categorical), scores the German credit
// CSV and compares with the probabilities Python's LightGBM gave.
func checkPythonDir(t *testing.T, dir, predictions string) {
	t.Helper()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir); !errors.Is(err, ErrNoChecksums) {
		t.Errorf("Verify of a Python directory: %v, want ErrNoChecksums", err)
	}
	s := d.Model.Schema()
	if f := s.Features[0]; f.Type != data.Categorical || len(f.Levels) != 4 {
		t.Fatalf("feature 0 from the signature: %+v", f)
	}
	if f := s.Features[1]; f.Type != data.Numeric {
		t.Fatalf("feature 1 from the signature: %+v", f)
	}
	batch, err := s.LoadBatch(bytes.NewReader(data.DefaultCSV()), "german_credit.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Model.Predict(batch.X)
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ Probabilities []float64 }
	b, err := os.ReadFile(predictions)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Probabilities) != len(got) {
		t.Fatalf("%d predictions, Python has %d", len(got), len(want.Probabilities))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want.Probabilities[i]))
	}
	if worst > 1e-12 {
		t.Fatalf("largest difference from Python's LightGBM: %g", worst)
	}
	// The input example holds category strings; they are encoded by level.
	if len(d.Example) != 3 {
		t.Fatalf("input example: %d rows", len(d.Example))
	}
	ex, err := d.Model.Predict(d.Example)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ex {
		if math.Abs(ex[i]-want.Probabilities[i]) > 1e-12 {
			t.Fatalf("input example row %d: %v, Python %v", i, ex[i], want.Probabilities[i])
		}
	}
}

// TestPythonDirGolden uses the committed fixture (see make_python_lgbm.py).
func TestPythonDirGolden(t *testing.T) {
	checkPythonDir(t, filepath.Join("testdata", "python_lgbm"), filepath.Join("testdata", "python_lgbm_predictions.json"))
}

// TestPythonDirLive writes a fresh directory with the stack's Python.
func TestPythonDirLive(t *testing.T) {
	python := testkit.Python(t)
	tmp := t.TempDir()
	csv := filepath.Join(tmp, "german_credit.csv")
	if err := os.WriteFile(csv, data.DefaultCSV(), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, preds := filepath.Join(tmp, "model"), filepath.Join(tmp, "pred.json")
	testkit.RunPython(t, 3*time.Minute, python, nil, filepath.Join("testdata", "make_python_lgbm.py"), csv, dir, preds)
	checkPythonDir(t, dir, preds)
}

// copyDir copies the regular files of src (one level) into a new
// directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestPythonDirBounded: the category levels of a Python-written model file
// are found by streaming it, not by reading it whole (64 MiB of newlines
// after them cost no memory), and a pandas_categorical line longer than
// the limit is refused with an error naming the file.
func TestPythonDirBounded(t *testing.T) {
	dir := copyDir(t, filepath.Join("testdata", "python_lgbm"))
	p := filepath.Join(dir, "model.lgb")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte("\n"), 64<<20)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = Open(dir)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("Open of a 64 MiB model file allocated %d MB, want < 16 MB", grew>>20)
	}

	long := copyDir(t, filepath.Join("testdata", "python_lgbm"))
	b, err := os.ReadFile(filepath.Join(long, "model.lgb"))
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, []byte("\npandas_categorical:[[\""+strings.Repeat("x", maxLineSize)+"\"]]\n")...)
	if err := os.WriteFile(filepath.Join(long, "model.lgb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(long); err == nil || !strings.Contains(err.Error(), "model.lgb") || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Open with a pandas_categorical line past the limit: %v", err)
	}
}

// TestPythonEstimatorRefused: a lightgbm flavor that holds a scikit-learn
// estimator (mlflow.lightgbm.log_model of an LGBMClassifier, as
// DaskLGBMClassifier.to_local() gives) is refused with ErrFlavor and an
// error that says to log its booster, not a parse error about line 1.
func TestPythonEstimatorRefused(t *testing.T) {
	dir := copyDir(t, filepath.Join("testdata", "python_lgbm"))
	p := filepath.Join(dir, MLmodelFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	mm := strings.NewReplacer("model_class: lightgbm.basic.Booster", "model_class: lightgbm.sklearn.LGBMClassifier", "data: model.lgb", "data: model.skops").Replace(string(b))
	if err := os.WriteFile(p, []byte(mm), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "model.lgb"), filepath.Join(dir, "model.skops")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir)
	if !errors.Is(err, ErrFlavor) || !strings.Contains(err.Error(), "booster_") || !strings.Contains(err.Error(), `"skops"`) {
		t.Fatalf("Open of a pickled LGBMClassifier: %v", err)
	}
}
