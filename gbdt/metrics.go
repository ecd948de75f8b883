package gbdt

import "math"

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
// scores count half, as LightGBM's AUCMetric. Boosting calls it twice an
// iteration for the learning curves, so it sorts with a linear-time radix
// sort instead of comparisons (an order of magnitude faster on 20,000 rows).
func auc(score, labels []float64) float64 {
	idx := sortedByScore(score)
	var pos, neg, area float64
	// Highest scores first: area adds, for each group of tied scores, its
	// negatives times the positives ranked above them (ties count half).
	for j := len(idx) - 1; j >= 0; {
		var p, n float64
		i := j
		for ; i >= 0 && score[idx[i]] == score[idx[j]]; i-- {
			if labels[idx[i]] > 0 {
				p++
			} else {
				n++
			}
		}
		area += n * (pos + p/2)
		pos += p
		neg += n
		j = i
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return area / (pos * neg)
}

// sortedByScore returns the indexes of score in ascending order of score,
// by an LSD radix sort over the bytes of order-preserving keys.
func sortedByScore(score []float64) []int32 {
	n := len(score)
	keys, keys2 := make([]uint64, n), make([]uint64, n)
	idx, idx2 := make([]int32, n), make([]int32, n)
	for i, v := range score {
		keys[i], idx[i] = sortKey(v), int32(i)
	}
	var count [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		clear(count[:])
		for _, k := range keys {
			count[byte(k>>shift)]++
		}
		if count[byte(keys[0]>>shift)] == n {
			continue // every key has this byte: the pass would not move anything
		}
		sum := 0
		for b, c := range count {
			count[b] = sum
			sum += c
		}
		for i, k := range keys {
			d := byte(k >> shift)
			keys2[count[d]], idx2[count[d]] = k, idx[i]
			count[d]++
		}
		keys, keys2, idx, idx2 = keys2, keys, idx2, idx
	}
	return idx
}

// sortKey maps a float64 to a uint64 whose unsigned order is the float's
// order: negative numbers have all bits flipped, others the sign bit set.
func sortKey(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}
