package evaluate

import (
	"fmt"
	"math"
)

// Confusion counts decisions at a cut-off, with "positive" meaning a
// predicted default (score ≥ cut-off, declined).
type Confusion struct {
	TruePositive  int `json:"true_positive"`  // bad, declined
	FalsePositive int `json:"false_positive"` // good, declined
	TrueNegative  int `json:"true_negative"`  // good, approved
	FalseNegative int `json:"false_negative"` // bad, approved
}

// CutoffMetrics are the decision metrics at one cut-off. A ratio whose
// denominator is zero (no declines for precision, no approvals for the
// approved bad rate) is 0, as scikit-learn's zero_division=0, so a report
// never holds NaN.
type CutoffMetrics struct {
	Cutoff          float64   `json:"cutoff"`
	Accuracy        float64   `json:"accuracy"`
	Precision       float64   `json:"precision"`
	Recall          float64   `json:"recall"`
	F1              float64   `json:"f1"`
	ApprovalRate    float64   `json:"approval_rate"`     // share with score < cut-off
	BadRateApproved float64   `json:"bad_rate_approved"` // bads among the approved
	Confusion       Confusion `json:"confusion"`
}

// AtCutoff computes the decision metrics when every applicant whose score
// is at or above cutoff is declined. Scores must be probabilities.
func AtCutoff(labels, scores []float64, cutoff float64) (*CutoffMetrics, error) {
	if err := checkCutoff(cutoff); err != nil {
		return nil, fmt.Errorf("cut-off metrics: %w", err)
	}
	if _, _, err := check(labels, scores, "scores", true); err != nil {
		return nil, fmt.Errorf("cut-off metrics: %w", err)
	}
	return atCutoff(labels, scores, cutoff), nil
}

func checkCutoff(c float64) error {
	if math.IsNaN(c) || c < 0 || c > 1 {
		return &InputError{Field: "cutoff", Index: -1, Err: wrapf(ErrCutoff, "cutoff = %v", c)}
	}
	return nil
}

func atCutoff(labels, scores []float64, cutoff float64) *CutoffMetrics {
	var c Confusion
	for i, p := range scores {
		bad, declined := labels[i] == 1, p >= cutoff
		switch {
		case bad && declined:
			c.TruePositive++
		case !bad && declined:
			c.FalsePositive++
		case !bad && !declined:
			c.TrueNegative++
		default:
			c.FalseNegative++
		}
	}
	m := &CutoffMetrics{Cutoff: cutoff, Confusion: c}
	n := len(scores)
	m.Accuracy = ratio(c.TruePositive+c.TrueNegative, n)
	m.Precision = ratio(c.TruePositive, c.TruePositive+c.FalsePositive)
	m.Recall = ratio(c.TruePositive, c.TruePositive+c.FalseNegative)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	approved := c.TrueNegative + c.FalseNegative
	m.ApprovalRate = ratio(approved, n)
	m.BadRateApproved = ratio(c.FalseNegative, approved)
	return m
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
