package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestPredictGolden: the scored file of a fixed model and input (an ID
// column, quoted fields, a byte order mark, a CRLF line, an unseen
// category, missing values spelled NA, nan and empty, padded values) is
// byte for byte what pipeline predict wrote before streaming: written to
// standard output and to a file.
func TestPredictGolden(t *testing.T) {
	dir := filepath.Join("testdata", "predict")
	code, stdout, stderr := pipeline(t, "predict", "--model", filepath.Join(dir, "model"), "--data", filepath.Join(dir, "applicants.csv"))
	if code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	testkit.Golden(t, "predict/scored.csv", []byte(stdout))
	out := filepath.Join(t.TempDir(), "scored.csv")
	if code, _, stderr := pipeline(t, "predict", "--model", filepath.Join(dir, "model"), "--data", filepath.Join(dir, "applicants.csv"), "--out", out); code != 0 {
		t.Fatalf("predict --out: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != stdout {
		t.Errorf("--out wrote other bytes than standard output:\n%s", testkit.FirstDiff(string(b), stdout))
	}
}
