package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

func TestParamsSet(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		check      func(p Params) bool
		err        string // substring of the error; "" for success
	}{
		{"num_iterations", "7", func(p Params) bool { return p.NumIterations == 7 }, ""},
		{"num_boost_round", "8", func(p Params) bool { return p.NumIterations == 8 }, ""},
		{"n_estimators", "9", func(p Params) bool { return p.NumIterations == 9 }, ""},
		{"eta", "0.3", func(p Params) bool { return p.LearningRate == 0.3 }, ""},
		{"num_leaves", "63", func(p Params) bool { return p.NumLeaves == 63 }, ""},
		{"max_depth", "5", func(p Params) bool { return p.MaxDepth == 5 }, ""},
		{"min_child_samples", "5", func(p Params) bool { return p.MinDataInLeaf == 5 }, ""},
		{"min_child_weight", "0.5", func(p Params) bool { return p.MinSumHessianInLeaf == 0.5 }, ""},
		{"reg_alpha", "1", func(p Params) bool { return p.LambdaL1 == 1 }, ""},
		{"reg_lambda", "2", func(p Params) bool { return p.LambdaL2 == 2 }, ""},
		{"min_split_gain", "0.1", func(p Params) bool { return p.MinGainToSplit == 0.1 }, ""},
		{"colsample_bytree", "0.5", func(p Params) bool { return p.FeatureFraction == 0.5 }, ""},
		{"subsample", "0.8", func(p Params) bool { return p.BaggingFraction == 0.8 }, ""},
		{"subsample_freq", "1", func(p Params) bool { return p.BaggingFreq == 1 }, ""},
		{"max_bin", "63", func(p Params) bool { return p.MaxBin == 63 }, ""},
		{"early_stopping_rounds", "10", func(p Params) bool { return p.EarlyStoppingRound == 10 }, ""},
		{"random_state", "42", func(p Params) bool { return p.Seed == 42 && p.SeedSet }, ""},
		{"max_cat_to_onehot", "8", func(p Params) bool { return p.MaxCatToOnehot == 8 }, ""},
		{"max_cat_threshold", "16", func(p Params) bool { return p.MaxCatThreshold == 16 }, ""},
		{"cat_smooth", "5", func(p Params) bool { return p.CatSmooth == 5 }, ""},
		{"cat_l2", "1", func(p Params) bool { return p.CatL2 == 1 }, ""},
		{"min_data_per_group", "50", func(p Params) bool { return p.MinDataPerGroup == 50 }, ""},
		{"monotone_constraints", "1,0,-1", func(p Params) bool { return reflect.DeepEqual(p.MonotoneConstraints, []int8{1, 0, -1}) }, ""},
		{"n_jobs", "2", func(p Params) bool { return p.NumThreads == 2 }, ""},
		{"objective", "binary", nil, ""},
		{"verbose", "-1", nil, ""},
		{"num_leaves", "many", nil, `num_leaves="many": not an integer`},
		{"learning_rate", "fast", nil, `learning_rate="fast": not a number`},
		{"learning_rate", "NaN", nil, "not a number"},
		{"monotone_constraints", "1,2", nil, "want comma-separated -1, 0 or 1"},
		{"objective", "regression", nil, "only objective=binary"},
		{"boosting", "dart", nil, "only boosting=gbdt"},
		{"num_leavs", "3", nil, "num_leavs: unknown parameter"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			p := DefaultParams()
			err := p.Set(tc.key, tc.value)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrParam) {
					t.Fatalf("Set: err = %v, want ErrParam containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if tc.check != nil && !tc.check(p) {
				t.Errorf("Set did not apply: %+v", p)
			}
		})
	}
}

func TestTrainErrors(t *testing.T) {
	good := func() *Dataset { return synthetic(200, 3, 1) }
	with := func(f func(d *Dataset)) *Dataset { d := good(); f(d); return d }
	params := func(f func(p *Params)) Params { p := DefaultParams(); p.NumIterations = 2; f(&p); return p }
	for _, tc := range []struct {
		name  string
		p     Params
		train *Dataset
		valid *Dataset
		is    error
		err   string
	}{
		{"nil", params(func(*Params) {}), nil, nil, ErrData, "training set is nil"},
		{"no features", params(func(*Params) {}), &Dataset{Labels: []float64{0, 1}}, nil, ErrData, "no features"},
		{"no rows", params(func(*Params) {}), &Dataset{Columns: [][]float64{{}}}, nil, ErrData, "no rows"},
		{"ragged", params(func(*Params) {}), with(func(d *Dataset) { d.Columns[1] = d.Columns[1][:10] }), nil, ErrData, "feature 1 has 10 rows"},
		{"labels", params(func(*Params) {}), with(func(d *Dataset) { d.Labels = d.Labels[:5] }), nil, ErrData, "5 labels for 200 rows"},
		{"label 2", params(func(*Params) {}), with(func(d *Dataset) { d.Labels[7] = 2 }), nil, ErrData, "label of row 7 is 2"},
		{"label NaN", params(func(*Params) {}), with(func(d *Dataset) { d.Labels[3] = math.NaN() }), nil, ErrData, "label of row 3 is NaN"},
		{"one class", params(func(*Params) {}), with(func(d *Dataset) { clear(d.Labels) }), nil, ErrData, "all 0"},
		{"names", params(func(*Params) {}), with(func(d *Dataset) { d.Names = []string{"a"} }), nil, ErrData, "1 names for 3 features"},
		{"category too large", params(func(*Params) {}), with(func(d *Dataset) {
			d.Categorical = []bool{false, true, false}
			for i := range d.Columns[1] {
				d.Columns[1][i] = float64(i % 4)
			}
			d.Columns[1][9] = 5e6
		}), nil, ErrData, "exceeds the largest supported category code 1048575"},
		{"category not integer", params(func(*Params) {}), with(func(d *Dataset) { d.Categorical = []bool{true, false, false} }), nil, ErrData, "not an integer code"},
		{"valid width", params(func(*Params) {}), good(), synthetic(10, 2, 1), ErrData, "validation set has 2 features, training set has 3"},
		{"early stopping without valid", params(func(p *Params) { p.EarlyStoppingRound = 5 }), good(), nil, ErrParam, "needs a validation set"},
		{"monotone length", params(func(p *Params) { p.MonotoneConstraints = []int8{1} }), good(), nil, ErrParam, "1 values for 3 features"},
		{"num_leaves", params(func(p *Params) { p.NumLeaves = 1 }), good(), nil, ErrParam, "num_leaves=1"},
		{"bagging_fraction", params(func(p *Params) { p.BaggingFraction = 0 }), good(), nil, ErrParam, "bagging_fraction=0"},
		{"max_bin", params(func(p *Params) { p.MaxBin = 1 }), good(), nil, ErrParam, "max_bin=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(context.Background(), tc.p, tc.train, tc.valid, nil)
			if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.err)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Train(ctx, DefaultParams(), good(), nil, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// TestTrainDeterministic trains with bagging and feature sampling on one and
// two goroutines: the models must be identical.
func TestTrainDeterministic(t *testing.T) {
	d := synthetic(5000, 8, 3)
	p := DefaultParams()
	p.NumIterations, p.BaggingFraction, p.BaggingFreq, p.FeatureFraction = 20, 0.7, 1, 0.6
	p.Seed, p.SeedSet = 42, true
	p.NumThreads = 2
	// Partition in parallel blocks even at this size.
	defer func(v int) { minPartitionBlock = v }(minPartitionBlock)
	minPartitionBlock = 100
	a := trainOrFatal(t, p, d, nil, nil)
	b := trainOrFatal(t, p, d, nil, nil)
	p.NumThreads = 1
	c := trainOrFatal(t, p, d, nil, nil)
	// num_threads is recorded in Params; compare everything else.
	c.Params = b.Params
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(b, c) {
		t.Fatal("same data and parameters gave different models")
	}
	p.Seed = 43
	e := trainOrFatal(t, p, d, nil, nil)
	if reflect.DeepEqual(e.Trees, a.Trees) {
		t.Error("a different seed gave the same trees despite bagging")
	}
}

// sharedSet is a synthetic set whose large leaves are gathered by all
// goroutines together, with a last feature of few bins (summed with two
// accumulators).
func sharedSet() *Dataset {
	d := synthetic(3*sharedGatherMinRows*4, 9, 21)
	few := make([]float64, len(d.Labels))
	for i := range few {
		few[i] = float64(i * 11 % 7)
	}
	d.Columns = append(d.Columns, few)
	return d
}

// TestTrainSameFileAnyThreads trains on 1, 2 and 3 goroutines, with
// leaves large enough to be gathered by all goroutines together and
// features of few bins: the model files must be byte-identical.
func TestTrainSameFileAnyThreads(t *testing.T) {
	d := sharedSet()
	defer func(v int) { minPartitionBlock = v }(minPartitionBlock)
	minPartitionBlock = 1000
	var files []string
	for _, threads := range []int{1, 2, 3} {
		p := DefaultParams()
		p.NumIterations, p.NumLeaves, p.NumThreads = 8, 31, threads
		var buf strings.Builder
		if err := trainOrFatal(t, p, d, nil, nil).WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		// num_threads is written among the parameters; compare the rest.
		files = append(files, strings.ReplaceAll(buf.String(), fmt.Sprintf("[num_threads: %d]", threads), ""))
	}
	for i := 1; i < len(files); i++ {
		if files[i] != files[0] {
			t.Fatalf("model trained on %d goroutines differs from one trained on 1: %s", i+1, testkit.FirstDiff(files[i], files[0]))
		}
	}
}

// TestTrainRowWiseSampledFeatures: row-wise histograms build every
// feature while a leaf searches only some (feature_fraction, or features
// no longer splittable). 8 of 10 features sampled, their list's capacity
// 8, used to panic with a slice out of range when a leaf was large enough
// to share its building.
func TestTrainRowWiseSampledFeatures(t *testing.T) {
	d := synthetic(20000, 10, 3)
	p := DefaultParams()
	p.NumIterations, p.NumThreads, p.FeatureFraction = 10, 2, 0.8
	m := trainOrFatal(t, p, d, nil, nil)
	if len(m.Trees) != 10 {
		t.Fatalf("%d trees, want 10", len(m.Trees))
	}
}

// TestTrainNaN checks LightGBM's missing type NaN: a feature with NaN in
// training gets NaN splits that send NaN the better way, a feature without
// gets missing type None.
func TestTrainNaN(t *testing.T) {
	n := 4000
	r := newRand(5)
	d := &Dataset{Columns: [][]float64{make([]float64, n), make([]float64, n)}, Labels: make([]float64, n)}
	for i := 0; i < n; i++ {
		x0, x1 := r.float(), r.float()
		p := 0.1 + 0.5*x1
		if r.float() < 0.3 {
			x0 = math.NaN()
			p = 0.9
		} else if x0 > 0.5 {
			p += 0.2
		}
		d.Columns[0][i], d.Columns[1][i] = x0, x1
		if r.float() < p {
			d.Labels[i] = 1
		}
	}
	p := DefaultParams()
	p.NumIterations = 30
	var last Iteration
	m := trainOrFatal(t, p, d, nil, func(it Iteration) { last = it })
	if got := logLoss(modelScores(m, d), d.Labels); math.Abs(got-last.TrainLogLoss) > 1e-12 {
		t.Errorf("model log loss %v, trainer's %v: NaN routing differs", got, last.TrainLogLoss)
	}
	var nanSplits int
	for _, tr := range m.Trees {
		for k, f := range tr.SplitFeature {
			missing := (tr.DecisionType[k] >> missingTypeShift) & 3
			switch f {
			case 0:
				if missing != MissingNaN {
					t.Fatalf("split on the NaN feature has missing type %d", missing)
				}
				nanSplits++
			case 1:
				if missing != MissingNone {
					t.Fatalf("split on the NaN-free feature has missing type %d", missing)
				}
			}
		}
	}
	if nanSplits == 0 {
		t.Fatal("no split on the feature with NaN")
	}
	pNaN := m.Predict([]float64{math.NaN(), 0.5})
	pLow, pHigh := m.Predict([]float64{0.2, 0.5}), m.Predict([]float64{0.8, 0.5})
	if !(pNaN > pHigh && pHigh > pLow) {
		t.Errorf("P(NaN)=%.3f, P(high)=%.3f, P(low)=%.3f: want NaN > high > low", pNaN, pHigh, pLow)
	}
	// A NaN in a NaN-free feature is treated as 0 (missing type None).
	if a, b := m.Predict([]float64{0.8, math.NaN()}), m.Predict([]float64{0.8, 0}); a != b {
		t.Errorf("NaN in a None feature predicts %v, 0 predicts %v", a, b)
	}
	if !strings.HasPrefix(m.FeatureInfos[0], "[") || m.FeatureInfos[1] == "none" {
		t.Errorf("feature infos %q", m.FeatureInfos)
	}
}

// TestTrainConstantColumns: constant and all-NaN columns are kept out of
// splits and described as "none".
func TestTrainConstantColumns(t *testing.T) {
	d := synthetic(1000, 2, 9)
	nan := make([]float64, 1000)
	seven := make([]float64, 1000)
	for i := range nan {
		nan[i], seven[i] = math.NaN(), 7
	}
	d.Columns = append(d.Columns, nan, seven)
	p := DefaultParams()
	p.NumIterations = 10
	m := trainOrFatal(t, p, d, nil, nil)
	if m.FeatureInfos[2] != "none" || m.FeatureInfos[3] != "none" {
		t.Errorf("feature infos %q, want none for the constant columns", m.FeatureInfos)
	}
	if m.SplitImportance[2] != 0 || m.SplitImportance[3] != 0 {
		t.Errorf("split importance %v: constant columns were split on", m.SplitImportance)
	}
	if m.FeatureNames[3] != "Column_3" {
		t.Errorf("default names %q", m.FeatureNames)
	}
}

// catData makes rows whose label depends on a categorical feature with k
// categories; the categories in pos are mostly positive.
func catData(n, k int, pos map[int]bool, seed uint64) *Dataset {
	r := newRand(seed)
	d := &Dataset{Columns: [][]float64{make([]float64, n), make([]float64, n)}, Labels: make([]float64, n), Categorical: []bool{true, false}}
	for i := 0; i < n; i++ {
		c := r.intn(k)
		x := r.float()
		p := 0.15 + 0.2*x
		if pos[c] {
			p = 0.75
		}
		d.Columns[0][i], d.Columns[1][i] = float64(c), x
		if r.float() < p {
			d.Labels[i] = 1
		}
	}
	return d
}

func TestTrainCategorical(t *testing.T) {
	for _, tc := range []struct {
		name string
		k    int
		pos  map[int]bool
	}{
		{"one-vs-rest", 3, map[int]bool{1: true}},
		{"many-vs-many", 30, map[int]bool{3: true, 7: true, 11: true, 20: true, 25: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			train, test := catData(20000, tc.k, tc.pos, 1), catData(5000, tc.k, tc.pos, 2)
			p := DefaultParams()
			p.NumIterations = 30
			var last Iteration
			m := trainOrFatal(t, p, train, test, func(it Iteration) { last = it })
			var cats int
			for _, tr := range m.Trees {
				cats += tr.NumCat
				if len(tr.CatBoundaries) != tr.NumCat+1 && tr.NumCat > 0 {
					t.Fatalf("cat_boundaries %v for %d categorical splits", tr.CatBoundaries, tr.NumCat)
				}
			}
			if cats == 0 {
				t.Fatal("no categorical split")
			}
			if d := math.Abs(auc(modelScores(m, test), test.Labels) - last.ValidAUC); d > 1e-12 {
				t.Errorf("model AUC differs from the trainer's by %g", d)
			}
			for c := 0; c < tc.k; c++ {
				pc := m.Predict([]float64{float64(c), 0.5})
				if tc.pos[c] && pc < 0.6 || !tc.pos[c] && pc > 0.4 {
					t.Errorf("P(category %d) = %.3f", c, pc)
				}
			}
			// Unseen, negative and NaN categories all go right, like LightGBM.
			unseen := m.Predict([]float64{float64(tc.k + 50), 0.5})
			for _, v := range []float64{-3, math.NaN()} {
				if got := m.Predict([]float64{v, 0.5}); got != unseen {
					t.Errorf("P(%v) = %v, P(unseen) = %v", v, got, unseen)
				}
			}
		})
	}
}

// TestTrainMonotone checks monotone_constraints: along a constrained
// feature predictions never move against the constraint, although the data
// (a sine) would make them.
func TestTrainMonotone(t *testing.T) {
	n := 5000
	r := newRand(11)
	d := &Dataset{Columns: [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}, Labels: make([]float64, n)}
	for i := 0; i < n; i++ {
		x0, x1, x2 := r.float()*4, r.float()*4, r.float()
		s := x0 + 1.5*math.Sin(3*x0) - x1 - math.Cos(4*x1) + x2 - 1
		d.Columns[0][i], d.Columns[1][i], d.Columns[2][i] = x0, x1, x2
		if r.float() < 1/(1+math.Exp(-s)) {
			d.Labels[i] = 1
		}
	}
	p := DefaultParams()
	p.NumIterations, p.NumLeaves = 50, 15
	p.MonotoneConstraints = []int8{1, -1, 0}
	m := trainOrFatal(t, p, d, nil, nil)
	free := p
	free.MonotoneConstraints = nil
	mf := trainOrFatal(t, free, d, nil, nil)
	violations := func(m *Model, f int, sign float64) int {
		bad := 0
		for k := 0; k < 200; k++ {
			row := []float64{r.float() * 4, r.float() * 4, r.float()}
			prev := math.Inf(-1) * sign
			for step := 0; step <= 80; step++ {
				row[f] = -0.5 + 5*float64(step)/80
				v := m.PredictRaw(row)
				if sign*(v-prev) < -1e-12 {
					bad++
				}
				prev = v
			}
		}
		return bad
	}
	if v := violations(m, 0, 1); v != 0 {
		t.Errorf("%d decreases along the increasing feature", v)
	}
	if v := violations(m, 1, -1); v != 0 {
		t.Errorf("%d increases along the decreasing feature", v)
	}
	if violations(mf, 0, 1) == 0 {
		t.Error("without constraints the model is monotone too: the test cannot fail")
	}
}

func TestTrainEarlyStopping(t *testing.T) {
	train, test := loadGerman(t).split()
	p := DefaultParams()
	p.NumIterations, p.LearningRate, p.EarlyStoppingRound = 500, 0.3, 10
	var losses []float64
	m := trainOrFatal(t, p, train, test, func(it Iteration) { losses = append(losses, it.ValidLogLoss) })
	best := 0
	for i, l := range losses {
		if l < losses[best] {
			best = i
		}
	}
	if len(losses) != best+1+p.EarlyStoppingRound {
		t.Errorf("stopped after %d iterations, best was %d: want %d more", len(losses), best+1, p.EarlyStoppingRound)
	}
	if len(m.Trees) != best+1 {
		t.Fatalf("kept %d trees, want the best iteration's %d", len(m.Trees), best+1)
	}
	if got := logLoss(modelScores(m, test), test.Labels); math.Abs(got-losses[best]) > 1e-12 {
		t.Errorf("model validation log loss %v, best %v", got, losses[best])
	}
}

// TestHistogramSubtraction: parent minus the smaller child equals the
// larger child built directly.
func TestHistogramSubtraction(t *testing.T) {
	d := synthetic(10000, 3, 4)
	few := make([]float64, 10000) // few bins: the two-accumulator path
	for i := range few {
		few[i] = float64(i % 5)
	}
	d.Columns = append(d.Columns, few)
	p := DefaultParams()
	b := quantise(d, &p, 1, 2)
	r := newRand(1)
	gh := make([]gradPair, b.rows)
	var left, right []int32
	for i := range gh {
		gh[i] = gradPair{float32(r.float() - 0.5), float32(r.float() * 0.25)}
		if r.float() < 0.3 {
			left = append(left, int32(i))
		} else {
			right = append(right, int32(i))
		}
	}
	gather := func(rows []int32) []gradPair {
		ogh := make([]gradPair, len(rows))
		for i, r := range rows {
			ogh[i] = gh[r]
		}
		return ogh
	}
	for f := range d.Columns {
		nb := b.offsets[f+1] - b.offsets[f]
		// Histograms have room for histPad entries more (see bins8).
		newHist := func() []histEntry { return make([]histEntry, nb, nb+histPad) }
		parent, small, direct := newHist(), newHist(), newHist()
		b.buildFeature(parent, f, nil, gh)
		lgh := gather(left)
		b.buildFeature(small, f, left, lgh)
		b.buildFeature(direct, f, right, gather(right))
		// The two-accumulator loops agree with the plain ones.
		if nb <= pairMaxBins {
			pair := newHist()
			b.buildFeatureScratch(pair, make([]histEntry, histPad), f, left, lgh)
			for i := range pair {
				if math.Abs(pair[i].g-small[i].g) > 1e-9 || math.Abs(pair[i].h-small[i].h) > 1e-9 {
					t.Fatalf("feature %d bin %d: paired %+v, plain %+v", f, i, pair[i], small[i])
				}
			}
		}
		subtractHist(parent, small)
		for i := range parent {
			if math.Abs(parent[i].g-direct[i].g) > 1e-9 || math.Abs(parent[i].h-direct[i].h) > 1e-9 {
				t.Fatalf("feature %d bin %d: subtracted %+v, direct %+v", f, i, parent[i], direct[i])
			}
		}
	}
}

func TestFindBin(t *testing.T) {
	// Few distinct values: bounds are the midpoints, nudged up one ulp, and
	// the last bin is open; zero (absent here) keeps a bin of its own below
	// the positive values, as in LightGBM.
	m := findBin([]float64{1, 1, 1, 2, 2, 2, 3, 3, 3, 3}, false, 255, 3, 1, nil)
	want := []float64{zeroThreshold, math.Nextafter(1.5, 2), math.Nextafter(2.5, 3), math.Inf(1)}
	if !reflect.DeepEqual(m.upper, want) || m.missing != MissingNone || m.info() != "[1:3]" {
		t.Errorf("upper %v missing %d info %s", m.upper, m.missing, m.info())
	}
	// NaN gets the last bin; zero its own bin between negatives and positives.
	m = findBin([]float64{-2, -2, -2, 0, 0, 0, 5, 5, 5, math.NaN()}, false, 255, 3, 1, nil)
	if m.missing != MissingNaN || m.numBin != len(m.upper)+1 || m.valueToBin(math.NaN()) != m.numBin-1 {
		t.Errorf("NaN bin: %+v", m)
	}
	if b0, bn, bp := m.valueToBin(0), m.valueToBin(-2), m.valueToBin(5); !(bn < b0 && b0 < bp) {
		t.Errorf("bins -2:%d 0:%d 5:%d", bn, b0, bp)
	}
	// Many distinct values: at most max_bin bins of similar counts.
	vals := make([]float64, 10000)
	for i := range vals {
		vals[i] = float64(i)
	}
	m = findBin(vals, false, 16, 3, 1, nil)
	if m.numBin != 16 {
		t.Errorf("%d bins, want 16", m.numBin)
	}
	// Categorical: bin 0 is NaN/other, categories by count, LightGBM's info.
	m = findBin([]float64{2, 2, 2, 2, 0, 0, 0, 1, 1, 1, 1, 1, math.NaN()}, true, 255, 3, 1, nil)
	if m.info() != "-1:1:2:0" || m.valueToBin(1) != 1 || m.valueToBin(-1) != 0 || m.missing != MissingNaN {
		t.Errorf("categorical: info %s, %+v", m.info(), m)
	}
}

// TestBinColumn: the branch-free search of binColumn bins every value as
// valueToBin's binary search does, bounds and their neighbours, signed
// zeros, infinities and NaN included.
func TestBinColumn(t *testing.T) {
	r := newRand(9)
	for _, tc := range []struct {
		name string
		gen  func() float64
		nan  bool
	}{
		{"uniform", func() float64 { return r.float()*2 - 1 }, false},
		{"few values", func() float64 { return float64(r.intn(7)) - 3 }, true},
		{"wide", func() float64 { return math.Exp(r.float()*60-30) * float64(1-2*r.intn(2)) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals := make([]float64, 5000)
			for i := range vals {
				vals[i] = tc.gen()
				if tc.nan && i%50 == 0 {
					vals[i] = math.NaN()
				}
			}
			m := findBin(vals, false, 255, 3, 1, nil)
			probe := append([]float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN()}, vals...)
			for _, u := range m.upper {
				probe = append(probe, u, math.Nextafter(u, math.Inf(-1)), math.Nextafter(u, math.Inf(1)))
			}
			got := make([]uint16, len(probe))
			binColumn(m, probe, got)
			for i, v := range probe {
				if want := m.valueToBin(v); int(got[i]) != want {
					t.Fatalf("value %v: binColumn gives bin %d, valueToBin %d", v, got[i], want)
				}
			}
		})
	}
}

// TestRowWiseHistogram: the ways of building histograms sum in the same
// order, so they agree bit for bit: gathered chunks with one feature at a
// time (features of few bins included, summed with two accumulators in
// histChunk chunks), row-wise with column-wise on many-bin features; for
// all rows and for a subset through an index, on one and two goroutines
// (groups of 4, 3, 2 and 1 features per goroutine).
func TestRowWiseHistogram(t *testing.T) {
	n := 2*sharedChunk + 3*gatherChunk + 17
	d := synthetic(n, 7, 8)
	for _, mod := range []int{5, 40} {
		few := make([]float64, n)
		for i := range few {
			few[i] = float64(i * 7 % mod)
		}
		d.Columns = append(d.Columns, few)
	}
	p := DefaultParams()
	b := quantise(d, &p, 1, 2)
	rows8 := b.rows8
	many := b.rowFeat[:7]
	for _, threads := range []int{1, 2} {
		g := newGrower(&p, b, nil, threads)
		r := newRand(3)
		var rows []int32
		for i := range g.gh {
			g.gh[i] = gradPair{float32(r.float() - 0.5), float32(r.float() * 0.25)}
			if i%3 != 1 {
				rows = append(rows, int32(i))
			}
		}
		g.gather(rows)
		size := b.offsets[len(b.mappers)] + histPad
		for _, tc := range []struct {
			rows []int32
			n    int
			gh   []gradPair
		}{{nil, b.rows, g.gh}, {rows, len(rows), g.ordGH[:len(rows)]}} {
			build := func(feats []int, rowWise, withRows8 bool) []histEntry {
				h := make([]histEntry, size)
				g.rowWise = rowWise
				b.rows8 = nil
				if withRows8 {
					b.rows8 = rows8
				}
				if tc.rows != nil && withRows8 && !rowWise {
					// As training builds a leaf's histograms (gathered by
					// all goroutines together when there are several).
					g.leafHists(h, feats, tc.rows)
				} else {
					g.buildHists(h, feats, tc.rows, tc.n, tc.gh)
				}
				b.rows8 = rows8
				return h
			}
			col, gathered := build(b.rowFeat, false, false), build(b.rowFeat, false, true)
			if !reflect.DeepEqual(gathered, col) {
				t.Fatalf("threads %d, rows=%v: gathered and column-wise histograms differ", threads, tc.rows != nil)
			}
			row := build(b.rowFeat, true, true)
			col = build(many, false, false)
			for _, f := range many {
				if !reflect.DeepEqual(g.featHist(row, f), g.featHist(col, f)) {
					t.Fatalf("threads %d, rows=%v: feature %d: row-wise and column-wise histograms differ", threads, tc.rows != nil, f)
				}
			}
		}
	}
}

// TestTrainModelInfo checks the effective parameters and importances.
func TestTrainModelInfo(t *testing.T) {
	d := synthetic(2000, 4, 12)
	p := DefaultParams()
	for k, v := range map[string]string{"num_iterations": "5", "num_leaves": "7", "seed": "3", "monotone_constraints": "1,0,0,0"} {
		if err := p.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	m := trainOrFatal(t, p, d, nil, nil)
	params := map[string]string{}
	for _, kv := range m.Params {
		params[kv.Key] = kv.Value
	}
	for k, want := range map[string]string{"objective": "binary", "num_iterations": "5", "num_leaves": "7", "learning_rate": "0.1", "seed": "3", "monotone_constraints": "1,0,0,0", "max_bin": "255", "min_data_in_leaf": "20"} {
		if params[k] != want {
			t.Errorf("param %s = %q, want %q", k, params[k], want)
		}
	}
	splits, gain := 0, 0.0
	for _, tr := range m.Trees {
		splits += len(tr.SplitFeature)
		for _, g := range tr.SplitGain {
			gain += g
		}
	}
	var gotSplits int
	var gotGain float64
	for f := range m.SplitImportance {
		gotSplits += m.SplitImportance[f]
		gotGain += m.GainImportance[f]
	}
	if splits == 0 || gotSplits != splits || math.Abs(gotGain-gain) > 1e-9*gain {
		t.Errorf("importance: %d splits, %g gain; trees have %d, %g", gotSplits, gotGain, splits, gain)
	}
	if m.Trees[0].Shrinkage != 1 || m.Trees[1].Shrinkage != 0.1 {
		t.Errorf("shrinkage %v, %v: want 1 (bias folded in) then the learning rate", m.Trees[0].Shrinkage, m.Trees[1].Shrinkage)
	}
}

// TestTrainPredictions: the training rows' predictions kept from boosting
// equal Predict's bit for bit, with early stopping cutting trees, with
// categories, NaN and bagging; a model read from its file, or whose trees
// were cut, has none.
func TestTrainPredictions(t *testing.T) {
	taiwan, taiwanTest := loadTaiwan(t).split()
	german, _ := loadGerman(t).split()
	nan := synthetic(3000, 4, 9)
	for i := range nan.Labels {
		if i%7 == 0 {
			nan.Columns[1][i] = math.NaN()
		}
	}
	tests := []struct {
		name         string
		train, valid *Dataset
		set          map[string]string
	}{
		{"early stopping", taiwan, taiwanTest, map[string]string{"early_stopping_round": "5", "num_iterations": "300"}},
		{"categories and bagging", german, nil, map[string]string{"bagging_fraction": "0.7", "bagging_freq": "2", "num_iterations": "60"}},
		{"missing values", nan, nil, map[string]string{"num_iterations": "40"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			for k, v := range tt.set {
				if err := p.Set(k, v); err != nil {
					t.Fatal(err)
				}
			}
			m := trainOrFatal(t, p, tt.train, tt.valid, nil)
			got := m.TrainPredictions()
			if len(got) != tt.train.rows() {
				t.Fatalf("%d predictions for %d rows", len(got), tt.train.rows())
			}
			if tt.valid != nil && len(m.Trees) >= p.NumIterations {
				t.Fatalf("early stopping kept all %d trees: the case tests nothing", len(m.Trees))
			}
			for r, raw := range modelScores(m, tt.train) {
				if want := sigmoid(raw); got[r] != want {
					t.Fatalf("row %d: kept %v, Predict %v", r, got[r], want)
				}
			}
			var buf strings.Builder
			if err := m.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			read, err := ReadText(strings.NewReader(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			if read.TrainPredictions() != nil {
				t.Error("a model read from its file has training predictions")
			}
			m.Trees = m.Trees[:len(m.Trees)-1]
			if m.TrainPredictions() != nil {
				t.Error("a model with a tree cut still has its training predictions")
			}
		})
	}
}

// TestValidScores: the validation scores that early stopping watches,
// updated tree by tree as training goes, are Predict's bit for bit: the
// last iteration's validation log loss is that of the model's predictions,
// whether a tree scored them on codes or through Flat.
func TestValidScores(t *testing.T) {
	german, test := loadGerman(t).split()
	nan := synthetic(4000, 5, 13)
	for i := range nan.Labels {
		if i%5 == 0 {
			nan.Columns[2][i] = math.NaN()
		}
	}
	nanTrain, nanValid := splitRows(nan, 3000)
	unseenTrain, unseenValid := codedSets()
	for name, d := range map[string][2]*Dataset{"categories": {german, test}, "missing values": {nanTrain, nanValid}, "unseen values": {unseenTrain, unseenValid}} {
		t.Run(name, func(t *testing.T) {
			p := DefaultParams()
			p.NumIterations = 40
			var last Iteration
			m := trainOrFatal(t, p, d[0], d[1], func(it Iteration) { last = it })
			if got := logLoss(modelScores(m, d[1]), d[1].Labels); got != last.ValidLogLoss {
				t.Errorf("log loss of the model's validation scores %v, training's %v", got, last.ValidLogLoss)
			}
		})
	}
}

// TestTrainLossCurve: each iteration's training log loss is the log loss
// of the model's predictions after that many trees, on any number of
// goroutines, whether training runs to the end or early stopping ends it.
func TestTrainLossCurve(t *testing.T) {
	train, valid := splitRows(synthetic(3001, 5, 23), 2500)
	for _, threads := range []int{1, 3} {
		for _, early := range []int{0, 3} {
			t.Run(fmt.Sprintf("threads %d, early stopping %d", threads, early), func(t *testing.T) {
				p := DefaultParams()
				p.NumIterations, p.NumThreads, p.EarlyStoppingRound, p.LearningRate = 40, threads, early, 0.5
				var iters []Iteration
				m := trainOrFatal(t, p, train, valid, func(it Iteration) { iters = append(iters, it) })
				if early > 0 && len(iters) == p.NumIterations {
					t.Fatal("early stopping did not stop: the case tests nothing")
				}
				all := m.Trees
				if early > 0 {
					// Cut trees are gone from m; train again without stopping.
					p.EarlyStoppingRound = 0
					all = trainOrFatal(t, p, train, valid, nil).Trees
				}
				for _, it := range iters {
					cut := *m
					cut.Trees = all[:it.Iter]
					if want := logLoss(modelScores(&cut, train), train.Labels); it.TrainLogLoss != want {
						t.Fatalf("iteration %d: training log loss %v, of the model's predictions %v", it.Iter, it.TrainLogLoss, want)
					}
				}
			})
		}
	}
}
