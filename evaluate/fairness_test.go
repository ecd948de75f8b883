package evaluate_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/model/logistic"
)

func TestFairnessByHand(t *testing.T) {
	// Group A: 10 rows, 8 approved, 4 bads of which 2 declined.
	// Group B: 4 rows, 2 approved, 2 bads both declined, 2 goods approved.
	// Group C: 2 goods, both approved (no bads: no AUC, no TPR).
	labels := []float64{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0}
	scores := []float64{.9, .8, .2, .1, .7, .3, .2, .1, .1, .05, .9, .6, .2, .1, .1, .2}
	groups := []string{"A", "A", "A", "A", "A", "A", "A", "A", "A", "A", "B", "B", "B", "B", "C", "C"}
	r, err := evaluate.Fairness(labels, scores, groups, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// Approval rates: A 7/10 (0.9, 0.8, 0.7 declined), B 2/4, C 2/2.
	want := []struct {
		group          string
		approved       int
		rate, air, tpr float64
		hasAUC, hasTPR bool
		auc            float64
	}{
		{"A", 7, 0.7, 0.7, 0.5, true, true, 17.5 / 24},
		{"B", 2, 0.5, 0.5, 1, true, true, 1},
		{"C", 2, 1, 1, 0, false, false, 0},
	}
	if len(r.Groups) != 3 {
		t.Fatalf("%d groups", len(r.Groups))
	}
	for i, w := range want {
		g := r.Groups[i]
		if g.Group != w.group || g.Approved != w.approved || math.Abs(g.ApprovalRate-w.rate) > 1e-12 ||
			math.Abs(g.AdverseImpactRatio-w.air) > 1e-12 || (g.AUC != nil) != w.hasAUC || (g.TPR != nil) != w.hasTPR {
			t.Fatalf("group %d: %+v, want %+v", i, g, w)
		}
		if w.hasTPR && math.Abs(*g.TPR-w.tpr) > 1e-12 {
			t.Errorf("%s: TPR %v, want %v", g.Group, *g.TPR, w.tpr)
		}
		if w.hasAUC && math.Abs(*g.AUC-w.auc) > 1e-12 {
			t.Errorf("%s: AUC %v, want %v", g.Group, *g.AUC, w.auc)
		}
	}
	if r.MostFavoured != "C" || r.LeastFavoured != "B" || r.MinAdverseImpactRatio != 0.5 || math.Abs(r.TPRGap-0.5) > 1e-12 {
		t.Errorf("summary: %+v", r)
	}
	m := r.Metrics()
	if m["adverse_impact_ratio/B"] != 0.5 || m["min_adverse_impact_ratio"] != 0.5 {
		t.Errorf("metrics %v", m)
	}
	if _, ok := m["auc/C"]; ok {
		t.Error("metrics hold an AUC for a group without bads")
	}
	if r.MinAdverseImpactRatio >= evaluate.FourFifths {
		t.Error("B's ratio 0.5 passes the four-fifths rule")
	}

	for _, c := range []struct {
		name   string
		groups []string
		cutoff float64
		want   error
	}{
		{"short groups", groups[:3], 0.5, evaluate.ErrLengthMismatch},
		{"no approvals", groups, 0, evaluate.ErrNoApprovals},
		{"bad cutoff", groups, 2, evaluate.ErrCutoff},
	} {
		if _, err := evaluate.Fairness(labels, scores, c.groups, c.cutoff); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestBands(t *testing.T) {
	got, err := evaluate.Bands([]float64{19, 25, 34.5, 35, 70, math.NaN()}, []float64{25, 35, 50})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"< 25", "25 to < 35", "25 to < 35", "35 to < 50", ">= 50", "missing"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := evaluate.Bands(nil, []float64{3, 2}); err == nil {
		t.Error("decreasing edges accepted")
	}
	if k := evaluate.MetricKey("male : divorced/separated"); k != "male _ divorced_separated" {
		t.Errorf("MetricKey: %q", k)
	}
}

const fairnessCutoff = 0.3

// fairnessColumns are the protected characteristics in
// testdata/fairness_scores.csv.
var fairnessColumns = []string{"personal_status_and_sex", "age_band"}

// writeFairnessScores writes German credit's test rows (80/20, seed 42)
// scored by a logistic model trained on the rest, with two protected
// characteristics, the input of the pandas cross-check.
func writeFairnessScores(t *testing.T, path string) {
	tab, err := data.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := tab.Split(data.Fractions{Train: 0.8, Test: 0.2}, 42)
	if err != nil {
		t.Fatal(err)
	}
	train, test := tab.Subset(s.Train), tab.Subset(s.Test)
	m, err := logistic.Train(t.Context(), train, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Predict(test.Matrix(nil))
	if err != nil {
		t.Fatal(err)
	}
	age, _ := test.Column("age_in_years")
	bands, err := evaluate.Bands(age.Values, []float64{25, 35, 50})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"label", "score", "personal_status_and_sex", "age_band"})
	for i := range p {
		w.Write([]string{strconv.Itoa(int(test.Label[i])), strconv.FormatFloat(p[i], 'g', -1, 64),
			test.Record(i)["personal_status_and_sex"].(string), bands[i]})
	}
	w.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fairnessFromCSV computes Fairness for each protected column of the file.
func fairnessFromCSV(t *testing.T, path string) map[string]*evaluate.FairnessReport {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var labels, scores []float64
	groups := map[string][]string{}
	for _, r := range recs[1:] {
		y, _ := strconv.ParseFloat(r[0], 64)
		s, _ := strconv.ParseFloat(r[1], 64)
		labels, scores = append(labels, y), append(scores, s)
		for j, col := range recs[0][2:] {
			groups[col] = append(groups[col], r[2+j])
		}
	}
	out := map[string]*evaluate.FairnessReport{}
	for _, col := range fairnessColumns {
		r, err := evaluate.Fairness(labels, scores, groups[col], fairnessCutoff)
		if err != nil {
			t.Fatal(err)
		}
		out[col] = r
	}
	return out
}

// pandasFairness is fairness_reference.py's output for one column.
type pandasFairness struct {
	Cutoff float64 `json:"cutoff"`
	Groups []struct {
		Group              string   `json:"group"`
		Rows               int      `json:"rows"`
		Bads               int      `json:"bads"`
		Approved           int      `json:"approved"`
		ApprovalRate       float64  `json:"approval_rate"`
		AdverseImpactRatio float64  `json:"adverse_impact_ratio"`
		AUC                *float64 `json:"auc"`
		TPR                *float64 `json:"tpr"`
	} `json:"groups"`
	MinAdverseImpactRatio float64 `json:"min_adverse_impact_ratio"`
	TPRGap                float64 `json:"tpr_gap"`
}

func compareFairness(t *testing.T, got map[string]*evaluate.FairnessReport, want map[string]pandasFairness) {
	t.Helper()
	close := func(a, b float64) bool { return math.Abs(a-b) <= tol }
	optClose := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || close(*a, *b)) }
	for _, col := range fairnessColumns {
		g, w := got[col], want[col]
		if len(g.Groups) != len(w.Groups) || !close(g.MinAdverseImpactRatio, w.MinAdverseImpactRatio) || !close(g.TPRGap, w.TPRGap) {
			t.Errorf("%s: ours %+v\npandas %+v", col, g, w)
			continue
		}
		for i, gg := range g.Groups {
			wg := w.Groups[i]
			if gg.Group != wg.Group || gg.Rows != wg.Rows || gg.Bads != wg.Bads || gg.Approved != wg.Approved ||
				!close(gg.ApprovalRate, wg.ApprovalRate) || !close(gg.AdverseImpactRatio, wg.AdverseImpactRatio) ||
				!optClose(gg.AUC, wg.AUC) || !optClose(gg.TPR, wg.TPR) {
				t.Errorf("%s, group %q: ours %+v, pandas %+v", col, gg.Group, gg, wg)
			}
		}
	}
}

func readPandasFairness(t *testing.T, b []byte) map[string]pandasFairness {
	t.Helper()
	var out map[string]pandasFairness
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(fairnessColumns) {
		t.Fatalf("the reference has %d columns, want %d", len(out), len(fairnessColumns))
	}
	return out
}

// TestFairnessGolden compares Fairness on committed predictions with the
// committed pandas output (fairness_golden.json). With -update it rescores
// the German test rows and reruns the pandas reference.
func TestFairnessGolden(t *testing.T) {
	in := filepath.Join("testdata", "fairness_scores.csv")
	golden := filepath.Join("testdata", "fairness_golden.json")
	if testkit.Update() {
		writeFairnessScores(t, in)
		out, err := runFairnessReference(t, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got := fairnessFromCSV(t, in)
	compareFairness(t, got, readPandasFairness(t, b))
	for _, col := range fairnessColumns {
		r := got[col]
		t.Logf("%s at cut-off %v: min adverse impact ratio %.3f (%s against %s), TPR gap %.3f",
			col, r.Cutoff, r.MinAdverseImpactRatio, r.LeastFavoured, r.MostFavoured, r.TPRGap)
	}
}

// TestFairnessPandasLive reruns the pandas reference on the committed
// predictions and on freshly scored ones.
func TestFairnessPandasLive(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "scores.csv")
	writeFairnessScores(t, fresh)
	for _, in := range []string{filepath.Join("testdata", "fairness_scores.csv"), fresh} {
		out, err := runFairnessReference(t, in)
		if err != nil {
			t.Fatal(err)
		}
		compareFairness(t, fairnessFromCSV(t, in), readPandasFairness(t, out))
	}
}

func runFairnessReference(t *testing.T, in string) ([]byte, error) {
	py := testkit.Python(t)
	cmd := exec.CommandContext(t.Context(), py, filepath.Join("testdata", "fairness_reference.py"), in, strconv.FormatFloat(fairnessCutoff, 'g', -1, 64))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.Join(err, errors.New(stderr.String()))
	}
	return out, nil
}
