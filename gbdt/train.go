package gbdt

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Iteration reports one boosting iteration to Train's callback. Metrics of
// a set that was not given are NaN.
type Iteration struct {
	Iter         int // 1-based
	TrainLogLoss float64
	TrainAUC     float64
	ValidLogLoss float64
	ValidAUC     float64
	// Finished is when the iteration's tree and scores were done.
	Finished time.Time
}

// Train fits a binary classifier with log loss by histogram gradient
// boosting, following LightGBM's algorithm (leaf-wise growth, histogram
// subtraction, boost_from_average) so that, given the same data and
// parameters, it trains a model of the same quality as LightGBM. valid may be
// nil; with early_stopping_round > 0 it is required and the returned model
// keeps the trees of the iteration with the best validation log loss.
// callback, if not nil, is called for every iteration, in order, from a
// goroutine of Train's while later trees grow; every call has returned when
// Train returns. The training metrics it receives cost a sort of the
// training scores, so they are only computed when callback is set. Training is deterministic: the same
// data and parameters give the same model regardless of scheduling.
func Train(ctx context.Context, p Params, train, valid *Dataset, callback func(Iteration)) (*Model, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := train.check("training", -1); err != nil {
		return nil, err
	}
	nf := len(train.Columns)
	if valid != nil {
		if err := valid.check("validation", nf); err != nil {
			return nil, err
		}
	}
	if p.EarlyStoppingRound > 0 && valid == nil {
		return nil, fmt.Errorf("%w early_stopping_round=%d: needs a validation set", ErrParam, p.EarlyStoppingRound)
	}
	var mono []int8
	if len(p.MonotoneConstraints) > 0 {
		if len(p.MonotoneConstraints) != nf {
			return nil, fmt.Errorf("%w monotone_constraints: %d values for %d features", ErrParam, len(p.MonotoneConstraints), nf)
		}
		for f, c := range p.MonotoneConstraints {
			if c != 0 && train.Categorical != nil && train.Categorical[f] {
				return nil, fmt.Errorf("%w monotone_constraints: feature %s is categorical", ErrParam, train.name(f))
			}
			if c != 0 {
				mono = p.MonotoneConstraints
			}
		}
	}
	n := train.rows()
	var pos float64
	for _, y := range train.Labels {
		pos += y
	}
	if pos == 0 || pos == float64(n) {
		return nil, fmt.Errorf("%w: training labels are all %v; binary classification needs both classes", ErrData, train.Labels[0])
	}

	threads := p.threads()
	bagSeed, featSeed, dataSeed := p.seeds()
	b := quantise(train, &p, dataSeed, threads)
	g := newGrower(&p, b, mono, threads)
	bagRand, featRand := newRand(bagSeed), newRand(featSeed)

	var valid0 []int
	for f, m := range b.mappers {
		if !m.trivial {
			valid0 = append(valid0, f)
		}
	}

	// boost_from_average: the initial score is the log-odds of the label
	// mean, folded into the first tree (Tree::AddBias).
	avg := min(max(pos/float64(n), epsilon), 1-epsilon)
	init := math.Log(avg / (1 - avg))
	score := make([]float64, n)
	for i := range score {
		score[i] = init
	}
	var vscore []float64
	if valid != nil {
		vscore = make([]float64, valid.rows())
		for i := range vscore {
			vscore[i] = init
		}
	}

	model := &Model{FeatureNames: make([]string, nf), FeatureInfos: make([]string, nf), Params: p.effective()}
	for f := range nf {
		name := "Column_" + strconv.Itoa(f)
		if train.Names != nil {
			name = fileFeatureName(train.Names[f])
		}
		model.FeatureNames[f] = name
		model.FeatureInfos[f] = b.mappers[f].info()
	}

	bestIter, bestLoss, sinceBest := 0, math.Inf(1), 0
	inBag := n
	bagged := p.BaggingFreq > 0 && p.BaggingFraction < 1
	g.allRows = !bagged
	if !bagged {
		for i := range g.idx {
			g.idx[i] = int32(i)
		}
	}
	oob := []int32{}
	var rep *reporter
	if callback != nil {
		var vl []float64
		if valid != nil {
			vl = valid.Labels
		}
		rep = newReporter(callback, train.Labels, vl)
		defer rep.wait()
	}
	for iter := 0; iter < p.NumIterations; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train iteration %d: %w", iter+1, err)
		}
		g.gradients(score, train.Labels)
		if bagged && iter%p.BaggingFreq == 0 {
			inBag, oob = 0, oob[:0]
			for i := 0; i < n; i++ {
				if bagRand.float() < p.BaggingFraction {
					g.idx[inBag] = int32(i)
					inBag++
				} else {
					oob = append(oob, int32(i))
				}
			}
		} else if bagged {
			// The leaf partition reorders idx; restore row order so that
			// histograms sum in the same order for the same bag.
			sortBag(g.idx[:inBag], n, g.tmp)
		}
		g.active = sampleFeatures(valid0, p.FeatureFraction, featRand, g.active[:0])
		tree, splits := g.grow(inBag)
		if tree.NumLeaves <= 1 {
			if iter == 0 {
				tree = &Tree{NumLeaves: 1, LeafValue: []float64{init}, LeafWeight: []float64{0}, LeafCount: []int{0}, Shrinkage: 1}
				model.Trees = append(model.Trees, *tree)
				bestIter = 1
			}
			break // LightGBM: no more leaves meet the split requirements
		}
		shrink(tree, p.LearningRate)
		// Update training scores: in-bag rows by the leaf partition, the
		// rest by routing their bins.
		parallelBlocks(inBag, threads, func(lo, hi, _ int) {
			for l := 0; l < tree.NumLeaves; l++ {
				a, z := max(g.begin[l], lo), min(g.begin[l]+g.count[l], hi)
				v := tree.LeafValue[l]
				for _, r := range g.idx[a:max(a, z)] {
					score[r] += v
				}
			}
		})
		if bagged {
			parallelBlocks(len(oob), threads, func(lo, hi, _ int) {
				for _, r := range oob[lo:hi] {
					score[r] += tree.LeafValue[leafOfBinned(tree, splits, b, int(r))]
				}
			})
		}
		if valid != nil {
			parallelBlocks(len(vscore), threads, func(lo, hi, _ int) {
				for r := lo; r < hi; r++ {
					vscore[r] += tree.LeafValue[tree.leafOfColumns(valid.Columns, r)]
				}
			})
		}
		if iter == 0 {
			addBias(tree, init)
		}
		model.Trees = append(model.Trees, *tree)

		it := Iteration{Iter: iter + 1, TrainLogLoss: math.NaN(), TrainAUC: math.NaN(), ValidLogLoss: math.NaN(), ValidAUC: math.NaN()}
		if valid != nil {
			it.ValidLogLoss = logLoss(vscore, valid.Labels)
		}
		if rep != nil {
			rep.add(it, score, vscore)
		}
		bestIter = iter + 1
		if p.EarlyStoppingRound > 0 {
			if it.ValidLogLoss < bestLoss {
				bestLoss, sinceBest = it.ValidLogLoss, 0
			} else {
				sinceBest++
				if sinceBest >= p.EarlyStoppingRound {
					bestIter = iter + 1 - sinceBest
					break
				}
			}
			bestIter = iter + 1 - sinceBest
		}
	}
	model.Trees = model.Trees[:bestIter]
	model.SplitImportance = make([]int, nf)
	model.GainImportance = make([]float64, nf)
	for i := range model.Trees {
		t := &model.Trees[i]
		for k, f := range t.SplitFeature {
			model.SplitImportance[f]++
			model.GainImportance[f] += t.SplitGain[k]
		}
	}
	return model, nil
}

// gradients computes the binary log loss gradients and hessians for the
// current scores (LightGBM's BinaryLogloss::GetGradients with sigmoid 1).
func (g *grower) gradients(score, labels []float64) {
	parallelBlocks(len(score), g.threads, func(lo, hi, _ int) {
		for i := lo; i < hi; i++ {
			p := 1 / (1 + math.Exp(-score[i]))
			g.grad[i] = float32(p - labels[i])
			g.hess[i] = float32(p * (1 - p))
		}
	})
}

// sortBag sorts row indices in [0, n) in place with a counting pass over a
// bitmap-free buffer: rows are distinct, so marking them in tmp suffices.
func sortBag(rows []int32, n int, tmp []int32) {
	mark := tmp[:n]
	clear(mark)
	for _, r := range rows {
		mark[r] = 1
	}
	k := 0
	for i, m := range mark {
		if m != 0 {
			rows[k] = int32(i)
			k++
		}
	}
}

// sampleFeatures picks the features of one tree as LightGBM's ColSampler:
// round(total*fraction) of them, at least min(2, total).
func sampleFeatures(features []int, fraction float64, r *rng, dst []int) []int {
	if fraction >= 1 {
		return append(dst, features...)
	}
	k := max(int(math.Round(float64(len(features))*fraction)), min(2, len(features)))
	perm := append([]int(nil), features...)
	for i := 0; i < k; i++ {
		j := i + r.intn(len(perm)-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	sel := perm[:k]
	// Keep feature order so that ties between features break the same way.
	for _, f := range features {
		for _, s := range sel {
			if s == f {
				dst = append(dst, f)
				break
			}
		}
	}
	return dst
}

// shrink multiplies the outputs by the learning rate (Tree::Shrinkage).
func shrink(t *Tree, rate float64) {
	for i := range t.LeafValue {
		t.LeafValue[i] *= rate
	}
	for i := range t.InternalValue {
		t.InternalValue[i] *= rate
	}
	t.Shrinkage = rate
}

// addBias folds the initial score into a tree (Tree::AddBias).
func addBias(t *Tree, v float64) {
	for i := range t.LeafValue {
		t.LeafValue[i] += v
	}
	for i := range t.InternalValue {
		t.InternalValue[i] += v
	}
	t.Shrinkage = 1
}

// leafOfColumns is Leaf for row r of column-major data.
func (t *Tree) leafOfColumns(cols [][]float64, r int) int {
	if t.NumLeaves <= 1 {
		return 0
	}
	node := 0
	for node >= 0 {
		if t.goLeft(node, cols[t.SplitFeature[node]][r]) {
			node = t.LeftChild[node]
		} else {
			node = t.RightChild[node]
		}
	}
	return ^node
}

// fileFeatureName makes a feature name writable in a model file, whose
// feature_names line is split on spaces and whose readers (leaves) split
// "key=value" at '=': white space and '=' become '_', and an empty name
// becomes "_".
func fileFeatureName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '=' || unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, name)
	if name == "" {
		return "_"
	}
	return name
}
