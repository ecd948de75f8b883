package gbdt

import (
	"math"
	"testing"
)

// numericalPlain is searcher.numerical without L1 or monotone constraints
// and without pruning: every threshold's gain is computed. It is the
// oracle for the pruned search.
func numericalPlain(s *searcher, hist []histEntry, m *binMapper, f int, leaf *leafStats, best *splitInfo) bool {
	nb := m.numBin
	minShift := s.leafGain(leaf.g, leaf.h, s.l2) + s.minGain
	nanBin := m.missing == MissingNaN
	cf := float64(leaf.n) / leaf.h
	type pick struct {
		gain   float64
		t      int
		lg, lh float64
		ln     int
	}
	scan := func(from, to, step int, reverse bool) pick {
		p := pick{gain: math.Inf(-1)}
		var ag float64
		ah := epsilon
		an := 0
		for t := from; t != to; t += step {
			ag += hist[t].g
			ah += hist[t].h
			an += roundInt(hist[t].h * cf)
			if an < s.minData || ah < s.minHess {
				continue
			}
			bn, bh, bg := leaf.n-an, leaf.h-ah, leaf.g-ag
			if bn < s.minData || bh < s.minHess {
				break
			}
			gain := ag*ag/(ah+s.l2) + bg*bg/(bh+s.l2)
			if gain <= minShift || gain <= p.gain {
				continue
			}
			if reverse {
				p = pick{gain, t - 1, bg, bh, bn}
			} else {
				p = pick{gain, t, ag, ah, an}
			}
		}
		return p
	}
	rev := pick{gain: math.Inf(-1)}
	if !(nanBin && nb <= 2) {
		top := nb - 1
		if nanBin {
			top = nb - 2
		}
		rev = scan(top, 0, -1, true)
	}
	left := true
	if nanBin {
		if fwd := scan(0, nb-1, 1, false); fwd.gain > rev.gain {
			rev, left = fwd, false
		}
	}
	if math.IsInf(rev.gain, -1) {
		return false
	}
	cand := noSplit()
	cand.feature, cand.gain, cand.threshold, cand.defaultLeft = f, rev.gain-minShift, rev.t, left
	s.fill(&cand, leaf, rev.lg, rev.lh, rev.ln, s.l2)
	if cand.better(best) {
		*best = cand
	}
	return true
}

// TestNumericalPrune checks that passing over thresholds that cannot win
// changes nothing: the chosen split, its sums and whether the feature is
// splittable equal the plain search's, whatever the best split of the
// features before it. Repeated bins make many thresholds tie.
func TestNumericalPrune(t *testing.T) {
	r := newRand(11)
	for i := range 4000 {
		nb := 2 + int(r.float()*60)
		hist := make([]histEntry, nb)
		var leaf leafStats
		for b := range hist {
			switch {
			case b > 0 && r.float() < 0.3:
				hist[b] = hist[b-1]
			case r.float() < 0.1:
			default:
				hist[b] = histEntry{g: r.float()*20 - 10, h: r.float() * 5}
			}
			leaf.g += hist[b].g
			leaf.h += hist[b].h
		}
		if leaf.h == 0 {
			continue
		}
		leaf.n = 1 + int(leaf.h*4)
		leaf.min, leaf.max = math.Inf(-1), math.Inf(1)
		s := searcher{l2: []float64{0, 1e-3, 1, 10}[i%4], minData: int(r.float() * 6), minHess: []float64{0, 1e-3, 1}[i%3]}
		if i%5 == 0 {
			s.minGain = r.float() * 3
		}
		m := &binMapper{numBin: nb, missing: []int{MissingNone, MissingNaN}[i%2]}
		prior := noSplit()
		switch i % 4 {
		case 1:
			prior.feature, prior.gain = 0, r.float()*2
		case 2:
			// Exactly the best gain of this feature: a tie the lower
			// feature index wins, never pruned.
			var own splitInfo = noSplit()
			if numericalPlain(&s, hist, m, 3, &leaf, &own) {
				prior.feature, prior.gain = 5, own.gain
			}
		case 3:
			prior.feature, prior.gain = 0, r.float()*100
		}
		want, got := prior, prior
		wantOK := numericalPlain(&s, hist, m, 3, &leaf, &want)
		gotOK := s.numerical(hist, m, 3, &leaf, 0, &got)
		if gotOK != wantOK || !sameSplit(&got, &want) {
			t.Fatalf("case %d (%d bins, %v, prior %+v): numerical = %v %+v, plain search = %v %+v", i, nb, m.missing, prior, gotOK, got, wantOK, want)
		}
	}
}

func sameSplit(a, b *splitInfo) bool {
	return a.gain == b.gain && a.feature == b.feature && a.threshold == b.threshold && a.defaultLeft == b.defaultLeft &&
		a.leftG == b.leftG && a.leftH == b.leftH && a.leftN == b.leftN && a.rightG == b.rightG && a.rightH == b.rightH &&
		a.rightN == b.rightN && a.leftOut == b.leftOut && a.rightOut == b.rightOut
}
