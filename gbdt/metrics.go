package gbdt

import (
	"math"
	"slices"
)

// logLoss is the mean binary log loss of raw scores, with probabilities
// clipped away from 0 and 1 as LightGBM's binary_logloss does.
func logLoss(score, labels []float64) float64 {
	var s float64
	for i, x := range score {
		p := 1 / (1 + math.Exp(-x))
		if labels[i] > 0 {
			s -= math.Log(max(p, 1e-15))
		} else {
			s -= math.Log(max(1-p, 1e-15))
		}
	}
	return s / float64(len(score))
}

// auc is the area under the ROC curve of scores against 0/1 labels; tied
// scores count half, as LightGBM's AUCMetric.
func auc(score, labels []float64) float64 {
	idx := make([]int32, len(score))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	var pos, neg, area float64
	for i := 0; i < len(idx); {
		var p, n float64
		j := i
		for ; j < len(idx) && score[idx[j]] == score[idx[i]]; j++ {
			if labels[idx[j]] > 0 {
				p++
			} else {
				n++
			}
		}
		area += n * (pos + p/2)
		pos += p
		neg += n
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return area / (pos * neg)
}
