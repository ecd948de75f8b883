package evaluate

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAscending checks the radix sort against a stable comparison sort by
// cmp.Compare, the order it replaced: ties (both zeros alike, NaNs) in row
// order, across sizes and spreads of scores.
func TestAscending(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() float64{
		"probabilities": func() float64 { return r.Float64() },
		"ties":          func() float64 { return float64(r.IntN(5)) / 4 },
		"specials": func() float64 {
			return []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), -1, 1}[r.IntN(7)]
		},
		"wide": func() float64 { return r.NormFloat64() * 1e300 },
		"tiny": func() float64 { return math.Ldexp(r.NormFloat64(), -1070) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 2, 17, 1000} {
			s := make([]float64, n)
			for i := range s {
				s[i] = gen()
			}
			want := make([]int, n)
			for i := range want {
				want[i] = i
			}
			slices.SortStableFunc(want, func(a, b int) int { return cmp.Compare(s[a], s[b]) })
			if got := ascending(s); !slices.Equal(got, want) {
				t.Errorf("%s, %d scores: got %v, want %v", name, n, got, want)
			}
		}
	}
}
