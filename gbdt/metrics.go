package gbdt

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// lossChunk is the rows of one partial sum of a log loss. The partial sums
// are added in order, so that the loss is the same on any number of
// threads: early stopping reads it.
const lossChunk = 1 << 12

// meanLoss is the mean binary log loss of raw scores, with probabilities
// clipped away from 0 and 1 as LightGBM's binary_logloss does, on up to
// threads goroutines. It takes each row's e^-x from exps where exps is not
// nil: the gradient pass computes them anyway, and they are most of the
// loss's cost.
func meanLoss(score, exps, labels []float64, threads int) float64 {
	parts := make([]float64, (len(score)+lossChunk-1)/lossChunk)
	parallelBlocks(len(parts), threads, func(lo, hi, _ int) {
		for c := lo; c < hi; c++ {
			a, z := c*lossChunk, min((c+1)*lossChunk, len(score))
			var e []float64
			if exps != nil {
				e = exps[a:z]
			}
			parts[c] = lossSum(score[a:z], e, labels[a:z])
		}
	})
	var s float64
	for _, p := range parts {
		s += p
	}
	return s / float64(len(score))
}

// lossSum is the summed loss of meanLoss's rows.
func lossSum(score, exps, labels []float64) float64 {
	// A row's loss is -log p = log(1+e) with p = 1/(1+e) the probability
	// of its own label (0 or 1, as checked): e = e^-x for a positive,
	// 1/e^-x = e^x for a negative, accurate near both ends unlike
	// LightGBM's 1-p. Both come from e^-x, so the loss is the same from
	// the gradient pass's exponentials as from the scores. p clipped at
	// 1e-15 is 1+e capped at 1e15. The logarithms, the costliest part
	// after the exponentials, are taken of products of 16 rows' 1+e: such
	// a product stays far below the largest double, and its rounding
	// errors weigh no more than those of the 16 logarithms it replaces.
	const chunk = 16
	var s float64
	prod := 1.0
	for i, x := range score {
		var e float64
		if exps != nil {
			e = exps[i]
		} else {
			e = math.Exp(-x)
		}
		// The label picks e or 1/e by their bits: a branch on it would
		// be a coin toss.
		neg := uint64(int64(labels[i]) - 1) // all ones for a negative
		t := 1 + math.Float64frombits(math.Float64bits(e)&^neg|math.Float64bits(1/e)&neg)
		if t > 1e15 { // rare: a branch, cheaper than min's NaN rules
			t = 1e15
		}
		prod *= t
		if i%chunk == chunk-1 {
			s += math.Log(prod)
			prod = 1
		}
	}
	return s + math.Log(prod)
}

// auc is the area under the ROC curve of scores against 0/1 labels; tied
// scores count half, as LightGBM's AUCMetric.
func auc(score, labels []float64) float64 {
	var s ranker
	return s.auc(score, labels)
}

// ranker sorts scores for auc, keeping its scratch between calls: boosting
// asks for two AUCs an iteration for the learning curves, which made the
// sort as costly as growing the trees on 30,000 rows.
type ranker struct {
	words, tmp []uint64
	keys       []uint64 // full keys of a run of words alike in prefix
}

// A word packs what the sort moves about a score into one uint64: the top
// 33 bits of its key (prefix), its row (30 bits) and whether its label is
// positive (the lowest bit). One word a score, not a key and a label in
// two arrays, halves the scattered writes of each radix pass, which were
// most of the learning curves' cost on a million rows.
const (
	prefix  = 31 // the bits below the key's prefix
	rowBits = 30
	maxRows = 1 << rowBits
)

// auc is the package's auc, computed in s's scratch.
func (s *ranker) auc(score, labels []float64) float64 {
	if len(score) >= maxRows {
		return aucBySort(score, labels)
	}
	words := s.sort(score, labels)
	// Lowest scores first: each group of tied scores adds its positives
	// times the negatives ranked below them, plus half its own negatives.
	// Counting twice the area keeps every sum an exact integer. Scores
	// alike in their prefix are ordered, and ties found, by their full
	// keys; most scores share their prefix with none, and take the
	// branch-free path (a row's label is a coin toss to the predictor).
	var below, twice, npos int64
	n := len(words)
	for j := 0; j < n; {
		if j+1 == n || words[j+1]>>prefix != words[j]>>prefix {
			p := int64(words[j] & 1)
			twice += p * 2 * below
			below += 1 - p
			npos += p
			j++
			continue
		}
		i := j + 2
		for i < n && words[i]>>prefix == words[j]>>prefix {
			i++
		}
		run, keys := words[j:i], s.keys[:0]
		for _, w := range run {
			keys = append(keys, floatKey(score[w>>1&(maxRows-1)]))
		}
		s.keys = keys
		sortRun(keys, run)
		for g := 0; g < len(run); {
			k, p, h := keys[g], int64(0), g
			for ; h < len(run) && keys[h] == k; h++ {
				p += int64(run[h] & 1)
			}
			ng := int64(h-g) - p
			twice += p * (2*below + ng)
			below += ng
			npos += p
			g = h
		}
		j = i
	}
	if npos == 0 || below == 0 {
		return math.NaN()
	}
	return float64(twice) / 2 / (float64(npos) * float64(below))
}

// sortRun orders the words of a run of scores alike in prefix by their
// full keys, keys[i] being words[i]'s. Runs are mostly two or three long,
// or, in the first iterations, when a few trees give few distinct
// scores, long and tied throughout.
func sortRun(keys, words []uint64) {
	if slices.IsSorted(keys) {
		return
	}
	if len(keys) > 12 {
		pairs := make([][2]uint64, len(keys))
		for i := range pairs {
			pairs[i] = [2]uint64{keys[i], words[i]}
		}
		slices.SortFunc(pairs, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
		for i, p := range pairs {
			keys[i], words[i] = p[0], p[1]
		}
		return
	}
	for i := 1; i < len(keys); i++ {
		k, w, j := keys[i], words[i], i
		for ; j > 0 && keys[j-1] > k; j-- {
			keys[j], words[j] = keys[j-1], words[j-1]
		}
		keys[j], words[j] = k, w
	}
}

// aucBySort is auc for more rows than a word can number.
func aucBySort(score, labels []float64) float64 {
	type scored struct {
		key uint64
		pos bool
	}
	rows := make([]scored, len(score))
	for i, v := range score {
		rows[i] = scored{floatKey(v), labels[i] > 0}
	}
	slices.SortFunc(rows, func(a, b scored) int { return cmp.Compare(a.key, b.key) })
	var below, twice, npos int64
	for j := 0; j < len(rows); {
		var p, ng int64
		i := j
		for ; i < len(rows) && rows[i].key == rows[j].key; i++ {
			if rows[i].pos {
				p++
			} else {
				ng++
			}
		}
		twice += p * (2*below + ng)
		below += ng
		npos += p
		j = i
	}
	if npos == 0 || below == 0 {
		return math.NaN()
	}
	return float64(twice) / 2 / (float64(npos) * float64(below))
}

// sort returns the words of score and labels (fewer than maxRows) ordered
// by their prefixes: an LSD radix sort in three 11-bit passes.
func (s *ranker) sort(score, labels []float64) []uint64 {
	n := len(score)
	if cap(s.words) < n {
		s.words, s.tmp = make([]uint64, n), make([]uint64, n)
	}
	words, tmp := s.words[:n], s.tmp[:n]
	var count [3][1 << 11]int32
	for i, v := range score {
		w := floatKey(v)>>prefix<<prefix | uint64(i)<<1 | b2u(labels[i] > 0) // the two zeros tie
		words[i] = w
		count[0][w>>prefix&0x7ff]++
		count[1][w>>(prefix+11)&0x7ff]++
		count[2][w>>(prefix+22)]++
	}
	for d := range count {
		shift := prefix + 11*uint(d)
		c := &count[d]
		if n == 0 || int(c[words[0]>>shift&0x7ff]) == n {
			continue // every word has this digit: the pass would move nothing
		}
		var sum int32
		for b, v := range c {
			c[b] = sum
			sum += v
		}
		for _, w := range words {
			b := w >> shift & 0x7ff
			tmp[c[b]] = w
			c[b]++
		}
		words, tmp = tmp, words
	}
	s.words, s.tmp = words, tmp
	return words
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// sortKey maps a float64 to a uint64 whose unsigned order is the float's
// order: negative numbers have all bits flipped, others the sign bit set.
func sortKey(v float64) uint64 {
	b := math.Float64bits(v)
	// Branch-free: the sign is a coin toss for scores around zero.
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// reporter computes each iteration's learning-curve metrics and calls the
// callback, in iteration order, on a goroutine of its own: the sorts behind
// the AUCs then overlap the growth of the next trees instead of adding to
// it (they cost as much as a third of training on 30,000 rows).
//
// An iteration is held (add) until the next gradient pass has copied the
// training scores into it with their exponentials (wanted, send): the pass
// reads the same scores and takes the same exponentials, on every
// thread, where a copy of its own was serial and the log loss took them
// again. The last iteration gets them from wait.
type reporter struct {
	cb          func(Iteration)
	trainLabels []float64
	validLabels []float64
	held        *report // added, waiting for the training scores
	jobs        chan *report
	// Recycled buffers, those of the training rows' length in free[0]:
	// one list for both lengths would drop buffers too short to reuse.
	free [2]chan []float64
	done chan struct{}
}

type report struct {
	it                  Iteration
	score, exps, vscore []float64
}

func newReporter(cb func(Iteration), trainLabels, validLabels []float64) *reporter {
	r := &reporter{cb: cb, trainLabels: trainLabels, validLabels: validLabels,
		jobs: make(chan *report, 2), done: make(chan struct{})}
	r.free[0], r.free[1] = make(chan []float64, 8), make(chan []float64, 4)
	go r.run()
	return r
}

func (r *reporter) run() {
	var s ranker
	defer close(r.done)
	for j := range r.jobs {
		j.it.TrainLogLoss = meanLoss(j.score, j.exps, r.trainLabels, 1)
		j.it.TrainAUC = s.auc(j.score, r.trainLabels)
		if j.vscore != nil {
			j.it.ValidAUC = s.auc(j.vscore, r.validLabels)
		}
		r.recycle(j.score)
		r.recycle(j.exps)
		r.recycle(j.vscore)
		r.cb(j.it)
	}
}

// add holds an iteration with a copy of the validation scores until the
// training scores come (wanted).
func (r *reporter) add(it Iteration, vscore []float64) {
	it.Finished = time.Now()
	j := &report{it: it}
	if vscore != nil {
		j.vscore = r.clone(vscore)
	}
	r.held = j
}

// wanted is the held iteration, with room for the training scores and
// their exponentials, or nil when none is held.
func (r *reporter) wanted() *report {
	j := r.held
	if j != nil {
		n := len(r.trainLabels)
		j.score, j.exps = r.buffer(n), r.buffer(n)
	}
	return j
}

// send queues the held iteration, filled; it blocks while two reports are
// pending, which bounds the memory held.
func (r *reporter) send() {
	r.jobs <- r.held
	r.held = nil
}

// wait sends the held iteration, if any, with score, the training scores
// as it left them, and delivers every queued report before returning.
func (r *reporter) wait(score []float64) {
	if j := r.held; j != nil {
		j.score = r.clone(score)
		r.send()
	}
	close(r.jobs)
	<-r.done
}

// buffer is a recycled buffer of n floats, or a new one.
func (r *reporter) buffer(n int) []float64 {
	select {
	case b := <-r.list(n):
		return b[:n]
	default:
	}
	return make([]float64, n)
}

// clone is a copy of s in a recycled buffer.
func (r *reporter) clone(s []float64) []float64 {
	b := r.buffer(len(s))
	copy(b, s)
	return b
}

func (r *reporter) recycle(b []float64) {
	if b == nil {
		return
	}
	select {
	case r.list(len(b)) <- b:
	default:
	}
}

func (r *reporter) list(n int) chan []float64 {
	if n == len(r.trainLabels) {
		return r.free[0]
	}
	return r.free[1]
}
