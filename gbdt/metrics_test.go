package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// aucPairs is the definition: the share of (positive, negative) pairs the
// scores order correctly, ties counting half.
func aucPairs(score, labels []float64) float64 {
	var good, pairs float64
	for i := range score {
		for j := range score {
			if labels[i] > 0 && labels[j] == 0 {
				pairs++
				switch {
				case score[i] > score[j]:
					good++
				case score[i] == score[j]:
					good += 0.5
				}
			}
		}
	}
	return good / pairs
}

func TestAUC(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tests := map[string]func(i int) float64{
		"continuous":    func(int) float64 { return r.NormFloat64() * 1e3 },
		"ties":          func(int) float64 { return float64(r.IntN(7)) - 3 },
		"signed zeros":  func(i int) float64 { return []float64{0, math.Copysign(0, -1), -1e-300, 1e-300}[i%4] },
		"huge and tiny": func(i int) float64 { return math.Ldexp(r.Float64()-0.5, r.IntN(2000)-1000) },
		"one value":     func(int) float64 { return 0.25 },
		"infinities":    func(i int) float64 { return []float64{math.Inf(-1), math.Inf(1), 0, -2}[i%4] },
	}
	for name, gen := range tests {
		t.Run(name, func(t *testing.T) {
			n := 300
			score, labels := make([]float64, n), make([]float64, n)
			for i := range score {
				score[i] = gen(i)
				if r.Float64() < 0.3 {
					labels[i] = 1
				}
			}
			if got, want := auc(score, labels), aucPairs(score, labels); math.Abs(got-want) > 1e-12 {
				t.Errorf("auc = %v, want %v", got, want)
			}
		})
	}
	if !math.IsNaN(auc([]float64{1, 2}, []float64{1, 1})) {
		t.Error("auc of one class is not NaN")
	}
}

func BenchmarkAUC(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	score, labels := make([]float64, 18000), make([]float64, 18000)
	for i := range score {
		score[i] = r.NormFloat64()
		if r.Float64() < 0.22 {
			labels[i] = 1
		}
	}
	for b.Loop() {
		auc(score, labels)
	}
}
