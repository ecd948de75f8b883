package evaluate

import (
	"fmt"
	"math"
)

// StrategyCurve returns the approval-rate against bad-rate trade-off as
// the cut-off moves over every distinct score, lowest first: X is the
// share of applicants approved, Y the bad rate among them, and Threshold
// the cut-off that gives them (approved: score < Threshold; the next
// distinct score up, or just above the highest score for approving
// everyone). Scores must be probabilities.
func StrategyCurve(labels, scores []float64) ([]Point, error) {
	s, err := newSample(labels, scores, "scores", true)
	if err != nil {
		return nil, fmt.Errorf("strategy curve: %w", err)
	}
	return s.strategy(), nil
}

func (s *sample) strategy() []Point {
	n := len(s.order)
	var pts []Point
	var bads int
	s.ties(func(lo, hi, b int) {
		bads += b
		next := math.Nextafter(s.scores[s.order[lo]], math.Inf(1))
		if hi < n {
			next = s.scores[s.order[hi]]
		}
		pts = append(pts, Point{X: ratio(hi, n), Y: ratio(bads, hi), Threshold: next})
	})
	return pts
}
