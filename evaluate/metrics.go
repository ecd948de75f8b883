package evaluate

import (
	"fmt"
	"math"
)

// LogLossEps clips probabilities to [eps, 1-eps] before taking logarithms.
// It is the float64 machine epsilon (2.22e-16), as scikit-learn's log_loss
// uses since 1.5 (before, its default was 1e-15), so a score of exactly 0
// or 1 gives the same finite loss as scikit-learn.
const LogLossEps = 0x1p-52

func wrapf(err error, format string, args ...any) error {
	return fmt.Errorf("%w (%s)", err, fmt.Sprintf(format, args...))
}

// AUC is the area under the ROC curve: the probability that a random bad
// scores higher than a random good, ties counting one half. It equals
// scikit-learn's roc_auc_score. Scores may be any finite numbers.
func AUC(labels, scores []float64) (float64, error) {
	s, err := newSample(labels, scores, "scores", false)
	if err != nil {
		return 0, fmt.Errorf("auc: %w", err)
	}
	if err := bothClasses(s.bads, s.goods); err != nil {
		return 0, fmt.Errorf("auc: %w", err)
	}
	return s.auc(), nil
}

// auc uses the Mann-Whitney statistic on midranks (average rank for ties).
func (s *sample) auc() float64 {
	var rankSum float64
	s.ties(func(lo, hi, bads int) {
		mid := float64(lo+1+hi) / 2 // mean of the 1-based ranks lo+1..hi
		rankSum += mid * float64(bads)
	})
	nb, ng := float64(s.bads), float64(s.goods)
	return (rankSum - nb*(nb+1)/2) / (nb * ng)
}

// Gini is 2·AUC − 1, the accuracy ratio used in credit scoring.
func Gini(labels, scores []float64) (float64, error) {
	auc, err := AUC(labels, scores)
	if err != nil {
		return 0, fmt.Errorf("gini: %w", err)
	}
	return 2*auc - 1, nil
}

// KS is the Kolmogorov-Smirnov statistic: the largest distance between the
// cumulative score distributions of bads and goods, and the score at which
// it is reached (the lowest such score when several tie). It equals
// scipy.stats.ks_2samp(bad_scores, good_scores).statistic.
func KS(labels, scores []float64) (stat, at float64, err error) {
	s, err := newSample(labels, scores, "scores", false)
	if err != nil {
		return 0, 0, fmt.Errorf("ks: %w", err)
	}
	if err := bothClasses(s.bads, s.goods); err != nil {
		return 0, 0, fmt.Errorf("ks: %w", err)
	}
	stat, at = s.ks()
	return stat, at, nil
}

func (s *sample) ks() (stat, at float64) {
	var cumBad, cumGood int
	nb, ng := float64(s.bads), float64(s.goods)
	at = s.scores[s.order[0]]
	s.ties(func(lo, hi, bads int) {
		cumBad += bads
		cumGood += hi - lo - bads
		d := math.Abs(float64(cumBad)/nb - float64(cumGood)/ng)
		if d > stat {
			stat, at = d, s.scores[s.order[lo]]
		}
	})
	return stat, at
}

// LogLoss is the mean negative log-likelihood of the labels, with scores
// clipped to [LogLossEps, 1−LogLossEps]. Scores must be probabilities.
func LogLoss(labels, scores []float64) (float64, error) {
	if _, _, err := check(labels, scores, "scores", true); err != nil {
		return 0, fmt.Errorf("log loss: %w", err)
	}
	return logLoss(labels, scores), nil
}

func logLoss(labels, scores []float64) float64 {
	var sum float64
	for i, p := range scores {
		p = min(max(p, LogLossEps), 1-LogLossEps)
		if labels[i] == 1 {
			sum -= math.Log(p)
		} else {
			sum -= math.Log1p(-p)
		}
	}
	return sum / float64(len(scores))
}

// Brier is the mean squared difference between score and label. Scores
// must be probabilities.
func Brier(labels, scores []float64) (float64, error) {
	if _, _, err := check(labels, scores, "scores", true); err != nil {
		return 0, fmt.Errorf("brier: %w", err)
	}
	return brier(labels, scores), nil
}

func brier(labels, scores []float64) float64 {
	var sum float64
	for i, p := range scores {
		d := p - labels[i]
		sum += d * d
	}
	return sum / float64(len(scores))
}
