package evaluate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/creditrisk/engine/data"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a statistic with its bootstrap confidence interval.
type Interval struct {
	Value float64 `json:"value"` // on the sample itself
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// BootstrapResult holds AUC, Gini and KS with percentile intervals.
type BootstrapResult struct {
	Level     float64  `json:"level"`     // e.g. 0.95
	Resamples int      `json:"resamples"` // resamples used (those with both classes)
	Seed      uint64   `json:"seed"`
	AUC       Interval `json:"auc"`
	Gini      Interval `json:"gini"`
	KS        Interval `json:"ks"`
}

// Bootstrap gives AUC, Gini and KS of labels (1 = bad) and scores with
// percentile confidence intervals at level (0.95: the 2.5% and 97.5%
// quantiles) over resamples draws of the rows with replacement, seeded so
// that a report is reproducible. A draw lacking a class is drawn again.
func Bootstrap(labels, scores []float64, resamples int, level float64, seed uint64) (*BootstrapResult, error) {
	if resamples < 10 || resamples > 100000 {
		return nil, fmt.Errorf("bootstrap: %d resamples: want 10 to 100000", resamples)
	}
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("bootstrap: level %v: want a probability strictly between 0 and 1", level)
	}
	s, err := newSample(labels, scores, "scores", false)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := bothClasses(s.bads, s.goods); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	r := &BootstrapResult{Level: level, Resamples: resamples, Seed: seed}
	ks, _ := s.ks()
	r.AUC.Value, r.KS.Value = s.auc(), ks
	r.Gini.Value = 2*r.AUC.Value - 1
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	n := len(labels)
	ls, ss := make([]float64, n), make([]float64, n)
	aucs, kss := make([]float64, 0, resamples), make([]float64, 0, resamples)
	for tries := 0; len(aucs) < resamples; tries++ {
		if tries > 20*resamples {
			return nil, errors.New("bootstrap: too few draws have both classes")
		}
		bads := 0
		for i := range n {
			k := rng.IntN(n)
			ls[i], ss[i] = labels[k], scores[k]
			bads += int(labels[k])
		}
		if bads == 0 || bads == n {
			continue
		}
		b, _ := newSample(ls, ss, "scores", false)
		k, _ := b.ks()
		aucs, kss = append(aucs, b.auc()), append(kss, k)
	}
	tail := (1 - level) / 2
	a, k := data.Quantiles(aucs, tail, 1-tail), data.Quantiles(kss, tail, 1-tail)
	r.AUC.Lo, r.AUC.Hi = a[0], a[1]
	r.Gini.Lo, r.Gini.Hi = 2*r.AUC.Lo-1, 2*r.AUC.Hi-1
	r.KS.Lo, r.KS.Hi = k[0], k[1]
	return r, nil
}

// HosmerLemeshow is the Hosmer–Lemeshow goodness-of-fit test over the
// calibration groups: H = Σ (O − E)² / (E·(1 − E/n)) with O the bads, E the
// sum of predicted probabilities and n the rows of a group, compared with
// a χ² distribution of groups − 2 degrees of freedom. A small p-value
// (below 0.05, say) says the probabilities do not fit the observed rates.
type HosmerLemeshow struct {
	Statistic float64 `json:"statistic"`
	DF        int     `json:"df"`
	P         float64 `json:"p_value"`
	Groups    int     `json:"groups"`
}

// HosmerLemeshowTest runs the test on a calibration table (Calibration's
// deciles). It needs at least three groups; a group whose expected count
// is 0 or n (all predictions 0 or 1) adds nothing.
func HosmerLemeshowTest(bins []CalibrationBin) (*HosmerLemeshow, error) {
	if len(bins) < 3 {
		return nil, fmt.Errorf("hosmer-lemeshow: %d groups, want at least 3", len(bins))
	}
	h := &HosmerLemeshow{Groups: len(bins), DF: len(bins) - 2}
	for _, b := range bins {
		n := float64(b.Count)
		e := b.MeanPredicted * n
		o := b.ObservedRate * n
		if v := e * (1 - e/n); v > 0 {
			h.Statistic += (o - e) * (o - e) / v
		}
	}
	h.P = distuv.ChiSquared{K: float64(h.DF)}.Survival(h.Statistic)
	if math.IsNaN(h.P) {
		return nil, fmt.Errorf("hosmer-lemeshow: statistic %v gives no p-value", h.Statistic)
	}
	return h, nil
}
