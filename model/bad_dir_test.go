package model

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestOpenBadDirs: each broken directory gives an error naming the file.
func TestOpenBadDirs(t *testing.T) {
	m := trainedGBDT(t)
	rows := testkit.AllRows(testkit.German(t))
	edit := func(name, old, new string) func(string) error {
		return func(dir string) error {
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s has no %q", name, old)
			}
			return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
		}
	}
	for _, tt := range []struct {
		name   string
		change func(dir string) error
		want   []string
		is     error
	}{
		{"no MLmodel", func(d string) error { return os.Remove(filepath.Join(d, MLmodelFile)) }, []string{"MLmodel"}, nil},
		{"bad YAML", func(d string) error {
			return os.WriteFile(filepath.Join(d, MLmodelFile), []byte("flavors: [\n"), 0o644)
		}, []string{"MLmodel"}, ErrFormat},
		{"unknown flavor", edit(MLmodelFile, "  lightgbm:", "  sklearn:"), []string{"MLmodel", "python_function, sklearn"}, ErrFlavor},
		{"data outside the dir", edit(MLmodelFile, "    data: model.lgb\n    lgb_version", "    data: ../model.lgb\n    lgb_version"), []string{"../model.lgb"}, ErrFormat},
		{"no model file", func(d string) error { return os.Remove(filepath.Join(d, "model.lgb")) }, []string{"model.lgb"}, nil},
		{"corrupt model file", edit("model.lgb", "Tree=0", "Tree=x"), []string{"model.lgb"}, nil},
		{"bad schema", func(d string) error {
			return os.WriteFile(filepath.Join(d, SchemaFile), []byte(`{"features": [{"name": ""}]}`), 0o644)
		}, []string{SchemaFile}, ErrFormat},
		{"schema of another model", func(d string) error {
			s := *m.Schema()
			s.Features = s.Features[1:]
			b, err := json.Marshal(&s)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(d, SchemaFile), b, 0o644)
		}, []string{"model.lgb", "features"}, nil},
		{"example with unknown column", edit(ExampleFile, `"duration_in_month"`, `"x"`), []string{ExampleFile, `"x"`}, ErrFormat},
		{"example with a ragged row", edit(ExampleFile, `"data": [[`, `"data": [[1, `), []string{ExampleFile, "row 0"}, ErrFormat},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if err := Save(dir, m, SaveOptions{Example: rows[:2]}); err != nil {
				t.Fatal(err)
			}
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}
