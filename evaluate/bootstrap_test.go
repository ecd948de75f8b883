package evaluate

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
)

// synthetic draws n rows whose score predicts the label: p ~ U(0.02, 0.6),
// label ~ Bernoulli(p) when calibrated, Bernoulli(min(1, 1.6 p)) when not.
func synthetic(n int, seed uint64, calibrated bool) (labels, scores []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	labels, scores = make([]float64, n), make([]float64, n)
	for i := range n {
		p := 0.02 + 0.58*r.Float64()
		q := p
		if !calibrated {
			q = math.Min(1, 1.6*p)
		}
		scores[i] = p
		if r.Float64() < q {
			labels[i] = 1
		}
	}
	return labels, scores
}

// The bootstrap's AUC interval matches DeLong's analytic standard error
// (95% interval ≈ ±1.96 SE) within 20%, contains the sample's AUC, is
// reproducible by seed, and narrows with more rows.
func TestBootstrap(t *testing.T) {
	labels, scores := synthetic(800, 3, true)
	b, err := Bootstrap(labels, scores, 500, 0.95, 42)
	if err != nil {
		t.Fatal(err)
	}
	auc, _ := AUC(labels, scores)
	ks, _, _ := KS(labels, scores)
	if b.AUC.Value != auc || b.KS.Value != ks || b.Gini.Value != 2*auc-1 {
		t.Fatalf("values %+v, want AUC %v, KS %v", b, auc, ks)
	}
	for name, iv := range map[string]Interval{"auc": b.AUC, "gini": b.Gini, "ks": b.KS} {
		if !(iv.Lo < iv.Value && iv.Value < iv.Hi) {
			t.Errorf("%s interval %+v does not contain the value", name, iv)
		}
	}
	// DeLong's variance of one AUC: against a constant score (AUC 0.5,
	// variance 0) the variance of the difference is VarA.
	dl, err := DeLong(labels, scores, make([]float64, len(scores)))
	if err != nil {
		t.Fatal(err)
	}
	se := math.Sqrt(dl.VarA)
	if width := (b.AUC.Hi - b.AUC.Lo) / (2 * 1.96 * se); width < 0.8 || width > 1.2 {
		t.Errorf("bootstrap 95%% width %.4f is %.2f× DeLong's ±1.96 SE (%.4f)", b.AUC.Hi-b.AUC.Lo, width, se)
	}
	again, _ := Bootstrap(labels, scores, 500, 0.95, 42)
	if *again != *b {
		t.Errorf("same seed, other result: %+v, %+v", again, b)
	}
	bl, bs := synthetic(6400, 3, true)
	big, _ := Bootstrap(bl, bs, 100, 0.95, 42)
	if w, w0 := big.AUC.Hi-big.AUC.Lo, b.AUC.Hi-b.AUC.Lo; !(w < w0/2) {
		t.Errorf("8× the rows: interval %v wide, was %v (want about a third)", w, w0)
	}
	if _, err := Bootstrap(labels, scores, 5, 0.95, 1); err == nil {
		t.Error("5 resamples accepted")
	}
	if _, err := Bootstrap([]float64{0, 0}, []float64{0.1, 0.2}, 100, 0.95, 1); err == nil {
		t.Error("one class accepted")
	}
}

// TestHosmerLemeshow: the statistic and p-value equal an independent numpy
// and scipy computation; calibrated scores pass, miscalibrated ones fail.
func TestHosmerLemeshow(t *testing.T) {
	py := testkit.Python(t)
	for _, calibrated := range []bool{true, false} {
		labels, scores := synthetic(1000, 11, calibrated)
		bins, err := Calibration(labels, scores)
		if err != nil {
			t.Fatal(err)
		}
		h, err := HosmerLemeshowTest(bins)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		in, _ := json.Marshal(map[string]any{"labels": labels, "scores": scores})
		if err := os.WriteFile(filepath.Join(dir, "in.json"), in, 0o644); err != nil {
			t.Fatal(err)
		}
		testkit.RunPython(t, time.Minute, py, nil, filepath.Join("testdata", "hosmer_lemeshow.py"), filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json"))
		var want HosmerLemeshow
		b, _ := os.ReadFile(filepath.Join(dir, "out.json"))
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if math.Abs(h.Statistic-want.Statistic) > 1e-9*want.Statistic || math.Abs(h.P-want.P) > 1e-9 || h.DF != 8 {
			t.Errorf("calibrated %v: H %v, p %v, df %d; scipy H %v, p %v", calibrated, h.Statistic, h.P, h.DF, want.Statistic, want.P)
		}
		if calibrated != (h.P > 0.05) {
			t.Errorf("calibrated %v: p-value %v", calibrated, h.P)
		}
	}
	if _, err := HosmerLemeshowTest(make([]CalibrationBin, 2)); err == nil {
		t.Error("two groups accepted")
	}
}
