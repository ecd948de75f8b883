package scorecard_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/scorecard"
)

// FuzzParse checks that the model file decoder never panics, that every
// error wraps ErrFormat, and that a file it accepts scores rows with points
// that sum to the score and saves back to a file it accepts again.
func FuzzParse(f *testing.F) {
	// A small two-feature scorecard keeps the inputs short, so the fuzzer
	// mutates what matters (a German model file is 40 kB).
	tab := tinyTable()
	m, err := scorecard.Train(f.Context(), tab, nil)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := m.Save(dir); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, scorecard.FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`"selected": true`), []byte(`"selected": false`), 1))
	f.Add([]byte(`{"format_version":1,"scaling":{"pdo":20,"base_points":600,"base_odds":50},"features":[]}`))
	schema := m.Schema()
	rows := append(tab.Matrix([]int{0, 1, 2, 3, 4, 5}), []float64{math.NaN(), math.NaN()}, []float64{-1e308, 7})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := scorecard.Parse(in, schema)
		if err != nil {
			if !errors.Is(err, scorecard.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		scores, err := m.Score(rows)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Predict(rows); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			pts, score, err := m.Points(r)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for _, p := range pts {
				sum += p
			}
			if sum != score || score != scores[i] {
				t.Fatalf("row %d: points sum to %d, score %d, Score %d", i, sum, score, scores[i])
			}
			if _, err := m.Reasons(r); err != nil {
				t.Fatal(err)
			}
		}
		out := t.TempDir()
		if err := m.Save(out); err != nil {
			t.Fatal(err)
		}
		if _, err := scorecard.Load(filepath.Join(out, scorecard.FileName), schema); err != nil {
			t.Fatalf("a saved accepted model does not load: %v", err)
		}
	})
}

// tinyTable is 400 rows of a numeric feature with a few missing values and
// a categorical one with three levels, the default rate rising with both.
func tinyTable() *data.Table {
	n := 400
	x, c, y := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		x[i] = float64(i % 40)
		c[i] = float64(i % 3)
		y[i] = b2f((i*7919)%100 < 10+i%40+10*(i%3))
		if i%50 == 0 {
			x[i] = math.NaN()
		}
	}
	return &data.Table{Source: "tiny", LabelCol: "y", Positive: "1", Negative: "0", Label: y,
		Columns: []data.Column{{Name: "x", Kind: data.Numeric, Values: x},
			{Name: "c", Kind: data.Categorical, Values: c, Levels: []string{"a", "b", "c"}}}}
}
