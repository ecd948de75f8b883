package logistic

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model/family"
)

// compareSklearn checks the Go fit against scikit-learn's coefficients.
func compareSklearn(t *testing.T, path string, l2 float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Intercept float64
		Coef      map[string]float64
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	m, err := Train(context.Background(), testkit.German(t), map[string]string{"l2": family.FormatFloat(l2), "tol": "1e-12"})
	if err != nil {
		t.Fatal(err)
	}
	b0, coef := m.Coefficients()
	if len(coef) != len(want.Coef) {
		t.Fatalf("%d coefficients, scikit-learn has %d", len(coef), len(want.Coef))
	}
	const tol = 1e-6
	if math.Abs(b0-want.Intercept) > tol {
		t.Errorf("intercept %v, scikit-learn %v", b0, want.Intercept)
	}
	for k, w := range want.Coef {
		g, ok := coef[k]
		if !ok {
			t.Errorf("no coefficient %q", k)
			continue
		}
		if math.Abs(g-w) > tol {
			t.Errorf("%s: %v, scikit-learn %v", k, g, w)
		}
	}
	t.Logf("%d coefficients within %g of scikit-learn after %d Newton iterations", len(coef), tol, m.Iterations())
}

func TestMatchesSklearnGolden(t *testing.T) {
	compareSklearn(t, filepath.Join("testdata", "sklearn_german_l2_2.json"), 2)
}

func TestMatchesSklearnLive(t *testing.T) {
	python := testkit.Python(t)
	tmp := t.TempDir()
	csv, out := filepath.Join(tmp, "german.csv"), filepath.Join(tmp, "fit.json")
	if err := os.WriteFile(csv, data.DefaultCSV(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l2 := range []float64{0.1, 10} {
		cmd := exec.Command(python, filepath.Join("testdata", "sklearn_fit.py"), csv, family.FormatFloat(l2), out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		compareSklearn(t, out, l2)
	}
}

func TestMissingAndExplain(t *testing.T) {
	tab := testkit.German(t)
	m, err := Train(context.Background(), tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	row := tab.Row(0, nil)
	for j := range row {
		row[j] = math.NaN()
	}
	p, err := m.Predict([][]float64{row})
	if err != nil {
		t.Fatal(err)
	}
	b0, _ := m.Coefficients()
	if want := 1 / (1 + math.Exp(-b0)); math.Abs(p[0]-want) > 1e-15 {
		t.Fatalf("all missing: %v, want sigmoid(intercept) %v", p[0], want)
	}
	// Out-of-range and fractional codes count as missing, never panic.
	for j, f := range m.Schema().Features {
		if f.Type == data.Categorical {
			row[j] = float64(len(f.Levels)) + 0.5
		}
	}
	if q, err := m.Predict([][]float64{row}); err != nil || q[0] != p[0] {
		t.Fatalf("bad codes: %v %v, want %v", q, err, p[0])
	}
	r := tab.Row(5, nil)
	c, base, err := m.Explain(r)
	if err != nil {
		t.Fatal(err)
	}
	sum := base
	for _, v := range c {
		sum += v
	}
	pr, _ := m.Predict([][]float64{r})
	if math.Abs(1/(1+math.Exp(-sum))-pr[0]) > 1e-12 {
		t.Fatalf("contributions do not add up to the prediction")
	}
}

func TestParams(t *testing.T) {
	tab := testkit.German(t)
	for _, tt := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"l2": "-1"}, `"l2"`},
		{map[string]string{"l2": "abc"}, `"l2"`},
		{map[string]string{"max_iter": "0"}, `"max_iter"`},
		{map[string]string{"C": "1"}, `"C": unknown`},
	} {
		_, err := Train(context.Background(), tab, tt.params)
		if !errors.Is(err, family.ErrParam) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want ErrParam naming %s", tt.params, err, tt.want)
		}
	}
	m, err := Train(context.Background(), tab, map[string]string{"lambda": "3"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Params()["l2"] != "3" || m.Params()["max_iter"] != "100" {
		t.Fatalf("params %v", m.Params())
	}
}

func TestSaveParse(t *testing.T) {
	tab := testkit.German(t)
	m, err := Train(context.Background(), tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	l, err := Load(filepath.Join(dir, FileName), tab.Schema())
	if err != nil {
		t.Fatal(err)
	}
	rows := tab.Matrix([]int{0, 1, 2, 3})
	a, _ := m.Predict(rows)
	b, _ := l.Predict(rows)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: %v after load, %v before", i, b[i], a[i])
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	bad := []string{
		`{`,
		`{"format_version": 2}`,
		strings.Replace(string(raw), `"name": "duration_in_month"`, `"name": "x"`, 1),
	}
	for _, b := range bad {
		if _, err := Parse([]byte(b), tab.Schema()); err == nil {
			t.Errorf("Parse accepted %.60q", b)
		}
	}
}

func FuzzParse(f *testing.F) {
	small := &data.Schema{Features: []data.Feature{{Name: "a", Type: data.Numeric}, {Name: "b", Type: data.Categorical, Levels: []string{"x", "y"}}}}
	m, err := Fit(context.Background(), [][]float64{{1, 0}, {2, 1}, {3, 0}, {4, 1}}, []float64{0, 1, 1, 0}, small, DefaultParams())
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(m.f)
	f.Add(b)
	f.Add([]byte(`{"format_version":1,"terms":[{"name":"a","scale":0,"coef":[1]},{"name":"b","categorical":true,"coef":[1]}]}`))
	f.Add([]byte(`{"format_version":1,"intercept":1e309}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, small)
		if err != nil {
			return
		}
		p, err := m.Predict([][]float64{{math.NaN(), 7}, {1e300, 1}})
		if err != nil || len(p) != 2 {
			t.Fatalf("parsed model failed to predict: %v", err)
		}
		if _, _, err := m.Explain([]float64{0, 0}); err != nil {
			t.Fatal(err)
		}
	})
}
