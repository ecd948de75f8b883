package data_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
)

func TestProfileGerman(t *testing.T) {
	tab := testkit.German(t)
	p := data.NewProfile(tab)
	if p.Rows != 1000 || len(p.Features) != 20 {
		t.Fatalf("rows %d, %d features", p.Rows, len(p.Features))
	}
	for i, h := range p.Features {
		c := tab.Columns[i]
		if h.Name != c.Name || h.Type != c.Kind || len(h.Counts) != h.Buckets() || len(h.Freq) != h.Buckets() {
			t.Fatalf("%s: %+v", c.Name, h)
		}
		if !slices.Equal(h.Counts, intCounts(h.Count(c.Values))) {
			t.Errorf("%s: counts %v differ from binning the training values again", c.Name, h.Counts)
		}
		var sum float64
		for _, f := range h.Freq {
			sum += f
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: shares sum to %v", c.Name, sum)
		}
		if c.Kind == data.Numeric && (len(h.Edges) > 9 || !slices.IsSorted(h.Edges)) {
			t.Errorf("%s: edges %v", c.Name, h.Edges)
		}
		if psi, err := h.PSI(h.Count(c.Values)); err != nil || psi > 1e-15 {
			t.Errorf("%s: PSI of the training data against itself = %v, %v", c.Name, psi, err)
		}
	}
	age, _ := p.Feature("age_in_years")
	// Deciles of age, as numpy.quantile(age, [.1,...,.9]) gives them.
	if want := []float64{23, 26, 28, 30, 33, 36, 39, 45, 52}; !slices.Equal(age.Edges, want) {
		t.Errorf("age edges %v, want %v", age.Edges, want)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "german_profile.json", buf.Bytes())
	var back data.Profile
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if h, ok := back.Feature("housing"); !ok || h.Type != data.Categorical || len(h.Levels) != 3 || h.Buckets() != 4 {
		t.Errorf("housing after a JSON round trip: %+v", h)
	}
}

func intCounts(c []float64) []int {
	out := make([]int, len(c))
	for i, v := range c {
		out[i] = int(v)
	}
	return out
}

func TestHistogramBuckets(t *testing.T) {
	h := data.NewHistogram("x", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, math.NaN()}, 4)
	if !slices.Equal(h.Edges, []float64{3.25, 5.5, 7.75}) || h.Buckets() != 5 {
		t.Fatalf("edges %v buckets %d", h.Edges, h.Buckets())
	}
	if !slices.Equal(h.Counts, []int{3, 2, 2, 3, 1}) {
		t.Errorf("counts %v", h.Counts)
	}
	for v, want := range map[float64]int{-1e300: 0, 3.25: 0, 3.26: 1, 7.75: 2, 1e300: 3} {
		if got := h.Bucket(v); got != want {
			t.Errorf("Bucket(%v) = %d, want %d", v, got, want)
		}
	}
	if got := h.Bucket(math.NaN()); got != 4 {
		t.Errorf("NaN in bucket %d", got)
	}
	constant := data.NewHistogram("c", []float64{2, 2, 2}, 10)
	if !slices.Equal(constant.Edges, []float64{2}) || !slices.Equal(constant.Counts, []int{3, 0, 0}) {
		t.Errorf("constant feature: %+v", constant)
	}
	empty := data.NewHistogram("e", []float64{math.NaN()}, 10)
	if len(empty.Edges) != 0 || !slices.Equal(empty.Counts, []int{0, 1}) {
		t.Errorf("all-missing feature: %+v", empty)
	}

	cat := data.Histogram{Name: "c", Type: data.Categorical, Levels: []string{"a", "b"}}
	for v, want := range map[float64]int{0: 0, 1: 1, 2: 2, -1: 2, 0.5: 2, math.NaN(): 2} {
		if got := cat.Bucket(v); got != want {
			t.Errorf("categorical Bucket(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestPSI(t *testing.T) {
	got, err := data.PSI([]float64{0.5, 0.5}, []float64{25, 75})
	want := -0.25*math.Log(0.5) + 0.25*math.Log(1.5)
	if err != nil || math.Abs(got-want) > 1e-15 {
		t.Errorf("PSI = %v, %v; want %v", got, err, want)
	}
	got, _ = data.PSI([]float64{10, 0}, []float64{1, 1})
	want = (0.5-1)*math.Log(0.5) + (0.5-data.PSIEpsilon)*math.Log(0.5/data.PSIEpsilon)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("PSI with an empty bucket = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name string
		e, a []float64
		want string
	}{
		{"lengths", []float64{1, 1}, []float64{1}, "2 buckets, actual 1"},
		{"negative", []float64{1, -1}, []float64{1, 1}, "bucket 1 holds -1"},
		{"NaN", []float64{1, 1}, []float64{math.NaN(), 1}, "bucket 0 holds NaN"},
		{"zero", []float64{1, 1}, []float64{0, 0}, "sum to 0"},
	} {
		if _, err := data.PSI(tc.e, tc.a); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	h := data.NewHistogram("x", []float64{1, 2, 3}, 10)
	if _, err := h.PSI([]float64{1}); err == nil {
		t.Error("PSI accepted the wrong number of counts")
	}
}

// A score histogram gives the same PSI as evaluate.PSI on the raw samples:
// both cut at the deciles of the expected sample with numpy's
// interpolation and smooth empty bins with the same epsilon.
func TestPSIMatchesEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := range 5 {
		expected := make([]float64, 2000)
		actual := make([]float64, 700)
		for i := range expected {
			expected[i] = r.Float64()
		}
		for i := range actual {
			actual[i] = math.Min(1, r.Float64()*(1+0.2*float64(k)))
		}
		h := data.NewHistogram("score", expected, 10)
		got, err := h.PSI(h.Count(actual))
		if err != nil {
			t.Fatal(err)
		}
		want, err := evaluate.PSI(expected, actual)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want.PSI) > 1e-12 {
			t.Errorf("shift %d: PSI %v, evaluate.PSI %v", k, got, want.PSI)
		}
	}
}

func TestProfileDrift(t *testing.T) {
	tab := testkit.German(t)
	s, err := tab.Split(data.DefaultFractions(), 3)
	if err != nil {
		t.Fatal(err)
	}
	ref := data.NewProfile(tab.Subset(s.Train))
	same, err := ref.Drift(tab.Matrix(s.Train))
	if err != nil {
		t.Fatal(err)
	}
	test, err := ref.Drift(tab.Matrix(s.Test))
	if err != nil {
		t.Fatal(err)
	}
	// Older applicants, and nobody owning their home: drift in two features.
	shifted := tab.Matrix(s.Test)
	age := slices.Index(tab.FeatureNames(), "age_in_years")
	housing := slices.Index(tab.FeatureNames(), "housing")
	for _, r := range shifted {
		r[age] += 15
		r[housing] = math.NaN()
	}
	moved, err := ref.Drift(shifted)
	if err != nil {
		t.Fatal(err)
	}
	for j, d := range test {
		if d.Name != tab.Columns[j].Name || same[j].PSI > 1e-15 {
			t.Errorf("%s: PSI of the reference against itself %v", d.Name, same[j].PSI)
		}
		if d.PSI > 0.25 {
			t.Errorf("%s: PSI of a random test split %v", d.Name, d.PSI)
		}
		if shiftedFeature := j == age || j == housing; shiftedFeature != (moved[j].PSI > 1) {
			t.Errorf("%s: PSI after the shift %v", d.Name, moved[j].PSI)
		}
	}
	if _, err := ref.Drift(nil); err == nil {
		t.Error("Drift accepted no rows")
	}
	if _, err := ref.Drift([][]float64{{1}}); err == nil {
		t.Error("Drift accepted a short row")
	}
}
