package evaluate_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/evaluate"
)

// synthetic returns n rows of a model with AUC around 0.75 and about 22%
// bads (Taiwan-default-like), with scores rounded to 4 decimals so ties
// occur as they do with tree models.
func synthetic(n int, seed uint64) (labels, scores []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	labels, scores = make([]float64, n), make([]float64, n)
	for i := range n {
		risk := rng.NormFloat64()
		if rng.Float64() < 1/(1+math.Exp(-(-1.4+1.2*risk))) {
			labels[i] = 1
		}
		p := 1 / (1 + math.Exp(-(-1.4 + risk + 0.7*rng.NormFloat64())))
		scores[i] = math.Round(p*1e4) / 1e4
	}
	return labels, scores
}

func BenchmarkEvaluate100k(b *testing.B) {
	labels, scores := synthetic(100_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := evaluate.Evaluate(labels, scores, 0.5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeLong100k(b *testing.B) {
	labels, a := synthetic(100_000, 1)
	_, s := synthetic(100_000, 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := evaluate.DeLong(labels, a, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPSI100k(b *testing.B) {
	_, a := synthetic(100_000, 1)
	_, s := synthetic(100_000, 2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := evaluate.PSI(a, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePlots renders the standard charts of a Taiwan-sized test
// split (6,000 rows), what `pipeline train` pays after training.
func BenchmarkWritePlots(b *testing.B) {
	labels, scores := synthetic(6_000, 1)
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := evaluate.WritePlots(dir, labels, scores, 0.5); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummaryPlot renders the one-page summary of the same split.
func BenchmarkSummaryPlot(b *testing.B) {
	labels, scores := synthetic(6_000, 1)
	path := filepath.Join(b.TempDir(), evaluate.SummaryFile)
	s := evaluate.Summary{Title: "bench", Labels: labels, Scores: scores, Cutoff: 0.5,
		Facts: []evaluate.Fact{{Name: "model", Value: "gbdt"}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := evaluate.SummaryPlot(path, s); err != nil {
			b.Fatal(err)
		}
	}
}
