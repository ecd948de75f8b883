package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// numericModel builds a valid model of random trees of numerical splits
// with missing type NaN (either default) or None, the splits Flat decides
// inline, with thresholds
// drawn from the same few values as the rows, so that rows land exactly on
// thresholds, on both zeros and on NaN.
func numericModel(r *rand.Rand, trees, nfeat int, values []float64) *Model {
	m := &Model{}
	for f := range nfeat {
		m.FeatureNames = append(m.FeatureNames, "f"+string(rune('a'+f)))
		m.FeatureInfos = append(m.FeatureInfos, "none")
	}
	for range trees {
		leaves := 1 + r.IntN(12)
		t := Tree{NumLeaves: leaves, Shrinkage: 1}
		// Grow by splitting a random leaf, as training does: leaf l
		// becomes node n with children leaf l and leaf n+1.
		parentOf := []int{-1} // leaf -> (node, side) encoded 2*node+side, -1 for the root
		for n := 0; n < leaves-1; n++ {
			l := r.IntN(n + 1)
			dt := int8(0)
			switch r.IntN(3) {
			case 0:
				dt = MissingNaN << missingTypeShift
			case 1:
				dt = MissingNaN<<missingTypeShift | defaultLeft
			}
			t.SplitFeature = append(t.SplitFeature, r.IntN(nfeat))
			t.Threshold = append(t.Threshold, values[r.IntN(len(values))])
			t.DecisionType = append(t.DecisionType, dt)
			t.LeftChild = append(t.LeftChild, ^l)
			t.RightChild = append(t.RightChild, ^(n + 1))
			t.SplitGain = append(t.SplitGain, 1)
			t.InternalValue = append(t.InternalValue, 0)
			t.InternalWeight = append(t.InternalWeight, 1)
			t.InternalCount = append(t.InternalCount, 2)
			if p := parentOf[l]; p >= 0 {
				if p%2 == 0 {
					t.LeftChild[p/2] = n
				} else {
					t.RightChild[p/2] = n
				}
			}
			parentOf[l] = 2 * n
			parentOf = append(parentOf, 2*n+1)
		}
		for range leaves {
			t.LeafValue = append(t.LeafValue, r.NormFloat64())
			t.LeafWeight = append(t.LeafWeight, 1)
			t.LeafCount = append(t.LeafCount, 1)
		}
		m.Trees = append(m.Trees, t)
	}
	return m
}

func TestFlatMatchesPredict(t *testing.T) {
	values := []float64{-2.5, -1, -1e-300, math.Copysign(0, -1), 0, 1e-300, 0.5, 1, 3.75, 1e300}
	draws := append(append([]float64{}, values...), math.NaN(), math.Inf(1), math.Inf(-1))
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		nfeat := 1 + r.IntN(6)
		m := numericModel(r, 1+r.IntN(30), nfeat, values)
		if err := m.Validate(); err != nil {
			t.Fatalf("seed %d: the test built an invalid model: %v", seed, err)
		}
		// Every fourth model has an infinite threshold, which the general
		// rule decides.
		infinite := seed%4 == 3 && m.Trees[0].NumLeaves > 1
		if infinite {
			m.Trees[0].Threshold[0] = math.Inf(int(seed%8) - 5)
		}
		f := m.Flatten()
		if f == nil || (len(f.general) > 0) != infinite {
			t.Fatalf("seed %d: flattened %v", seed, f != nil)
		}
		rows := make([][]float64, 1+r.IntN(300)) // more than one block
		for i := range rows {
			rows[i] = make([]float64, nfeat)
			for j := range rows[i] {
				rows[i][j] = draws[r.IntN(len(draws))]
			}
		}
		got := make([]float64, len(rows))
		f.Predict(rows, got)
		raw := make([]float64, len(rows))
		f.PredictRaw(rows, raw)
		for i, row := range rows {
			if want := m.Predict(row); math.Float64bits(got[i]) != math.Float64bits(want) {
				t.Fatalf("seed %d, row %d %v: Flat %v, Model.Predict %v", seed, i, row, got[i], want)
			}
			if want := m.PredictRaw(row); math.Float64bits(raw[i]) != math.Float64bits(want) {
				t.Fatalf("seed %d, row %d %v: Flat raw %v, Model.PredictRaw %v", seed, i, row, raw[i], want)
			}
		}
	}
}

// TestFlatGeneralSplits: categorical and zero-as-missing splits, and every
// missing rule, decided as the reference decides them.
func TestFlatGeneralSplits(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 11))
		nf := 1 + r.IntN(5)
		m := randomModel(r, nf, 1+r.IntN(20), 16)
		f := m.Flatten()
		if f == nil {
			t.Fatalf("seed %d: did not flatten", seed)
		}
		rows := make([][]float64, 200)
		for i := range rows {
			rows[i] = randomRow(r, nf)
		}
		got := make([]float64, len(rows))
		f.Predict(rows, got)
		for i, row := range rows {
			if want := m.Predict(row); math.Float64bits(got[i]) != math.Float64bits(want) {
				t.Fatalf("seed %d, row %d %v: Flat %v, Model.Predict %v", seed, i, row, got[i], want)
			}
		}
	}
}

func BenchmarkFlatPredict(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	values := make([]float64, 64)
	for i := range values {
		values[i] = r.NormFloat64()
	}
	m := numericModel(r, 300, 28, values)
	f := m.Flatten()
	rows := make([][]float64, 10_000)
	for i := range rows {
		rows[i] = make([]float64, 28)
		for j := range rows[i] {
			rows[i][j] = r.NormFloat64()
		}
	}
	out := make([]float64, len(rows))
	b.Run("flat", func(b *testing.B) {
		for b.Loop() {
			f.Predict(rows, out)
		}
	})
	b.Run("model", func(b *testing.B) {
		for b.Loop() {
			for i, row := range rows {
				out[i] = m.Predict(row)
			}
		}
	})
}
