package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestPyfuncPredictsLikeGo saves a gbdt model directory and scores the same
// rows (codes for categories, some values missing) with Python's
// mlflow.pyfunc and mlflow.lightgbm: the probabilities must equal Go's.
// The committed golden directory (a feature that is not required, a
// category code of 40) is checked the same way.
func TestPyfuncPredictsLikeGo(t *testing.T) {
	python := testkit.Python(t)
	t.Run("trained", func(t *testing.T) {
		m := trainedGBDT(t)
		rows := testkit.AllRows(testkit.German(t))[:200]
		// Missing values, numeric and categorical, must route the same way.
		for i := 0; i < len(rows); i += 7 {
			rows[i] = append([]float64(nil), rows[i]...)
			rows[i][i%len(rows[i])] = math.NaN()
			rows[i][(i+3)%len(rows[i])] = math.NaN()
		}
		dir := filepath.Join(t.TempDir(), "model")
		if err := Save(dir, m, SaveOptions{Example: rows[:3]}); err != nil {
			t.Fatal(err)
		}
		pyfuncCheck(t, python, dir, rows)
	})
	t.Run("golden", func(t *testing.T) {
		nan := math.NaN()
		rows := [][]float64{{52000, 2, 0.4}, {nan, 40, nan}, {-3.5, nan, 2.25}, {120000, 1, 0}, {nan, nan, nan}, {0, 7, 1e-40}}
		pyfuncCheck(t, python, filepath.Join("testdata", "gbdt_dir"), rows)
	})
}

// pyfuncCheck scores rows with the directory in Go and in Python.
func pyfuncCheck(t *testing.T, python, dir string, rows [][]float64) {
	t.Helper()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Model.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"columns": d.Model.Schema().Names(), "data": nullNaN(rows)}
	b, _ := json.Marshal(in)
	rowsPath := filepath.Join(t.TempDir(), "rows.json")
	outPath := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(rowsPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.RunPython(t, 3*time.Minute, python, nil, filepath.Join("testdata", "pyfunc_predict.py"), dir, rowsPath, outPath)
	var got struct {
		Pyfunc, LightGBM []float64
		MLflow           string
	}
	ob, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ob, &got); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]float64{"pyfunc": got.Pyfunc, "lightgbm": got.LightGBM} {
		if len(p) != len(want) {
			t.Fatalf("%s: %d predictions, want %d", name, len(p), len(want))
		}
		worst := 0.0
		for i := range p {
			worst = math.Max(worst, math.Abs(p[i]-want[i]))
		}
		if worst > 1e-12 {
			t.Errorf("%s: largest difference from Go %g", name, worst)
		}
		t.Logf("mlflow %s %s: %d rows, largest difference from Go %g", got.MLflow, name, len(p), worst)
	}
}

// nullNaN turns rows into JSON-able values, NaN as null.
func nullNaN(rows [][]float64) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, v := range r {
			if !math.IsNaN(v) {
				out[i][j] = v
			}
		}
	}
	return out
}
