package evaluate

import (
	"fmt"
	"math"
	"slices"

	"github.com/creditrisk/engine/data"
)

// PSIEpsilon replaces an empty bin's share so its log term stays finite.
const PSIEpsilon = 1e-4

// PSIBin is one bin of a PSI computation: scores in (Lower, Upper].
type PSIBin struct {
	Lower    float64 `json:"lower"` // -1e308 stands for −∞ in the first bin
	Upper    float64 `json:"upper"` // 1e308 stands for +∞ in the last bin
	Expected float64 `json:"expected"`
	Actual   float64 `json:"actual"`
	PSI      float64 `json:"psi"`
}

// PSIResult is the population stability index between two score samples
// and its contribution by bin.
type PSIResult struct {
	PSI  float64  `json:"psi"`
	Bins []PSIBin `json:"bins"`
}

// PSI compares the score distribution of actual (e.g. recent applicants,
// or the challenger) with expected (e.g. the training sample, or the
// champion): Σ (a−e)·ln(a/e) over ten bins cut at the deciles of expected
// (linear interpolation, as numpy.quantile; duplicate cut points merged),
// with empty shares raised to PSIEpsilon. Below 0.1 is usually read as
// stable, above 0.25 as a shift.
//
// (data/ computes PSI per feature for data profiles; this one is only for
// score samples.)
func PSI(expected, actual []float64) (*PSIResult, error) {
	for _, in := range []struct {
		name string
		v    []float64
	}{{"expected", expected}, {"actual", actual}} {
		if len(in.v) == 0 {
			return nil, fmt.Errorf("psi: %w", &InputError{Field: in.name, Index: -1, Err: ErrEmpty})
		}
		if err := checkScores(in.name, in.v, false); err != nil {
			return nil, fmt.Errorf("psi: %w", err)
		}
	}
	var cuts []float64
	for _, c := range data.Quantiles(slices.Clone(expected), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) {
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	exp, act := shares(expected, cuts), shares(actual, cuts)
	r := &PSIResult{}
	for i := range exp {
		lo, hi := -math.MaxFloat64, math.MaxFloat64
		if i > 0 {
			lo = cuts[i-1]
		}
		if i < len(cuts) {
			hi = cuts[i]
		}
		e, a := max(exp[i], PSIEpsilon), max(act[i], PSIEpsilon)
		b := PSIBin{Lower: lo, Upper: hi, Expected: exp[i], Actual: act[i], PSI: (a - e) * math.Log(a/e)}
		r.PSI += b.PSI
		r.Bins = append(r.Bins, b)
	}
	return r, nil
}

// shares returns the share of v in each bin (−∞, c0], (c0, c1], …, (ck, +∞).
func shares(v, cuts []float64) []float64 {
	counts := make([]float64, len(cuts)+1)
	for _, x := range v {
		i, _ := slices.BinarySearch(cuts, x) // first cut ≥ x
		counts[i]++
	}
	for i := range counts {
		counts[i] /= float64(len(v))
	}
	return counts
}
