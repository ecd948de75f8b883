package lgbm

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model/family"
)

func numericSchema(names ...string) *data.Schema {
	s := &data.Schema{}
	for _, n := range names {
		s.Features = append(s.Features, data.Feature{Name: n, Type: data.Numeric, Required: true})
	}
	return s
}

// TestLightGBMFile loads a LightGBM 4.x file (version=v4, which leaves
// alone refuses) with NaN and categorical splits, and checks leaves'
// predictions and TreeSHAP against LightGBM's own numbers.
func TestLightGBMFile(t *testing.T) {
	path := filepath.Join("..", "..", "gbdt", "testdata", "lgb_catnan.txt")
	m, err := Load(path, numericSchema("num_nan", "cat_small", "num_zero", "cat_wide", "num_plain"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "gbdt", "testdata", "lgb_catnan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Rows    [][]*float64
		Raw     []float64
		Contrib [][]float64
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	rows := make([][]float64, len(want.Rows))
	for i, r := range want.Rows {
		rows[i] = make([]float64, len(r))
		for j, v := range r {
			rows[i][j] = math.NaN()
			if v != nil {
				rows[i][j] = *v
			}
		}
	}
	// Both paths of Predict: row by row and leaves' dense batch.
	big := slices.Repeat(rows, denseRows/len(rows)+1)
	for _, in := range [][][]float64{rows, big} {
		p, err := m.Predict(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			w := 1 / (1 + math.Exp(-want.Raw[i%len(rows)]))
			if math.Abs(p[i]-w) > 1e-12 {
				t.Fatalf("row %d of %d: %v, LightGBM %v", i, len(in), p[i], w)
			}
		}
	}
	for i, r := range rows {
		c, base, err := m.Explain(r)
		if err != nil {
			t.Fatal(err)
		}
		all := append(c, base)
		for j := range all {
			if math.Abs(all[j]-want.Contrib[i][j]) > 1e-9 {
				t.Fatalf("row %d contribution %d: %v, LightGBM %v", i, j, all[j], want.Contrib[i][j])
			}
		}
	}
	if _, err := m.Predict([][]float64{rows[0][:4]}); !errors.Is(err, family.ErrRowLength) {
		t.Fatalf("short row: %v", err)
	}
	if _, err := Load(path, numericSchema("a")); err == nil {
		t.Fatal("a schema with the wrong number of features was accepted")
	}
}

func TestPandasCategorical(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want [][]string
		bad  bool
	}{
		{"tree\nend of trees\n", nil, false},
		{"tree\n\npandas_categorical:null\n", nil, false},
		{"tree\n\npandas_categorical:[[\"a\", \"b\"], [1, 2.5, true]]\n", [][]string{{"a", "b"}, {"1", "2.5", "True"}}, false},
		{"tree\n\npandas_categorical:[[\"a\"]]", [][]string{{"a"}}, false},
		{"tree\n\npandas_categorical:[[\"a\"\n", nil, true},
		{"tree\n\npandas_categorical:[[{}]]\n", nil, true},
	} {
		got, err := PandasCategorical([]byte(tt.in))
		if (err != nil) != tt.bad || !equal(got, tt.want) {
			t.Errorf("%q: %q, %v", tt.in, got, err)
		}
	}
}

func equal(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func FuzzPandasCategorical(f *testing.F) {
	f.Add([]byte("x\npandas_categorical:[[\"a\", 1]]\n"))
	f.Add([]byte("x\npandas_categorical:[[1e999]]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		PandasCategorical(b)
	})
}
