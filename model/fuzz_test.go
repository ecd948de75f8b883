package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
)

func FuzzParseMLmodel(f *testing.F) {
	for _, p := range []string{"testdata/gbdt_dir/MLmodel", "testdata/python_lgbm/MLmodel"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("flavors: {lightgbm: {data: ../../etc/passwd}}"))
	f.Add([]byte("flavors: []\n"))
	f.Add([]byte("signature: {inputs: '[{\"type\": \"string\"}]'}\nflavors: {x: {}}"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMLmodel("MLmodel", b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		for _, fl := range m.FlavorNames() {
			if p, err := m.DataFile(fl); err == nil && !localName(p) {
				t.Fatalf("DataFile %q escapes the directory", p)
			}
		}
		specs, err := m.InputSpecs()
		if err == nil && len(specs) > 0 {
			schemaFromSignature(specs, [][]string{{"a", "b"}})
		}
		if _, err := m.Marshal(); err != nil {
			t.Fatalf("a parsed MLmodel does not marshal: %v", err)
		}
	})
}

func FuzzParseChecksums(f *testing.F) {
	f.Add([]byte(`{"algorithm": "sha256", "files": {"MLmodel": "` + strings.Repeat("ab", 32) + `"}}`))
	f.Add([]byte(`{"algorithm": "sha256", "files": {"../x": "` + strings.Repeat("ab", 32) + `"}}`))
	f.Add([]byte(`{"algorithm": "md5", "files": {}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := ParseChecksums("checksums.json", b)
		if err != nil {
			return
		}
		for name, h := range files {
			if !localName(name) || len(h) != 64 {
				t.Fatalf("accepted %q: %q", name, h)
			}
		}
	})
}

func FuzzParseExample(f *testing.F) {
	s, err := data.ParseSchema([]byte(`{"features": [{"name": "a", "type": "numeric", "required": true},
		{"name": "b", "type": "categorical", "levels": ["x", "y"], "required": true}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"columns": ["a", "b"], "data": [[1.5, "y"], [null, 1], [2, "zz"]]}`))
	f.Add([]byte(`{"dataframe_split": {"columns": ["b"], "data": [["x"]]}}`))
	f.Add([]byte(`{"columns": ["a", "a"], "data": []}`))
	f.Add([]byte(`{"columns": ["a"], "data": [[1e999]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseExample("input_example.json", b, s)
		if err != nil {
			return
		}
		for _, r := range rows {
			if len(r) != 2 {
				t.Fatalf("row of %d values", len(r))
			}
		}
	})
}

// FuzzOpen opens a directory whose MLmodel and schema.json come from the
// fuzzer, next to a valid model file (the golden hand model or the
// Python-written one): errors, never panics.
func FuzzOpen(f *testing.F) {
	read := func(p ...string) []byte {
		b, err := os.ReadFile(filepath.Join(p...))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	ml, sc := read("testdata", "gbdt_dir", MLmodelFile), read("testdata", "gbdt_dir", SchemaFile)
	py := read("testdata", "python_lgbm", MLmodelFile)
	models := [][]byte{read("testdata", "gbdt_dir", "model.lgb"), read("testdata", "python_lgbm", "model.lgb")}
	f.Add(ml, sc, false)
	f.Add(py, []byte{}, true)
	f.Add(ml, []byte(`{"features": []}`), false)
	f.Add([]byte("flavors: {creditrisk_forest: {data: model.lgb}}"), sc, false)
	f.Add([]byte("flavors: {creditrisk_logistic: {data: model.lgb}}"), sc, false)
	f.Fuzz(func(t *testing.T, mlmodel, schema []byte, python bool) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, MLmodelFile), mlmodel, 0o644)
		if len(schema) > 0 {
			os.WriteFile(filepath.Join(dir, SchemaFile), schema, 0o644)
		}
		model := models[0]
		if python {
			model = models[1]
		}
		os.WriteFile(filepath.Join(dir, "model.lgb"), model, 0o644)
		d, err := Open(dir)
		if err != nil {
			return
		}
		n := len(d.Model.Schema().Features)
		if _, err := d.Model.Predict([][]float64{make([]float64, n)}); err != nil {
			t.Fatalf("loaded model fails to predict: %v", err)
		}
	})
}
