package scorecard

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/creditrisk/engine/data"
)

// Bin is one bin of a feature's binning table with its training counts.
type Bin struct {
	// Label is how the bin reads: "[-inf, 11.5)", "[11.5, 24.5)",
	// "[24.5, inf)" for a numeric feature (x < split goes left), the levels
	// joined by ", " for a categorical one, "missing" for the missing bin.
	Label string `json:"label"`
	// Levels are the categorical levels in the bin, in schema order.
	Levels    []string `json:"levels,omitempty"`
	Count     int      `json:"count"`
	NonEvents int      `json:"non_events"`
	Events    int      `json:"events"`
	EventRate float64  `json:"event_rate"` // events / count; 0 for an empty bin
	WoE       float64  `json:"woe"`
	IV        float64  `json:"iv"`
	// Points are the bin's integer scorecard points (0 for a feature left
	// out of the scorecard).
	Points int `json:"points"`
}

// Feature is one input feature's binning and its part of the scorecard.
type Feature struct {
	Name string    `json:"name"`
	Type data.Kind `json:"type"`
	// Trend is the event-rate trend the bins follow (numeric features:
	// the one asked, or the one "auto" chose; categorical features:
	// ascending, their levels being ordered by event rate).
	Trend Trend `json:"trend"`
	// Splits are a numeric feature's cut points: bin i holds the values
	// x with Splits[i-1] <= x < Splits[i].
	Splits []float64 `json:"splits,omitempty"`
	Bins   []Bin     `json:"bins"`
	// Missing is the bin of missing values (NaN, or a category code the
	// schema does not know). Its WoE is 0 when it holds fewer rows than a
	// bin must, or lacks a class.
	Missing Bin `json:"missing"`
	// IV is the feature's information value, the sum of its bins' IV.
	IV       float64 `json:"iv"`
	Selected bool    `json:"selected"`
	// Coef is the logistic regression coefficient of the feature's WoE
	// (0 when not selected); negative when a higher WoE lowers the risk,
	// as it should.
	Coef float64 `json:"coef"`
	// Notes say what the binning merged, pooled or refused, and why.
	Notes []string `json:"notes,omitempty"`
}

// counts are a pre-bin's or bin's class counts.
type counts struct{ n, e int } // non-events, events

func (c counts) rows() int { return c.n + c.e }
func (c counts) rate() float64 {
	if c.rows() == 0 {
		return 0
	}
	return float64(c.e) / float64(c.rows())
}

// limits are the constraints every bin but the missing bin must meet.
type limits struct {
	total     int // training rows, missing included
	minCount  int
	minEvents int
}

func newLimits(total int, p Params) limits {
	// The small subtraction keeps 0.05·800 at 40 whatever its rounding.
	return limits{total: total, minCount: int(math.Ceil(p.MinBinShare*float64(total) - 1e-9)), minEvents: p.MinBinEvents}
}

func (l limits) ok(c counts) bool {
	return c.rows() >= max(l.minCount, 1) && c.e >= l.minEvents && c.n >= 1
}

// why says which limit c breaks.
func (l limits) why(c counts) string {
	switch {
	case c.rows() < max(l.minCount, 1):
		return fmt.Sprintf("%d rows (%.1f%%) < min_bin_share (%d rows)", c.rows(), 100*float64(c.rows())/float64(l.total), l.minCount)
	case c.e < l.minEvents:
		return fmt.Sprintf("%d events < min_bin_events %d", c.e, l.minEvents)
	default:
		return "no non-events (the WoE would be infinite)"
	}
}

// BinFeature bins one feature as Fit does, without fitting a model: for a
// report, or to look at a feature before training. Values are numbers or
// category codes into ft.Levels (NaN missing), labels 0 or 1. The feature
// is not selected and has no points.
func BinFeature(ft data.Feature, values, labels []float64, p Params) (Feature, error) {
	if err := p.check(); err != nil {
		return Feature{}, fmt.Errorf("bin %s: %w", ft.Name, err)
	}
	if len(values) != len(labels) || len(values) == 0 {
		return Feature{}, fmt.Errorf("bin %s: %d values, %d labels", ft.Name, len(values), len(labels))
	}
	for i, y := range labels {
		if y != 0 && y != 1 {
			return Feature{}, fmt.Errorf("bin %s: label %d is %v, want 0 or 1", ft.Name, i, y)
		}
	}
	if ft.Type != data.Numeric && ft.Type != data.Categorical {
		return Feature{}, fmt.Errorf("bin %s: type %v, want numeric or categorical", ft.Name, ft.Type)
	}
	return binFeature(ft, values, labels, p), nil
}

// binFeature bins one feature: values are numbers or category codes (NaN
// missing), labels 0/1.
func binFeature(ft data.Feature, values, labels []float64, p Params) Feature {
	f := Feature{Name: ft.Name, Type: ft.Type}
	lim := newLimits(len(values), p)
	var miss counts
	if ft.Type == data.Categorical {
		miss = binCategorical(&f, ft.Levels, values, labels, lim, p)
	} else {
		miss = binNumeric(&f, values, labels, lim, p.trend(ft.Name), p.MaxPrebins)
	}
	f.Missing = Bin{Label: "missing", Count: miss.rows(), NonEvents: miss.n, Events: miss.e, EventRate: miss.rate()}
	// WoE over all the feature's bins, the missing bin included, as
	// optbinning counts its totals.
	ns, es := make([]int, len(f.Bins)+1), make([]int, len(f.Bins)+1)
	for i, b := range f.Bins {
		ns[i], es[i] = b.NonEvents, b.Events
	}
	ns[len(f.Bins)], es[len(f.Bins)] = miss.n, miss.e
	useMissing := miss.rows() > 0 && lim.ok(miss)
	if !useMissing {
		if miss.rows() > 0 {
			f.Notes = append(f.Notes, fmt.Sprintf("missing bin: %s; its WoE is set to 0", lim.why(miss)))
		}
		// Its rows still count in the totals; only its evidence is dropped.
	}
	woe, iv, _ := Evidence(ns, es)
	for i := range f.Bins {
		f.Bins[i].WoE, f.Bins[i].IV = woe[i], iv[i]
		f.IV += iv[i]
	}
	if useMissing {
		f.Missing.WoE, f.Missing.IV = woe[len(f.Bins)], iv[len(f.Bins)]
		f.IV += f.Missing.IV
	}
	return f
}

// binNumeric makes quantile pre-bins of the non-missing values, merges
// them under the trend, and returns the missing rows' counts.
func binNumeric(f *Feature, values, labels []float64, lim limits, t Trend, maxPrebins int) counts {
	type obs struct{ v, y float64 }
	var xs []obs
	var miss counts
	for i, v := range values {
		if math.IsNaN(v) {
			miss = miss.add(labels[i])
			continue
		}
		xs = append(xs, obs{v, labels[i]})
	}
	slices.SortFunc(xs, func(a, b obs) int { return cmp.Compare(a.v, b.v) })
	// Cut points below the values at the quantile ranks k·n/Q, halfway to
	// the next smaller value; ties make fewer, unequal pre-bins.
	var cuts []float64
	for k := 1; k < maxPrebins; k++ {
		r := k * len(xs) / maxPrebins
		if r == 0 || r >= len(xs) {
			continue
		}
		hi := xs[r].v
		j, _ := slices.BinarySearchFunc(xs, hi, func(o obs, v float64) int { return cmp.Compare(o.v, v) })
		if j == 0 {
			continue // hi is the smallest value: nothing below it
		}
		lo := xs[j-1].v
		c := lo + (hi-lo)/2
		if !(c > lo && c <= hi) {
			c = hi
		}
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	pre := make([]counts, len(cuts)+1)
	// single[i] is the one value pre-bin i holds, NaN when it holds several.
	single := make([]float64, len(pre))
	b := 0
	for k, o := range xs {
		for b < len(cuts) && o.v >= cuts[b] {
			b++
		}
		switch {
		case pre[b].rows() == 0:
			single[b] = o.v
		case o.v != xs[k-1].v:
			single[b] = math.NaN()
		}
		pre[b] = pre[b].add(o.y)
	}
	ends, used := chooseTrend(pre, lim, t, counts{sum(pre).n + miss.n, sum(pre).e + miss.e})
	f.Trend = used
	all := sum(pre)
	if ends == nil {
		f.Notes = append(f.Notes, fmt.Sprintf("refused to split: no binning of the %d non-missing rows has every bin within the limits (all together: %s); one bin",
			all.rows(), whyOrOK(lim, all)))
		ends = []int{len(pre)}
	}
	for _, end := range ends[:len(ends)-1] {
		f.Splits = append(f.Splits, cuts[end-1])
	}
	small := 0
	for _, c := range pre {
		if c.rows() > 0 && !lim.ok(c) {
			small++
		}
	}
	switch {
	case len(pre) > 1 && len(ends) == 1:
		f.Notes = append(f.Notes, fmt.Sprintf("one bin: no split of the %d pre-bins keeps every bin within the limits (event rate %s)", len(pre), used))
	case len(pre) > 1:
		f.Notes = append(f.Notes, fmt.Sprintf("%d quantile pre-bins (%d of them below the limits) merged into %d bins (event rate %s)",
			len(pre), small, len(ends), used))
	}
	// The pre-bins are finer than a bin by design, so merging them is no
	// news; a value too rare for even a pre-bin of its own is, and is
	// named (the first few).
	binOf := binIndexes(ends)
	target := all.rows() / maxPrebins
	var rare []string
	for i, c := range pre {
		if c.rows() > 0 && c.rows() < target && !lim.ok(c) && !math.IsNaN(single[i]) && len(ends) > 1 {
			rare = append(rare, fmt.Sprintf("value %s: %s; merged into bin %s",
				strconv.FormatFloat(single[i], 'g', -1, 64), lim.why(c), intervalLabel(f.Splits, binOf[i])))
		}
	}
	if len(rare) > 5 {
		rare = append(rare[:5], fmt.Sprintf("%d more rare values merged", len(rare)-5))
	}
	f.Notes = append(f.Notes, rare...)
	start := 0
	for k, end := range ends {
		c := sum(pre[start:end])
		f.Bins = append(f.Bins, Bin{Label: intervalLabel(f.Splits, k), Count: c.rows(), NonEvents: c.n, Events: c.e, EventRate: c.rate()})
		start = end
	}
	return miss
}

// binIndexes maps each pre-bin to its bin, given the bins' ends.
func binIndexes(ends []int) []int {
	out := make([]int, ends[len(ends)-1])
	start := 0
	for k, end := range ends {
		for i := start; i < end; i++ {
			out[i] = k
		}
		start = end
	}
	return out
}

// intervalLabel is the label of numeric bin i: "[lo, hi)", the ends
// written shortest, "-inf" and "inf" outside the splits.
func intervalLabel(splits []float64, i int) string {
	lo, hi := "-inf", "inf"
	if i > 0 {
		lo = strconv.FormatFloat(splits[i-1], 'g', -1, 64)
	}
	if i < len(splits) {
		hi = strconv.FormatFloat(splits[i], 'g', -1, 64)
	}
	return "[" + lo + ", " + hi + ")"
}

func whyOrOK(l limits, c counts) string {
	if l.ok(c) {
		return "within the limits"
	}
	return l.why(c)
}

func (c counts) add(y float64) counts {
	if y == 1 {
		c.e++
	} else {
		c.n++
	}
	return c
}

func sum(cs []counts) counts {
	var s counts
	for _, c := range cs {
		s.n += c.n
		s.e += c.e
	}
	return s
}

// chooseTrend merges pre-bins under trend t, or for Auto under the best of
// the four trends as [PeakGain] says. It returns the end (exclusive) of
// each bin, nil when no binning meets the limits.
func chooseTrend(pre []counts, lim limits, t Trend, tot counts) ([]int, Trend) {
	if t != Auto {
		ends, _ := mergeBins(pre, lim, t, tot)
		return ends, t
	}
	best, bestIV, bestT := []int(nil), -1.0, Ascending
	for _, c := range []Trend{Ascending, Descending} {
		if ends, iv := mergeBins(pre, lim, c, tot); ends != nil && iv > bestIV {
			best, bestIV, bestT = ends, iv, c
		}
	}
	mono := bestIV
	for _, c := range []Trend{Peak, Valley} {
		if ends, iv := mergeBins(pre, lim, c, tot); ends != nil && iv > mono*(1+PeakGain) && iv > bestIV {
			best, bestIV, bestT = ends, iv, c
		}
	}
	return best, bestT
}

// mergeBins finds the binning of the ordered pre-bins into consecutive
// groups that maximises the IV subject to every group meeting lim and the
// groups' event rates following the trend strictly. Splitting a bin never
// lowers the IV, so the optimum keeps every cut the constraints allow. It
// is a dynamic programme over (first pre-bin, last pre-bin, phase) of the
// last group, O(P³) for P pre-bins. The IV is taken against tot, the
// class totals of all rows (the missing ones included), as the final WoE
// is. It returns the groups' ends and the IV, or nil when no binning is
// feasible.
func mergeBins(pre []counts, lim limits, t Trend, tot counts) ([]int, float64) {
	P := len(pre)
	if P == 0 {
		return nil, 0
	}
	tn, te := tot.n, tot.e
	prefix := make([]counts, P+1)
	for i, c := range pre {
		prefix[i+1] = counts{prefix[i].n + c.n, prefix[i].e + c.e}
	}
	group := func(a, b int) counts { // pre-bins a..b inclusive
		return counts{prefix[b+1].n - prefix[a].n, prefix[b+1].e - prefix[a].e}
	}
	// dir[phase]: +1 the rate must rise from the previous group, -1 fall.
	var dir []int
	switch t {
	case Ascending:
		dir = []int{+1}
	case Descending:
		dir = []int{-1}
	case Peak:
		dir = []int{+1, -1}
	case Valley:
		dir = []int{-1, +1}
	default:
		return nil, 0
	}
	ph := len(dir)
	idx := func(a, b, k int) int { return (a*P+b)*ph + k }
	val := make([]float64, P*P*ph)
	from := make([]int, P*P*ph) // previous state, -1 at the start
	for i := range val {
		val[i] = math.Inf(-1)
		from[i] = -1
	}
	for b := 0; b < P; b++ {
		for a := 0; a <= b; a++ {
			g := group(a, b)
			if !lim.ok(g) {
				continue
			}
			iv := binIV(g.n, g.e, tn, te)
			r := g.rate()
			if a == 0 {
				val[idx(a, b, 0)] = iv
				continue
			}
			for k := 0; k < ph; k++ {
				// The previous group ends at a-1, in phase k or (when k is
				// the second phase) in the first.
				for pk := 0; pk <= k; pk++ {
					for pa := 0; pa < a; pa++ {
						prev := idx(pa, a-1, pk)
						if math.IsInf(val[prev], -1) {
							continue
						}
						pr := group(pa, a-1).rate()
						if (dir[k] > 0 && r <= pr) || (dir[k] < 0 && r >= pr) {
							continue
						}
						if v := val[prev] + iv; v > val[idx(a, b, k)] {
							val[idx(a, b, k)] = v
							from[idx(a, b, k)] = prev
						}
					}
				}
			}
		}
	}
	best, bestV := -1, math.Inf(-1)
	for a := 0; a < P; a++ {
		for k := 0; k < ph; k++ {
			if v := val[idx(a, P-1, k)]; v > bestV {
				best, bestV = idx(a, P-1, k), v
			}
		}
	}
	if best < 0 {
		return nil, 0
	}
	var ends []int
	for s := best; s >= 0; s = from[s] {
		b := (s / ph) % P
		ends = append(ends, b+1)
	}
	slices.Reverse(ends)
	return ends, bestV
}

// binCategorical pools rare levels, orders the level groups by event rate
// and merges them with an ascending trend; it returns the missing rows'
// counts (NaN or a code outside the levels).
func binCategorical(f *Feature, levels []string, values, labels []float64, lim limits, p Params) counts {
	f.Trend = Ascending
	per := make([]counts, len(levels))
	var miss counts
	for i, v := range values {
		c, ok := levelCode(v, len(levels))
		if !ok {
			miss = miss.add(labels[i])
			continue
		}
		per[c] = per[c].add(labels[i])
	}
	rareMin := int(math.Ceil(p.RareShare*float64(lim.total) - 1e-9))
	type group struct {
		codes []int
		c     counts
	}
	var groups []group
	var rare group
	var rareSeen []string
	for code, c := range per {
		if c.rows() < max(rareMin, 1) {
			rare.codes = append(rare.codes, code)
			rare.c.n += c.n
			rare.c.e += c.e
			if c.rows() > 0 {
				rareSeen = append(rareSeen, levels[code])
			}
			continue
		}
		groups = append(groups, group{[]int{code}, c})
	}
	if len(rareSeen) > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("levels %s pooled as rare (%d rows; each under rare_share, %d rows)",
			quoteJoin(rareSeen), rare.c.rows(), rareMin))
	}
	if n := len(rare.codes) - len(rareSeen); n > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("%d level(s) without training rows scored with the rare group", n))
	}
	if len(rare.codes) > 0 {
		groups = append(groups, rare)
	}
	// An empty group (only unseen levels) sorts at the overall rate, so it
	// joins a neighbour of average risk.
	overall := sum(per).rate()
	rate := func(g group) float64 {
		if g.c.rows() == 0 {
			return overall
		}
		return g.c.rate()
	}
	slices.SortStableFunc(groups, func(a, b group) int { return cmp.Compare(rate(a), rate(b)) })
	// Too many groups for the O(P³) merge: combine neighbours (in rate
	// order) into maxPrebins groups of about equal rows.
	if rows := sum(per).rows(); len(groups) > p.MaxPrebins && rows == 0 {
		var one group
		for _, g := range groups {
			one.codes = append(one.codes, g.codes...)
		}
		groups = []group{one}
	} else if len(groups) > p.MaxPrebins {
		var merged []group
		var cur group
		done := 0
		for i, g := range groups {
			cur.codes = append(cur.codes, g.codes...)
			cur.c.n += g.c.n
			cur.c.e += g.c.e
			done += g.c.rows()
			if done*p.MaxPrebins >= (len(merged)+1)*rows || i == len(groups)-1 {
				merged = append(merged, cur)
				cur = group{}
			}
		}
		groups = merged
	}
	pre := make([]counts, len(groups))
	for i, g := range groups {
		pre[i] = g.c
	}
	label := func(lo, hi int) string {
		var codes []int
		for _, g := range groups[lo:hi] {
			codes = append(codes, g.codes...)
		}
		slices.Sort(codes)
		names := make([]string, len(codes))
		for i, c := range codes {
			names[i] = levels[c]
		}
		return strings.Join(names, ", ")
	}
	ends, _ := mergeBins(pre, lim, Ascending, counts{sum(pre).n + miss.n, sum(pre).e + miss.e})
	if ends == nil {
		f.Notes = append(f.Notes, fmt.Sprintf("refused to split: no grouping of the %d levels has every bin within the limits (all together: %s); one bin",
			len(levels), whyOrOK(lim, sum(pre))))
		ends = []int{len(pre)}
	}
	binOf := binIndexes(ends)
	for i, c := range pre {
		if c.rows() > 0 && !lim.ok(c) && len(ends) > 1 {
			f.Notes = append(f.Notes, fmt.Sprintf("levels {%s}: %s; merged into bin {%s}", label(i, i+1), lim.why(c), label(starts(ends, binOf[i]), ends[binOf[i]])))
		}
	}
	start := 0
	for _, end := range ends {
		c := sum(pre[start:end])
		var lv []string
		var codes []int
		for _, g := range groups[start:end] {
			codes = append(codes, g.codes...)
		}
		slices.Sort(codes)
		for _, code := range codes {
			lv = append(lv, levels[code])
		}
		f.Bins = append(f.Bins, Bin{Label: label(start, end), Levels: lv, Count: c.rows(), NonEvents: c.n, Events: c.e, EventRate: c.rate()})
		start = end
	}
	return miss
}

// starts returns where bin k begins.
func starts(ends []int, k int) int {
	if k == 0 {
		return 0
	}
	return ends[k-1]
}

// levelCode returns a category code indexing n levels; NaN, negative,
// fractional or too large values are missing.
func levelCode(v float64, n int) (int, bool) {
	if math.IsNaN(v) || v < 0 || v >= float64(n) || v != math.Trunc(v) {
		return 0, false
	}
	return int(v), true
}

func quoteJoin(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	if len(q) > 10 {
		return strings.Join(q[:10], ", ") + fmt.Sprintf(" and %d more", len(q)-10)
	}
	return strings.Join(q, ", ")
}
