package evaluate

import (
	"fmt"
	"math"
)

// CalibrationBin is one decile of score, lowest scores first.
type CalibrationBin struct {
	Bin           int     `json:"bin"` // 1 = lowest scores
	Count         int     `json:"count"`
	MinScore      float64 `json:"min_score"`
	MaxScore      float64 `json:"max_score"`
	MeanPredicted float64 `json:"mean_predicted"`
	ObservedRate  float64 `json:"observed_rate"` // share of bads
}

// Calibration groups the rows by ascending score into ten groups of equal
// size (tied scores may straddle two groups; fewer groups with fewer than
// ten rows) and compares the mean predicted probability with the observed
// bad rate in each. Scores must be probabilities.
func Calibration(labels, scores []float64) ([]CalibrationBin, error) {
	s, err := newSample(labels, scores, "scores", true)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	return s.calibration(), nil
}

func (s *sample) calibration() []CalibrationBin {
	var bins []CalibrationBin
	for g, r := range deciles(len(s.order)) {
		var sumP float64
		var bads int
		for _, i := range s.order[r[0]:r[1]] {
			sumP += s.scores[i]
			if s.labels[i] == 1 {
				bads++
			}
		}
		n := r[1] - r[0]
		bins = append(bins, CalibrationBin{
			Bin:           g + 1,
			Count:         n,
			MinScore:      s.scores[s.order[r[0]]],
			MaxScore:      s.scores[s.order[r[1]-1]],
			MeanPredicted: sumP / float64(n),
			ObservedRate:  ratio(bads, n),
		})
	}
	return bins
}

// ECE is the expected calibration error of a calibration table: the
// count-weighted mean of |mean predicted − observed rate|.
func ECE(bins []CalibrationBin) float64 {
	var sum float64
	var n int
	for _, b := range bins {
		sum += float64(b.Count) * math.Abs(b.MeanPredicted-b.ObservedRate)
		n += b.Count
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// LiftRow is one decile of score, highest risk first, with the cumulative
// figures from the top decile down to this one.
type LiftRow struct {
	Decile     int     `json:"decile"` // 1 = highest scores
	Count      int     `json:"count"`
	Bads       int     `json:"bads"`
	MinScore   float64 `json:"min_score"`
	MaxScore   float64 `json:"max_score"`
	BadRate    float64 `json:"bad_rate"`
	Lift       float64 `json:"lift"` // bad rate / overall bad rate
	CumCount   int     `json:"cum_count"`
	CumBads    int     `json:"cum_bads"`
	CumBadRate float64 `json:"cum_bad_rate"`
	CumLift    float64 `json:"cum_lift"`
	Gains      float64 `json:"gains"` // share of all bads captured so far
}

// Lift groups the rows by descending score into ten groups of equal size
// (tied scores may straddle two groups) and gives each group's bad rate,
// lift over the overall bad rate, and the cumulative capture of bads
// (gains). It needs at least one bad. Scores may be any finite numbers.
func Lift(labels, scores []float64) ([]LiftRow, error) {
	s, err := newSample(labels, scores, "scores", false)
	if err != nil {
		return nil, fmt.Errorf("lift: %w", err)
	}
	if s.bads == 0 {
		return nil, fmt.Errorf("lift: %w", &InputError{Field: "labels", Index: -1,
			Err: wrapf(ErrSingleClass, "no bads")})
	}
	return s.lift(), nil
}

func (s *sample) lift() []LiftRow {
	n := len(s.order)
	overall := ratio(s.bads, n)
	var rows []LiftRow
	var cumCount, cumBads int
	for g, r := range deciles(n) {
		var bads int
		// Position k from the top is s.order[n-1-k].
		for k := r[0]; k < r[1]; k++ {
			if s.labels[s.order[n-1-k]] == 1 {
				bads++
			}
		}
		count := r[1] - r[0]
		cumCount += count
		cumBads += bads
		row := LiftRow{
			Decile:     g + 1,
			Count:      count,
			Bads:       bads,
			MinScore:   s.scores[s.order[n-r[1]]],
			MaxScore:   s.scores[s.order[n-1-r[0]]],
			BadRate:    ratio(bads, count),
			CumCount:   cumCount,
			CumBads:    cumBads,
			CumBadRate: ratio(cumBads, cumCount),
			Gains:      ratio(cumBads, s.bads),
		}
		if overall > 0 {
			row.Lift = row.BadRate / overall
			row.CumLift = row.CumBadRate / overall
		}
		rows = append(rows, row)
	}
	return rows
}
