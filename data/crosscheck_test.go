package data_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
)

// TestCrossCheckPython compares the German credit profile (deciles, bucket
// counts, levels), the schema's types and the MLflow dataset schema with
// numpy, pandas and mlflow from the stack's Python.
func TestCrossCheckPython(t *testing.T) {
	py := testkit.Python(t)
	tab := testkit.German(t)
	dir := t.TempDir()
	write := func(name string, v []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, v, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prof, err := json.Marshal(data.NewProfile(tab))
	if err != nil {
		t.Fatal(err)
	}
	var schema bytes.Buffer
	if err := tab.Schema().WriteJSON(&schema); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), py, filepath.Join("testdata", "crosscheck.py"),
		write("german.csv", data.DefaultCSV()), write("profile.json", prof),
		write("mlflow_schema.json", []byte(tab.MLflowSchema())), write("schema.json", schema.Bytes()))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("crosscheck.py: %v", err)
	}
}
