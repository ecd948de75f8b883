package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model"
)

// pipeline predict gives, row for row, what scoring the applicant alone as
// a JSON request (serve's path: Schema.EncodeRow, then Predict) gives.
func TestPredictMatchesSingleRows(t *testing.T) {
	localTracking(t)
	out := t.TempDir()
	code, stdout, stderr := pipeline(t, "train", "--out", out, "--output", "json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var res struct {
		ModelDir string             `json:"model_dir"`
		Metrics  map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Metrics["test_auc"] == 0 {
		t.Fatalf("train --output json: %q: %v", stdout, err)
	}
	holdout := filepath.Join(out, "holdout.csv")
	scored := filepath.Join(out, "scored.csv")
	if code, _, stderr := pipeline(t, "predict", "--model", res.ModelDir, "--data", holdout, "--out", scored); code != 0 {
		t.Fatalf("predict: exit %d: %s", code, stderr)
	}
	f, err := os.Open(scored)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(res.ModelDir)
	if err != nil {
		t.Fatal(err)
	}
	table, err := data.LoadFile(holdout, data.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	header := recs[0]
	if header[len(header)-1] != "probability_of_default" || len(recs)-1 != table.Rows() {
		t.Fatalf("scored file: header %v, %d rows for %d", header, len(recs)-1, table.Rows())
	}
	for i := 0; i < table.Rows(); i++ {
		x, _, err := m.Schema().EncodeRow(table.Record(i))
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict([][]float64{x})
		if err != nil {
			t.Fatal(err)
		}
		rec := recs[i+1]
		got, err := strconv.ParseFloat(rec[len(rec)-1], 64)
		if err != nil || got != p[0] {
			t.Fatalf("row %d: predict wrote %q, a single request scores %v", i, rec[len(rec)-1], p[0])
		}
		if strings.Join(rec[:len(rec)-1], ",") == "" {
			t.Fatalf("row %d lost its input columns", i)
		}
	}
}
