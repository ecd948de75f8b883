package evaluate

import (
	"fmt"
	"math"
)

// DeLongResult compares the AUCs of two models scored on the same rows.
type DeLongResult struct {
	AUCA     float64 `json:"auc_a"`
	AUCB     float64 `json:"auc_b"`
	Diff     float64 `json:"diff"` // AUCA − AUCB
	VarA     float64 `json:"var_a"`
	VarB     float64 `json:"var_b"`
	Cov      float64 `json:"cov"`      // covariance of the two AUC estimates
	Variance float64 `json:"variance"` // of Diff: VarA + VarB − 2·Cov
	StdErr   float64 `json:"std_err"`
	Z        float64 `json:"z"`
	P        float64 `json:"p"` // two-sided
}

// DeLong tests whether two correlated ROC curves (same labels, two score
// vectors) have equal AUC, with the variance estimate of DeLong, DeLong &
// Clarke-Pearson (1988) computed by the O(n log n) midrank algorithm of
// Sun & Xu (2014). When the two score vectors rank every pair alike the
// variance of the difference is 0; then Z is 0 and P is 1. It needs at
// least two bads and two goods; scores may be any finite numbers.
func DeLong(labels, scoresA, scoresB []float64) (*DeLongResult, error) {
	bads, goods, err := check(labels, scoresA, "scores_a", false)
	if err != nil {
		return nil, fmt.Errorf("delong: %w", err)
	}
	if _, _, err := check(labels, scoresB, "scores_b", false); err != nil {
		return nil, fmt.Errorf("delong: %w", err)
	}
	if bads < 2 || goods < 2 {
		return nil, fmt.Errorf("delong: %w", &InputError{Field: "labels", Index: -1,
			Err: wrapf(ErrTooFew, "%d bads, %d goods; need 2 of each", bads, goods)})
	}
	auc := [2]float64{}
	v10 := [2][]float64{}
	v01 := [2][]float64{}
	for k, scores := range [2][]float64{scoresA, scoresB} {
		auc[k], v10[k], v01[k] = placements(labels, scores, bads, goods)
	}
	m, n := float64(bads), float64(goods)
	s10, s01 := covariance(v10), covariance(v01)
	var s [2][2]float64
	for i := range 2 {
		for j := range 2 {
			s[i][j] = s10[i][j]/m + s01[i][j]/n
		}
	}
	r := &DeLongResult{
		AUCA: auc[0], AUCB: auc[1], Diff: auc[0] - auc[1],
		VarA: s[0][0], VarB: s[1][1], Cov: s[0][1],
	}
	r.Variance = s[0][0] + s[1][1] - 2*s[0][1]
	// Rounding can leave a tiny negative or positive variance for identical
	// rankings; below this relative size it is zero.
	if r.Variance <= 1e-14*(s[0][0]+s[1][1]) {
		r.Variance, r.Z, r.P = 0, 0, 1
		return r, nil
	}
	r.StdErr = math.Sqrt(r.Variance)
	r.Z = r.Diff / r.StdErr
	r.P = math.Erfc(math.Abs(r.Z) / math.Sqrt2)
	return r, nil
}

// placements returns the AUC and the structural components of DeLong:
// v10[i] is the share of goods that the i-th bad (in row order) outscores,
// v01[j] the share of bads that outscore the j-th good, ties counting one
// half. Following Sun & Xu, v10 = (Tz − Tx)/n and v01 = 1 − (Tz − Ty)/m
// with Tz the midrank of a score among all rows, Tx among the bads and Ty
// among the goods; one sort yields all three.
func placements(labels, scores []float64, bads, goods int) (auc float64, v10, v01 []float64) {
	// k[row] is the row's position among the rows of its class.
	k := make([]int, len(labels))
	var nb, ng int
	for i, l := range labels {
		if l == 1 {
			k[i], nb = nb, nb+1
		} else {
			k[i], ng = ng, ng+1
		}
	}
	s := &sample{labels: labels, scores: scores, order: ascending(scores), bads: bads, goods: goods}
	m, n := float64(bads), float64(goods)
	v10 = make([]float64, bads)
	v01 = make([]float64, goods)
	var sumTz float64
	var belowBad, belowGood int // rows of each class below the current tie run
	s.ties(func(lo, hi, runBads int) {
		runGoods := hi - lo - runBads
		tz := float64(lo+1+hi) / 2
		tx := float64(2*belowBad+1+runBads) / 2
		ty := float64(2*belowGood+1+runGoods) / 2
		for _, i := range s.order[lo:hi] {
			if labels[i] == 1 {
				v10[k[i]] = (tz - tx) / n
				sumTz += tz
			} else {
				v01[k[i]] = 1 - (tz-ty)/m
			}
		}
		belowBad += runBads
		belowGood += runGoods
	})
	auc = (sumTz - m*(m+1)/2) / (m * n)
	return auc, v10, v01
}

// covariance is the 2×2 sample covariance (n−1 denominator) of two
// equally long series.
func covariance(v [2][]float64) [2][2]float64 {
	n := float64(len(v[0]))
	var mean [2]float64
	for k := range 2 {
		for _, x := range v[k] {
			mean[k] += x
		}
		mean[k] /= n
	}
	var c [2][2]float64
	for i := range v[0] {
		a, b := v[0][i]-mean[0], v[1][i]-mean[1]
		c[0][0] += a * a
		c[1][1] += b * b
		c[0][1] += a * b
	}
	for _, p := range [][2]int{{0, 0}, {1, 1}, {0, 1}} {
		c[p[0]][p[1]] /= n - 1
	}
	c[1][0] = c[0][1]
	return c
}
