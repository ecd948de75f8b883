package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

// TestPyfuncPredictsLikeGo saves a gbdt model directory and scores the same
// rows (some values missing, one category never seen) with Python's
// mlflow.pyfunc — on the level strings and on the codes — and with the
// Booster of mlflow.lightgbm on the codes: the probabilities must equal
// Go's. The committed golden directory (a feature that is not required, a
// category code of 40) is checked the same way with MLflow 3.x, which it is
// written for ("required": false, which 2.9 cannot read). The trained
// directory is checked with MLflow 3.x and 2.9.2: the loader in code/
// works with either.
func TestPyfuncPredictsLikeGo(t *testing.T) {
	for _, py := range []struct {
		name   string
		python func(testing.TB) string
	}{{"mlflow3", testkit.Python}, {"mlflow2", testkit.Python2}} {
		t.Run(py.name, func(t *testing.T) { pyfuncPredictsLikeGo(t, py.python(t), py.name == "mlflow3") })
	}
}

func pyfuncPredictsLikeGo(t *testing.T, python string, golden bool) {
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
	if !golden {
		return
	}
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
	s := d.Model.Schema()
	strs := levelStrings(s, rows)
	// One categorical value the model never saw: Go and the pyfunc
	// loader both take it as missing.
	for j, f := range s.Features {
		if f.Type == data.Categorical {
			strs[0][j] = "a level never seen in training"
			rows = append([][]float64{append([]float64(nil), rows[0]...)}, rows[1:]...)
			rows[0][j] = math.NaN()
			break
		}
	}
	want, err := d.Model.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"columns": s.Names(), "data": nullNaN(rows), "strings": strs}
	b, _ := json.Marshal(in)
	rowsPath := filepath.Join(t.TempDir(), "rows.json")
	outPath := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(rowsPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.RunPython(t, 3*time.Minute, python, nil, filepath.Join("testdata", "pyfunc_predict.py"), dir, rowsPath, outPath)
	var got struct {
		Pyfunc      []float64 `json:"pyfunc"`
		PyfuncCodes []float64 `json:"pyfunc_codes"`
		LightGBM    []float64 `json:"lightgbm"`
		Booster     string    `json:"booster_class"`
		MLflow      string    `json:"mlflow"`
	}
	ob, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ob, &got); err != nil {
		t.Fatal(err)
	}
	if got.Booster != "lightgbm.basic.Booster" {
		t.Errorf("mlflow.lightgbm.load_model gave a %s, want a lightgbm.basic.Booster", got.Booster)
	}
	// The lightgbm flavor takes codes: the unseen level is NaN there too.
	for name, p := range map[string][]float64{"pyfunc (strings)": got.Pyfunc, "pyfunc (codes)": got.PyfuncCodes, "lightgbm": got.LightGBM} {
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

// levelStrings writes rows as the applicant's data holds them: the level
// of each categorical code, numbers as they are, null for missing.
func levelStrings(s *data.Schema, rows [][]float64) [][]any {
	out := nullNaN(rows)
	for i, r := range rows {
		for j, f := range s.Features {
			if f.Type == data.Categorical && !math.IsNaN(r[j]) {
				out[i][j] = f.Levels[int(r[j])]
			}
		}
	}
	return out
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
