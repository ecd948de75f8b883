package gbdt

import (
	"math"
	"slices"
	"testing"
)

// codedSets are training and validation sets whose validation values the
// training never saw: beyond its range, infinite, past 1e300 (where grow
// writes an infinite bin bound as 1e300), NaN in a feature trained without
// NaN (missing type None), -0, and a categorical feature.
func codedSets() (train, valid *Dataset) {
	r := newRand(17)
	mk := func(n int, unseen bool) *Dataset {
		d := &Dataset{Columns: make([][]float64, 6), Labels: make([]float64, n), Categorical: []bool{false, false, false, false, false, true}}
		for f := range d.Columns {
			d.Columns[f] = make([]float64, n)
		}
		odd := []float64{math.Inf(1), math.Inf(-1), 1e301, -1e301, 1e300, math.NaN(), 7, -7, math.Copysign(0, -1)}
		for i := range n {
			a, b := r.float()*2-1, r.float()*2-1
			c := float64(int(r.float() * 4))
			if c == 3 {
				c = math.Inf(1) // a bin bounded by +Inf
			}
			if r.float() < 0.1 {
				a = math.NaN() // missing type NaN
			}
			e := math.Copysign(0, float64(i%2*2-1)) // -0 and 0
			if i%3 == 0 {
				e = r.float()
			}
			cat := float64(int(r.float() * 6))
			if unseen && i%4 == 0 {
				b, c, e = odd[i%len(odd)], odd[(i/4)%len(odd)], odd[(i/8)%len(odd)]
				if i%8 == 0 {
					cat = 99 // a category training never saw
				}
			}
			d.Columns[0][i], d.Columns[1][i], d.Columns[2][i] = a, b, c
			d.Columns[3][i], d.Columns[4][i], d.Columns[5][i] = r.float(), e, cat
			s := 2*b - a + 0.5*min(c, 3) + math.Sin(6*d.Columns[3][i]) + float64(int(cat)%3) - 1
			if math.IsNaN(s) || r.float() < 1/(1+math.Exp(-s)) {
				d.Labels[i] = 1
			}
		}
		return d
	}
	return mk(6000, false), mk(3000, true)
}

// TestCodedTrees: every tree that codes can score sends each validation
// row to the leaf Flat sends it to; the trees with categorical splits are
// left to Flat.
func TestCodedTrees(t *testing.T) {
	train, valid := codedSets()
	p := DefaultParams()
	p.NumIterations, p.NumLeaves, p.MinDataInLeaf = 60, 15, 5
	m := trainOrFatal(t, p, train, valid, nil)
	_, _, dataSeed := p.seeds()
	c := newCoded(valid.Columns, quantise(train, &p, dataSeed, 1), 2)
	rows := rowMajor(valid.Columns, len(valid.Labels))
	want, got := make([]float64, len(rows)), make([]float64, len(rows))
	var scored, left, capped int
	for i, tree := range m.Trees {
		f := (&Model{FeatureNames: m.FeatureNames, FeatureInfos: m.FeatureInfos, Trees: []Tree{tree}}).Flatten()
		ct, ok := c.tree(f)
		if !ok {
			left++
			continue
		}
		scored++
		// A threshold between cuts leaves the tree to Flat.
		off := tree
		off.Threshold = slices.Clone(tree.Threshold)
		off.Threshold[0] = math.Nextafter(off.Threshold[0], math.Inf(-1))
		if _, ok := c.tree((&Model{FeatureNames: m.FeatureNames, FeatureInfos: m.FeatureInfos, Trees: []Tree{off}}).Flatten()); ok {
			t.Fatalf("tree %d with its first threshold off the cuts is scored on codes", i)
		}
		for _, thr := range tree.Threshold {
			if math.Abs(thr) == 1e300 {
				capped++
			}
		}
		f.PredictRaw(rows, want)
		clear(got)
		ct.add(c, 0, len(rows), got)
		for r := range rows {
			if math.Float64bits(got[r]) != math.Float64bits(want[r]) {
				t.Fatalf("tree %d, row %d %v: coded %v, Flat %v", i, r, rows[r], got[r], want[r])
			}
		}
	}
	if scored == 0 || left == 0 || capped == 0 {
		t.Fatalf("%d trees scored on codes (%d splits at ±1e300), %d left to Flat: the set should take every way", scored, capped, left)
	}
	t.Logf("%d trees scored on codes (%d splits at ±1e300), %d left to Flat", scored, capped, left)
}

// TestCodedCuts: a value's code counts the cuts below it, and a split at
// cut k sends it right exactly when its code is above k.
func TestCodedCuts(t *testing.T) {
	cuts := []float64{-1e300, -2, 0, 0.5, 0.5, 3, 1e300}
	keys := []uint64{floatKey(math.Inf(1))}
	for i := len(cuts) - 1; i >= 0; i-- {
		keys = append([]uint64{floatKey(cuts[i])}, keys...)
	}
	values := []float64{math.Inf(-1), -1e301, -1e300, -3, -2, -1, math.Copysign(0, -1), 0, 1e-300, 0.5, 0.75, 3, 4, 1e300, 1e301, math.Inf(1)}
	r := newRand(3)
	for range 1000 {
		values = append(values, (r.float()*2-1)*4)
	}
	for _, v := range values {
		code, below := int(codeOf(keys, v)), 0
		for k, cut := range cuts {
			if cut < v {
				below++
			}
			if right := code > k; right != (v > cut) {
				t.Errorf("value %v (code %d) at cut %d (%v): coded right %v, raw right %v", v, code, k, cut, right, v > cut)
			}
		}
		if code != below {
			t.Errorf("value %v: code %d, %d cuts below it", v, code, below)
		}
	}
}

// BenchmarkScoreTree scores 200,000 validation rows of 28 features with
// one tree of 63 leaves, as boosting does after each tree on the 1M x 28
// end-to-end benchmark: on codes, and through Flat on the raw rows.
func BenchmarkScoreTree(b *testing.B) {
	train, valid := splitRows(synthetic(250_000, 28, 5), 50_000)
	p := DefaultParams()
	p.NumIterations, p.NumLeaves, p.NumThreads = 1, 63, 1
	m := trainOrFatal(b, p, train, nil, nil)
	f := m.Flatten()
	_, _, dataSeed := p.seeds()
	c := newCoded(valid.Columns, quantise(train, &p, dataSeed, 1), 1)
	ct, ok := c.tree(f)
	if !ok {
		b.Fatal("the tree cannot be scored on codes")
	}
	rows := rowMajor(valid.Columns, len(valid.Labels))
	sums, out := make([]float64, len(rows)), make([]float64, len(rows))
	b.Run("codes", func(b *testing.B) {
		for b.Loop() {
			ct.add(c, 0, len(rows), sums)
		}
	})
	b.Run("flat", func(b *testing.B) {
		for b.Loop() {
			f.PredictRaw(rows, out)
			for r, v := range out {
				sums[r] += v
			}
		}
	})
}
