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
// training scores, so they are only computed when callback is set. Training
// is deterministic: the same data and parameters give the same model
// regardless of scheduling and of the number of threads.
func Train(ctx context.Context, p Params, train, valid *Dataset, callback func(Iteration)) (*Model, error) {
	mono, err := checkInputs(&p, train, valid)
	if err != nil {
		return nil, err
	}
	b := newBooster(&p, train, valid, mono)
	if callback != nil {
		var vl []float64
		if valid != nil {
			vl = valid.Labels
		}
		b.rep = newReporter(callback, train.Labels, vl)
		defer func() { b.rep.wait(b.score) }()
	}
	for iter := 0; iter < p.NumIterations; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train iteration %d: %w", iter+1, err)
		}
		if !b.boost(iter) {
			break
		}
	}
	return b.finish(), nil
}

// checkInputs validates the parameters and data sets and returns the
// monotone constraints, nil when there are none.
func checkInputs(p *Params, train, valid *Dataset) ([]int8, error) {
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
	var pos float64
	for _, y := range train.Labels {
		pos += y
	}
	if pos == 0 || pos == float64(train.rows()) {
		return nil, fmt.Errorf("%w: training labels are all %v; binary classification needs both classes", ErrData, train.Labels[0])
	}
	return mono, nil
}

// booster is the state of one Train call between iterations.
type booster struct {
	p            *Params
	train, valid *Dataset
	b            *binned
	g            *grower
	threads      int
	bagRand      *rng
	featRand     *rng
	splittable   []int // features that are not trivial, candidates for sampling
	init         float64
	score        []float64 // raw training scores
	vscore       []float64 // raw validation scores, nil without valid
	model        *Model
	rep          *reporter // nil without a callback

	// vcoded are the validation rows as codes, which most trees are
	// scored on; vrows the same rows laid out row by row for Flat (a
	// column-major walk missed the cache at every level), made for the
	// first tree that codes cannot score, and vtree its outputs.
	vcoded *coded
	vrows  [][]float64
	vtree  []float64

	bagged bool
	inBag  int     // rows in the bag: g.idx[:inBag]
	oob    []int32 // rows out of the bag

	bestIter, sinceBest int
	bestLoss            float64
	// bestScore is score as it was after iteration bestIter, kept while
	// early stopping may still cut the trees after it.
	bestScore []float64
}

// newBooster bins the training data and sets every row's score to the
// initial score.
func newBooster(p *Params, train, valid *Dataset, mono []int8) *booster {
	n := train.rows()
	threads := p.threads()
	bagSeed, featSeed, dataSeed := p.seeds()
	bn := quantise(train, p, dataSeed, threads)
	b := &booster{
		p: p, train: train, valid: valid, b: bn, threads: threads,
		g:       newGrower(p, bn, mono, threads),
		bagRand: newRand(bagSeed), featRand: newRand(featSeed),
		bagged: p.BaggingFreq > 0 && p.BaggingFraction < 1,
		inBag:  n, oob: []int32{},
		bestLoss: math.Inf(1),
	}
	for f, m := range bn.mappers {
		if !m.trivial {
			b.splittable = append(b.splittable, f)
		}
	}
	// boost_from_average: the initial score is the log-odds of the label
	// mean, folded into the first tree (Tree::AddBias).
	var pos float64
	for _, y := range train.Labels {
		pos += y
	}
	avg := min(max(pos/float64(n), epsilon), 1-epsilon)
	b.init = math.Log(avg / (1 - avg))
	b.score = filled(n, b.init)
	if valid != nil {
		b.vscore = filled(valid.rows(), b.init)
		b.vcoded = newCoded(valid.Columns, bn, threads)
	}
	b.model = newModel(p, train, bn)
	b.g.allRows = !b.bagged
	if !b.bagged {
		for i := range b.g.idx {
			b.g.idx[i] = int32(i)
		}
	}
	return b
}

// rowMajor copies columns into rows, one backing array for them all.
func rowMajor(cols [][]float64, n int) [][]float64 {
	flat := make([]float64, n*len(cols))
	rows := make([][]float64, n)
	for r := range rows {
		row := flat[r*len(cols) : (r+1)*len(cols) : (r+1)*len(cols)]
		for f, c := range cols {
			row[f] = c[r]
		}
		rows[r] = row
	}
	return rows
}

func filled(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// newModel is a model without trees: the feature names, the bins'
// feature_infos and the effective parameters.
func newModel(p *Params, train *Dataset, bn *binned) *Model {
	nf := len(train.Columns)
	m := &Model{FeatureNames: make([]string, nf), FeatureInfos: make([]string, nf), Params: p.effective()}
	for f := range nf {
		name := "Column_" + strconv.Itoa(f)
		if train.Names != nil {
			name = fileFeatureName(train.Names[f])
		}
		m.FeatureNames[f] = name
		m.FeatureInfos[f] = bn.mappers[f].info()
	}
	return m
}

// boost runs iteration iter (0-based): gradients, bag, one tree, scores,
// report and early stopping. It reports whether to go on.
func (b *booster) boost(iter int) bool {
	var curve *report
	if b.rep != nil {
		curve = b.rep.wanted()
	}
	b.g.gradients(b.score, b.train.Labels, curve)
	if curve != nil {
		b.rep.send()
	}
	b.bag(iter)
	b.g.active = sampleFeatures(b.splittable, b.p.FeatureFraction, b.featRand, b.g.active[:0])
	tree, splits := b.g.grow(b.inBag)
	if tree.NumLeaves <= 1 {
		if iter == 0 {
			// A constant model still predicts the initial score.
			b.model.Trees = append(b.model.Trees, Tree{NumLeaves: 1, LeafValue: []float64{b.init}, LeafWeight: []float64{0}, LeafCount: []int{0}, Shrinkage: 1})
			b.bestIter = 1
		}
		return false // LightGBM: no more leaves meet the split requirements
	}
	shrink(tree, b.p.LearningRate)
	b.updateScores(tree, splits)
	if iter == 0 {
		addBias(tree, b.init)
	}
	b.model.Trees = append(b.model.Trees, *tree)

	it := Iteration{Iter: iter + 1, TrainLogLoss: math.NaN(), TrainAUC: math.NaN(), ValidLogLoss: math.NaN(), ValidAUC: math.NaN()}
	if b.valid != nil {
		it.ValidLogLoss = meanLoss(b.vscore, nil, b.valid.Labels, b.threads)
	}
	if b.rep != nil {
		b.rep.add(it, b.vscore)
	}
	return b.keepGoing(iter, it.ValidLogLoss)
}

// bag draws a new bag every bagging_freq iterations; between draws it puts
// the bag's rows back in row order.
func (b *booster) bag(iter int) {
	if !b.bagged {
		return
	}
	g := b.g
	if iter%b.p.BaggingFreq != 0 {
		// The leaf partition reorders idx; restore row order so that
		// histograms sum in the same order for the same bag.
		sortBag(g.idx[:b.inBag], len(b.score), g.tmp)
		return
	}
	b.inBag, b.oob = 0, b.oob[:0]
	for i := range len(b.score) {
		if b.bagRand.float() < b.p.BaggingFraction {
			g.idx[b.inBag] = int32(i)
			b.inBag++
		} else {
			b.oob = append(b.oob, int32(i))
		}
	}
}

// updateScores adds a shrunk tree's outputs to the scores: in-bag rows by
// the leaf partition, the rest by routing their bins, validation rows by
// their raw values.
func (b *booster) updateScores(tree *Tree, splits []binSplit) {
	g, score := b.g, b.score
	parallelBlocks(b.inBag, b.threads, func(lo, hi, _ int) {
		for l := 0; l < tree.NumLeaves; l++ {
			a, z := max(g.begin[l], lo), min(g.begin[l]+g.count[l], hi)
			v := tree.LeafValue[l]
			for _, r := range g.idx[a:max(a, z)] {
				score[r] += v
			}
		}
	})
	if b.bagged {
		parallelBlocks(len(b.oob), b.threads, func(lo, hi, _ int) {
			for _, r := range b.oob[lo:hi] {
				score[r] += tree.LeafValue[leafOfBinned(tree, splits, b.b, int(r))]
			}
		})
	}
	if b.valid != nil {
		// One tree's Flat gives each row its leaf's output exactly, and
		// so does its layout on codes.
		f := (&Model{FeatureNames: b.model.FeatureNames, FeatureInfos: b.model.FeatureInfos, Trees: []Tree{*tree}}).Flatten()
		if ct, ok := b.vcoded.tree(f); ok {
			parallelBlocks(len(b.vscore), b.threads, func(lo, hi, _ int) {
				ct.add(b.vcoded, lo, hi, b.vscore[lo:hi])
			})
			return
		}
		if b.vrows == nil {
			b.vrows, b.vtree = rowMajor(b.valid.Columns, b.valid.rows()), make([]float64, b.valid.rows())
		}
		parallelBlocks(len(b.vscore), b.threads, func(lo, hi, _ int) {
			f.PredictRaw(b.vrows[lo:hi], b.vtree[lo:hi])
			for r, v := range b.vtree[lo:hi] {
				b.vscore[lo+r] += v
			}
		})
	}
}

// keepGoing records iteration iter's validation loss and reports whether
// early stopping lets training go on.
func (b *booster) keepGoing(iter int, validLoss float64) bool {
	b.bestIter = iter + 1
	if b.p.EarlyStoppingRound <= 0 {
		return true
	}
	if validLoss < b.bestLoss {
		b.bestLoss, b.sinceBest = validLoss, 0
		b.bestScore = append(b.bestScore[:0], b.score...)
	} else {
		b.sinceBest++
	}
	b.bestIter = iter + 1 - b.sinceBest
	return b.sinceBest < b.p.EarlyStoppingRound
}

// finish keeps the trees up to the best iteration and sums the feature
// importances over them.
func (b *booster) finish() *Model {
	m := b.model
	m.Trees = m.Trees[:b.bestIter]
	m.trainScore = b.bestScore
	if b.p.EarlyStoppingRound <= 0 {
		m.trainScore = b.score // every tree is kept
	}
	m.trainTrees = len(m.Trees)
	nf := len(b.train.Columns)
	m.SplitImportance = make([]int, nf)
	m.GainImportance = make([]float64, nf)
	for i := range m.Trees {
		t := &m.Trees[i]
		for k, f := range t.SplitFeature {
			m.SplitImportance[f]++
			m.GainImportance[f] += t.SplitGain[k]
		}
	}
	return m
}

// gradients computes the binary log loss gradients and hessians for the
// current scores (LightGBM's BinaryLogloss::GetGradients with sigmoid 1).
//
// An iteration held for the learning curves (reporter.wanted) gets the
// scores here, copied into curve.score, and each row's e^-x into
// curve.exps, which its log loss would otherwise compute again.
func (g *grower) gradients(score, labels []float64, curve *report) {
	parallelBlocks(len(score), g.threads, func(lo, hi, _ int) {
		if curve == nil {
			for i := lo; i < hi; i++ {
				p := 1 / (1 + math.Exp(-score[i]))
				g.gh[i] = gradPair{float32(p - labels[i]), float32(p * (1 - p))}
			}
			return
		}
		exps := curve.exps[lo:hi]
		for i := lo; i < hi; i++ {
			e := math.Exp(-score[i])
			exps[i-lo] = e
			p := 1 / (1 + e)
			g.gh[i] = gradPair{float32(p - labels[i]), float32(p * (1 - p))}
		}
		copy(curve.score[lo:hi], score[lo:hi])
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
