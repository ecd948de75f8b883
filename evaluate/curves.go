package evaluate

import "fmt"

// Point is one point of a curve, with the score threshold that produces it
// (applicants scoring at or above Threshold are declined).
type Point struct {
	X         float64 `json:"x"`
	Y         float64 `json:"y"`
	Threshold float64 `json:"threshold"`
}

// ROCCurve returns the ROC curve as (false positive rate, true positive
// rate) points, one per distinct score from the highest down, starting at
// (0, 0) with threshold +Inf replaced by the largest score plus one.
func ROCCurve(labels, scores []float64) ([]Point, error) {
	s, err := newSample(labels, scores, "scores", false)
	if err != nil {
		return nil, fmt.Errorf("roc curve: %w", err)
	}
	if err := bothClasses(s.bads, s.goods); err != nil {
		return nil, fmt.Errorf("roc curve: %w", err)
	}
	return s.roc(), nil
}

func (s *sample) roc() []Point {
	nb, ng := float64(s.bads), float64(s.goods)
	top := s.scores[s.order[len(s.order)-1]]
	pts := []Point{{0, 0, top + 1}}
	var tp, fp int
	s.tiesDescending(func(lo, hi, bads int) {
		tp += bads
		fp += hi - lo - bads
		pts = append(pts, Point{float64(fp) / ng, float64(tp) / nb, s.scores[s.order[lo]]})
	})
	return pts
}

// PRCurve returns the precision-recall curve as (recall, precision)
// points, one per distinct score from the highest down.
func PRCurve(labels, scores []float64) ([]Point, error) {
	s, err := newSample(labels, scores, "scores", false)
	if err != nil {
		return nil, fmt.Errorf("precision-recall curve: %w", err)
	}
	if err := bothClasses(s.bads, s.goods); err != nil {
		return nil, fmt.Errorf("precision-recall curve: %w", err)
	}
	return s.pr(), nil
}

func (s *sample) pr() []Point {
	var pts []Point
	var tp, declined int
	s.tiesDescending(func(lo, hi, bads int) {
		tp += bads
		declined += hi - lo
		pts = append(pts, Point{ratio(tp, s.bads), ratio(tp, declined), s.scores[s.order[lo]]})
	})
	return pts
}

// tiesDescending is ties from the highest score down.
func (s *sample) tiesDescending(fn func(lo, hi, bads int)) {
	type run struct{ lo, hi, bads int }
	var runs []run
	s.ties(func(lo, hi, bads int) { runs = append(runs, run{lo, hi, bads}) })
	for i := len(runs) - 1; i >= 0; i-- {
		fn(runs[i].lo, runs[i].hi, runs[i].bads)
	}
}
