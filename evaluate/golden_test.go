package evaluate_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/internal/testkit"
)

// tol is the largest difference allowed from the Python reference values.
const tol = 1e-9

// scores reads testdata/scores.csv: the label column and each score column.
func scores(t testing.TB) (labels []float64, cols map[string][]float64) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "scores.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read scores.csv: %v", err)
	}
	header := rows[0]
	cols = map[string][]float64{}
	for line, row := range rows[1:] {
		for j, cell := range row {
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				t.Fatalf("scores.csv line %d, column %s: %v", line+2, header[j], err)
			}
			if j == 0 {
				labels = append(labels, v)
			} else {
				cols[header[j]] = append(cols[header[j]], v)
			}
		}
	}
	return labels, cols
}

type sklearnGolden struct {
	Cutoff  float64 `json:"cutoff"`
	Columns map[string]struct {
		AUC, LogLoss, Brier, KS, Accuracy, Precision, Recall, F1 float64
		Confusion                                                struct{ TN, FP, FN, TP int }
		// Only for score_a and score_t.
		ECE         *float64
		Calibration []struct {
			Count                       int
			MeanPredicted, ObservedRate float64
		}
		Lift []struct {
			Bads        int
			Lift, Gains float64
		}
	} `json:"columns"`
	PSIBvsA float64 `json:"psi_b_vs_a"`
}

func readGolden(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fixKeys(b), v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// fixKeys lets the snake_case keys of the Python output match Go field
// names (log_loss → LogLoss) through encoding/json's case-insensitive match.
func fixKeys(b []byte) []byte {
	for _, k := range []string{"log_loss", "std_err", "var_a", "var_b", "auc_a", "auc_b", "mean_predicted", "observed_rate"} {
		b = bytes.ReplaceAll(b, []byte(`"`+k+`"`), []byte(`"`+string(bytes.ReplaceAll([]byte(k), []byte("_"), nil))+`"`))
	}
	return b
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.17g, reference %.17g (|Δ| = %.3g)", name, got, want, math.Abs(got-want))
	}
}

// TestSklearnGolden compares AUC, log loss, Brier, KS and the cut-off
// metrics with scikit-learn and scipy (testdata/sklearn_reference.py).
func TestSklearnGolden(t *testing.T) {
	t.Parallel()
	labels, cols := scores(t)
	var g sklearnGolden
	readGolden(t, "sklearn_golden.json", &g)
	if len(g.Columns) != 3 {
		t.Fatalf("golden has %d columns, want 3", len(g.Columns))
	}
	for name, want := range g.Columns {
		t.Run(name, func(t *testing.T) {
			s := cols[name]
			r, err := evaluate.Evaluate(labels, s, g.Cutoff)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "auc", r.AUC, want.AUC)
			near(t, "gini", r.Gini, 2*want.AUC-1)
			near(t, "log_loss", r.LogLoss, want.LogLoss)
			near(t, "brier", r.Brier, want.Brier)
			near(t, "ks", r.KS, want.KS)
			near(t, "accuracy", r.AtCutoff.Accuracy, want.Accuracy)
			near(t, "precision", r.AtCutoff.Precision, want.Precision)
			near(t, "recall", r.AtCutoff.Recall, want.Recall)
			near(t, "f1", r.AtCutoff.F1, want.F1)
			c := r.AtCutoff.Confusion
			if c.TrueNegative != want.Confusion.TN || c.FalsePositive != want.Confusion.FP ||
				c.FalseNegative != want.Confusion.FN || c.TruePositive != want.Confusion.TP {
				t.Errorf("confusion %+v, reference %+v", c, want.Confusion)
			}
			if want.ECE != nil {
				near(t, "ece", r.ECE, *want.ECE)
				if len(r.Calibration) != len(want.Calibration) || len(r.Lift) != len(want.Lift) {
					t.Fatalf("%d calibration bins and %d lift rows, reference %d and %d",
						len(r.Calibration), len(r.Lift), len(want.Calibration), len(want.Lift))
				}
				for i, w := range want.Calibration {
					c := r.Calibration[i]
					if c.Count != w.Count {
						t.Errorf("calibration bin %d count %d, reference %d", i+1, c.Count, w.Count)
					}
					near(t, fmt.Sprintf("calibration[%d].mean_predicted", i), c.MeanPredicted, w.MeanPredicted)
					near(t, fmt.Sprintf("calibration[%d].observed_rate", i), c.ObservedRate, w.ObservedRate)
				}
				for i, w := range want.Lift {
					l := r.Lift[i]
					if l.Bads != w.Bads {
						t.Errorf("lift decile %d bads %d, reference %d", i+1, l.Bads, w.Bads)
					}
					near(t, fmt.Sprintf("lift[%d].lift", i), l.Lift, w.Lift)
					near(t, fmt.Sprintf("lift[%d].gains", i), l.Gains, w.Gains)
				}
			}
			// The stand-alone functions agree with Evaluate.
			auc, err := evaluate.AUC(labels, s)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "AUC()", auc, want.AUC)
			ks, _, err := evaluate.KS(labels, s)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "KS()", ks, want.KS)
		})
	}
	psi, err := evaluate.PSI(cols["score_a"], cols["score_b"])
	if err != nil {
		t.Fatal(err)
	}
	near(t, "psi", psi.PSI, g.PSIBvsA)
}

type delongGolden map[string]struct {
	AUCA, AUCB, Diff, VarA, VarB, Cov, Variance, StdErr, Z, P float64
}

// TestDeLongGolden compares the Sun & Xu midrank implementation with a
// pairwise O(m·n) numpy implementation of DeLong 1988
// (testdata/delong_reference.py).
func TestDeLongGolden(t *testing.T) {
	t.Parallel()
	labels, cols := scores(t)
	var g delongGolden
	readGolden(t, "delong_golden.json", &g)
	pairs := map[string][2]string{
		"score_a_vs_score_b": {"score_a", "score_b"},
		"score_a_vs_score_t": {"score_a", "score_t"},
		"score_b_vs_score_t": {"score_b", "score_t"},
	}
	if len(g) != len(pairs) {
		t.Fatalf("golden has %d cases, want %d", len(g), len(pairs))
	}
	for name, want := range g {
		t.Run(name, func(t *testing.T) {
			p, ok := pairs[name]
			if !ok {
				t.Fatalf("unknown golden case %q", name)
			}
			r, err := evaluate.DeLong(labels, cols[p[0]], cols[p[1]])
			if err != nil {
				t.Fatal(err)
			}
			near(t, "auc_a", r.AUCA, want.AUCA)
			near(t, "auc_b", r.AUCB, want.AUCB)
			near(t, "diff", r.Diff, want.Diff)
			near(t, "var_a", r.VarA, want.VarA)
			near(t, "var_b", r.VarB, want.VarB)
			near(t, "cov", r.Cov, want.Cov)
			near(t, "variance", r.Variance, want.Variance)
			near(t, "std_err", r.StdErr, want.StdErr)
			near(t, "z", r.Z, want.Z)
			near(t, "p", r.P, want.P)
		})
	}
}

// TestReferenceScriptsLive reruns the reference scripts with the stack's
// Python (scikit-learn, scipy, numpy) and checks that they still give the
// committed golden values, so the goldens are the real tools' output.
func TestReferenceScriptsLive(t *testing.T) {
	py := testkit.Python(t)
	for _, c := range []struct{ script, golden string }{
		{"sklearn_reference.py", "sklearn_golden.json"},
		{"delong_reference.py", "delong_golden.json"},
	} {
		t.Run(c.script, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), py, filepath.Join("testdata", c.script),
				filepath.Join("testdata", "scores.csv")).Output()
			if err != nil {
				t.Fatalf("run %s: %v", c.script, err)
			}
			var got, want any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("decode output of %s: %v", c.script, err)
			}
			readGolden(t, c.golden, &want)
			compareJSON(t, "", fixAny(got), want)
		})
	}
}

func fixAny(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(fixKeys(b), &out)
	return out
}

// compareJSON compares decoded JSON values, numbers within tol.
func compareJSON(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		for k := range w {
			compareJSON(t, path+"."+k, g[k], w[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", path, got, want)
			return
		}
		for i := range w {
			compareJSON(t, fmt.Sprintf("%s[%d]", path, i), g[i], w[i])
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > tol {
			t.Errorf("%s: got %v, want %v", path, got, w)
		}
	default:
		t.Errorf("%s: unexpected JSON value %v", path, want)
	}
}
