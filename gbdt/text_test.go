package gbdt

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// handModel is a small model exercising every kind of node: a numeric split
// with NaN missing values going left, one with the zero missing type, a
// categorical split with a two-word bitset, and a single-leaf tree.
func handModel() *Model {
	return &Model{
		FeatureNames: []string{"income", "region", "debt_ratio"},
		FeatureInfos: []string{"[-3.5:120000]", "0:1:2:40", "[0:2.25]"},
		Trees: []Tree{
			{
				NumLeaves:      4,
				NumCat:         1,
				SplitFeature:   []int{0, 1, 2},
				SplitGain:      []float64{120.5, 33.25, 1.0 / 3},
				Threshold:      []float64{0.1, 0, 1.0000000180025095e-35},
				DecisionType:   []int8{defaultLeft | MissingNaN<<missingTypeShift, catMask, MissingZero << missingTypeShift},
				LeftChild:      []int{1, -1, -3},
				RightChild:     []int{2, -2, -4},
				InternalValue:  []float64{-0.1, 0.2, -0.30000000000000004},
				InternalWeight: []float64{250, 100.5, 149.5},
				InternalCount:  []int{1000, 400, 600},
				LeafValue:      []float64{0.5, -0.25, 1.0 / 7, -math.Pi},
				LeafWeight:     []float64{50.25, 50.25, 70, 79.5},
				LeafCount:      []int{200, 200, 280, 320},
				CatBoundaries:  []int{0, 2},
				CatThreshold:   []uint32{1<<0 | 1<<2, 1 << (40 - 32)},
				Shrinkage:      1,
			},
			{
				NumLeaves: 1,
				LeafValue: []float64{0.0625},
				LeafCount: []int{1000},
				Shrinkage: 0.05,
			},
			{
				NumLeaves:      2,
				SplitFeature:   []int{2},
				SplitGain:      []float64{0},
				Threshold:      []float64{1.5},
				DecisionType:   []int8{0},
				LeftChild:      []int{-1},
				RightChild:     []int{-2},
				InternalValue:  []float64{0},
				InternalWeight: []float64{250},
				InternalCount:  []int{1000},
				LeafValue:      []float64{-1e-5, 2e-300},
				LeafWeight:     []float64{125, 125},
				LeafCount:      []int{500, 500},
				Shrinkage:      0.05,
			},
		},
		Params: []Param{{"boosting", "gbdt"}, {"objective", "binary"}, {"data", ""}, {"learning_rate", "0.05"}},
	}
}

func writeString(t *testing.T, m *Model) string {
	t.Helper()
	var b bytes.Buffer
	if err := m.WriteText(&b); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	return b.String()
}

func readString(t *testing.T, s string) *Model {
	t.Helper()
	m, err := ReadText(strings.NewReader(s))
	if err != nil {
		t.Fatalf("ReadText: %v", err)
	}
	return m
}

func itoa(i int) string { return string(appendFloat(nil, float64(i), 17)) }

func TestWriteTextGolden(t *testing.T) {
	m := handModel()
	got := writeString(t, m)
	testkit.Golden(t, "hand_model.txt", []byte(got))
	if again := writeString(t, m); again != got {
		t.Error("two writes of the same model differ")
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	m := handModel()
	text := writeString(t, m)
	back := readString(t, text)
	if again := writeString(t, back); again != text {
		t.Errorf("write(read(write(m))) != write(m):\n%s", testkit.FirstDiff(again, text))
	}
	// Everything that prediction uses survives exactly.
	for i := range m.Trees {
		w, g := m.Trees[i], back.Trees[i]
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"NumLeaves", g.NumLeaves, w.NumLeaves},
			{"NumCat", g.NumCat, w.NumCat},
			{"SplitFeature", g.SplitFeature, w.SplitFeature},
			{"Threshold", g.Threshold, w.Threshold},
			{"DecisionType", g.DecisionType, w.DecisionType},
			{"LeftChild", g.LeftChild, w.LeftChild},
			{"RightChild", g.RightChild, w.RightChild},
			{"LeafValue", g.LeafValue, w.LeafValue},
			{"LeafCount", g.LeafCount, w.LeafCount},
			{"InternalCount", g.InternalCount, w.InternalCount},
			{"CatBoundaries", g.CatBoundaries, w.CatBoundaries},
			{"CatThreshold", g.CatThreshold, w.CatThreshold},
			{"Shrinkage", g.Shrinkage, w.Shrinkage},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("tree %d %s: got %v, want %v", i, f.name, f.got, f.want)
			}
		}
	}
	if !reflect.DeepEqual(back.Params, m.Params) || !reflect.DeepEqual(back.FeatureNames, m.FeatureNames) || !reflect.DeepEqual(back.FeatureInfos, m.FeatureInfos) {
		t.Errorf("header or parameters changed: %+v", back)
	}
	// Split importance counts only positive gains (tree 2's split has 0).
	if want := []int{1, 1, 1}; !reflect.DeepEqual(back.SplitImportance, want) {
		t.Errorf("SplitImportance = %v, want %v", back.SplitImportance, want)
	}
}

// lgbFixture is what make_fixtures.py recorded from LightGBM for some rows.
type lgbFixture struct {
	Rows    [][]*float64
	Raw     []float64
	Contrib [][]float64
}

func loadFixture(t *testing.T, name string) (rows [][]float64, fx lgbFixture) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, r := range fx.Rows {
		row := make([]float64, len(r))
		for i, v := range r {
			row[i] = math.NaN()
			if v != nil {
				row[i] = *v
			}
		}
		rows = append(rows, row)
	}
	return rows, fx
}

func readFile(t *testing.T, path string) *Model {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ReadText(f)
	if err != nil {
		t.Fatalf("ReadText(%s): %v", path, err)
	}
	return m
}

// TestReadLightGBMFile reads a file written by Python LightGBM 4.x and
// predicts the raw scores LightGBM computed for the same rows.
func TestReadLightGBMFile(t *testing.T) {
	m := readFile(t, "testdata/lgb_catnan.txt")
	if len(m.Trees) != 6 || m.Trees[0].NumCat == 0 {
		t.Fatalf("got %d trees, num_cat %d; want 6 trees with categorical splits", len(m.Trees), m.Trees[0].NumCat)
	}
	rows, fx := loadFixture(t, "lgb_catnan.json")
	for i, row := range rows {
		if got := m.PredictRaw(row); math.Abs(got-fx.Raw[i]) > 1e-12 {
			t.Errorf("row %d %v: raw %v, LightGBM %v", i, row, got, fx.Raw[i])
		}
	}
}

// TestRewriteLightGBMFile: reading a LightGBM file and writing it again
// gives LightGBM's bytes, apart from the version line and Python's
// pandas_categorical trailer.
func TestRewriteLightGBMFile(t *testing.T) {
	for _, name := range []string{"lgb_catnan.txt", "lgb_stump.txt"} {
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			m := readString(t, string(orig))
			want := strings.Replace(string(orig), "version=v4\n", "version=v3\n", 1)
			got := writeString(t, m)
			if got != want {
				t.Errorf("rewrite differs:\n%s", testkit.FirstDiff(got, want))
			}
		})
	}
}

func TestReadTextErrors(t *testing.T) {
	good := writeString(t, handModel())
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name        string
		in          string
		want        string // in the error message
		unsupported bool
	}{
		{"empty", "", "line 1", false},
		{"not a model", "hello\n", `first line must be "tree"`, false},
		{"multiclass", replace("num_class=1", "num_class=3"), "line 3 (num_class): num_class=3: multiclass", true},
		{"per iteration", replace("num_tree_per_iteration=1", "num_tree_per_iteration=2"), "line 4", true},
		{"objective", replace("objective=binary sigmoid:1", "objective=regression"), "(objective)", true},
		{"sigmoid", replace("objective=binary sigmoid:1", "objective=binary sigmoid:2"), "(objective)", true},
		{"no objective", replace("objective=binary sigmoid:1\n", ""), "header has no objective", true},
		{"rf", replace("feature_names=", "average_output\nfeature_names="), "random forest", true},
		{"version", replace("version=v3", "version=v9"), "line 2 (version)", true},
		{"unknown header", replace("label_index=0", "label_index=0\nfoo=1"), `line 6 (foo): unknown header line "foo=1"`, false},
		{"no label index", replace("label_index=0\n", ""), "header has no label_index", false},
		{"max idx", replace("max_feature_idx=2", "max_feature_idx=x"), "line 6 (max_feature_idx): not an integer", false},
		{"names count", replace("feature_names=income region", "feature_names=income"), "(feature_names): 2 entries, want max_feature_idx+1 = 3", false},
		{"infos count", replace("feature_infos=[-3.5:120000] ", "feature_infos="), "(feature_infos): 2 entries", false},
		{"tree sizes", replace("tree_sizes=", "tree_sizes=1"), "(tree_sizes): Tree=0 is", false},
		{"tree sizes count", replace("\nTree=2\n", "\n"), "", false},
		{"tree index", replace("Tree=1\n", "Tree=7\n"), `(Tree): tree index "7", want 1`, false},
		{"num leaves", replace("num_leaves=4", "num_leaves=-4"), "(num_leaves): -4 is out of range", false},
		{"leaf value count", replace("leaf_value=0.5 ", "leaf_value="), "(leaf_value): 3 values, want 4", false},
		{"leaf value text", replace("leaf_value=0.5 ", "leaf_value=abc "), `(leaf_value): value 0: not a number: "abc"`, false},
		{"no threshold", replace("threshold=0.10000000000000001 0 1.0000000180025095e-35\n", ""), "tree has no threshold", false},
		{"split feature", replace("split_feature=0 1 2", "split_feature=0 1 3"), "split_feature 3 is out of range", false},
		{"child range", replace("left_child=1 -1 -3", "left_child=1 -1 -9"), "child -9 is out of range", false},
		{"two parents", replace("left_child=1 -1 -3", "left_child=1 -2 -3"), "has two parents", false},
		{"cycle", replace("left_child=1 -1 -3\nright_child=2 -2 -4", "left_child=-4 2 1\nright_child=-3 -1 -2"), "unreachable", false},
		{"missing type 3", replace("decision_type=10 1 4", "decision_type=14 1 4"), "missing type 3", false},
		{"cat index", replace("threshold=0.10000000000000001 0 ", "threshold=0.10000000000000001 1 "), "categorical threshold 1 is not an index", false},
		{"cat words", replace("cat_threshold=5 256", "cat_threshold=5"), "(cat_threshold): 1 values, want 2", false},
		{"linear", replace("is_linear=0\nshrinkage=1\n", "is_linear=1\nshrinkage=1\n"), "(is_linear): linear trees", true},
		{"unknown tree key", replace("num_cat=1", "num_cat=1\nfoo=2"), `unknown tree line "foo=2"`, false},
		{"repeated key", replace("num_cat=1", "num_cat=1\nnum_cat=1"), "(num_cat): key repeated", false},
		{"no end of trees", good[:strings.Index(good, "end of trees")], `missing "end of trees"`, false},
		{"bad parameter", replace("[boosting: gbdt]", "boosting=gbdt"), `(parameters): want "[key: value]"`, false},
		{"no end of parameters", replace("end of parameters\n\npandas_categorical:null\n", ""), `missing "end of parameters"`, false},
		{"trailer in parameters", replace("end of parameters\n", ""), `line 85 (parameters): want "[key: value]", got "pandas_categorical:null"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadText(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %v is not a *FormatError", err)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v (%v)", got, tc.unsupported, err)
			}
		})
	}
}

func TestReadUnsupportedLightGBMFiles(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"lgb_linear.txt", "linear trees"},
		{"lgb_multiclass.txt", "multiclass"},
	} {
		f, err := os.Open(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ReadText(f)
		f.Close()
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrUnsupported mentioning %q", tc.file, err, tc.want)
		}
	}
}

func TestReadTextCRLF(t *testing.T) {
	text := writeString(t, handModel())
	// tree_sizes count bytes, so a CRLF file needs its own sizes: rewrite
	// them from the CRLF blocks.
	crlf := strings.ReplaceAll(text, "\n", "\r\n")
	m := handModel()
	var sizes []string
	for i := range m.Trees {
		sizes = append(sizes, itoa(len(strings.ReplaceAll(string(m.Trees[i].appendText(nil, i)), "\n", "\r\n"))))
	}
	start := strings.Index(crlf, "tree_sizes=")
	end := start + strings.Index(crlf[start:], "\r\n")
	crlf = crlf[:start] + "tree_sizes=" + strings.Join(sizes, " ") + crlf[end:]
	back := readString(t, crlf)
	if got := writeString(t, back); got != text {
		t.Errorf("CRLF file reads differently:\n%s", testkit.FirstDiff(got, text))
	}
}

func TestWriteTextRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *Model)
		want   string
	}{
		{"space in name", func(m *Model) { m.FeatureNames[1] = "home region" }, `feature 1 name "home region"`},
		{"equals in name", func(m *Model) { m.FeatureNames[0] = "a=b" }, `feature 0 name "a=b"`},
		{"infos", func(m *Model) { m.FeatureInfos = m.FeatureInfos[:2] }, "2 feature infos for 3 features"},
		{"short leaves", func(m *Model) { m.Trees[0].LeafValue = m.Trees[0].LeafValue[:3] }, "tree 0: leaf_value has 3 values, want 4"},
		{"param newline", func(m *Model) { m.Params[0].Value = "a\nb" }, `parameter "boosting"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := handModel()
			tc.change(m)
			err := m.WriteText(&bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestPredictHandModel pins the routing rules on the hand-built model.
func TestPredictHandModel(t *testing.T) {
	m := handModel()
	nan := math.NaN()
	const t1 = 0.0625
	tests := []struct {
		row  []float64
		want float64
	}{
		// income NaN: missing type NaN, default left -> node 1 (region).
		{[]float64{nan, 0, 0}, 0.5 + t1 - 1e-5},     // region 0 in bitset -> leaf 0
		{[]float64{nan, 40, 0}, 0.5 + t1 - 1e-5},    // region 40: second word
		{[]float64{nan, 1, 0}, -0.25 + t1 - 1e-5},   // region 1 not in set
		{[]float64{nan, nan, 0}, -0.25 + t1 - 1e-5}, // NaN category goes right
		{[]float64{nan, -1, 0}, -0.25 + t1 - 1e-5},  // negative goes right
		{[]float64{nan, -0.5, 0}, 0.5 + t1 - 1e-5},  // truncated to category 0, as LightGBM
		{[]float64{nan, 1e300, 0}, -0.25 + t1 - 1e-5},
		{[]float64{0.1, 2, 0}, 0.5 + t1 - 1e-5}, // threshold is inclusive
		// income > 0.1 -> node 2 (debt_ratio, zero missing type, default right).
		{[]float64{5, 0, 0}, -math.Pi + t1 - 1e-5},
		{[]float64{5, 0, nan}, -math.Pi + t1 - 1e-5}, // NaN is treated as zero
		{[]float64{5, 0, 1e-35}, -math.Pi + t1 - 1e-5},
		{[]float64{5, 0, -1e-36}, -math.Pi + t1 - 1e-5},
		{[]float64{5, 0, 2}, -math.Pi + t1 + 2e-300},
		{[]float64{5, 0, -2}, 1.0/7 + t1 - 1e-5},
	}
	for _, tc := range tests {
		if got := m.PredictRaw(tc.row); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("PredictRaw(%v) = %v, want %v", tc.row, got, tc.want)
		}
	}
}
