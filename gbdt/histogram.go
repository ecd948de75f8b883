package gbdt

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Histograms: a leaf's histogram holds, for every bin of every non-trivial
// feature, the sums of the gradients and hessians of the leaf's rows in
// that bin. Building them is most of training's time. Every way below sums
// each bin's rows in row order (or, for features of few bins, in the same
// two interleaved orders, see addRows8Pair, merged at the same rows), so
// the way chosen, and the number of goroutines, never change the model:
//
//   - columns (buildColumns): the root's rows, in order, feature by
//     feature from the columns of bins, four features at a time so that a
//     row's gradient pair is loaded and widened once for four bins.
//   - gathered (buildGathered, buildGatheredShared): a leaf's rows are
//     scattered, and reading one byte per row and feature from the columns
//     costs a cache miss each time. The rows' bins are copied instead, a
//     chunk at a time, from the row-major copy (binned.rows8, one cache
//     line a row) into a buffer that stays in the first-level cache, and
//     summed from there four features at a time. Large leaves are gathered
//     by all goroutines together, each row once.
//   - row-wise (buildRowWise): every feature from the row-major copy
//     directly, for data whose bins all stay in the fast caches (few bins
//     in all, such as taiwan_default's 23 features).
//   - accumulate: one feature at a time; 16-bit bins, and data with a
//     single non-trivial feature.

// histEntry accumulates the gradients and hessians of one bin. As in
// LightGBM, bins carry no row count: split search estimates counts from
// hessians (see searcher.count), which keeps entries at 16 bytes.
type histEntry struct {
	g, h float64
}

// gradPair is a row's gradient and hessian, side by side so that a row
// read out of order costs one cache miss for both.
type gradPair = [2]float32

// histPad is the number of unused entries after the last feature in every
// histogram buffer (and in the scratch histograms), so that any byte-binned
// feature's histogram can be viewed as a 256-entry array (bins8) and
// indexed by a bin without a bounds check.
const histPad = 256

// bins8 views the histogram of a feature of at most 256 bins as an array;
// h must have the capacity (histPad).
func bins8(h []histEntry) *[256]histEntry {
	return (*[256]histEntry)(h[:256])
}

// addRows8 adds rows to a feature's histogram. gh holds ordered gradient
// pairs: gh[i] belongs to rows[i], so they are read sequentially.
func addRows8(hist *[256]histEntry, col []uint8, rows []int32, gh []gradPair) {
	gh = gh[:len(rows)]
	for i, r := range rows {
		e := &hist[col[r]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
}

// addAll8 adds the rows whose bins are bins, in order, with gh[i]
// belonging to bins[i].
func addAll8(hist *[256]histEntry, bins []uint8, gh []gradPair) {
	gh = gh[:len(bins)]
	for i, b := range bins {
		e := &hist[b]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
}

// addAll8x4Generic is addAll8 for four features at once, whose bins are
// c[0], ..., c[3]: the gradient pair is loaded and widened once for the
// four. Where there is no assembly, addAll8x4 is this; so it goes for
// every ...Generic function and its name without the suffix.
func addAll8x4Generic(hs *[4]*[256]histEntry, c *[4][]uint8, gh []gradPair) {
	h0, h1, h2, h3 := hs[0], hs[1], hs[2], hs[3]
	_, _, _, _ = h0[0], h1[0], h2[0], h3[0] // nil checks out of the loop
	n := len(gh)
	c0, c1, c2, c3 := c[0][:n], c[1][:n], c[2][:n], c[3][:n]
	for i := range gh {
		gg, hh := float64(gh[i][0]), float64(gh[i][1])
		e := &h0[c0[i]]
		e.g += gg
		e.h += hh
		e = &h1[c1[i]]
		e.g += gg
		e.h += hh
		e = &h2[c2[i]]
		e.g += gg
		e.h += hh
		e = &h3[c3[i]]
		e.g += gg
		e.h += hh
	}
}

// addAll8x2Generic is addAll8x4 for two features.
func addAll8x2Generic(h0, h1 *[256]histEntry, c0, c1 []uint8, gh []gradPair) {
	_, _ = h0[0], h1[0] // nil checks out of the loop
	n := len(gh)
	c0, c1 = c0[:n], c1[:n]
	for i := range gh {
		gg, hh := float64(gh[i][0]), float64(gh[i][1])
		e := &h0[c0[i]]
		e.g += gg
		e.h += hh
		e = &h1[c1[i]]
		e.g += gg
		e.h += hh
	}
}

// gatheredRow holds a row's bins of up to 32 consecutive features, copied
// by gatherRows.
type gatheredRow = [32]uint8

// addGathered4Generic adds len(gh) gathered rows to the histograms of four
// features, whose bins are at offsets o[0..3] of each row.
func addGathered4Generic(hs *[4]*[256]histEntry, o *[4]uint8, rows []gatheredRow, gh []gradPair) {
	h0, h1, h2, h3 := hs[0], hs[1], hs[2], hs[3]
	_, _, _, _ = h0[0], h1[0], h2[0], h3[0] // nil checks out of the loop
	// The masks are no-ops (offsets are below 32) that let the compiler
	// drop the bounds checks.
	o0, o1, o2, o3 := int(o[0]&31), int(o[1]&31), int(o[2]&31), int(o[3]&31)
	rows = rows[:len(gh)]
	for i := range rows {
		r := &rows[i]
		gg, hh := float64(gh[i][0]), float64(gh[i][1])
		e := &h0[r[o0]]
		e.g += gg
		e.h += hh
		e = &h1[r[o1]]
		e.g += gg
		e.h += hh
		e = &h2[r[o2]]
		e.g += gg
		e.h += hh
		e = &h3[r[o3]]
		e.g += gg
		e.h += hh
	}
}

// addGathered2Generic is addGathered4 for two features.
func addGathered2Generic(h0, h1 *[256]histEntry, o0, o1 uint8, rows []gatheredRow, gh []gradPair) {
	_, _ = h0[0], h1[0] // nil checks out of the loop
	i0, i1 := int(o0&31), int(o1&31)
	rows = rows[:len(gh)]
	for i := range rows {
		r := &rows[i]
		gg, hh := float64(gh[i][0]), float64(gh[i][1])
		e := &h0[r[i0]]
		e.g += gg
		e.h += hh
		e = &h1[r[i1]]
		e.g += gg
		e.h += hh
	}
}

// addGathered1 is addGathered4 for one feature.
func addGathered1(hist *[256]histEntry, o uint8, rows []gatheredRow, gh []gradPair) {
	_ = hist[0] // nil check out of the loop
	j := int(o & 31)
	rows = rows[:len(gh)]
	for i := range rows {
		e := &hist[rows[i][j]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
}

// addRows8Pair is addRows8 with even rows summed into hist and odd rows
// into alt (zeroed), then alt's first nb bins added to hist: a feature with
// few bins sees the same bin in consecutive rows, and two accumulators
// halve the chains of dependent additions.
func addRows8Pair(hist, alt *[256]histEntry, nb int, col []uint8, rows []int32, gh []gradPair) {
	n := len(rows)
	gh = gh[:n]
	i := 0
	for ; i+1 < n; i += 2 {
		e := &hist[col[rows[i]]]
		a := &alt[col[rows[i+1]]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
		a.g += float64(gh[i+1][0])
		a.h += float64(gh[i+1][1])
	}
	if i < n {
		e := &hist[col[rows[i]]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
	mergeAlt(hist, alt, nb)
}

// addAll8Pair is addRows8Pair for the rows of bins in order.
func addAll8Pair(hist, alt *[256]histEntry, nb int, bins []uint8, gh []gradPair) {
	n := len(gh)
	bins = bins[:n]
	i := 0
	for ; i+1 < n; i += 2 {
		e := &hist[bins[i]]
		a := &alt[bins[i+1]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
		a.g += float64(gh[i+1][0])
		a.h += float64(gh[i+1][1])
	}
	if i < n {
		e := &hist[bins[i]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
	mergeAlt(hist, alt, nb)
}

// addGatheredPair is addRows8Pair for gathered rows, the feature's bins at
// offset o.
func addGatheredPair(hist, alt *[256]histEntry, nb int, o uint8, rows []gatheredRow, gh []gradPair) {
	n := len(gh)
	o &= 31
	rows = rows[:n]
	i := 0
	for ; i+1 < n; i += 2 {
		e := &hist[rows[i][o]]
		a := &alt[rows[i+1][o]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
		a.g += float64(gh[i+1][0])
		a.h += float64(gh[i+1][1])
	}
	if i < n {
		e := &hist[rows[i][o]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
	mergeAlt(hist, alt, nb)
}

func mergeAlt(hist, alt *[256]histEntry, nb int) {
	for k := range nb {
		hist[k].g += alt[k].g
		hist[k].h += alt[k].h
	}
}

func addRows16(hist []histEntry, col []uint16, rows []int32, gh []gradPair) {
	gh = gh[:len(rows)]
	for i, r := range rows {
		e := &hist[col[r]]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
}

func addAll16(hist []histEntry, col []uint16, gh []gradPair) {
	gh = gh[:len(col)]
	for i, b := range col {
		e := &hist[b]
		e.g += float64(gh[i][0])
		e.h += float64(gh[i][1])
	}
}

// buildFeature fills hist (feature f's slice of a leaf histogram, with
// capacity for histPad entries more) from the leaf's rows; rows == nil
// means all rows in order with gh indexed by row.
func (b *binned) buildFeature(hist []histEntry, f int, rows []int32, gh []gradPair) {
	b.buildFeatureScratch(hist, nil, f, rows, gh)
}

// pairMaxBins and pairMinRows pick the two-accumulator loops: for features
// with few bins (long same-bin runs) and enough rows to pay for clearing
// the second histogram.
const (
	pairMaxBins = 64
	pairMinRows = 1024
)

// buildFeatureScratch is buildFeature with a scratch histogram (histPad
// entries, or nil) for the two-accumulator loops.
func (b *binned) buildFeatureScratch(hist, scratch []histEntry, f int, rows []int32, gh []gradPair) {
	clear(hist)
	n := len(rows)
	if rows == nil {
		n = b.rows
	}
	b.accumulate(hist, scratch, f, rows, 0, n, gh)
}

// usePair reports whether a chunk of n rows of a feature with nb bins is
// summed with two accumulators.
func usePair(scratch []histEntry, nb, n int) bool {
	return scratch != nil && nb <= pairMaxBins && n >= pairMinRows
}

// accumulate adds rows to feature f's histogram: the given rows, or when
// rows is nil the rows lo..hi-1 in order. gh is aligned with rows
// (or with lo..hi-1).
func (b *binned) accumulate(hist, scratch []histEntry, f int, rows []int32, lo, hi int, gh []gradPair) {
	n := hi - lo
	if rows != nil {
		n = len(rows)
	}
	if b.col8 == nil {
		col := b.col16[f]
		if rows == nil {
			addAll16(hist, col[lo:hi], gh)
		} else {
			addRows16(hist, col, rows, gh)
		}
		return
	}
	col, h8 := b.col8[f], bins8(hist)
	if usePair(scratch, len(hist), n) {
		alt := bins8(scratch)
		clear(alt[:len(hist)])
		if rows == nil {
			addAll8Pair(h8, alt, len(hist), col[lo:hi], gh)
		} else {
			addRows8Pair(h8, alt, len(hist), col, rows, gh)
		}
		return
	}
	if rows == nil {
		addAll8(h8, col[lo:hi], gh)
	} else {
		addRows8(h8, col, rows, gh)
	}
}

// gatherRows copies, for each of rows, the 32 bytes of its row-major bins
// from position p0 on (k bytes a row in src, binned.rowStride) to dst.
func gatherRows(dst []gatheredRow, src []uint8, k, p0 int, rows []int32) {
	dst = dst[:len(rows)]
	for i, r := range rows {
		b := int(r)*k + p0
		d := &dst[i]
		*(*[16]uint8)(d[:16]) = [16]uint8(src[b:])
		*(*[16]uint8)(d[16:]) = [16]uint8(src[b+16:])
	}
}

// gatherRowsGrads is gatherRows that also copies the rows' gradient pairs
// from gh to ogh: one pass over the rows, their cache misses overlapping.
func gatherRowsGrads(dst []gatheredRow, src []uint8, k, p0 int, rows []int32, ogh, gh []gradPair) {
	dst = dst[:len(rows)]
	ogh = ogh[:len(rows)]
	for i, r := range rows {
		b := int(r)*k + p0
		d := &dst[i]
		*(*[16]uint8)(d[:16]) = [16]uint8(src[b:])
		*(*[16]uint8)(d[16:]) = [16]uint8(src[b+16:])
		ogh[i] = gh[r]
	}
}

// gatherPad is the padding after binned.rows8's last row for gatherRows.
const gatherPad = 32

// subtractHistGeneric turns parent into parent - child: the histogram of a
// leaf's larger child from the parent's and the smaller child's.
// subtractHist is this, in assembly where there is some.
func subtractHistGeneric(parent, child []histEntry) {
	child = child[:len(parent)]
	for i := range parent {
		parent[i].g -= child[i].g
		parent[i].h -= child[i].h
	}
}

func (g *grower) ensureHist(l int) {
	if g.hists[l] == nil {
		g.hists[l] = make([]histEntry, g.b.offsets[len(g.b.mappers)]+histPad)
	}
}

func (g *grower) featHist(h []histEntry, f int) []histEntry {
	return h[g.b.offsets[f]:g.b.offsets[f+1]]
}

// gather copies the gradient pairs of rows into ordGH.
func (g *grower) gather(rows []int32) {
	threads := min(g.threads, len(rows)/minPartitionBlock)
	parallelBlocks(len(rows), max(threads, 1), func(lo, hi, _ int) {
		ogh := g.ordGH[lo:hi]
		ogh = ogh[:len(rows[lo:hi])]
		for i, r := range rows[lo:hi] {
			ogh[i] = g.gh[r]
		}
	})
}

// leafHists fills the histograms of feats for the rows of a leaf, and
// ordGH with their gradient pairs.
func (g *grower) leafHists(hist []histEntry, feats []int, rows []int32) {
	n := len(rows)
	ogh := g.ordGH[:n]
	if g.useShared(feats, n) {
		g.buildGatheredShared(hist, feats, rows, ogh)
		return
	}
	g.gather(rows)
	g.buildHists(hist, feats, rows, n, ogh)
}

// useShared reports whether leafHists gathers the leaf's rows with all
// goroutines together.
func (g *grower) useShared(feats []int, n int) bool {
	return !g.useRowWise(feats, n) && g.b.rows8 != nil && g.threads > 1 && n >= sharedGatherMinRows
}

// useRowWise reports whether buildHists builds row-wise.
func (g *grower) useRowWise(feats []int, n int) bool {
	b := g.b
	return g.rowWise && b.rows8 != nil && n >= rowWiseMinRows && len(feats)*5 >= len(b.rowFeat)*4 &&
		b.offsets[len(b.mappers)] <= rowWiseMaxBins
}

// buildHists fills the histograms of feats for a leaf's rows (nil: rows
// 0..n-1, with gh indexed by row; otherwise gh holds the ordered gradient
// pairs of rows). Goroutines take contiguous runs of features and walk
// the rows in chunks, building all their features chunk by chunk so that
// the gradients stay in cache instead of being streamed once per feature.
// Each feature's sums run over the rows in order whichever goroutine builds
// it, so the result does not depend on the number of threads.
func (g *grower) buildHists(hist []histEntry, feats []int, rows []int32, n int, gh []gradPair) {
	if g.useRowWise(feats, n) {
		g.buildRowWise(hist, rows, n, gh)
		return
	}
	parallelBlocks(len(feats), min(g.threads, len(feats)), func(lo, hi, blk int) {
		g.buildBlock(hist, feats[lo:hi], rows, n, blk, gh)
	})
}

// buildBlock is buildHists's work on goroutine blk: the histograms of fs.
func (g *grower) buildBlock(hist []histEntry, fs []int, rows []int32, n, blk int, gh []gradPair) {
	b := g.b
	for _, f := range fs {
		clear(g.featHist(hist, f))
	}
	switch {
	case rows != nil && b.rows8 != nil:
		g.buildGathered(hist, fs, rows, blk, gh)
	case rows == nil && b.col8 != nil:
		g.buildColumns(hist, fs, n, blk, gh)
	default:
		for c := 0; c < n; c += histChunk {
			e := min(c+histChunk, n)
			var rs []int32
			if rows != nil {
				rs = rows[c:e]
			}
			for _, f := range fs {
				b.accumulate(g.featHist(hist, f), g.scratch[blk], f, rs, c, e, gh[c:e])
			}
		}
	}
}

// buildColumns is buildHists's work for goroutine blk on rows 0..n-1 of
// byte-binned columns: features four at a time, except those summed with
// two accumulators.
func (g *grower) buildColumns(hist []histEntry, fs []int, n, blk int, gh []gradPair) {
	b := g.b
	var hs [4]*[256]histEntry
	var cs [4][]uint8
	for c := 0; c < n; c += histChunk {
		e := min(c+histChunk, n)
		k := 0
		for _, f := range fs {
			h := g.featHist(hist, f)
			if usePair(g.scratch[blk], len(h), e-c) {
				b.accumulate(h, g.scratch[blk], f, nil, c, e, gh[c:e])
				continue
			}
			hs[k], cs[k] = bins8(h), b.col8[f][c:e]
			if k++; k == 4 {
				addAll8x4(&hs, &cs, gh[c:e])
				k = 0
			}
		}
		j := 0
		if k >= 2 {
			addAll8x2(hs[0], hs[1], cs[0], cs[1], gh[c:e])
			j = 2
		}
		if j < k {
			addAll8(hs[j], cs[j], gh[c:e])
		}
	}
}

// buildGathered is buildHists's work for goroutine blk on a leaf's rows:
// its features fs, by windows of features at most 32 bytes apart in the
// row-major bins, whose bytes are gathered chunk by chunk. Features summed
// with two accumulators need buildHists's chunks (the accumulators are
// merged at the end of a chunk); others take chunks small enough for the
// buffer to stay in the core's first-level cache.
func (g *grower) buildGathered(hist []histEntry, fs []int, rows []int32, blk int, ogh []gradPair) {
	b := g.b
	k := b.rowStride
	for len(fs) > 0 {
		p0 := b.rowPos[fs[0]]
		w := 1
		for w < len(fs) && b.rowPos[fs[w]] < p0+len(gatheredRow{}) {
			w++
		}
		win := fs[:w]
		fs = fs[w:]
		chunk := gatherChunk
		for _, f := range win {
			if b.mappers[f].numBin <= pairMaxBins {
				chunk = histChunk
			}
		}
		if len(g.gathered[blk]) < chunk {
			g.gathered[blk] = make([]gatheredRow, chunk)
		}
		for c := 0; c < len(rows); c += chunk {
			e := min(c+chunk, len(rows))
			buf := g.gathered[blk][:e-c]
			gatherRows(buf, b.rows8, k, p0, rows[c:e])
			g.addGathered(hist, win, p0, buf, blk, ogh[c:e])
		}
	}
}

// buildGatheredShared is leafHists for a large leaf's rows on several
// goroutines: by windows of features at most 32 bytes apart, the
// goroutines gather the rows of a chunk together (each row once, with its
// gradients on the first window), then each sums its own features over
// the whole chunk. Chunks are multiples of histChunk, so features summed
// with two accumulators merge them at the same rows as in buildGathered.
func (g *grower) buildGatheredShared(hist []histEntry, feats []int, rows []int32, ogh []gradPair) {
	b := g.b
	k := b.rowStride
	for _, f := range feats {
		clear(g.featHist(hist, f))
	}
	if g.shared == nil {
		g.shared = make([]gatheredRow, sharedChunk)
	}
	for first := true; len(feats) > 0; first = false {
		p0 := b.rowPos[feats[0]]
		w := 1
		for w < len(feats) && b.rowPos[feats[w]] < p0+len(gatheredRow{}) {
			w++
		}
		win := feats[:w]
		feats = feats[w:]
		for c := 0; c < len(rows); c += sharedChunk {
			e := min(c+sharedChunk, len(rows))
			buf := g.shared[:e-c]
			parallelBlocks(e-c, g.threads, func(lo, hi, _ int) {
				rs := rows[c+lo : c+hi]
				if first {
					gatherRowsGrads(buf[lo:hi], b.rows8, k, p0, rs, ogh[c+lo:c+hi], g.gh)
				} else {
					gatherRows(buf[lo:hi], b.rows8, k, p0, rs)
				}
			})
			parallelBlocks(len(win), min(g.threads, len(win)), func(lo, hi, blk int) {
				fs := win[lo:hi]
				chunk := gatherChunk
				for _, f := range fs {
					if b.mappers[f].numBin <= pairMaxBins {
						chunk = histChunk
					}
				}
				for sc := 0; sc < len(buf); sc += chunk {
					se := min(sc+chunk, len(buf))
					g.addGathered(hist, fs, p0, buf[sc:se], blk, ogh[c+sc:c+se])
				}
			})
		}
	}
}

// sharedGatherMinRows is the smallest leaf gathered by all goroutines
// together: below it, two more hand-overs between goroutines cost more
// than gathering the rows once per goroutine.
const sharedGatherMinRows = 1 << 12

// sharedChunk is the number of rows buildGatheredShared gathers at a time
// (1 MiB): a multiple of histChunk.
const sharedChunk = 2 * histChunk

// addGathered adds gathered rows to the histograms of the features win,
// whose bins start at p0 in the row-major bins: four features at a time,
// except those summed with two accumulators.
func (g *grower) addGathered(hist []histEntry, win []int, p0 int, rows []gatheredRow, blk int, ogh []gradPair) {
	b := g.b
	var hs [4]*[256]histEntry
	var os [4]uint8
	k := 0
	for _, f := range win {
		h := g.featHist(hist, f)
		o := uint8(b.rowPos[f] - p0)
		if sc := g.scratch[blk]; usePair(sc, len(h), len(rows)) {
			alt := bins8(sc)
			clear(alt[:len(h)])
			addGatheredPair(bins8(h), alt, len(h), o, rows, ogh)
			continue
		}
		hs[k], os[k] = bins8(h), o
		if k++; k == 4 {
			addGathered4(&hs, &os, rows, ogh)
			k = 0
		}
	}
	switch k {
	case 3:
		addGathered2(hs[0], hs[1], os[0], os[1], rows, ogh)
		addGathered1(hs[2], os[2], rows, ogh)
	case 2:
		addGathered2(hs[0], hs[1], os[0], os[1], rows, ogh)
	case 1:
		addGathered1(hs[0], os[0], rows, ogh)
	}
}

// histChunk is the number of rows buildHists handles per feature in turn.
const histChunk = 1 << 14

// gatherChunk is the number of rows buildGathered copies at a time when
// no feature needs histChunk: 1,024 rows of 32 bytes fill two thirds of a
// 48 KiB first-level cache.
const gatherChunk = 1 << 10

// rowWiseDefault turns row-wise histograms on; a variable for benchmarks.
var rowWiseDefault = true

// rowWiseMinRows is the smallest leaf built row-wise.
const rowWiseMinRows = 1 << 12

// rowWiseMaxBins bounds the total bins for row-wise histograms: row-wise
// writes all features' histograms at once and only wins while they stay in
// the core's fast caches (measured: faster on taiwan_default's 23 features
// of few bins, slower on 28 features of 255 bins).
const rowWiseMaxBins = 4096

// buildRowWise builds the histograms of all non-trivial features from the
// row-major bins: each goroutine takes a contiguous run of features and
// reads, per row, the gradient pair once and its features' bins together.
// Each feature still sums its rows in row order, exactly as the column-wise
// loops without two accumulators do. A feature is updated once per row and
// every other feature of the goroutine's run in between: with few bins,
// consecutive rows often hit the same bin, and those updates then wait on
// each other, so the longer run per row (rather than four features per
// pass as elsewhere) keeps them apart. Chosen by leaf size and the share
// of features needed, never by timing, so models stay deterministic.
func (g *grower) buildRowWise(hist []histEntry, rows []int32, n int, ogh []gradPair) {
	b := g.b
	k := len(b.rowFeat)
	parallelBlocks(k, min(g.threads, k), func(lo, hi, _ int) {
		g.rowWiseBlock(hist, lo, hi, rows, ogh[:n])
	})
}

// rowWiseBlock is buildRowWise's work on one goroutine: the histograms of
// the row-major features at positions lo..hi-1.
func (g *grower) rowWiseBlock(hist []histEntry, lo, hi int, rows []int32, gh []gradPair) {
	b := g.b
	for _, f := range b.rowFeat[lo:hi] {
		clear(g.featHist(hist, f))
	}
	addRowMajor(hist, b.rowOff[lo:hi], b.rows8, b.rowStride, lo, rows, gh)
}

// addRowMajorGeneric adds rows to the histograms at offsets off in hist of
// the row-major features at positions o, o+1, ... (k bytes a row in data);
// rows == nil means rows 0..len(gh)-1, and gh[i] belongs to rows[i] (or to
// row i). addRowMajor is this, in assembly where there is some.
func addRowMajorGeneric(hist []histEntry, off []int, data []uint8, k, o int, rows []int32, gh []gradPair) {
	w := len(off)
	base := o
	for i := range gh {
		if rows != nil {
			base = int(rows[i])*k + o
		}
		gg, hh := float64(gh[i][0]), float64(gh[i][1])
		p := data[base : base+w]
		off := off[:len(p)]
		for j, bin := range p {
			e := &hist[off[j]+int(bin)]
			e.g += gg
			e.h += hh
		}
		base += k
	}
}

// parallelFor runs fn(0..n-1) on up to threads goroutines, each taking a
// contiguous block, so that work per index never depends on scheduling.
func parallelFor(n, threads int, fn func(i int)) {
	parallelBlocks(n, threads, func(lo, hi, _ int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// parallelBlocks splits [0, n) into up to threads contiguous blocks and runs
// fn(lo, hi, block) for each, the last block on the calling goroutine and
// the others on helpers (see helper).
func parallelBlocks(n, threads int, fn func(lo, hi, block int)) {
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		if n > 0 {
			fn(0, n, 0)
		}
		return
	}
	startHelpers()
	j := &job{fn: fn, n: n, threads: threads}
	j.left.Store(int32(threads - 1))
	j.wg.Add(threads - 1)
	for t := 0; t < threads-1; t++ {
		if h := idle.pop(); h != nil {
			h.jobs <- task{j, t}
		} else {
			go task{j, t}.run()
		}
	}
	fn(n*(threads-1)/threads, n, threads-1)
	// The other blocks usually end within microseconds of this one:
	// yielding a while is cheaper than parking and being woken.
	for spin := 0; j.left.Load() > 0 && spin < spins; spin++ {
		runtime.Gosched()
	}
	j.wg.Wait()
}

// job is one call of parallelBlocks; left counts its blocks still running
// on helpers.
type job struct {
	fn         func(lo, hi, block int)
	n, threads int
	left       atomic.Int32
	wg         sync.WaitGroup
}

type task struct {
	j *job
	t int
}

func (k task) run() {
	j := k.j
	j.fn(j.n*k.t/j.threads, j.n*(k.t+1)/j.threads, k.t)
	j.left.Add(-1)
	j.wg.Done()
}

// A helper runs blocks of parallelBlocks calls. Growing a tree hands work
// over several times per split, thousands of times a second; a goroutine
// started for each block must be scheduled and, when the other core's
// thread has parked, woken (a futex call and a wake-up of tens of
// microseconds). A helper yields for a while after each block before it
// parks, so the next block finds it awake, as LightGBM's OpenMP threads
// spin by default. A call that finds no helper idle (more blocks than
// cores, or trainings at once) starts a goroutine for the block.
type helper struct {
	jobs chan task
}

// spins is how many times a waiting goroutine yields before it parks:
// some tens to hundreds of microseconds, the time between hand-overs while
// a tree grows.
const spins = 500

// idle holds the helpers waiting for a block, the last to arrive on top:
// it is the one most likely still yielding rather than parked.
var idle helpers

type helpers struct {
	mu sync.Mutex
	hs []*helper
}

func (s *helpers) push(h *helper) {
	s.mu.Lock()
	s.hs = append(s.hs, h)
	s.mu.Unlock()
}

// pop returns the helper on top, or nil when none waits.
func (s *helpers) pop() *helper {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.hs)
	if n == 0 {
		return nil
	}
	h := s.hs[n-1]
	s.hs = s.hs[:n-1]
	return h
}

var startHelpers = sync.OnceFunc(func() {
	for range max(runtime.GOMAXPROCS(0)-1, 1) {
		go (&helper{jobs: make(chan task, 1)}).loop()
	}
})

func (h *helper) loop() {
	for {
		idle.push(h)
		h.next().run()
	}
}

// next waits for the helper's next task, yielding spins times before it
// parks.
func (h *helper) next() task {
	for range spins {
		select {
		case k := <-h.jobs:
			return k
		default:
			runtime.Gosched()
		}
	}
	return <-h.jobs
}
