package gbdt

import "sync"

// histEntry accumulates the gradients and hessians of one bin. As in
// LightGBM, bins carry no row count: split search estimates counts from
// hessians (see searcher.count), which keeps entries at 16 bytes.
type histEntry struct {
	g, h float64
}

// buildHist8 adds rows to a feature's histogram. g and h are ordered
// gradients: g[i] belongs to rows[i], so they are read sequentially.
func buildHist8(hist []histEntry, col []uint8, rows []int32, g, h []float32) {
	g = g[:len(rows)]
	h = h[:len(rows)]
	for i, r := range rows {
		e := &hist[col[r]]
		e.g += float64(g[i])
		e.h += float64(h[i])
	}
}

// buildHist8All adds every row, in order, without an index.
func buildHist8All(hist []histEntry, col []uint8, g, h []float32) {
	g = g[:len(col)]
	h = h[:len(col)]
	for i, b := range col {
		e := &hist[b]
		e.g += float64(g[i])
		e.h += float64(h[i])
	}
}

// buildHist8Pair is buildHist8 with even rows summed into hist and odd rows
// into alt (zeroed, as long as hist), then added: a feature with few bins
// sees the same bin in consecutive rows, and two accumulators halve the
// chains of dependent additions.
func buildHist8Pair(hist, alt []histEntry, col []uint8, rows []int32, g, h []float32) {
	n := len(rows)
	g = g[:n]
	h = h[:n]
	i := 0
	for ; i+1 < n; i += 2 {
		e := &hist[col[rows[i]]]
		a := &alt[col[rows[i+1]]]
		e.g += float64(g[i])
		e.h += float64(h[i])
		a.g += float64(g[i+1])
		a.h += float64(h[i+1])
	}
	if i < n {
		e := &hist[col[rows[i]]]
		e.g += float64(g[i])
		e.h += float64(h[i])
	}
	alt = alt[:len(hist)]
	for k := range hist {
		hist[k].g += alt[k].g
		hist[k].h += alt[k].h
	}
}

// buildHist8AllPair is buildHist8Pair over every row in order.
func buildHist8AllPair(hist, alt []histEntry, col []uint8, g, h []float32) {
	n := len(col)
	g = g[:n]
	h = h[:n]
	i := 0
	for ; i+1 < n; i += 2 {
		e := &hist[col[i]]
		a := &alt[col[i+1]]
		e.g += float64(g[i])
		e.h += float64(h[i])
		a.g += float64(g[i+1])
		a.h += float64(h[i+1])
	}
	if i < n {
		e := &hist[col[i]]
		e.g += float64(g[i])
		e.h += float64(h[i])
	}
	alt = alt[:len(hist)]
	for k := range hist {
		hist[k].g += alt[k].g
		hist[k].h += alt[k].h
	}
}

func buildHist16(hist []histEntry, col []uint16, rows []int32, g, h []float32) {
	g = g[:len(rows)]
	h = h[:len(rows)]
	for i, r := range rows {
		e := &hist[col[r]]
		e.g += float64(g[i])
		e.h += float64(h[i])
	}
}

func buildHist16All(hist []histEntry, col []uint16, g, h []float32) {
	g = g[:len(col)]
	h = h[:len(col)]
	for i, b := range col {
		e := &hist[b]
		e.g += float64(g[i])
		e.h += float64(h[i])
	}
}

// buildFeature fills hist (feature f's slice of a leaf histogram) from the
// leaf's rows; rows == nil means all rows in order with g, h indexed by row.
func (b *binned) buildFeature(hist []histEntry, f int, rows []int32, g, h []float32) {
	b.buildFeatureScratch(hist, nil, f, rows, g, h)
}

// pairMaxBins and pairMinRows pick the two-accumulator loops: for features
// with few bins (long same-bin runs) and enough rows to pay for clearing
// the second histogram.
const (
	pairMaxBins = 64
	pairMinRows = 1024
)

// buildFeatureScratch is buildFeature with scratch space (at least as long
// as hist, or nil) for the two-accumulator loops.
func (b *binned) buildFeatureScratch(hist, scratch []histEntry, f int, rows []int32, g, h []float32) {
	clear(hist)
	n := len(rows)
	if rows == nil {
		n = b.rows
	}
	b.accumulate(hist, scratch, f, rows, 0, n, g, h)
}

// accumulate adds rows to feature f's histogram: the given rows, or when
// rows is nil the rows lo..hi-1 in order. g and h are aligned with rows
// (or with lo..hi-1).
func (b *binned) accumulate(hist, scratch []histEntry, f int, rows []int32, lo, hi int, g, h []float32) {
	n := hi - lo
	if rows != nil {
		n = len(rows)
	}
	if b.col8 != nil {
		col := b.col8[f]
		if len(scratch) >= len(hist) && len(hist) <= pairMaxBins && n >= pairMinRows {
			alt := scratch[:len(hist)]
			clear(alt)
			if rows == nil {
				buildHist8AllPair(hist, alt, col[lo:hi], g, h)
			} else {
				buildHist8Pair(hist, alt, col, rows, g, h)
			}
			return
		}
		if rows == nil {
			buildHist8All(hist, col[lo:hi], g, h)
		} else {
			buildHist8(hist, col, rows, g, h)
		}
		return
	}
	col := b.col16[f]
	if rows == nil {
		buildHist16All(hist, col[lo:hi], g, h)
	} else {
		buildHist16(hist, col, rows, g, h)
	}
}

// subtractHist turns parent into parent - child: the histogram of a leaf's
// larger child from the parent's and the smaller child's.
func subtractHist(parent, child []histEntry) {
	child = child[:len(parent)]
	for i := range parent {
		parent[i].g -= child[i].g
		parent[i].h -= child[i].h
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
// fn(lo, hi, block) for each, the last block on the calling goroutine.
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
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		lo, hi := n*t/threads, n*(t+1)/threads
		if t == threads-1 {
			fn(lo, hi, t)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi, t)
		}()
	}
	wg.Wait()
}
