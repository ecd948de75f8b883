package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestQuantiles: the quantiles, and the order statistics selectOrder
// places, are a sort's, on columns with and without repeated values and
// on orders that defeat a median-of-three pivot.
func TestQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cols := map[string]func(i, n int) float64{
		"continuous": func(int, int) float64 { return r.NormFloat64() },
		"few values": func(int, int) float64 { return float64(r.IntN(5)) },
		"one value":  func(int, int) float64 { return 3 },
		"sorted":     func(i, _ int) float64 { return float64(i) },
		"reversed":   func(i, n int) float64 { return float64(n - i) },
		"organ pipe": func(i, n int) float64 { return float64(min(i, n-i)) },
		"zeros":      func(i, _ int) float64 { return []float64{0, math.Copysign(0, -1), 1}[i%3] },
		"huge":       func(i, _ int) float64 { return []float64{-math.MaxFloat64, math.MaxFloat64, 1}[i%3] },
	}
	qs := []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 1}
	for name, gen := range cols {
		for _, n := range []int{1, 2, 33, 1000, 100_001} {
			v := make([]float64, n)
			for i := range v {
				v[i] = gen(i, n)
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			got := Quantiles(v, qs...)
			for i, q := range qs {
				if want := quantile(sorted, q); got[i] != want {
					t.Fatalf("%s, %d values: quantile %v = %v, a sort gives %v", name, n, q, got[i], want)
				}
			}
			ks := []int{0, n / 3, n / 2, n - 1}
			selectOrder(v, slices.Compact(ks))
			for _, k := range ks {
				if v[k] != sorted[k] {
					t.Fatalf("%s, %d values: v[%d] = %v, a sort gives %v", name, n, k, v[k], sorted[k])
				}
			}
		}
	}
	if Quantiles(nil, 0.5) != nil {
		t.Error("quantiles of nothing are not nil")
	}
}
