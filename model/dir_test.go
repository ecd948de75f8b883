package model

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model/lgbm"
)

// fixedOpts make a directory byte-for-byte reproducible.
func fixedOpts(example [][]float64) SaveOptions {
	return SaveOptions{
		RunID:        "0123456789abcdef0123456789abcdef",
		ArtifactPath: "model",
		UUID:         "fedcba9876543210fedcba9876543210",
		Created:      time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC),
		Example:      example,
	}
}

var (
	gbdtOnce  sync.Once
	gbdtModel Model
	gbdtErr   error
)

func trainedGBDT(t testing.TB) Model {
	t.Helper()
	tab := testkit.German(t)
	gbdtOnce.Do(func() {
		gbdtModel, gbdtErr = Train(context.Background(), FamilyGBDT, tab, nil, TrainOptions{Params: map[string]string{
			"num_iterations": "30", "num_leaves": "8", "learning_rate": "0.1", "num_threads": "1"}})
	})
	if gbdtErr != nil {
		t.Fatal(gbdtErr)
	}
	return gbdtModel
}

func TestSaveLoadGBDT(t *testing.T) {
	m := trainedGBDT(t)
	rows := testkit.AllRows(testkit.German(t))
	dir := filepath.Join(t.TempDir(), "model")
	if err := Save(dir, m, fixedOpts(rows[:3])); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Flavor != FlavorLightGBM || d.Model.Flavor() != FlavorLightGBM {
		t.Fatalf("flavor %q / %q", d.Flavor, d.Model.Flavor())
	}
	want, err := m.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Model.Predict(rows)
	if err != nil {
		t.Fatal(err)
	}
	ref := m.(*lgbm.Model).Booster()
	for i := range rows {
		if got[i] != want[i] {
			t.Fatalf("row %d: loaded %v, saved %v", i, got[i], want[i])
		}
		if r := ref.Predict(rows[i]); math.Abs(r-got[i]) > 1e-12 {
			t.Fatalf("row %d: leaves %v, gbdt reference %v", i, got[i], r)
		}
	}
	if len(d.Example) != 3 {
		t.Fatalf("example rows %d", len(d.Example))
	}
	for i, r := range d.Example {
		for j := range r {
			if r[j] != rows[i][j] && !(math.IsNaN(r[j]) && math.IsNaN(rows[i][j])) {
				t.Fatalf("example row %d col %d: %v, want %v", i, j, r[j], rows[i][j])
			}
		}
	}
	// Explain: contributions plus base give the raw score.
	c, base, err := d.Model.Explain(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := base
	for _, v := range c {
		sum += v
	}
	if p := 1 / (1 + math.Exp(-sum)); math.Abs(p-want[0]) > 1e-9 {
		t.Fatalf("sigmoid(sum of contributions) %v, prediction %v", p, want[0])
	}
	if len(d.Model.Params()) == 0 || d.Model.Params()["num_leaves"] != "8" {
		t.Fatalf("params %v", d.Model.Params())
	}
}

func TestPredictRowLength(t *testing.T) {
	m := trainedGBDT(t)
	n := len(m.Schema().Features)
	for _, rows := range [][][]float64{{make([]float64, n-1)}, {make([]float64, n), make([]float64, n+1)}, {{}}} {
		if _, err := m.Predict(rows); !errors.Is(err, ErrRowLength) {
			t.Errorf("Predict(%d values): err %v, want ErrRowLength", len(rows[len(rows)-1]), err)
		}
	}
	if _, _, err := m.Explain(make([]float64, 2)); !errors.Is(err, ErrRowLength) {
		t.Errorf("Explain: err %v", err)
	}
}

func TestVerifyDetectsChanges(t *testing.T) {
	m := trainedGBDT(t)
	tests := []struct {
		name   string
		change func(dir string) error
		want   string
	}{
		{"modified model file", func(dir string) error {
			return appendTo(filepath.Join(dir, lgbm.FileName), "\n")
		}, "model.lgb has sha256"},
		{"modified MLmodel", func(dir string) error {
			return appendTo(filepath.Join(dir, MLmodelFile), "# x\n")
		}, "MLmodel has sha256"},
		{"removed schema", func(dir string) error {
			return os.Remove(filepath.Join(dir, SchemaFile))
		}, "schema.json is missing"},
		{"added file", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644)
		}, "extra.txt is not listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := Save(dir, m, fixedOpts(nil)); err != nil {
				t.Fatal(err)
			}
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			err := Verify(dir)
			if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: %v, want ErrChecksum naming %q", err, tt.want)
			}
		})
	}
	t.Run("no checksums", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "m")
		if err := Save(dir, m, fixedOpts(nil)); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, ChecksumsFile))
		if err := Verify(dir); !errors.Is(err, ErrNoChecksums) {
			t.Fatalf("Verify: %v, want ErrNoChecksums", err)
		}
	})
}

func appendTo(p, s string) error {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(s)
	return err
}

func TestSaveRefusesNonEmptyDir(t *testing.T) {
	m := trainedGBDT(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if err := Save(dir, m, SaveOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Save into a non-empty dir: %v", err)
	}
}

func TestMLmodelJSON(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "gbdt_dir", MLmodelFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMLmodel(MLmodelFile, b)
	if err != nil {
		t.Fatal(err)
	}
	j, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatal(err)
	}
	sig, _ := v["signature"].(map[string]any)
	fl, _ := v["flavors"].(map[string]any)
	if v["run_id"] != "0123456789abcdef0123456789abcdef" || v["artifact_path"] != "model" || fl["lightgbm"] == nil || sig["inputs"] == nil {
		t.Fatalf("JSON %s", j)
	}
	if DataFile(FlavorForest) != "model.golearn" || DataFile("sklearn") != "" {
		t.Fatal("DataFile")
	}
}
