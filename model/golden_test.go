package model

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestGoldenMLmodel pins the MLmodel, schema and example files of a gbdt
// directory (fixed uuid, run id and time), so any change of the format is a
// visible diff.
func TestGoldenMLmodel(t *testing.T) {
	m := trainedGBDT(t)
	rows := matrix(german(t))
	dir := filepath.Join(t.TempDir(), "model")
	if err := Save(dir, m, fixedOpts(rows[:2])); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{MLmodelFile, SchemaFile, ExampleFile, ServingExampleFile, RequirementsFile, PythonEnvFile, CondaFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "gbdt_dir", f)
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGoldenMLmodel -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", f, golden, got)
		}
	}
}
