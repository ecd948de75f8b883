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

// pruneMargin is the relative margin of pruneBar: far above the few
// roundings on either side of its test.
const pruneMargin = 1e-12

// pruneBar is the bar below which scan passes over a threshold without
// computing its gain a/b + c/d (b, d > 0), where no gain at or below bar
// can be chosen. The test a*d + c*b < bar*(b*d) takes products only, and
// its roundings and the gain's are a few parts in 1e16: a threshold it
// passes over has a computed gain below bar/(1-pruneMargin) for certain,
// so the search returns exactly what computing every gain would. NaN and
// overflow fail the test and fall back to the gain.
func pruneBar(bar float64) float64 {
	if bar <= 0 {
		return 0 // the test then passes over nothing
	}
	return bar * (1 - pruneMargin)
}

// numerical finds the best threshold of a numeric feature, as LightGBM's
// FindBestThresholdSequentially: a reverse scan (missing values left) and,
// for a feature with NaN, a forward scan (missing values right). It reports
// whether any threshold passed the constraints and beat the leaf's gain.
func (s *searcher) numerical(hist []histEntry, m *binMapper, f int, leaf *leafStats, mono int8, best *splitInfo) bool {
	nb := m.numBin
	minShift := s.leafGain(leaf.g, leaf.h, s.l2) + s.minGain
	nanBin := m.missing == MissingNaN
	// A threshold is worth its gain only if it can beat this feature's
	// best so far and the best of the features searched before it (outer,
	// as a raw gain). Until one passes minShift the bar is minShift alone:
	// whether any does is the feature's is_splittable.
	outer := math.Inf(-1)
	if best.feature >= 0 {
		outer = best.gain + minShift
	}
	var sc scanner
	sc.init(s, leaf, minShift, outer, mono)
	rev := pick{gain: math.Inf(-1)}
	if !(nanBin && nb <= 2) {
		// Reverse: accumulate the right side from the top bin down; the NaN
		// bin stays on the left.
		top := nb - 1
		if nanBin {
			top = nb - 2
		}
		rev = sc.scan(hist, top, 0, -1, minShift)
	}
	found := !math.IsInf(rev.gain, -1)
	var lg, lh float64
	var ln, t int
	left := true
	if found {
		lg, lh, ln, t = leaf.g-rev.g, leaf.h-rev.h, leaf.n-rev.n, rev.t-1
	}
	if nanBin {
		// Forward: accumulate the left side; the NaN bin stays on the
		// right. It must beat the reverse scan, which wins ties.
		floor := minShift
		if found {
			floor = max(rev.gain, outer)
		}
		if fwd := sc.scan(hist, 0, nb-1, 1, floor); fwd.gain > rev.gain {
			rev, found, left = fwd, true, false
			lg, lh, ln, t = fwd.g, fwd.h, fwd.n, fwd.t
		}
	}
	if !found {
		return false
	}
	cand := noSplit()
	cand.feature = f
	cand.gain = rev.gain - minShift
	cand.threshold = t
	cand.defaultLeft = left
	s.fill(&cand, leaf, lg, lh, ln, s.l2)
	if cand.better(best) {
		*best = cand
	}
	return true
}

// pick is the best threshold of one scan: its gain, its bin and the sums
// of the side the scan accumulated.
type pick struct {
	gain float64
	t    int
	g, h float64
	n    int
}

// scanner holds what scan reads at every bin, in locals it copies so that
// the loop keeps them in registers.
type scanner struct {
	s               *searcher
	leaf            *leafStats
	g, h, cf        float64
	n, minData      int
	minHess, l2     float64
	minShift, outer float64
	fast            bool
	mono            int8
}

func (c *scanner) init(s *searcher, leaf *leafStats, minShift, outer float64, mono int8) {
	*c = scanner{s: s, leaf: leaf, g: leaf.g, h: leaf.h, cf: float64(leaf.n) / leaf.h, n: leaf.n,
		minData: s.minData, minHess: s.minHess, l2: s.l2, minShift: minShift, outer: outer,
		// Without L1 or monotone constraints the gain is plain arithmetic
		// (bit-identical to splitGain's).
		fast: s.l1 == 0 && !s.useMC, mono: mono}
}

// scan accumulates bins from, from+step, ... up to (not including) to and
// returns the threshold of highest gain above minShift, the first of
// equals. Gains below floor may be passed over (see pruneBar), and once
// one above minShift is found, gains below outer too.
// Scanning down, the accumulated side is the right one and bin t's
// threshold is t-1; scanning up, it is the left one and t.
func (c *scanner) scan(hist []histEntry, from, to, step int, floor float64) pick {
	p := pick{gain: math.Inf(-1)}
	bar := pruneBar(floor)
	cf, n, minData, minHess, l2 := c.cf, c.n, c.minData, c.minHess, c.l2
	var ag float64
	ah := epsilon
	an := 0
	for t := from; (to-t)*step > 0; t += step {
		e := &hist[t]
		ag += e.g
		ah += e.h
		an += roundInt(e.h * cf)
		if an < minData || ah < minHess {
			continue
		}
		on := n - an
		if on < minData {
			break
		}
		oh := c.h - ah
		if oh < minHess {
			break
		}
		og := c.g - ag
		var gain float64
		switch {
		case c.fast:
			a, b, x, d := og*og, oh+l2, ag*ag, ah+l2
			if a*d+x*b < bar*(b*d) {
				continue
			}
			gain = a/b + x/d
		case step < 0:
			gain = c.s.splitGain(og, oh, ag, ah, l2, c.leaf, c.mono)
		default:
			gain = c.s.splitGain(ag, ah, og, oh, l2, c.leaf, c.mono)
		}
		if gain <= c.minShift || gain <= p.gain {
			continue
		}
		p = pick{gain: gain, t: t, g: ag, h: ah, n: an}
		bar = pruneBar(max(gain, floor, c.outer))
	}
	return p
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
