package gbdt

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// ErrData is wrapped by every error about the training or validation data.
var ErrData = errors.New("invalid data")

// MaxCategory is the largest categorical code accepted. LightGBM stores
// categories as int32 bitset positions; a bound keeps the bitsets small.
const MaxCategory = 1<<20 - 1

// zeroThreshold is LightGBM's kZeroThreshold, the float 1e-35f widened to
// double: values this close to zero are zero for binning.
var zeroThreshold = float64(float32(1e-35))

// Dataset is training or validation data, column-major: Columns[f][row] is
// feature f of a row. NaN marks a missing value. Categorical features hold
// non-negative integer codes; NaN or a negative code is missing.
type Dataset struct {
	Columns     [][]float64
	Labels      []float64 // 0 or 1
	Names       []string  // optional; default Column_0, Column_1, ... as LightGBM
	Categorical []bool    // optional; indexed like Columns
}

// DatasetFromRows builds a column-major Dataset from row-major values.
func DatasetFromRows(rows [][]float64, labels []float64, names []string, categorical []bool) (*Dataset, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no rows", ErrData)
	}
	nf := len(rows[0])
	cols := make([][]float64, nf)
	for f := range cols {
		cols[f] = make([]float64, len(rows))
	}
	for r, row := range rows {
		if len(row) != nf {
			return nil, fmt.Errorf("%w: row %d has %d values, row 0 has %d", ErrData, r, len(row), nf)
		}
		for f, v := range row {
			cols[f][r] = v
		}
	}
	return &Dataset{Columns: cols, Labels: labels, Names: names, Categorical: categorical}, nil
}

func (d *Dataset) rows() int {
	if len(d.Columns) == 0 {
		return len(d.Labels)
	}
	return len(d.Columns[0])
}

// check validates shapes and labels. what names the set in errors.
func (d *Dataset) check(what string, nf int) error {
	if d == nil {
		return fmt.Errorf("%w: %s set is nil", ErrData, what)
	}
	if len(d.Columns) == 0 {
		return fmt.Errorf("%w: %s set has no features", ErrData, what)
	}
	if nf >= 0 && len(d.Columns) != nf {
		return fmt.Errorf("%w: %s set has %d features, training set has %d", ErrData, what, len(d.Columns), nf)
	}
	n := len(d.Columns[0])
	if n == 0 {
		return fmt.Errorf("%w: %s set has no rows", ErrData, what)
	}
	for f, c := range d.Columns {
		if len(c) != n {
			return fmt.Errorf("%w: %s set: feature %d has %d rows, feature 0 has %d", ErrData, what, f, len(c), n)
		}
	}
	if len(d.Labels) != n {
		return fmt.Errorf("%w: %s set has %d labels for %d rows", ErrData, what, len(d.Labels), n)
	}
	if d.Names != nil && len(d.Names) != len(d.Columns) {
		return fmt.Errorf("%w: %s set has %d names for %d features", ErrData, what, len(d.Names), len(d.Columns))
	}
	if d.Categorical != nil && len(d.Categorical) != len(d.Columns) {
		return fmt.Errorf("%w: %s set has %d categorical flags for %d features", ErrData, what, len(d.Categorical), len(d.Columns))
	}
	for i, y := range d.Labels {
		if y != 0 && y != 1 {
			return fmt.Errorf("%w: %s set: label of row %d is %v, want 0 or 1", ErrData, what, i, y)
		}
	}
	for f, c := range d.Columns {
		if d.Categorical == nil || !d.Categorical[f] {
			continue
		}
		for i, v := range c {
			if math.IsNaN(v) || v < 0 {
				continue
			}
			if v != math.Trunc(v) {
				return fmt.Errorf("%w: %s set: categorical feature %s, row %d: value %v is not an integer code", ErrData, what, d.name(f), i, v)
			}
			if v > MaxCategory {
				return fmt.Errorf("%w: %s set: categorical feature %s, row %d: code %v exceeds the largest supported category code %d", ErrData, what, d.name(f), i, v, MaxCategory)
			}
		}
	}
	return nil
}

func (d *Dataset) name(f int) string {
	if d.Names != nil {
		return strconv.Quote(d.Names[f])
	}
	return "Column_" + strconv.Itoa(f)
}

// binMapper quantises one feature as LightGBM's BinMapper does.
type binMapper struct {
	numBin      int
	missing     int       // MissingNone or MissingNaN
	categorical bool      // bins are categories; bin 0 holds NaN, negatives and rare categories
	trivial     bool      // one bin only, or no split can satisfy min_data_in_leaf: never split on
	upper       []float64 // numeric: upper bound of each bin except a NaN bin
	bin2cat     []int     // categorical: category of each bin, -1 for bin 0
	cat2bin     map[int]int
	defaultBin  int // bin of the value 0
	min, max    float64
}

// info is LightGBM's feature_infos entry (BinMapper::bin_info_string).
func (m *binMapper) info() string {
	if m.trivial {
		return "none"
	}
	if m.categorical {
		s := make([]string, len(m.bin2cat))
		for i, c := range m.bin2cat {
			s[i] = strconv.Itoa(c)
		}
		return strings.Join(s, ":")
	}
	return "[" + strconv.FormatFloat(m.min, 'g', 17, 64) + ":" + strconv.FormatFloat(m.max, 'g', 17, 64) + "]"
}

// valueToBin maps a raw value to its bin (BinMapper::ValueToBin).
func (m *binMapper) valueToBin(v float64) int {
	if m.categorical {
		if math.IsNaN(v) || v < 0 {
			return 0
		}
		if b, ok := m.cat2bin[int(v)]; ok {
			return b
		}
		return 0
	}
	if math.IsNaN(v) {
		if m.missing == MissingNaN {
			return m.numBin - 1
		}
		v = 0
	}
	// First bin whose upper bound is >= v; the last numeric bin is +Inf.
	lo, hi := 0, len(m.upper)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if v <= m.upper[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// binColumn sets dst[r] to the bin of col[r], as valueToBin. Binning
// searches the bounds for every value of the training set, and a search
// branching on the data is mispredicted at every other step, so numeric
// features search integer keys that order as the bounds do, without
// branches (searchKeys).
func binColumn[T uint8 | uint16](m *binMapper, col []float64, dst []T) {
	dst = dst[:len(col)]
	if m.categorical {
		for r, v := range col {
			dst[r] = T(m.valueToBin(v))
		}
		return
	}
	keys := make([]uint64, len(m.upper))
	for i, u := range m.upper {
		keys[i] = floatKey(u)
	}
	for r, v := range col {
		if math.IsNaN(v) {
			if m.missing == MissingNaN {
				dst[r] = T(m.numBin - 1)
				continue
			}
			v = 0
		}
		dst[r] = T(searchKeys(keys, floatKey(v)))
	}
}

// floatKey maps a float64 other than NaN to a uint64 whose order is the
// float's, -0 and +0 being one key as they compare equal.
func floatKey(v float64) uint64 {
	if v == 0 {
		v = 0 // -0 becomes +0
	}
	return sortKey(v)
}

// searchKeys is the first index whose key is >= k; the last key is
// the largest (+Inf's).
func searchKeys(keys []uint64, k uint64) int {
	// The answer lies in keys[base : base+n].
	base, n := 0, len(keys)
	for n > 1 {
		half := n / 2
		// borrow is 1 when keys[base+half-1] < k. (An if would compile to
		// a branch: the compiler keeps loop-carried values out of
		// conditional moves.)
		_, borrow := bits.Sub64(keys[base+half-1], k, 0)
		base += half & -int(borrow)
		n -= half
	}
	return base
}

// nextUp is C's nextafter(a, +Inf).
func nextUp(a float64) float64 { return math.Nextafter(a, math.Inf(1)) }

// greedyFindBin chooses bin upper bounds over sorted distinct values so that
// bins hold similar counts, as LightGBM's GreedyFindBin.
func greedyFindBin(distinct []float64, counts []int, maxBin, total, minDataInBin int) []float64 {
	var bounds []float64
	n := len(distinct)
	if n <= maxBin {
		cur := 0
		for i := 0; i < n-1; i++ {
			cur += counts[i]
			if cur >= minDataInBin {
				v := nextUp((distinct[i] + distinct[i+1]) / 2)
				if len(bounds) == 0 || v > nextUp(bounds[len(bounds)-1]) {
					bounds = append(bounds, v)
					cur = 0
				}
			}
		}
		return append(bounds, math.Inf(1))
	}
	if minDataInBin > 0 {
		maxBin = max(min(maxBin, total/minDataInBin), 1)
	}
	mean := float64(total) / float64(maxBin)
	restBins, restCount := maxBin, total
	big := make([]bool, n)
	for i, c := range counts {
		if float64(c) >= mean {
			big[i] = true
			restBins--
			restCount -= c
		}
	}
	mean = float64(restCount) / float64(restBins)
	upper := make([]float64, maxBin)
	lower := make([]float64, maxBin)
	for i := range upper {
		upper[i], lower[i] = math.Inf(1), math.Inf(1)
	}
	nb := 0
	lower[0] = distinct[0]
	cur := 0
	for i := 0; i < n-1; i++ {
		if !big[i] {
			restCount -= counts[i]
		}
		cur += counts[i]
		if big[i] || float64(cur) >= mean || (big[i+1] && float64(cur) >= max(1.0, mean*0.5)) {
			upper[nb] = distinct[i]
			nb++
			lower[nb] = distinct[i+1]
			if nb >= maxBin-1 {
				break
			}
			cur = 0
			if !big[i] {
				restBins--
				mean = float64(restCount) / float64(restBins)
			}
		}
	}
	nb++
	for i := 0; i < nb-1; i++ {
		v := nextUp((upper[i] + lower[i+1]) / 2)
		if len(bounds) == 0 || v > nextUp(bounds[len(bounds)-1]) {
			bounds = append(bounds, v)
		}
	}
	return append(bounds, math.Inf(1))
}

// findBinZeroAsOneBin bins negative and positive values separately so that
// zero gets its own bin, as LightGBM's FindBinWithZeroAsOneBin.
func findBinZeroAsOneBin(distinct []float64, counts []int, maxBin, total, minDataInBin int) []float64 {
	leftData, zeroData, rightData := 0, 0, 0
	for i, v := range distinct {
		switch {
		case v <= -zeroThreshold:
			leftData += counts[i]
		case v > zeroThreshold:
			rightData += counts[i]
		default:
			zeroData += counts[i]
		}
	}
	left := len(distinct)
	for i, v := range distinct {
		if v > -zeroThreshold {
			left = i
			break
		}
	}
	var bounds []float64
	if left > 0 && maxBin > 1 {
		lmb := max(1, int(float64(leftData)/float64(total-zeroData)*float64(maxBin-1)))
		bounds = greedyFindBin(distinct[:left], counts[:left], lmb, leftData, minDataInBin)
		if len(bounds) > 0 {
			bounds[len(bounds)-1] = -zeroThreshold
		}
	}
	right := -1
	for i := left; i < len(distinct); i++ {
		if distinct[i] > zeroThreshold {
			right = i
			break
		}
	}
	rmb := maxBin - 1 - len(bounds)
	if right >= 0 && rmb > 0 {
		rb := greedyFindBin(distinct[right:], counts[right:], rmb, rightData, minDataInBin)
		bounds = append(bounds, zeroThreshold)
		bounds = append(bounds, rb...)
	} else {
		bounds = append(bounds, math.Inf(1))
	}
	return bounds
}

// findBin builds the mapper for one feature from sampled values, as
// LightGBM's BinMapper::FindBin with use_missing=true, zero_as_missing=false
// and feature_pre_filter=true (minSplit = min_data_in_leaf).
// sc, if not nil, holds buffers reused from call to call.
func findBin(values []float64, categorical bool, maxBin, minDataInBin, minSplit int, sc *binScratch) *binMapper {
	if sc == nil {
		sc = &binScratch{}
	}
	m := &binMapper{categorical: categorical, missing: MissingNone}
	total := len(values)
	nonzero := slices.Grow(sc.nonzero[:0], len(values))
	naCount := 0
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			naCount++
		case math.Abs(v) > zeroThreshold:
			nonzero = append(nonzero, v)
		}
	}
	if naCount > 0 {
		m.missing = MissingNaN
	}
	zeroCount := total - len(nonzero) - naCount
	slices.Sort(nonzero)
	distinct := slices.Grow(sc.distinct[:0], len(nonzero)+2)
	counts := slices.Grow(sc.counts[:0], len(nonzero)+2)
	defer func() { sc.nonzero, sc.distinct, sc.counts = nonzero, distinct, counts }()
	if len(nonzero) == 0 || (nonzero[0] > 0 && zeroCount > 0) {
		distinct, counts = append(distinct, 0), append(counts, zeroCount)
	}
	if len(nonzero) > 0 {
		distinct, counts = append(distinct, nonzero[0]), append(counts, 1)
	}
	for i := 1; i < len(nonzero); i++ {
		if nonzero[i] > nextUp(nonzero[i-1]) {
			if nonzero[i-1] < 0 && nonzero[i] > 0 {
				distinct, counts = append(distinct, 0), append(counts, zeroCount)
			}
			distinct, counts = append(distinct, nonzero[i]), append(counts, 1)
		} else {
			distinct[len(distinct)-1] = nonzero[i]
			counts[len(counts)-1]++
		}
	}
	if len(nonzero) > 0 && nonzero[len(nonzero)-1] < 0 && zeroCount > 0 {
		distinct, counts = append(distinct, 0), append(counts, zeroCount)
	}
	m.min, m.max = distinct[0], distinct[len(distinct)-1]

	var cntInBin []int
	if !categorical {
		if m.missing == MissingNone {
			m.upper = findBinZeroAsOneBin(distinct, counts, maxBin, total, minDataInBin)
			m.numBin = len(m.upper)
		} else {
			m.upper = findBinZeroAsOneBin(distinct, counts, maxBin-1, total-naCount, minDataInBin)
			m.numBin = len(m.upper) + 1
		}
		cntInBin = make([]int, m.numBin)
		b := 0
		for i, v := range distinct {
			for b < len(m.upper)-1 && v > m.upper[b] {
				b++
			}
			cntInBin[b] += counts[i]
		}
		if m.missing == MissingNaN {
			cntInBin[m.numBin-1] = naCount
		}
	} else {
		var cats, ccounts []int
		for i, v := range distinct {
			c := int(v)
			if c < 0 {
				naCount += counts[i]
				continue
			}
			if len(cats) == 0 || c != cats[len(cats)-1] {
				cats, ccounts = append(cats, c), append(ccounts, counts[i])
			} else {
				ccounts[len(ccounts)-1] += counts[i]
			}
		}
		m.bin2cat = []int{-1}
		m.cat2bin = map[int]int{}
		m.numBin = 1
		if total-naCount > 0 {
			// Most frequent first; ties keep the smaller code first.
			idx := make([]int, len(cats))
			for i := range idx {
				idx[i] = i
			}
			slices.SortStableFunc(idx, func(a, b int) int { return ccounts[b] - ccounts[a] })
			cut := int(math.Round(float64(float32(total-naCount) * 0.99)))
			distinctCnt := len(cats)
			if naCount > 0 {
				distinctCnt++
			}
			mb := min(distinctCnt, maxBin)
			used, cur := 0, 0
			cntInBin = []int{0}
			for cur < len(idx) && (used < cut || m.numBin < mb) {
				k := idx[cur]
				if ccounts[k] < minDataInBin && cur > 1 {
					break
				}
				m.bin2cat = append(m.bin2cat, cats[k])
				m.cat2bin[cats[k]] = m.numBin
				used += ccounts[k]
				cntInBin = append(cntInBin, ccounts[k])
				m.numBin++
				cur++
			}
			if cur == len(idx) && naCount == 0 {
				m.missing = MissingNone
			} else {
				m.missing = MissingNaN
			}
			cntInBin[0] = total - used
		}
	}
	m.trivial = m.numBin <= 1 || needFilter(cntInBin, total, minSplit, categorical)
	if !m.trivial {
		m.defaultBin = m.valueToBin(0)
	}
	return m
}

// binScratch holds findBin's buffers, reused from feature to feature:
// otherwise binning leaves some megabytes of garbage per feature, which
// with a large data set live stays resident until the next collection.
type binScratch struct {
	vals, nonzero, distinct []float64
	counts                  []int
}

// needFilter reports whether no split of the sampled counts leaves minSplit
// rows on both sides (LightGBM's NeedFilter).
func needFilter(cnt []int, total, minSplit int, categorical bool) bool {
	if !categorical {
		left := 0
		for i := 0; i < len(cnt)-1; i++ {
			left += cnt[i]
			if left >= minSplit && total-left >= minSplit {
				return false
			}
		}
		return true
	}
	if len(cnt) > 2 {
		return false
	}
	for i := 0; i < len(cnt)-1; i++ {
		if cnt[i] >= minSplit && total-cnt[i] >= minSplit {
			return false
		}
	}
	return true
}

// binned is the quantised training data, column-major with one byte per
// value when every feature has at most 256 bins.
type binned struct {
	rows    int
	mappers []*binMapper
	// offsets[f] is feature f's first slot in a histogram; offsets[nf] is the
	// histogram's length.
	offsets []int
	col8    [][]uint8
	col16   [][]uint16
	// A row-major copy of the non-trivial features' bins, when all fit a
	// byte and there are at least two: rows8[r*rowStride+k] is the bin of
	// feature rowFeat[k], whose histogram starts at rowOff[k]. See
	// histogram.go. rowPos[f] is k where rowFeat[k] == f, -1 for a
	// trivial feature. Rows of up to 32 features take 8, 16 or 32 bytes,
	// so that none straddles two cache lines; rows8 has gatherPad bytes
	// more after its last row.
	rowFeat   []int
	rowOff    []int
	rowPos    []int
	rowStride int
	rows8     []uint8
}

// rowStride is the bytes of a row of k features in binned.rows8.
func rowStride(k int) int {
	for _, s := range []int{8, 16, 32} {
		if k <= s {
			return s
		}
	}
	return k
}

// bin returns the bin of row r for feature f.
func (b *binned) bin(f, r int) int {
	if b.col8 != nil {
		return int(b.col8[f][r])
	}
	return int(b.col16[f][r])
}

// quantise finds each feature's bins from a sample of at most
// BinSampleCount rows and bins every row.
func quantise(d *Dataset, p *Params, sampleSeed uint64, threads int) *binned {
	n, nf := d.rows(), len(d.Columns)
	sample := sampleRows(n, p.BinSampleCount, sampleSeed)
	b := &binned{rows: n, mappers: make([]*binMapper, nf), offsets: make([]int, nf+1)}
	parallelBlocks(nf, threads, func(lo, hi, _ int) {
		var sc binScratch
		for f := lo; f < hi; f++ {
			col := d.Columns[f]
			vals := col
			if sample != nil {
				vals = slices.Grow(sc.vals[:0], len(sample))
				for _, r := range sample {
					vals = append(vals, col[r])
				}
				sc.vals = vals
			}
			cat := d.Categorical != nil && d.Categorical[f]
			b.mappers[f] = findBin(vals, cat, p.MaxBin, p.MinDataInBin, p.MinDataInLeaf, &sc)
		}
	})
	maxBins := 0
	for f, m := range b.mappers {
		nb := m.numBin
		if m.trivial {
			nb = 0
		}
		b.offsets[f+1] = b.offsets[f] + nb
		maxBins = max(maxBins, m.numBin)
	}
	if maxBins <= 256 {
		b.col8 = make([][]uint8, nf)
	} else {
		b.col16 = make([][]uint16, nf)
	}
	parallelFor(nf, threads, func(f int) {
		m, col := b.mappers[f], d.Columns[f]
		if b.col8 != nil {
			c := make([]uint8, n)
			if !m.trivial {
				binColumn(m, col, c)
			}
			b.col8[f] = c
			return
		}
		c := make([]uint16, n)
		if !m.trivial {
			binColumn(m, col, c)
		}
		b.col16[f] = c
	})
	if b.col8 != nil {
		b.rowPos = make([]int, nf)
		for f, m := range b.mappers {
			b.rowPos[f] = -1
			if !m.trivial {
				b.rowPos[f] = len(b.rowFeat)
				b.rowFeat = append(b.rowFeat, f)
				b.rowOff = append(b.rowOff, b.offsets[f])
			}
		}
		if k := len(b.rowFeat); k > 1 {
			b.rowStride = rowStride(k)
			b.rows8 = make([]uint8, n*b.rowStride+gatherPad)
			parallelBlocks(n, threads, func(lo, hi, _ int) {
				for j, f := range b.rowFeat {
					col := b.col8[f]
					for r := lo; r < hi; r++ {
						b.rows8[r*b.rowStride+j] = col[r]
					}
				}
			})
		}
	}
	return b
}

// sampleRows returns k sorted distinct row indices out of n, or nil when
// k >= n (all rows).
func sampleRows(n, k int, seed uint64) []int {
	if k >= n {
		return nil
	}
	// Selection sampling (Knuth's algorithm S): sorted output, one pass.
	r := newRand(seed)
	out := make([]int, 0, k)
	for i := 0; i < n && len(out) < k; i++ {
		if r.intn(n-i) < k-len(out) {
			out = append(out, i)
		}
	}
	return out
}
