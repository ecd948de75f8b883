package evaluate_test

import (
	"math"
	"testing"

	"github.com/creditrisk/engine/evaluate"
)

func TestCalibrationAndECE(t *testing.T) {
	t.Parallel()
	// 20 rows, two per decile: scores 0.025, 0.075, …, 0.975; in decile k
	// (0-based) one row is bad when k is odd, both when k ≥ 8.
	var labels, scores []float64
	for i := range 20 {
		scores = append(scores, 0.025+0.05*float64(i))
		k := i / 2
		bad := (k%2 == 1 && i%2 == 1) || k >= 8
		labels = append(labels, map[bool]float64{true: 1}[bad])
	}
	bins, err := evaluate.Calibration(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 10 {
		t.Fatalf("%d bins, want 10", len(bins))
	}
	var ece float64
	for k, b := range bins {
		wantObs := 0.0
		if k%2 == 1 {
			wantObs = 0.5
		}
		if k >= 8 {
			wantObs = 1
		}
		wantMean := 0.05 + 0.1*float64(k)
		if b.Bin != k+1 || b.Count != 2 || math.Abs(b.MeanPredicted-wantMean) > 1e-12 || b.ObservedRate != wantObs {
			t.Errorf("bin %d = %+v, want count 2, mean %v, observed %v", k, b, wantMean, wantObs)
		}
		if math.Abs(b.MinScore-scores[2*k]) > 0 || b.MaxScore != scores[2*k+1] {
			t.Errorf("bin %d range [%v, %v], want [%v, %v]", k, b.MinScore, b.MaxScore, scores[2*k], scores[2*k+1])
		}
		ece += math.Abs(wantMean-wantObs) / 10
	}
	if got := evaluate.ECE(bins); math.Abs(got-ece) > 1e-12 {
		t.Errorf("ECE = %v, want %v", got, ece)
	}
	if got := evaluate.ECE(nil); got != 0 {
		t.Errorf("ECE(nil) = %v, want 0", got)
	}
}

func TestCalibrationFewRows(t *testing.T) {
	t.Parallel()
	bins, err := evaluate.Calibration([]float64{1, 0, 0}, []float64{0.9, 0.1, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 3 {
		t.Fatalf("%d bins for 3 rows, want 3: %+v", len(bins), bins)
	}
	if bins[0].MeanPredicted != 0.1 || bins[2].ObservedRate != 1 {
		t.Errorf("bins %+v", bins)
	}
}

func TestLift(t *testing.T) {
	t.Parallel()
	// 100 rows, score i/100; row i is bad when i ≥ 80 or i is a multiple of
	// 10, so the top two deciles hold 20 of the 28 bads.
	var labels, scores []float64
	bads := 0
	for i := range 100 {
		scores = append(scores, float64(i)/100)
		l := 0.0
		if i >= 80 || i%10 == 0 {
			l, bads = 1, bads+1
		}
		labels = append(labels, l)
	}
	rows, err := evaluate.Lift(labels, scores)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 {
		t.Fatalf("%d rows, want 10", len(rows))
	}
	overall := float64(bads) / 100
	wantBads := []int{10, 10, 1, 1, 1, 1, 1, 1, 1, 1}
	cum := 0
	for k, r := range rows {
		cum += wantBads[k]
		if r.Decile != k+1 || r.Count != 10 || r.Bads != wantBads[k] || r.CumBads != cum || r.CumCount != 10*(k+1) {
			t.Errorf("decile %d = %+v, want %d bads, %d cumulative", k+1, r, wantBads[k], cum)
		}
		if math.Abs(r.Lift-float64(wantBads[k])/10/overall) > 1e-12 {
			t.Errorf("decile %d lift %v", k+1, r.Lift)
		}
		if math.Abs(r.Gains-float64(cum)/float64(bads)) > 1e-12 {
			t.Errorf("decile %d gains %v, want %v", k+1, r.Gains, float64(cum)/float64(bads))
		}
		if math.Abs(r.CumLift-float64(cum)/float64(10*(k+1))/overall) > 1e-12 {
			t.Errorf("decile %d cumulative lift %v", k+1, r.CumLift)
		}
		wantMax := float64(99-10*k) / 100
		if r.MaxScore != wantMax || r.MinScore != float64(90-10*k)/100 {
			t.Errorf("decile %d range [%v, %v], want max %v", k+1, r.MinScore, r.MaxScore, wantMax)
		}
	}
	if rows[9].Gains != 1 || math.Abs(rows[9].CumLift-1) > 1e-12 {
		t.Errorf("last decile gains %v, cumulative lift %v; want 1, 1", rows[9].Gains, rows[9].CumLift)
	}
}

func TestDeLongProperties(t *testing.T) {
	t.Parallel()
	labels, cols := scores(t)
	a, b := cols["score_a"], cols["score_b"]

	same, err := evaluate.DeLong(labels, a, a)
	if err != nil {
		t.Fatal(err)
	}
	if same.Diff != 0 || same.Variance != 0 || same.Z != 0 || same.P != 1 {
		t.Errorf("identical models: %+v, want diff 0, variance 0, z 0, p 1", same)
	}
	// A monotone transform ranks alike, so it is the same curve.
	cubed := make([]float64, len(a))
	for i, v := range a {
		cubed[i] = v * v * v
	}
	mono, err := evaluate.DeLong(labels, a, cubed)
	if err != nil {
		t.Fatal(err)
	}
	if mono.Diff != 0 || mono.P != 1 {
		t.Errorf("monotone transform: %+v, want diff 0, p 1", mono)
	}

	ab, err := evaluate.DeLong(labels, a, b)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := evaluate.DeLong(labels, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if ab.Diff != -ba.Diff || math.Abs(ab.Z+ba.Z) > 1e-12 || math.Abs(ab.P-ba.P) > 1e-15 {
		t.Errorf("swapping models: %+v vs %+v", ab, ba)
	}
	auc, _ := evaluate.AUC(labels, a)
	if math.Abs(ab.AUCA-auc) > 1e-12 {
		t.Errorf("DeLong AUC %v, AUC() %v", ab.AUCA, auc)
	}
	if ab.P <= 0 || ab.P >= 0.001 {
		t.Errorf("a clearly better model: p = %v, want in (0, 0.001)", ab.P)
	}
}

func TestPSI(t *testing.T) {
	t.Parallel()
	base := make([]float64, 1000)
	for i := range base {
		base[i] = float64(i) / 1000
	}
	shifted := make([]float64, len(base))
	for i, v := range base {
		shifted[i] = math.Min(v+0.3, 0.999)
	}
	for _, tt := range []struct {
		name             string
		expected, actual []float64
		lo, hi           float64
		bins             int
	}{
		{"identical", base, base, 0, 1e-12, 10},
		{"half the rows", base, base[:500], 2, math.Inf(1), 10}, // five empty bins at ε
		{"shifted", base, shifted, 0.25, math.Inf(1), 10},
		{"constant expected", []float64{0.2, 0.2, 0.2}, []float64{0.2, 0.5}, 0, math.Inf(1), 2},
		{"single value", []float64{0.4}, []float64{0.4}, 0, 0, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := evaluate.PSI(tt.expected, tt.actual)
			if err != nil {
				t.Fatal(err)
			}
			if r.PSI < tt.lo || r.PSI > tt.hi || math.IsNaN(r.PSI) {
				t.Errorf("PSI = %v, want in [%v, %v]", r.PSI, tt.lo, tt.hi)
			}
			if len(r.Bins) != tt.bins {
				t.Errorf("%d bins, want %d: %+v", len(r.Bins), tt.bins, r.Bins)
			}
			var e, a, sum float64
			for _, b := range r.Bins {
				e, a, sum = e+b.Expected, a+b.Actual, sum+b.PSI
			}
			if math.Abs(e-1) > 1e-12 || math.Abs(a-1) > 1e-12 || math.Abs(sum-r.PSI) > 1e-12 {
				t.Errorf("shares sum to %v and %v, bin PSI to %v (total %v)", e, a, sum, r.PSI)
			}
		})
	}
}
