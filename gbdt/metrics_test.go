package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// logLoss is meanLoss on one goroutine, from the scores alone.
func logLoss(score, labels []float64) float64 {
	return meanLoss(score, nil, labels, 1)
}

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
			want := aucPairs(score, labels)
			if got := auc(score, labels); math.Abs(got-want) > 1e-12 {
				t.Errorf("auc = %v, want %v", got, want)
			}
			if got := aucBySort(score, labels); math.Abs(got-want) > 1e-12 {
				t.Errorf("aucBySort = %v, want %v", got, want)
			}
		})
	}
	// Many scores alike in their first 33 bits, some tied in full: the
	// radix sort leaves them to the full keys.
	t.Run("alike prefixes", func(t *testing.T) {
		n := 200_000
		score, labels := make([]float64, n), make([]float64, n)
		for i := range score {
			score[i] = math.Ldexp(1+float64(r.IntN(64))/(1<<40), r.IntN(3)) * float64(1-2*r.IntN(2))
			if r.Float64() < 0.3 {
				labels[i] = 1
			}
		}
		var s ranker
		for range 2 { // and again in the same scratch
			if got, want := s.auc(score, labels), aucBySort(score, labels); got != want {
				t.Fatalf("auc = %v, want %v", got, want)
			}
		}
	})
	if !math.IsNaN(auc([]float64{1, 2}, []float64{1, 1})) {
		t.Error("auc of one class is not NaN")
	}
}

// curveInputs are the scores and labels of a learning curve's iteration
// on Taiwan's training split: 18,000 rows, 22% positive.
func curveInputs() (score, labels []float64) {
	r := rand.New(rand.NewPCG(1, 2))
	score, labels = make([]float64, 18000), make([]float64, 18000)
	for i := range score {
		score[i] = r.NormFloat64()
		if r.Float64() < 0.22 {
			labels[i] = 1
		}
	}
	return score, labels
}

func BenchmarkAUC(b *testing.B) {
	score, labels := curveInputs()
	var s ranker
	for b.Loop() {
		s.auc(score, labels)
	}
}

// BenchmarkAUC600k is BenchmarkAUC on the training split of the 1M x 28
// end-to-end benchmark: 600,000 scores, past what the caches hold.
func BenchmarkAUC600k(b *testing.B) {
	benchAUC(b, func(r *rand.Rand) float64 { return r.NormFloat64() })
}

// BenchmarkAUC600kFewScores is BenchmarkAUC600k as in the first
// iterations, when the scores take a few hundred values, each tied across
// thousands of rows.
func BenchmarkAUC600kFewScores(b *testing.B) {
	benchAUC(b, func(r *rand.Rand) float64 { return float64(r.IntN(300)) / 7 })
}

func benchAUC(b *testing.B, score func(*rand.Rand) float64) {
	r := rand.New(rand.NewPCG(1, 2))
	scores, labels := make([]float64, 600_000), make([]float64, 600_000)
	for i := range scores {
		scores[i] = score(r)
		if r.Float64() < 0.3 {
			labels[i] = 1
		}
	}
	var s ranker
	for b.Loop() {
		s.auc(scores, labels)
	}
}

func TestLogLoss(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	// perRow is the definition, a logarithm a row; oneMinus takes a
	// negative's probability as 1-p, as LightGBM does, which rounds away
	// most digits of a confident score's loss.
	// The sum is compensated (Neumaier's): a plain one drifts by more
	// than the tolerance over ten thousand rows.
	perRow := func(score, labels []float64, oneMinus bool) float64 {
		var s, c float64
		for i, x := range score {
			p := 1 / (1 + math.Exp(-x))
			switch {
			case labels[i] > 0:
			case oneMinus:
				p = 1 - p
			default:
				p = 1 / (1 + math.Exp(x))
			}
			v := -math.Log(max(p, 1e-15))
			t := s + v
			if math.Abs(s) >= math.Abs(v) {
				c += (s - t) + v
			} else {
				c += (v - t) + s
			}
			s = t
		}
		return (s + c) / float64(len(score))
	}
	tests := []struct {
		name     string
		gen      func() float64
		oneMinus bool // the scores are moderate enough for LightGBM's 1-p
	}{
		{"moderate", func() float64 { return r.NormFloat64() * 2 }, true},
		{"confident", func() float64 { return r.NormFloat64() * 40 }, false},
		{"clipped", func() float64 { return []float64{-1e3, 1e3, math.Inf(1), math.Inf(-1)}[r.IntN(4)] }, true},
		{"zero", func() float64 { return 0 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{1, 15, 16, 17, 1000, lossChunk + 1, 20*lossChunk - 5} {
				score, labels, exps := make([]float64, n), make([]float64, n), make([]float64, n)
				for i := range score {
					score[i] = tt.gen()
					if r.Float64() < 0.3 {
						labels[i] = 1
					}
					exps[i] = math.Exp(-score[i]) // as the gradient pass takes it
				}
				got := logLoss(score, labels)
				// The same to the bit from the gradient pass's
				// exponentials, and on any number of threads.
				for _, threads := range []int{1, 2, 3} {
					if l := meanLoss(score, exps, labels, threads); l != got {
						t.Errorf("%d rows: from exponentials on %d threads %v, from scores %v", n, threads, l, got)
					}
					if l := meanLoss(score, nil, labels, threads); l != got {
						t.Errorf("%d rows: on %d threads %v, on one %v", n, threads, l, got)
					}
				}
				if want := perRow(score, labels, false); math.Abs(got-want) > 1e-13*max(1, want) {
					t.Errorf("%d rows: logLoss = %v, want %v", n, got, want)
				}
				if want := perRow(score, labels, true); tt.oneMinus && math.Abs(got-want) > 1e-13*max(1, want) {
					t.Errorf("%d rows: logLoss = %v, LightGBM's %v", n, got, want)
				}
			}
		})
	}
}

func BenchmarkLogLoss(b *testing.B) {
	score, labels := curveInputs()
	for b.Loop() {
		logLoss(score, labels)
	}
}

// BenchmarkLogLossExps is BenchmarkLogLoss given the exponentials, as the
// learning curves get them from the gradient pass.
func BenchmarkLogLossExps(b *testing.B) {
	score, labels := curveInputs()
	exps := make([]float64, len(score))
	for i, x := range score {
		exps[i] = math.Exp(-x)
	}
	for b.Loop() {
		meanLoss(score, exps, labels, 1)
	}
}
