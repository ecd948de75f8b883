package gbdt

import (
	"math"
	"slices"
)

// epsilon is LightGBM's kEpsilon, added to hessian sums in split search.
const epsilon = 1e-15

// splitInfo is the best split found for a leaf.
type splitInfo struct {
	gain        float64 // gain over the unsplit leaf minus min_gain_to_split; -Inf when none
	feature     int
	threshold   int  // numeric: the last bin going left
	defaultLeft bool // numeric: NaN (or zero bin) goes left
	catBins     []int
	leftG       float64
	leftH       float64
	leftN       int
	rightG      float64
	rightH      float64
	rightN      int
	leftOut     float64
	rightOut    float64
}

func noSplit() splitInfo { return splitInfo{gain: math.Inf(-1), feature: -1} }

// better orders splits as LightGBM's SplitInfo::operator>: higher gain, then
// the smaller feature index.
func (s *splitInfo) better(o *splitInfo) bool {
	if s.gain != o.gain {
		return s.gain > o.gain
	}
	if s.feature < 0 {
		return false
	}
	return o.feature < 0 || s.feature < o.feature
}

// leafStats are the totals and the output bounds of a leaf being split.
type leafStats struct {
	g, h     float64
	n        int
	min, max float64 // monotone constraint bounds of the leaf's output
}

// searcher holds the regularisation parameters for split search.
type searcher struct {
	l1, l2, minGain  float64
	minData          int
	minHess          float64
	maxCatOnehot     int
	maxCatThreshold  int
	catSmooth, catL2 float64
	minDataPerGroup  int
	useMC            bool
}

func thresholdL1(g, l1 float64) float64 {
	r := math.Abs(g) - l1
	if r <= 0 {
		return 0
	}
	return math.Copysign(r, g)
}

// leafOutput is LightGBM's CalculateSplittedLeafOutput without smoothing or
// max_delta_step, clamped to the monotone bounds.
func (s *searcher) leafOutput(g, h, l2 float64, lo, hi float64) float64 {
	out := -thresholdL1(g, s.l1) / (h + l2)
	if s.useMC {
		out = min(max(out, lo), hi)
	}
	return out
}

func (s *searcher) leafGain(g, h, l2 float64) float64 {
	t := thresholdL1(g, s.l1)
	return t * t / (h + l2)
}

func (s *searcher) gainGivenOutput(g, h, l2, out float64) float64 {
	t := thresholdL1(g, s.l1)
	return -(2*t*out + (h+l2)*out*out)
}

// splitGain is GetSplitGains: the summed gain of both children, 0 when the
// outputs break the monotone direction mono.
func (s *searcher) splitGain(lg, lh, rg, rh, l2 float64, leaf *leafStats, mono int8) float64 {
	if !s.useMC {
		return s.leafGain(lg, lh, l2) + s.leafGain(rg, rh, l2)
	}
	lo := s.leafOutput(lg, lh, l2, leaf.min, leaf.max)
	ro := s.leafOutput(rg, rh, l2, leaf.min, leaf.max)
	if (mono > 0 && lo > ro) || (mono < 0 && lo < ro) {
		return 0
	}
	return s.gainGivenOutput(lg, lh, l2, lo) + s.gainGivenOutput(rg, rh, l2, ro)
}

// roundInt is LightGBM's Common::RoundInt.
func roundInt(x float64) int { return int(x + 0.5) }

// fill sets a split's child sums and outputs from the left side's sums
// (hessian including epsilon), as LightGBM fills SplitInfo. Counts are
// estimates; the trainer replaces them with the partition's.
func (s *searcher) fill(c *splitInfo, leaf *leafStats, lg, lh float64, ln int, l2 float64) {
	c.leftOut = s.leafOutput(lg, lh, l2, leaf.min, leaf.max)
	c.rightOut = s.leafOutput(leaf.g-lg, leaf.h-lh, l2, leaf.min, leaf.max)
	c.leftG, c.leftH, c.leftN = lg, lh-epsilon, ln
	c.rightG, c.rightH, c.rightN = leaf.g-lg, leaf.h-lh-epsilon, leaf.n-ln
}

// numerical finds the best threshold of a numeric feature, as LightGBM's
// FindBestThresholdSequentially: a reverse scan (missing values left) and,
// for a feature with NaN, a forward scan (missing values right). It reports
// whether any threshold passed the constraints and beat the leaf's gain.
func (s *searcher) numerical(hist []histEntry, m *binMapper, f int, leaf *leafStats, mono int8, best *splitInfo) bool {
	nb := m.numBin
	gainShift := s.leafGain(leaf.g, leaf.h, s.l2)
	minShift := gainShift + s.minGain
	nanBin := m.missing == MissingNaN
	cf := float64(leaf.n) / leaf.h
	// Without L1 or monotone constraints the gain is plain arithmetic
	// (bit-identical to splitGain's).
	fast := s.l1 == 0 && !s.useMC
	cand := noSplit()
	cand.feature = f
	bestGain := math.Inf(-1)
	var bestT int
	var bestLG, bestLH float64
	var bestLN int
	bestLeft := false
	if !(nanBin && nb <= 2) {
		// Reverse: accumulate the right side from the top bin down; the NaN
		// bin stays on the left.
		top := nb - 1
		if nanBin {
			top = nb - 2
		}
		var rg float64
		rh := epsilon
		rn := 0
		for t := top; t >= 1; t-- {
			e := &hist[t]
			rg += e.g
			rh += e.h
			rn += roundInt(e.h * cf)
			if rn < s.minData || rh < s.minHess {
				continue
			}
			ln := leaf.n - rn
			if ln < s.minData {
				break
			}
			lh := leaf.h - rh
			if lh < s.minHess {
				break
			}
			lg := leaf.g - rg
			var gain float64
			if fast {
				gain = lg*lg/(lh+s.l2) + rg*rg/(rh+s.l2)
			} else {
				gain = s.splitGain(lg, lh, rg, rh, s.l2, leaf, mono)
			}
			if gain <= minShift {
				continue
			}
			if gain > bestGain {
				bestGain, bestT = gain, t-1
				bestLG, bestLH, bestLN = lg, lh, ln
				bestLeft = true
			}
		}
	}
	if nanBin {
		// Forward: accumulate the left side; the NaN bin stays on the right.
		fwdBest := math.Inf(-1)
		var fT, fLN int
		var fLG, fLH float64
		var lg float64
		lh := epsilon
		ln := 0
		for t := 0; t <= nb-2; t++ {
			e := &hist[t]
			lg += e.g
			lh += e.h
			ln += roundInt(e.h * cf)
			if ln < s.minData || lh < s.minHess {
				continue
			}
			rn := leaf.n - ln
			if rn < s.minData {
				break
			}
			rh := leaf.h - lh
			if rh < s.minHess {
				break
			}
			rg := leaf.g - lg
			var gain float64
			if fast {
				gain = lg*lg/(lh+s.l2) + rg*rg/(rh+s.l2)
			} else {
				gain = s.splitGain(lg, lh, rg, rh, s.l2, leaf, mono)
			}
			if gain <= minShift {
				continue
			}
			if gain > fwdBest {
				fwdBest, fT = gain, t
				fLG, fLH, fLN = lg, lh, ln
			}
		}
		if fwdBest > bestGain {
			bestGain, bestT = fwdBest, fT
			bestLG, bestLH, bestLN = fLG, fLH, fLN
			bestLeft = false
		}
	}
	if math.IsInf(bestGain, -1) {
		return false
	}
	cand.gain = bestGain - minShift
	cand.threshold = bestT
	cand.defaultLeft = bestLeft
	s.fill(&cand, leaf, bestLG, bestLH, bestLN, s.l2)
	if cand.better(best) {
		*best = cand
	}
	return true
}

// categorical finds the best categorical split, as LightGBM's
// FindBestThresholdCategoricalInner: one category against the rest when the
// feature has at most max_cat_to_onehot bins, otherwise categories sorted by
// sum_grad/(sum_hess+cat_smooth) and scanned from both ends. Bin 0 (NaN,
// negative and rare categories) always goes right. scratch is reused
// between calls. Like numerical, it reports whether any split passed the
// constraints and beat the leaf's gain (LightGBM's is_splittable_).
func (s *searcher) categorical(hist []histEntry, m *binMapper, f int, leaf *leafStats, scratch *[]int, best *splitInfo) bool {
	gainShift := s.leafGain(leaf.g, leaf.h, s.l2)
	minShift := gainShift + s.minGain
	nb := m.numBin
	cf := float64(leaf.n) / leaf.h
	bestGain := math.Inf(-1)
	var bestLG, bestLH float64
	var bestLN int
	l2 := s.l2
	var left []int
	if nb <= s.maxCatOnehot {
		bestBin := -1
		for t := 1; t < nb; t++ {
			e := &hist[t]
			n := roundInt(e.h * cf)
			if n < s.minData || e.h < s.minHess {
				continue
			}
			on := leaf.n - n
			if on < s.minData {
				continue
			}
			oh := leaf.h - e.h - epsilon
			if oh < s.minHess {
				continue
			}
			og := leaf.g - e.g
			gain := s.splitGain(e.g, e.h+epsilon, og, oh, l2, leaf, 0)
			if gain <= minShift {
				continue
			}
			if gain > bestGain {
				bestGain, bestBin = gain, t
				bestLG, bestLH, bestLN = e.g, e.h+epsilon, n
			}
		}
		if bestBin < 0 {
			return false
		}
		left = []int{bestBin}
	} else {
		order := (*scratch)[:0]
		defer func() { *scratch = order }()
		for t := 1; t < nb; t++ {
			if float64(roundInt(hist[t].h*cf)) >= s.catSmooth {
				order = append(order, t)
			}
		}
		used := len(order)
		l2 += s.catL2
		ctr := func(t int) float64 { return hist[t].g / (hist[t].h + s.catSmooth) }
		slices.SortStableFunc(order, func(a, b int) int {
			ca, cb := ctr(a), ctr(b)
			switch {
			case ca < cb:
				return -1
			case ca > cb:
				return 1
			}
			return 0
		})
		maxNum := min(s.maxCatThreshold, (used+1)/2)
		bestK, bestDir := -1, 1
		for _, dir := range []int{1, -1} {
			pos := 0
			if dir < 0 {
				pos = used - 1
			}
			var lg float64
			lh := epsilon
			ln, group := 0, 0
			for i := 0; i < used && i < maxNum; i++ {
				e := &hist[order[pos]]
				pos += dir
				lg += e.g
				lh += e.h
				ln += roundInt(e.h * cf)
				group += roundInt(e.h * cf)
				if ln < s.minData || lh < s.minHess {
					continue
				}
				rn := leaf.n - ln
				if rn < s.minData || rn < s.minDataPerGroup {
					break
				}
				rh := leaf.h - lh
				if rh < s.minHess {
					break
				}
				if group < s.minDataPerGroup {
					continue
				}
				group = 0
				rg := leaf.g - lg
				gain := s.splitGain(lg, lh, rg, rh, l2, leaf, 0)
				if gain <= minShift {
					continue
				}
				if gain > bestGain {
					bestGain, bestK, bestDir = gain, i, dir
					bestLG, bestLH, bestLN = lg, lh, ln
				}
			}
		}
		if bestK < 0 {
			return false
		}
		for i := 0; i <= bestK; i++ {
			if bestDir > 0 {
				left = append(left, order[i])
			} else {
				left = append(left, order[used-1-i])
			}
		}
	}
	cand := splitInfo{gain: bestGain - minShift, feature: f, catBins: left}
	s.fill(&cand, leaf, bestLG, bestLH, bestLN, l2)
	if cand.better(best) {
		*best = cand
	}
	return true
}
