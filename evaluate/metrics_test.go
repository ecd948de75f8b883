package evaluate_test

import (
	"errors"
	"math"
	"testing"

	"github.com/creditrisk/engine/evaluate"
)

func TestRanking(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name          string
		labels        []float64
		scores        []float64
		auc, ks, ksAt float64
	}{
		{"sklearn example", []float64{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, 0.75, 0.5, 0.1},
		{"perfect", []float64{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, 1, 1, 0.2},
		{"inverted", []float64{1, 1, 0, 0}, []float64{0.1, 0.2, 0.8, 0.9}, 0, 1, 0.2},
		{"all tied", []float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5, 0, 0.5},
		// Pairs (bad, good): (0.3, 0.3) ½, (0.3, 0.6) 0, (0.9, ·) 1 + 1 → 2.5/4.
		{"partial tie", []float64{0, 0, 1, 1}, []float64{0.3, 0.6, 0.3, 0.9}, 0.625, 0.5, 0.6},
		{"any finite scores", []float64{0, 1, 0, 1}, []float64{-3, 2, 1e6, 5e6}, 0.75, 0.5, -3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			auc, err := evaluate.AUC(tt.labels, tt.scores)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(auc-tt.auc) > 1e-15 {
				t.Errorf("AUC = %v, want %v", auc, tt.auc)
			}
			gini, err := evaluate.Gini(tt.labels, tt.scores)
			if err != nil || math.Abs(gini-(2*tt.auc-1)) > 1e-15 {
				t.Errorf("Gini = %v, %v; want %v", gini, err, 2*tt.auc-1)
			}
			ks, at, err := evaluate.KS(tt.labels, tt.scores)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(ks-tt.ks) > 1e-15 || at != tt.ksAt {
				t.Errorf("KS = %v at %v, want %v at %v", ks, at, tt.ks, tt.ksAt)
			}
		})
	}
}

func TestProbabilityScores(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name            string
		labels, scores  []float64
		logLoss, brierV float64
	}{
		{"coin", []float64{0, 1}, []float64{0.5, 0.5}, math.Ln2, 0.25},
		{"mixed", []float64{0, 1}, []float64{0.2, 0.6}, -(math.Log(0.8) + math.Log(0.6)) / 2, 0.1},
		// A confident wrong answer is clipped to machine epsilon, not +Inf.
		{"clipped", []float64{1, 0}, []float64{0, 0}, -math.Log(0x1p-52) / 2, 0.5},
		{"certain right", []float64{1, 0}, []float64{1, 0}, -math.Log1p(-0x1p-52), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ll, err := evaluate.LogLoss(tt.labels, tt.scores)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(ll-tt.logLoss) > 1e-12 {
				t.Errorf("LogLoss = %.17g, want %.17g", ll, tt.logLoss)
			}
			b, err := evaluate.Brier(tt.labels, tt.scores)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(b-tt.brierV) > 1e-15 {
				t.Errorf("Brier = %v, want %v", b, tt.brierV)
			}
		})
	}
}

func TestAtCutoff(t *testing.T) {
	t.Parallel()
	labels := []float64{0, 0, 1, 1, 0, 1}
	scores := []float64{0.1, 0.5, 0.5, 0.2, 0.7, 0.9}
	for _, tt := range []struct {
		name   string
		cutoff float64
		want   evaluate.CutoffMetrics
	}{
		{"score equal to cut-off is declined", 0.5, evaluate.CutoffMetrics{
			Cutoff: 0.5, Accuracy: 0.5, Precision: 0.5, Recall: 2.0 / 3, F1: 4.0 / 7,
			ApprovalRate: 2.0 / 6, BadRateApproved: 0.5,
			Confusion: evaluate.Confusion{TruePositive: 2, FalsePositive: 2, TrueNegative: 1, FalseNegative: 1},
		}},
		{"cut-off 0 declines all", 0, evaluate.CutoffMetrics{
			Cutoff: 0, Accuracy: 0.5, Precision: 0.5, Recall: 1, F1: 2.0 / 3,
			ApprovalRate: 0, BadRateApproved: 0,
			Confusion: evaluate.Confusion{TruePositive: 3, FalsePositive: 3},
		}},
		{"cut-off 1 approves all", 1, evaluate.CutoffMetrics{
			Cutoff: 1, Accuracy: 0.5, Precision: 0, Recall: 0, F1: 0,
			ApprovalRate: 1, BadRateApproved: 0.5,
			Confusion: evaluate.Confusion{TrueNegative: 3, FalseNegative: 3},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := evaluate.AtCutoff(labels, scores, tt.cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if got.Confusion != tt.want.Confusion {
				t.Errorf("confusion %+v, want %+v", got.Confusion, tt.want.Confusion)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"cutoff", got.Cutoff, tt.want.Cutoff},
				{"accuracy", got.Accuracy, tt.want.Accuracy},
				{"precision", got.Precision, tt.want.Precision},
				{"recall", got.Recall, tt.want.Recall},
				{"f1", got.F1, tt.want.F1},
				{"approval_rate", got.ApprovalRate, tt.want.ApprovalRate},
				{"bad_rate_approved", got.BadRateApproved, tt.want.BadRateApproved},
			} {
				if math.Abs(f.got-f.want) > 1e-15 {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	for _, tt := range []struct {
		name           string
		labels, scores []float64
		cutoff         float64
		want           error
		field          string
		index          int
	}{
		{"empty", nil, nil, 0.5, evaluate.ErrEmpty, "labels", -1},
		{"length mismatch", []float64{0, 1}, []float64{0.5}, 0.5, evaluate.ErrLengthMismatch, "scores", -1},
		{"label 2", []float64{0, 2}, []float64{0.1, 0.2}, 0.5, evaluate.ErrLabel, "labels", 1},
		{"NaN label", []float64{nan, 1}, []float64{0.1, 0.2}, 0.5, evaluate.ErrLabel, "labels", 0},
		{"NaN score", []float64{0, 1}, []float64{0.1, nan}, 0.5, evaluate.ErrScore, "scores", 1},
		{"Inf score", []float64{0, 1}, []float64{inf, 0.2}, 0.5, evaluate.ErrScore, "scores", 0},
		{"score above 1", []float64{0, 1}, []float64{0.1, 1.5}, 0.5, evaluate.ErrProbability, "scores", 1},
		{"negative score", []float64{0, 1}, []float64{-0.1, 0.5}, 0.5, evaluate.ErrProbability, "scores", 0},
		{"only goods", []float64{0, 0}, []float64{0.1, 0.2}, 0.5, evaluate.ErrSingleClass, "labels", -1},
		{"only bads", []float64{1, 1}, []float64{0.1, 0.2}, 0.5, evaluate.ErrSingleClass, "labels", -1},
		{"NaN cut-off", []float64{0, 1}, []float64{0.1, 0.2}, nan, evaluate.ErrCutoff, "cutoff", -1},
		{"cut-off above 1", []float64{0, 1}, []float64{0.1, 0.2}, 1.01, evaluate.ErrCutoff, "cutoff", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := evaluate.Evaluate(tt.labels, tt.scores, tt.cutoff)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Evaluate error %v, want %v", err, tt.want)
			}
			if r != nil {
				t.Errorf("Evaluate returned a report with an error")
			}
			var ie *evaluate.InputError
			if !errors.As(err, &ie) || ie.Field != tt.field || ie.Index != tt.index {
				t.Errorf("error %v: want InputError for %s[%d]", err, tt.field, tt.index)
			}
			t.Log(err)
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	t.Parallel()
	one := []float64{0, 0, 0}
	s := []float64{0.1, 0.2, 0.3}
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"AUC single class", second(evaluate.AUC(one, s)), evaluate.ErrSingleClass},
		{"Gini single class", second(evaluate.Gini(one, s)), evaluate.ErrSingleClass},
		{"KS single class", third(evaluate.KS(one, s)), evaluate.ErrSingleClass},
		{"ROC single class", second(evaluate.ROCCurve(one, s)), evaluate.ErrSingleClass},
		{"PR single class", second(evaluate.PRCurve(one, s)), evaluate.ErrSingleClass},
		{"Lift no bads", second(evaluate.Lift(one, s)), evaluate.ErrSingleClass},
		{"LogLoss mismatch", second(evaluate.LogLoss(one, s[:2])), evaluate.ErrLengthMismatch},
		{"Brier not probability", second(evaluate.Brier(one, []float64{0, 2, 0})), evaluate.ErrProbability},
		{"Calibration empty", second(evaluate.Calibration(nil, nil)), evaluate.ErrEmpty},
		{"AtCutoff bad cut-off", second(evaluate.AtCutoff(one, s, -1)), evaluate.ErrCutoff},
		{"DeLong one bad", second(evaluate.DeLong([]float64{0, 0, 1}, s, s)), evaluate.ErrTooFew},
		{"DeLong B mismatch", second(evaluate.DeLong([]float64{0, 0, 1, 1}, []float64{1, 2, 3, 4}, s)), evaluate.ErrLengthMismatch},
		{"DeLong B NaN", second(evaluate.DeLong([]float64{0, 0, 1, 1}, []float64{1, 2, 3, 4}, []float64{1, 2, 3, math.NaN()})), evaluate.ErrScore},
		{"PSI empty actual", second(evaluate.PSI(s, nil)), evaluate.ErrEmpty},
		{"PSI NaN expected", second(evaluate.PSI([]float64{math.NaN()}, s)), evaluate.ErrScore},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

func TestCurves(t *testing.T) {
	t.Parallel()
	labels := []float64{0, 0, 1, 1}
	scores := []float64{0.1, 0.4, 0.35, 0.8}
	roc, err := evaluate.ROCCurve(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	wantROC := []evaluate.Point{{0, 0, 1.8}, {0, 0.5, 0.8}, {0.5, 0.5, 0.4}, {0.5, 1, 0.35}, {1, 1, 0.1}}
	if len(roc) != len(wantROC) {
		t.Fatalf("ROC %v, want %v", roc, wantROC)
	}
	for i := range roc {
		if roc[i] != wantROC[i] {
			t.Errorf("ROC[%d] = %v, want %v", i, roc[i], wantROC[i])
		}
	}
	pr, err := evaluate.PRCurve(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	wantPR := []evaluate.Point{{0.5, 1, 0.8}, {0.5, 0.5, 0.4}, {1, 2.0 / 3, 0.35}, {1, 0.5, 0.1}}
	for i := range wantPR {
		if i >= len(pr) || pr[i] != wantPR[i] {
			t.Fatalf("PR %v, want %v", pr, wantPR)
		}
	}
}
