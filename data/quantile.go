package data

import (
	"math"
	"math/bits"
	"slices"
)

// Quantiles returns the quantiles qs (each in [0, 1]) of values, which
// hold no NaN, interpolating linearly between order statistics (numpy's
// default); nil when values is empty. It reorders values: it places the
// order statistics it needs as a sort would, and sorts nothing else. A
// sort of every column was most of what profiling a million-row table
// cost.
func Quantiles(values []float64, qs ...float64) []float64 {
	n := len(values)
	if n == 0 {
		return nil
	}
	ks := make([]int, 0, 2*len(qs))
	for _, q := range qs {
		i, _ := position(n, q)
		ks = append(ks, i, min(i+1, n-1))
	}
	slices.Sort(ks)
	selectOrder(values, slices.Compact(ks))
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = quantile(values, q)
	}
	return out
}

// quantile interpolates linearly between the order statistics of sorted,
// or of a slice that holds the two it reads where a sort would put them.
func quantile(sorted []float64, q float64) float64 {
	i, f := position(len(sorted), q)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	a, b := sorted[i], sorted[i+1]
	if f == 0 || a == b {
		return a
	}
	if d := b - a; !math.IsInf(d, 0) {
		return a + f*d
	}
	return (1-f)*a + f*b // b−a overflows
}

// position is where quantile q falls among n sorted values: f of the way
// from order statistic i to i+1.
func position(n int, q float64) (i int, f float64) {
	pos := q * float64(n-1)
	i = int(pos)
	return i, pos - float64(i)
}

// selectOrder rearranges v, which holds no NaN, so that v[k] is what a
// sort would put there for each k of ks (ascending, within v): quickselect
// with three-way partitions (columns repeat values a lot), and a sort for
// a range that keeps partitioning badly.
func selectOrder(v []float64, ks []int) {
	base := 0 // where v starts in the caller's slice, which ks index
	for budget := 2 * bits.Len(uint(len(v))); len(ks) > 0; budget-- {
		if len(v) <= 32 || budget == 0 {
			slices.Sort(v)
			return
		}
		p := median3(v[0], v[len(v)/2], v[len(v)-1])
		// Then v[:lt] < p, v[lt:gt] == p, v[gt:] > p.
		lt, i, gt := 0, 0, len(v)
		for i < gt {
			switch x := v[i]; {
			case x < p:
				v[lt], v[i] = x, v[lt]
				lt, i = lt+1, i+1
			case x > p:
				gt--
				v[gt], v[i] = x, v[gt]
			default:
				i++
			}
		}
		left := 0
		for left < len(ks) && ks[left]-base < lt {
			left++
		}
		right := left
		for right < len(ks) && ks[right]-base < gt {
			right++
		}
		lows := make([]int, left)
		for j, k := range ks[:left] {
			lows[j] = k - base
		}
		selectOrder(v[:lt], lows)
		v, ks, base = v[gt:], ks[right:], base+gt
	}
}

func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	return max(a, min(b, c))
}
