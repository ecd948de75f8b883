package gbdt

import (
	"bytes"
	"context"
	"slices"
	"testing"
)

// User column names with spaces or '=' must still give a model file that
// LightGBM's format (and leaves) can read.
func TestFeatureNamesInFile(t *testing.T) {
	rows := [][]float64{}
	labels := []float64{}
	for i := range 200 {
		rows = append(rows, []float64{float64(i % 17), float64(i % 5), float64(i % 3)})
		labels = append(labels, float64(i%2))
	}
	ds, err := DatasetFromRows(rows, labels, []string{"credit amount", "age=years", ""}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultParams()
	p.NumIterations = 3
	m, err := Train(context.Background(), p, ds, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"credit_amount", "age_years", "_"}; !slices.Equal(m.FeatureNames, want) {
		t.Errorf("feature names %q, want %q", m.FeatureNames, want)
	}
	var buf bytes.Buffer
	if err := m.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadText(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.FeatureNames, m.FeatureNames) {
		t.Errorf("read back %q", back.FeatureNames)
	}
}
