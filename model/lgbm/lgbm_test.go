package lgbm

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
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
	// Both paths of Predict: one goroutine, and a batch spread over them.
	big := slices.Repeat(rows, 4*denseRows/len(rows)+1)
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

// TestFlatPath: a model gbdt trained goes through gbdt.Flat, and its
// answers equal both leaves' and gbdt's reference predictor's bit for bit,
// with missing values in the training data (NaN splits) and in the rows
// (None splits, which read NaN as zero). TestLightGBMFile holds the same
// path to LightGBM's own numbers on a Python-trained file with categorical
// and zero-as-missing splits.
func TestFlatPath(t *testing.T) {
	tab := testkit.German(t)
	for i := range tab.Columns {
		c := &tab.Columns[i]
		if c.Kind == data.Numeric && i%2 == 0 {
			for r := 0; r < len(c.Values); r += 7 {
				c.Values[r] = math.NaN()
			}
		}
	}
	m, err := Train(context.Background(), tab, nil, map[string]string{"num_iterations": "60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.flat == nil {
		t.Fatal("a gbdt-trained model did not flatten")
	}
	rows := testkit.AllRows(tab)
	for i, r := range rows {
		if i%3 == 0 {
			r[i%len(r)] = math.NaN()
		}
	}
	got, err := m.Predict(rows) // over denseRows: spread over goroutines
	if err != nil {
		t.Fatal(err)
	}
	viaLeaves := make([]float64, 1)
	for i, r := range rows {
		if err := m.ens.Predict(r, 0, viaLeaves); err != nil {
			t.Fatal(err)
		}
		if got[i] != viaLeaves[0] || got[i] != m.booster.Predict(r) {
			t.Fatalf("row %d: %v, leaves %v, gbdt %v", i, got[i], viaLeaves[0], m.booster.Predict(r))
		}
		one, err := m.Predict(rows[i : i+1])
		if err != nil || one[0] != got[i] {
			t.Fatalf("row %d alone: %v (%v), in the batch %v", i, one, err, got[i])
		}
	}
}

// BenchmarkPredictBatch scores 10,000 Taiwan rows with a model of 300
// trees of 63 leaves (what pipeline predict does per block), through
// gbdt.Flat and through leaves, and single rows of them (serve's case).
func BenchmarkPredictBatch(b *testing.B) {
	tab, err := data.LoadFile(testkit.Path(b, "taiwan_default.csv"), data.Options{Label: "default payment next month", Positive: "1", Types: map[string]data.Kind{"ID": data.Ignore}})
	if err != nil {
		b.Fatal(err)
	}
	m, err := Train(context.Background(), tab, nil, map[string]string{"num_iterations": "300", "num_leaves": "63", "early_stopping_round": "0"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	rows := testkit.AllRows(tab)[:10_000]
	b.Run("flat", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Predict(rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flat/row", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := m.Predict(rows[i%len(rows) : i%len(rows)+1]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("leaves/row", func(b *testing.B) {
		out := make([]float64, 1)
		for i := 0; b.Loop(); i++ {
			if err := m.ens.Predict(rows[i%len(rows)], 0, out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("leaves", func(b *testing.B) {
		n := len(m.schema.Features)
		out := make([]float64, len(rows))
		for b.Loop() {
			// As Predict did before Flat: rows copied into one dense
			// matrix, then leaves on every core.
			flat := make([]float64, 0, len(rows)*n)
			for _, r := range rows {
				flat = append(flat, r...)
			}
			if err := m.ens.PredictDense(flat, len(rows), n, out, 0, runtime.GOMAXPROCS(0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
