package model

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model/lgbm"
)

// handModel is a small hand-written LightGBM model (testdata/hand_model.lgb,
// a copy of gbdt's) with a schema, independent of the trainer.
func handModel(t *testing.T) Model {
	t.Helper()
	levels := make([]string, 41)
	for i := range levels {
		levels[i] = fmt.Sprintf("region %d", i)
	}
	s := &data.Schema{Label: "default", Positive: "1", Features: []data.Feature{
		{Name: "income", Type: data.Numeric, Required: true},
		{Name: "region", Type: data.Categorical, Levels: levels, Required: true},
		{Name: "debt_ratio", Type: data.Numeric, Required: false},
	}}
	m, err := lgbm.Load(filepath.Join("testdata", "hand_model.lgb"), s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenDir pins every file of a gbdt model directory (fixed uuid, run
// id and time), so any change of the format is a visible diff.
func TestGoldenDir(t *testing.T) {
	m := handModel(t)
	dir := filepath.Join(t.TempDir(), "model")
	example := [][]float64{{52000, 2, 0.4}, {math.NaN(), 40, math.NaN()}}
	if err := Save(dir, m, fixedOpts(example)); err != nil {
		t.Fatal(err)
	}
	files := []string{MLmodelFile, lgbm.FileName, SchemaFile, ExampleFile, ServingExampleFile, RequirementsFile, PythonEnvFile, CondaFile, ChecksumsFile, CodeDir + "/creditrisk_pyfunc.py"}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(files) {
		t.Errorf("%d files written, want %d", len(ents), len(files))
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "gbdt_dir", f)
		if testkit.Update() {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGoldenDir -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", f, golden, got)
		}
	}
	if err := Verify(filepath.Join("testdata", "gbdt_dir")); err != nil {
		t.Errorf("the golden directory does not verify: %v", err)
	}
	d, err := Open(filepath.Join("testdata", "gbdt_dir"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Model.Predict(d.Example)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Predict(example)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("example row %d: %v from the golden directory, %v", i, got[i], want[i])
		}
	}
}
