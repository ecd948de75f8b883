package model

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestPyfuncScorecard saves a scorecard directory and scores rows (codes
// for categories; missing values, unknown and fractional codes, values on
// the split points) with mlflow.pyfunc in both stack virtualenvs, MLflow
// 3.x and 2.9.2: the loader module shipped in code/ must give Go's
// probabilities, which `pipeline predict` and serve answer.
func TestPyfuncScorecard(t *testing.T) {
	tab := testkit.German(t)
	m, err := Train(context.Background(), FamilyScorecard, tab, nil, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows := testkit.AllRows(tab)[:300]
	for i := 0; i < len(rows); i += 5 {
		rows[i] = append([]float64(nil), rows[i]...)
		rows[i][i%len(rows[i])] = math.NaN()
	}
	// Codes the schema does not know score as missing, in Go and Python.
	s := m.Schema()
	for j, f := range s.Features {
		if f.Type.String() == "categorical" {
			rows[1] = append([]float64(nil), rows[1]...)
			rows[1][j] = float64(len(f.Levels) + 3)
			break
		}
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := Save(dir, m, SaveOptions{Example: rows[2:5]}); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"columns": s.Names(), "data": nullNaN(rows)})
	rowsPath := filepath.Join(t.TempDir(), "rows.json")
	if err := os.WriteFile(rowsPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, python := range map[string]func(testing.TB) string{"mlflow3": testkit.Python, "mlflow2": testkit.Python2} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.json")
			testkit.RunPython(t, 3*time.Minute, python(t), nil, filepath.Join("testdata", "pyfunc_scorecard.py"), dir, rowsPath, out)
			var got struct {
				Pyfunc       []float64
				LoaderModule string `json:"loader_module"`
				MLflow       string
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.LoaderModule != "creditrisk_scorecard" || len(got.Pyfunc) != len(want) {
				t.Fatalf("loader %q, %d predictions for %d rows", got.LoaderModule, len(got.Pyfunc), len(want))
			}
			worst := 0.0
			for i := range want {
				worst = math.Max(worst, math.Abs(got.Pyfunc[i]-want[i]))
			}
			if worst > 1e-12 {
				t.Errorf("largest difference from Go %g", worst)
			}
			t.Logf("mlflow %s: %d rows, largest difference from Go %g", got.MLflow, len(want), worst)
		})
	}
}
