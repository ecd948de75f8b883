package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}

// randomTree grows a random tree over nf features by splitting random
// leaves, with consistent row counts, repeated features along paths,
// categorical splits and every missing-value rule.
func randomTree(r *rand.Rand, nf, leaves int) Tree {
	t := Tree{NumLeaves: 1, LeafValue: []float64{r.NormFloat64()}, LeafCount: []int{1000 + r.IntN(1000)}, LeafWeight: []float64{1}, Shrinkage: 1}
	parent := []int{-1} // parent node of each leaf; the root leaf has none
	for t.NumLeaves < leaves {
		leaf := r.IntN(t.NumLeaves)
		cnt := t.LeafCount[leaf]
		if cnt < 2 {
			continue
		}
		node := t.NumLeaves - 1
		f := r.IntN(nf)
		var dt int8
		thr := math.Round(r.NormFloat64()*100) / 100
		if r.IntN(4) == 0 {
			dt = catMask
			thr = float64(t.NumCat)
			if len(t.CatBoundaries) == 0 {
				t.CatBoundaries = []int{0}
			}
			t.CatThreshold = append(t.CatThreshold, r.Uint32(), r.Uint32())
			t.CatBoundaries = append(t.CatBoundaries, len(t.CatThreshold))
			t.NumCat++
		} else {
			dt = int8(r.IntN(3)<<missingTypeShift) | int8(r.IntN(2)*defaultLeft)
		}
		left := 1 + r.IntN(cnt-1)
		t.SplitFeature = append(t.SplitFeature, f)
		t.SplitGain = append(t.SplitGain, r.Float64())
		t.Threshold = append(t.Threshold, thr)
		t.DecisionType = append(t.DecisionType, dt)
		t.InternalValue = append(t.InternalValue, t.LeafValue[leaf])
		t.InternalWeight = append(t.InternalWeight, float64(cnt))
		t.InternalCount = append(t.InternalCount, cnt)
		// The split leaf keeps its index as the left child; the new leaf
		// is the right one.
		t.LeftChild = append(t.LeftChild, ^leaf)
		t.RightChild = append(t.RightChild, ^t.NumLeaves)
		if p := parent[leaf]; p >= 0 {
			if t.LeftChild[p] == ^leaf {
				t.LeftChild[p] = node
			} else {
				t.RightChild[p] = node
			}
		}
		parent[leaf] = node
		parent = append(parent, node)
		t.LeafCount[leaf] = left
		t.LeafCount = append(t.LeafCount, cnt-left)
		t.LeafValue[leaf] = r.NormFloat64()
		t.LeafValue = append(t.LeafValue, r.NormFloat64())
		t.LeafWeight = append(t.LeafWeight, 1)
		t.NumLeaves++
	}
	return t
}

func randomModel(r *rand.Rand, nf, trees, leaves int) *Model {
	m := &Model{}
	for f := 0; f < nf; f++ {
		m.FeatureNames = append(m.FeatureNames, "f"+itoa(f))
		m.FeatureInfos = append(m.FeatureInfos, "none")
	}
	for i := 0; i < trees; i++ {
		m.Trees = append(m.Trees, randomTree(r, nf, 1+r.IntN(leaves)))
	}
	return m
}

func randomRow(r *rand.Rand, nf int) []float64 {
	row := make([]float64, nf)
	for i := range row {
		switch r.IntN(6) {
		case 0:
			row[i] = math.NaN()
		case 1:
			row[i] = 0
		case 2:
			row[i] = float64(r.IntN(70)) // category codes, both bitset words
		default:
			row[i] = math.Round(r.NormFloat64()*100) / 100 // may equal a threshold
		}
	}
	return row
}

// condExpect is the path-dependent expectation of the tree's output when
// only the features in set are known: a split on a known feature follows
// the row, any other split averages its children by row count.
func (t *Tree) condExpect(row []float64, set uint, node int) float64 {
	if node < 0 {
		return t.LeafValue[^node]
	}
	f := t.SplitFeature[node]
	if set&(1<<f) != 0 {
		if t.goLeft(node, row[f]) {
			return t.condExpect(row, set, t.LeftChild[node])
		}
		return t.condExpect(row, set, t.RightChild[node])
	}
	l, r := t.LeftChild[node], t.RightChild[node]
	return (t.cover(l)*t.condExpect(row, set, l) + t.cover(r)*t.condExpect(row, set, r)) / t.cover(node)
}

// bruteShapley computes Shapley values from their definition, summing over
// all feature subsets.
func bruteShapley(m *Model, row []float64) []float64 {
	nf := len(m.FeatureNames)
	value := func(set uint) float64 {
		var s float64
		for i := range m.Trees {
			t := &m.Trees[i]
			if t.NumLeaves == 1 {
				s += t.LeafValue[0]
			} else {
				s += t.condExpect(row, set, 0)
			}
		}
		return s
	}
	fact := func(n int) float64 {
		f := 1.0
		for i := 2; i <= n; i++ {
			f *= float64(i)
		}
		return f
	}
	phi := make([]float64, nf+1)
	for f := 0; f < nf; f++ {
		for set := uint(0); set < 1<<nf; set++ {
			if set&(1<<f) != 0 {
				continue
			}
			k := 0
			for s := set; s != 0; s &= s - 1 {
				k++
			}
			w := fact(k) * fact(nf-k-1) / fact(nf)
			phi[f] += w * (value(set|1<<f) - value(set))
		}
	}
	phi[nf] = value(0)
	return phi
}

func TestContributionsMatchDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		nf := 1 + r.IntN(5)
		m := randomModel(r, nf, 1+r.IntN(3), 12)
		if err := m.Validate(); err != nil {
			t.Fatalf("random model is invalid: %v", err)
		}
		row := randomRow(r, nf)
		got := m.Contributions(row)
		want := bruteShapley(m, row)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9 {
				t.Fatalf("trial %d, row %v: contribution %d = %v, definition gives %v\n got %v\nwant %v", trial, row, i, got[i], want[i], got, want)
			}
		}
		if raw := m.PredictRaw(row); math.Abs(sum(got)-raw) > 1e-9 {
			t.Fatalf("trial %d: contributions sum to %v, PredictRaw is %v", trial, sum(got), raw)
		}
	}
}

func TestContributionsSumToRaw(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := randomModel(r, 20, 200, 63)
	for i := 0; i < 200; i++ {
		row := randomRow(r, 20)
		c := m.Contributions(row)
		if len(c) != 21 {
			t.Fatalf("len = %d, want features+1 = 21", len(c))
		}
		if raw := m.PredictRaw(row); math.Abs(sum(c)-raw) > 1e-9 {
			t.Fatalf("row %d: contributions sum to %v, PredictRaw is %v (diff %g)", i, sum(c), raw, sum(c)-raw)
		}
	}
}

// TestContributionsLightGBM compares with the pred_contrib values that
// LightGBM 4.x computed for the committed model (make_fixtures.py).
func TestContributionsLightGBM(t *testing.T) {
	m := readFile(t, "testdata/lgb_catnan.txt")
	rows, fx := loadFixture(t, "lgb_catnan.json")
	for i, row := range rows {
		got := m.Contributions(row)
		for j, want := range fx.Contrib[i] {
			if math.Abs(got[j]-want) > 1e-9 {
				t.Errorf("row %d %v: contribution %d = %v, LightGBM %v", i, row, j, got[j], want)
			}
		}
		if math.Abs(sum(got)-m.PredictRaw(row)) > 1e-9 {
			t.Errorf("row %d: sum %v != raw %v", i, sum(got), m.PredictRaw(row))
		}
	}
}

func TestContributionsStump(t *testing.T) {
	m := readFile(t, "testdata/lgb_stump.txt")
	c := m.Contributions(make([]float64, len(m.FeatureNames)))
	for i, v := range c[:len(c)-1] {
		if v != 0 {
			t.Errorf("feature %d contributes %v in a model of single leaves", i, v)
		}
	}
	if raw := m.PredictRaw(make([]float64, len(m.FeatureNames))); c[len(c)-1] != raw {
		t.Errorf("expected value %v, want the raw score %v", c[len(c)-1], raw)
	}
}

func BenchmarkContributions(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	m := randomModel(r, 28, 500, 63)
	row := randomRow(r, 28)
	b.ResetTimer()
	for b.Loop() {
		m.Contributions(row)
	}
}
