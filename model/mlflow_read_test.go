package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

// withSchema overrides a model's schema (to mark features not required).
type withSchema struct {
	Model
	s *data.Schema
}

func (w withSchema) Schema() *data.Schema { return w.s }

// TestMLflowReadsMLmodel has MLflow 3.x and 2.9.2 parse the MLmodel,
// signature (with a feature that is not required) and input example.
func TestMLflowReadsMLmodel(t *testing.T) {
	for _, tt := range []struct {
		name    string
		python  func(testing.TB) string
		version string
	}{
		{"3.x", testkit.Python, ""},
		{"2.9.2", testkit.Python2, "2.9.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			python := tt.python(t)
			m := trainedGBDT(t)
			s := *m.Schema()
			s.Features = slices.Clone(s.Features)
			s.Features[1].Required = false
			dir := filepath.Join(t.TempDir(), "model")
			if err := Save(dir, withSchema{m, &s}, SaveOptions{MLflowVersion: tt.version, Example: testkit.AllRows(testkit.German(t))[:4]}); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.json")
			testkit.RunPython(t, 3*time.Minute, python, nil, filepath.Join("testdata", "read_mlmodel.py"), dir, out)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				MLflow         string
				Flavors        []string
				Inputs         []string
				Required       []bool
				ExampleRows    int      `json:"example_rows"`
				ExampleColumns []string `json:"example_columns"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			t.Logf("mlflow %s read flavors %v", got.MLflow, got.Flavors)
			if !slices.Equal(got.Inputs, s.Names()) || !slices.Equal(got.ExampleColumns, s.Names()) || got.ExampleRows != 4 {
				t.Fatalf("MLflow read %+v", got)
			}
			for i, r := range got.Required {
				if r != s.Features[i].Required {
					t.Errorf("feature %q: MLflow says required=%v", s.Features[i].Name, r)
				}
			}
			// And Go reads the optional marker back.
			d, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			specs, err := d.MLmodel.InputSpecs()
			if err != nil || specs[1].IsRequired() || !specs[0].IsRequired() {
				t.Fatalf("specs %+v %v", specs[:2], err)
			}
		})
	}
}
