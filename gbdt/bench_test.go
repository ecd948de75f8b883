package gbdt

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"testing"
	"time"
)

var trainColWise = flag.Bool("train.colwise", false, "build histograms column-wise only (turns row-wise histograms off)")

var trainDump = flag.String("train.dump", "", "BenchmarkTrainSynthetic1M: also write the data set as little-endian float64 (28 feature columns, then labels) to this file for LightGBM")

// reportCPU adds the process's CPU time per operation (user and system, all
// threads) to a benchmark's results: on a shared machine a benchmark's wall
// time moves with the load, its CPU time much less. Call it with the
// result of cpuNow() taken before the loop.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

// benchBinned quantises a synthetic set for the histogram and split benchmarks.
func benchBinned(b *testing.B, n, nf int) (*binned, []gradPair) {
	d := synthetic(n, nf, 1)
	p := DefaultParams()
	bn := quantise(d, &p, 1, 1)
	gh := make([]gradPair, n)
	r := newRand(2)
	for i := range gh {
		gh[i] = gradPair{float32(r.float() - 0.5), float32(r.float() * 0.25)}
	}
	return bn, gh
}

// BenchmarkHistogram builds the histogram of one feature over 1M rows, all
// rows in order (a root) and half the rows through an index (a child).
func BenchmarkHistogram(b *testing.B) {
	const n = 1_000_000
	bn, gh := benchBinned(b, n, 1)
	hist := make([]histEntry, bn.offsets[1], bn.offsets[1]+histPad)
	b.Run("all", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			bn.buildFeature(hist, 0, nil, gh)
		}
	})
	rows := make([]int32, 0, n/2)
	for i := 0; i < n; i += 2 {
		rows = append(rows, int32(i))
	}
	b.Run("half", func(b *testing.B) {
		b.SetBytes(int64(len(rows)))
		for b.Loop() {
			bn.buildFeature(hist, 0, rows, gh[:len(rows)])
		}
	})
}

// BenchmarkSplitSearch searches one 255-bin numeric feature and one
// 40-category feature.
func BenchmarkSplitSearch(b *testing.B) {
	bn, gh := benchBinned(b, 100_000, 1)
	hist := make([]histEntry, bn.offsets[1], bn.offsets[1]+histPad)
	bn.buildFeature(hist, 0, nil, gh)
	var st leafStats
	for _, e := range hist {
		st.g += e.g
		st.h += e.h
	}
	st.n, st.min, st.max = 100_000, math.Inf(-1), math.Inf(1)
	p := DefaultParams()
	s := newGrower(&p, bn, nil, 1).s
	b.Run("numerical", func(b *testing.B) {
		for b.Loop() {
			best := noSplit()
			s.numerical(hist, bn.mappers[0], 0, &st, 0, &best)
		}
	})
	cat := &binMapper{categorical: true, numBin: 41, missing: MissingNaN}
	chist := make([]histEntry, 41)
	for i := range chist {
		chist[i] = hist[i*5]
	}
	var order []int
	b.Run("categorical", func(b *testing.B) {
		for b.Loop() {
			best := noSplit()
			s.categorical(chist, cat, 0, &st, &order, &best)
		}
	})
}

func benchTrain(b *testing.B, d *Dataset, p Params) {
	if *trainColWise {
		defer func(v bool) { rowWiseDefault = v }(rowWiseDefault)
		rowWiseDefault = false
	}
	b.ReportAllocs()
	defer reportCPU(b, cpuNow())
	for b.Loop() {
		if _, err := Train(context.Background(), p, d, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// benchParams are the comparison settings: 500 iterations, 63 leaves,
// learning rate 0.05, 2 threads.
func benchParams() Params {
	p := DefaultParams()
	p.NumIterations, p.NumLeaves, p.LearningRate, p.NumThreads = 500, 63, 0.05, 2
	return p
}

// BenchmarkTrainSynthetic trains end to end on 100,000 × 28 random rows.
func BenchmarkTrainSynthetic(b *testing.B) {
	d := synthetic(100_000, 28, 7)
	p := benchParams()
	p.NumIterations = 100
	benchTrain(b, d, p)
}

// BenchmarkTrainSynthetic1M is the 1,000,000 × 28 comparison with LightGBM.
func BenchmarkTrainSynthetic1M(b *testing.B) {
	d := synthetic(1_000_000, 28, 7)
	if *trainDump != "" {
		f, err := os.Create(*trainDump)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range append(d.Columns, d.Labels) {
			if err := binary.Write(f, binary.LittleEndian, c); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	benchTrain(b, d, benchParams())
}

// BenchmarkTrainTaiwan is the taiwan_default.csv comparison with LightGBM.
func BenchmarkTrainTaiwan(b *testing.B) {
	benchTrain(b, loadTaiwan(b).dataset(), benchParams())
}

// BenchmarkTrainSynthetic1MShort is BenchmarkTrainSynthetic1M with 50
// iterations, for quick comparisons.
func BenchmarkTrainSynthetic1MShort(b *testing.B) {
	d := synthetic(1_000_000, 28, 7)
	p := benchParams()
	p.NumIterations = 50
	benchTrain(b, d, p)
}

// BenchmarkTrainCurves1MShort trains as pipeline train does on the
// end-to-end benchmark's split, for 50 iterations: 600,000 training and
// 200,000 validation rows of 28 features, scored after every tree, with
// the learning curves recorded.
func BenchmarkTrainCurves1MShort(b *testing.B) {
	train, valid := splitRows(synthetic(800_000, 28, 7), 600_000)
	p := benchParams()
	p.NumIterations = 50
	defer reportCPU(b, cpuNow())
	for b.Loop() {
		if _, err := Train(context.Background(), p, train, valid, func(Iteration) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeafHistograms builds all 28 features' histograms of a leaf of
// 800,000 rows (255 bins each) as training does, on two goroutines: the
// root (every row in order) and leaves holding a random 10% and 1% of the
// rows (their ordered gradients gathered too). cpu-ns/op is the process's
// CPU time, steadier than ns/op on a loaded machine.
func BenchmarkLeafHistograms(b *testing.B) {
	const n = 800_000
	bn, gh := benchBinned(b, n, 28)
	p := DefaultParams()
	gr := newGrower(&p, bn, nil, 2)
	copy(gr.gh, gh)
	hist := make([]histEntry, bn.offsets[len(bn.mappers)]+histPad)
	r := newRand(5)
	for _, frac := range []float64{1, 0.1, 0.01} {
		var rows []int32
		if frac < 1 {
			for i := 0; i < n; i++ {
				if r.float() < frac {
					rows = append(rows, int32(i))
				}
			}
		}
		m := n
		if rows != nil {
			m = len(rows)
		}
		b.Run(fmt.Sprintf("%g", frac), func(b *testing.B) {
			b.SetBytes(int64(m * len(bn.rowFeat)))
			defer reportCPU(b, cpuNow())
			for b.Loop() {
				if rows == nil {
					gr.buildHists(hist, bn.rowFeat, nil, n, gr.gh)
				} else {
					gr.leafHists(hist, bn.rowFeat, rows)
				}
			}
		})
	}
}

// BenchmarkQuantise finds the bins of 28 features from a 200,000-row
// sample and bins 800,000 rows, on one goroutine.
func BenchmarkQuantise(b *testing.B) {
	d := synthetic(800_000, 28, 7)
	p := DefaultParams()
	defer reportCPU(b, cpuNow())
	for b.Loop() {
		quantise(d, &p, 1, 1)
	}
}

// BenchmarkPartition partitions the rows of a leaf holding a random half
// of 800,000 rows on a 255-bin feature's median, on one goroutine.
func BenchmarkPartition(b *testing.B) {
	const n = 800_000
	bn, _ := benchBinned(b, n, 1)
	p := DefaultParams()
	gr := newGrower(&p, bn, nil, 1)
	r := newRand(4)
	var rows []int32
	for i := 0; i < n; i++ {
		if r.float() < 0.5 {
			rows = append(rows, int32(i))
		}
	}
	sp := binSplit{feature: 0, threshold: bn.mappers[0].numBin / 2, nanBin: -1}
	for bin := range gr.goesLeft {
		gr.goesLeft[bin] = 0
		if bin < bn.mappers[0].numBin && sp.left(bin) {
			gr.goesLeft[bin] = 1
		}
	}
	seg := make([]int32, len(rows))
	b.SetBytes(int64(len(rows)))
	defer reportCPU(b, cpuNow())
	for b.Loop() {
		copy(seg, rows)
		gr.partition(seg, &sp)
	}
}
