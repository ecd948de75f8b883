package gbdt

import (
	"math"
	"slices"
	"time"
)

// logLoss is the mean binary log loss of raw scores, with probabilities
// clipped away from 0 and 1 as LightGBM's binary_logloss does.
func logLoss(score, labels []float64) float64 {
	// A row's loss is -log p = log(1+e) with p = 1/(1+e) the probability
	// of its own label (0 or 1, as checked): e = e^-x for a positive,
	// e^x for a negative, accurate near both ends unlike LightGBM's 1-p.
	// p clipped at 1e-15 is 1+e capped at 1e15. The logarithms, the
	// costliest part, are taken of products of 16 rows' 1+e: such a
	// product stays far below the largest double, and its rounding errors
	// weigh no more than those of the 16 logarithms it replaces.
	const chunk = 16
	var s float64
	prod := 1.0
	for i, x := range score {
		t := 1 + math.Exp(x*(1-2*labels[i]))
		if t > 1e15 { // rare: a branch, cheaper than min's NaN rules
			t = 1e15
		}
		prod *= t
		if i%chunk == chunk-1 {
			s += math.Log(prod)
			prod = 1
		}
	}
	s += math.Log(prod)
	return s / float64(len(score))
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
	keys, ktmp []uint64
	pos, ptmp  []bool
}

// auc is the package's auc, computed in s's scratch.
func (s *ranker) auc(score, labels []float64) float64 {
	s.sort(score, labels)
	// Lowest scores first: each group of tied scores adds its positives
	// times the negatives ranked below them, plus half its own negatives.
	// Counting twice the area keeps every sum an exact integer.
	var below, twice, npos int64
	keys, pos := s.keys, s.pos
	for j := 0; j < len(keys); {
		var p, n int64
		i := j
		for ; i < len(keys) && keys[i] == keys[j]; i++ {
			if pos[i] {
				p++
			} else {
				n++
			}
		}
		twice += p * (2*below + n)
		below += n
		npos += p
		j = i
	}
	if npos == 0 || below == 0 {
		return math.NaN()
	}
	return float64(twice) / 2 / (float64(npos) * float64(below))
}

// prefix is the part of a key that sort's radix passes order: three 11-bit
// digits, about six significant decimal digits of a score.
const prefix = 31

// sort fills s.keys with the order-preserving keys of score, ascending,
// and s.pos with whether each one's label is positive. An LSD radix sort
// orders the keys' top 33 bits in three passes; scores alike in those
// (ties, mostly) are then ordered in full among themselves.
func (s *ranker) sort(score, labels []float64) {
	n := len(score)
	if cap(s.keys) < n {
		s.keys, s.ktmp = make([]uint64, n), make([]uint64, n)
		s.pos, s.ptmp = make([]bool, n), make([]bool, n)
	}
	keys, ktmp, pos, ptmp := s.keys[:n], s.ktmp[:n], s.pos[:n], s.ptmp[:n]
	var count [3][1 << 11]int32
	for i, v := range score {
		k := floatKey(v) // the two zeros tie
		keys[i], pos[i] = k, labels[i] > 0
		count[0][k>>prefix&0x7ff]++
		count[1][k>>(prefix+11)&0x7ff]++
		count[2][k>>(prefix+22)]++
	}
	for d := range count {
		shift := prefix + 11*uint(d)
		c := &count[d]
		if n == 0 || int(c[keys[0]>>shift&0x7ff]) == n {
			continue // every key has this digit: the pass would move nothing
		}
		var sum int32
		for b, v := range c {
			c[b] = sum
			sum += v
		}
		for i, k := range keys {
			b := k >> shift & 0x7ff
			ktmp[c[b]], ptmp[c[b]] = k, pos[i]
			c[b]++
		}
		keys, ktmp, pos, ptmp = ktmp, keys, ptmp, pos
	}
	for j := 0; j < n; {
		i, sorted := j+1, true
		for ; i < n && keys[i]>>prefix == keys[j]>>prefix; i++ {
			sorted = sorted && keys[i-1] <= keys[i]
		}
		if !sorted {
			sortRun(keys[j:i], pos[j:i])
		}
		j = i
	}
	s.keys, s.ktmp, s.pos, s.ptmp = keys, ktmp, pos, ptmp
}

// sortRun orders keys that share their prefix by their remaining bits,
// each carrying its label in the bit freed at the bottom.
func sortRun(keys []uint64, pos []bool) {
	const low = 1<<prefix - 1
	top := keys[0] &^ low
	for i, k := range keys {
		keys[i] = (k&low)<<1 | b2u(pos[i])
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i], pos[i] = top|k>>1, k&1 == 1
	}
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
type reporter struct {
	cb          func(Iteration)
	trainLabels []float64
	validLabels []float64
	jobs        chan report
	free        chan []float64 // recycled score copies
	done        chan struct{}
}

type report struct {
	it            Iteration
	score, vscore []float64
}

func newReporter(cb func(Iteration), trainLabels, validLabels []float64) *reporter {
	r := &reporter{cb: cb, trainLabels: trainLabels, validLabels: validLabels,
		jobs: make(chan report, 2), free: make(chan []float64, 6), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *reporter) run() {
	var s ranker
	defer close(r.done)
	for j := range r.jobs {
		j.it.TrainLogLoss = logLoss(j.score, r.trainLabels)
		j.it.TrainAUC = s.auc(j.score, r.trainLabels)
		if j.vscore != nil {
			j.it.ValidAUC = s.auc(j.vscore, r.validLabels)
		}
		r.recycle(j.score)
		r.recycle(j.vscore)
		r.cb(j.it)
	}
}

// add queues an iteration with copies of the current scores; it blocks
// while two reports are pending, which bounds the memory held.
func (r *reporter) add(it Iteration, score, vscore []float64) {
	it.Finished = time.Now()
	j := report{it: it, score: r.copyOf(score)}
	if vscore != nil {
		j.vscore = r.copyOf(vscore)
	}
	r.jobs <- j
}

// wait delivers every queued report before returning.
func (r *reporter) wait() {
	close(r.jobs)
	<-r.done
}

func (r *reporter) copyOf(s []float64) []float64 {
	select {
	case b := <-r.free:
		if cap(b) >= len(s) {
			return append(b[:0], s...)
		}
	default:
	}
	return append([]float64(nil), s...)
}

func (r *reporter) recycle(b []float64) {
	if b == nil {
		return
	}
	select {
	case r.free <- b:
	default:
	}
}
