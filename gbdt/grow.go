package gbdt

import (
	"math"
	"slices"
	"sync/atomic"
)

// binSplit is a tree node's decision on binned data, kept beside the Tree
// so that training routes rows by bin exactly as the real-valued thresholds
// route raw values.
type binSplit struct {
	feature     int
	threshold   int // last bin going left (numeric)
	defaultLeft bool
	nanBin      int    // the NaN bin, or -1
	catLeft     []bool // categorical: bins going left; nil for numeric
}

func (s *binSplit) left(bin int) bool {
	if s.catLeft != nil {
		return s.catLeft[bin]
	}
	if bin == s.nanBin {
		return s.defaultLeft
	}
	return bin <= s.threshold
}

// grower grows one tree at a time over the binned training data, reusing
// its buffers across trees.
type grower struct {
	p       *Params
	s       searcher
	b       *binned
	threads int
	mono    []int8
	active  []int // features considered for the current tree
	needed  []int // features searched in the current split's children
	rowWise bool  // build large leaves' histograms row-wise (buildRowWise)

	gh []gradPair // the rows' gradients and hessians

	idx          []int32 // bagged rows, grouped by leaf
	tmp          []int32
	begin, count []int
	hists        [][]histEntry
	stats        []leafStats
	best         []splitInfo
	depth        []int
	parent       []int      // node above each leaf, -1 for the root
	ordGH        []gradPair // gradient pairs of a leaf's rows, in the leaf's order
	splits       []binSplit
	blockBest    [][2]splitInfo
	orders       [][]int
	scratch      [][]histEntry   // per goroutine, for buildFeatureScratch
	gathered     [][]gatheredRow // per goroutine, for buildGathered
	shared       []gatheredRow   // for buildGatheredShared
	// splittable[l][f] is LightGBM's FeatureHistogram::is_splittable: the
	// last search of feature f in leaf l found a valid split. A feature not
	// splittable in a leaf is not searched in its descendants.
	splittable [][]bool
	allRows    bool       // idx holds every row in order (no bagging)
	goesLeft   [256]uint8 // 1 for the bins going left in the split being applied (partition8)
}

func newGrower(p *Params, b *binned, mono []int8, threads int) *grower {
	n := b.rows
	g := &grower{
		p: p, b: b, threads: threads, mono: mono,
		s: searcher{
			l1: p.LambdaL1, l2: p.LambdaL2, minGain: p.MinGainToSplit,
			minData: p.MinDataInLeaf, minHess: p.MinSumHessianInLeaf,
			maxCatOnehot: p.MaxCatToOnehot, maxCatThreshold: p.MaxCatThreshold,
			catSmooth: p.CatSmooth, catL2: p.CatL2, minDataPerGroup: p.MinDataPerGroup,
		},
		gh:  make([]gradPair, n),
		idx: make([]int32, n), tmp: make([]int32, n),
		begin: make([]int, p.NumLeaves), count: make([]int, p.NumLeaves),
		hists: make([][]histEntry, p.NumLeaves),
		stats: make([]leafStats, p.NumLeaves), best: make([]splitInfo, p.NumLeaves),
		depth: make([]int, p.NumLeaves), parent: make([]int, p.NumLeaves),
		ordGH:     make([]gradPair, n),
		blockBest: make([][2]splitInfo, threads),
		orders:    make([][]int, threads),
	}
	g.rowWise = rowWiseDefault
	g.scratch = make([][]histEntry, threads)
	for i := range g.scratch {
		g.scratch[i] = make([]histEntry, histPad)
	}
	g.gathered = make([][]gatheredRow, threads)
	g.splittable = make([][]bool, p.NumLeaves)
	for l := range g.splittable {
		g.splittable[l] = make([]bool, len(b.mappers))
	}
	for _, m := range mono {
		if m != 0 {
			g.s.useMC = true
		}
	}
	return g
}

// grow builds one tree on the rows in g.idx[:nRows] with the current
// gradients. It returns the tree with unshrunk outputs and the bin-level
// splits; leaf l's rows are g.idx[g.begin[l]:g.begin[l]+g.count[l]].
func (g *grower) grow(nRows int) (*Tree, []binSplit) {
	p := g.p
	nl := p.NumLeaves
	t := &Tree{NumLeaves: 1, LeafValue: []float64{0}, LeafWeight: []float64{0}, LeafCount: []int{nRows}}
	g.splits = g.splits[:0]

	var sg, sh float64
	rows := g.idx[:nRows]
	if g.allRows {
		parallelBlocks(len(rows), g.threads, func(lo, hi, _ int) {
			for i := lo; i < hi; i++ {
				rows[i] = int32(i)
			}
		})
		for _, p := range g.gh {
			sg += float64(p[0])
			sh += float64(p[1])
		}
	} else {
		for _, r := range rows {
			sg += float64(g.gh[r][0])
			sh += float64(g.gh[r][1])
		}
	}
	g.begin[0], g.count[0], g.depth[0], g.parent[0] = 0, nRows, 0, -1
	g.stats[0] = leafStats{g: sg, h: sh, n: nRows, min: math.Inf(-1), max: math.Inf(1)}
	t.LeafWeight[0] = sh
	g.ensureHist(0)

	// Root: build its histogram and search it.
	g.best[0] = noSplit()
	if g.allRows {
		g.buildHists(g.hists[0], g.active, nil, nRows, g.gh)
	} else {
		g.leafHists(g.hists[0], g.active, rows)
	}
	g.featurePass(g.active, func(f int, bb *[2]splitInfo, order *[]int) {
		h := g.featHist(g.hists[0], f)
		g.splittable[0][f] = g.search(h, f, &g.stats[0], &bb[0], order)
	}, func(bb *[2]splitInfo) {
		if bb[0].better(&g.best[0]) {
			g.best[0] = bb[0]
		}
	})

	for t.NumLeaves < nl {
		leaf := -1
		for l := 0; l < t.NumLeaves; l++ {
			if leaf < 0 || g.best[l].better(&g.best[leaf]) {
				leaf = l
			}
		}
		bs := g.best[leaf]
		if !(bs.gain > 0) {
			break
		}
		right := g.split(t, leaf, &bs)
		// Which children may split further (LightGBM's BeforeFindBestSplit).
		g.best[leaf], g.best[right] = noSplit(), noSplit()
		if p.MaxDepth > 0 && g.depth[leaf] >= p.MaxDepth {
			continue
		}
		if g.count[leaf] < 2*p.MinDataInLeaf && g.count[right] < 2*p.MinDataInLeaf {
			continue
		}
		if t.NumLeaves == nl {
			break // no histogram needed: no further split
		}
		small, large := leaf, right
		if g.count[right] < g.count[leaf] {
			small, large = right, leaf
		}
		g.ensureHist(right)
		parent, buf := g.hists[leaf], g.hists[right]
		srows := g.idx[g.begin[small] : g.begin[small]+g.count[small]]
		// Features not splittable in the parent are not searched in its
		// children (LightGBM's is_splittable).
		g.needed = g.needed[:0]
		for _, f := range g.active {
			if g.splittable[leaf][f] {
				g.needed = append(g.needed, f)
			} else {
				g.splittable[right][f] = false
			}
		}
		g.searchChildren(small, large, srows, buf, parent)
		if small == leaf {
			g.hists[leaf], g.hists[right] = buf, parent
		}
	}
	return t, g.splits
}

// searchChildren finds the best splits of the two children of a split:
// it builds the histograms of g.needed for the smaller child's rows (srows)
// into buf, turns parent into the larger child's by subtraction and
// searches both. Unless the rows are gathered by all goroutines together,
// each goroutine searches the features it has just built, so that a split
// hands work to the other goroutines once rather than twice; a small
// leaf's histograms are built on one goroutine and its search is shared.
func (g *grower) searchChildren(small, large int, srows []int32, buf, parent []histEntry) {
	work := func(f int, bb *[2]splitInfo, order *[]int) {
		hs := g.featHist(buf, f)
		hl := g.featHist(parent, f)
		subtractHist(hl, hs)
		g.splittable[small][f] = g.search(hs, f, &g.stats[small], &bb[0], order)
		g.splittable[large][f] = g.search(hl, f, &g.stats[large], &bb[1], order)
	}
	merge := func(bb *[2]splitInfo) {
		if bb[0].better(&g.best[small]) {
			g.best[small] = bb[0]
		}
		if bb[1].better(&g.best[large]) {
			g.best[large] = bb[1]
		}
	}
	feats, n := g.needed, len(srows)
	if g.useShared(feats, n) {
		g.leafHists(buf, feats, srows)
		g.featurePass(feats, work, merge)
		return
	}
	g.gather(srows)
	gh := g.ordGH[:n]
	threads := g.threads
	if n*len(feats) < serialWork {
		threads = 1
	}
	b := g.b
	rowWise := g.useRowWise(feats, n)
	units := len(feats)
	if rowWise {
		units = len(b.rowFeat)
	}
	if threads == 1 && g.threads > 1 {
		// Too few rows to share the building, but the search of every
		// feature in both children is as much work again: it is shared.
		if rowWise {
			g.rowWiseBlock(buf, 0, units, srows, gh)
		} else {
			g.buildBlock(buf, feats, srows, n, 0, gh)
		}
		g.featurePass(feats, work, merge)
		return
	}
	nb := min(threads, units)
	parallelBlocks(units, nb, func(lo, hi, blk int) {
		bb := &g.blockBest[blk]
		bb[0], bb[1] = noSplit(), noSplit()
		var fs []int
		if rowWise {
			// Every feature is built; search those needed. lo and hi
			// count row-major features here, not feats.
			g.rowWiseBlock(buf, lo, hi, srows, gh)
			first, last := b.rowFeat[lo], b.rowFeat[hi-1]
			i, _ := slices.BinarySearch(feats, first)
			j, _ := slices.BinarySearch(feats, last+1)
			fs = feats[i:j]
		} else {
			fs = feats[lo:hi]
			g.buildBlock(buf, fs, srows, n, blk, gh)
		}
		for _, f := range fs {
			work(f, bb, &g.orders[blk])
		}
	})
	for blk := range nb {
		merge(&g.blockBest[blk])
	}
}

// serialWork is the fewest rows times features whose histograms a split
// builds on several goroutines: below it, handing half the work to another
// goroutine (waking a parked thread takes microseconds, on a loaded
// machine far longer) costs about what it saves.
const serialWork = 1 << 14

// featurePass runs work over feats on up to g.threads goroutines that take
// features one at a time, so uneven features balance out. Each goroutine
// keeps its own best splits; merging them with the total order of
// splitInfo.better makes the result independent of which goroutine took
// which feature.
func (g *grower) featurePass(feats []int, work func(f int, bb *[2]splitInfo, order *[]int), merge func(bb *[2]splitInfo)) {
	nb := min(g.threads, len(feats))
	var next atomic.Int64
	parallelBlocks(nb, nb, func(blk, _, _ int) {
		bb := &g.blockBest[blk]
		bb[0], bb[1] = noSplit(), noSplit()
		for {
			i := int(next.Add(1)) - 1
			if i >= len(feats) {
				return
			}
			work(feats[i], bb, &g.orders[blk])
		}
	})
	for blk := 0; blk < nb; blk++ {
		merge(&g.blockBest[blk])
	}
}

// search finds feature f's best split for a leaf and reports whether f
// had a valid split there.
func (g *grower) search(h []histEntry, f int, st *leafStats, best *splitInfo, order *[]int) bool {
	m := g.b.mappers[f]
	if m.categorical {
		return g.s.categorical(h, m, f, st, order, best)
	}
	var mono int8
	if g.mono != nil {
		mono = g.mono[f]
	}
	return g.s.numerical(h, m, f, st, mono, best)
}

// split applies bs to leaf: it partitions the leaf's rows, adds the node to
// t as LightGBM's Tree::Split does (the left child keeps the leaf's index,
// the right child is the new last leaf) and returns the right leaf.
func (g *grower) split(t *Tree, leaf int, bs *splitInfo) int {
	m := g.b.mappers[bs.feature]
	sp := binSplit{feature: bs.feature, threshold: bs.threshold, defaultLeft: bs.defaultLeft, nanBin: -1}
	if m.missing == MissingNaN && !m.categorical {
		sp.nanBin = m.numBin - 1
	}
	if bs.catBins != nil {
		sp.catLeft = make([]bool, m.numBin)
		for _, b := range bs.catBins {
			sp.catLeft[b] = true
		}
	}
	g.splits = append(g.splits, sp)

	// Stable partition of the leaf's rows: left rows first.
	for b := range g.goesLeft {
		g.goesLeft[b] = 0
		if b < m.numBin && sp.left(b) {
			g.goesLeft[b] = 1
		}
	}
	seg := g.idx[g.begin[leaf] : g.begin[leaf]+g.count[leaf]]
	nLeft := g.partition(seg, &sp)
	right := t.NumLeaves
	g.begin[right] = g.begin[leaf] + nLeft
	g.count[right] = len(seg) - nLeft
	g.count[leaf] = nLeft

	node := t.NumLeaves - 1
	parent := g.parent[leaf]
	g.parent[leaf], g.parent[right] = node, node
	if parent >= 0 {
		if t.LeftChild[parent] == ^leaf {
			t.LeftChild[parent] = node
		} else {
			t.RightChild[parent] = node
		}
	}
	var dt int8
	var thr float64
	if m.categorical {
		dt = catMask
		thr = float64(t.NumCat)
		var words []uint32
		for _, b := range bs.catBins {
			c := m.bin2cat[b]
			for len(words) <= c/32 {
				words = append(words, 0)
			}
			words[c/32] |= 1 << (uint(c) % 32)
		}
		if t.NumCat == 0 {
			t.CatBoundaries = []int{0}
		}
		t.CatThreshold = append(t.CatThreshold, words...)
		t.CatBoundaries = append(t.CatBoundaries, len(t.CatThreshold))
		t.NumCat++
	} else {
		thr = avoidInf(m.upper[bs.threshold])
		if bs.defaultLeft {
			dt |= defaultLeft
		}
	}
	dt |= int8(m.missing) << missingTypeShift
	t.SplitFeature = append(t.SplitFeature, bs.feature)
	t.SplitGain = append(t.SplitGain, float64(float32(bs.gain)))
	t.Threshold = append(t.Threshold, thr)
	t.DecisionType = append(t.DecisionType, dt)
	t.LeftChild = append(t.LeftChild, ^leaf)
	t.RightChild = append(t.RightChild, ^right)
	t.InternalValue = append(t.InternalValue, t.LeafValue[leaf])
	t.InternalWeight = append(t.InternalWeight, t.LeafWeight[leaf])
	t.InternalCount = append(t.InternalCount, len(seg))
	t.LeafValue[leaf] = bs.leftOut
	t.LeafWeight[leaf] = bs.leftH
	t.LeafCount[leaf] = nLeft
	t.LeafValue = append(t.LeafValue, bs.rightOut)
	t.LeafWeight = append(t.LeafWeight, bs.rightH)
	t.LeafCount = append(t.LeafCount, len(seg)-nLeft)
	t.NumLeaves++

	st := g.stats[leaf]
	ls := leafStats{g: bs.leftG, h: bs.leftH, n: nLeft, min: st.min, max: st.max}
	rs := leafStats{g: bs.rightG, h: bs.rightH, n: len(seg) - nLeft, min: st.min, max: st.max}
	// Basic monotone constraints: the children's outputs are bounded by the
	// midpoint of the split's outputs.
	if g.mono != nil && !m.categorical {
		mid := (bs.leftOut + bs.rightOut) / 2
		switch {
		case g.mono[bs.feature] > 0:
			ls.max = min(ls.max, mid)
			rs.min = max(rs.min, mid)
		case g.mono[bs.feature] < 0:
			ls.min = max(ls.min, mid)
			rs.max = min(rs.max, mid)
		}
	}
	g.stats[leaf], g.stats[right] = ls, rs
	g.depth[leaf]++
	g.depth[right] = g.depth[leaf]
	return right
}

// partition moves the rows of seg going left to its front, keeping order on
// both sides, and returns their number. Large segments are split into
// blocks partitioned in parallel, then joined in block order.
func (g *grower) partition(seg []int32, sp *binSplit) int {
	blocks := min(g.threads, len(seg)/minPartitionBlock)
	if blocks <= 1 {
		return g.partitionBlock(seg, g.tmp[:0], sp)
	}
	lefts := make([]int, blocks)
	parallelBlocks(len(seg), blocks, func(lo, hi, k int) {
		lefts[k] = g.partitionBlock(seg[lo:hi], g.tmp[lo:lo], sp)
	})
	n := 0
	for k := 0; k < blocks; k++ {
		lo := len(seg) * k / blocks
		n += copy(seg[n:], seg[lo:lo+lefts[k]])
	}
	// partitionBlock left each block's right rows in g.tmp at the block's
	// offset and also behind its left rows in seg; copy from g.tmp.
	m := n
	for k := 0; k < blocks; k++ {
		lo, hi := len(seg)*k/blocks, len(seg)*(k+1)/blocks
		m += copy(seg[m:], g.tmp[lo:lo+(hi-lo-lefts[k])])
	}
	return n
}

// partitionBlock is partition for one block, with tmp (empty, with room for
// len(seg) rows) receiving the right rows.
func (g *grower) partitionBlock(seg []int32, tmp []int32, sp *binSplit) int {
	if g.b.col8 != nil {
		return partition8(seg, tmp[:len(seg)], g.b.col8[sp.feature], &g.goesLeft)
	}
	n := 0
	col := g.b.col16[sp.feature]
	for _, r := range seg {
		if sp.left(int(col[r])) {
			seg[n] = r
			n++
		} else {
			tmp = append(tmp, r)
		}
	}
	copy(seg[n:], tmp)
	return n
}

// partition8 is partitionBlock for byte bins, left[bin] being 1 for the
// bins going left. Every row is written to both sides and only its side's
// count advances: no branch on the side, which is mispredicted about half
// the time.
func partition8(seg, tmp []int32, col []uint8, left *[256]uint8) int {
	n, m := 0, 0
	for _, r := range seg {
		l := int(left[col[r]])
		seg[n] = r
		tmp[m] = r
		n += l
		m += 1 - l
	}
	copy(seg[n:], tmp[:m])
	return n
}

// leafOfBinned routes row r through a tree's bin-level splits.
func leafOfBinned(t *Tree, splits []binSplit, b *binned, r int) int {
	if t.NumLeaves <= 1 {
		return 0
	}
	node := 0
	for node >= 0 {
		sp := &splits[node]
		if sp.left(b.bin(sp.feature, r)) {
			node = t.LeftChild[node]
		} else {
			node = t.RightChild[node]
		}
	}
	return ^node
}

// minPartitionBlock is the fewest rows per goroutine worth partitioning in
// parallel.
var minPartitionBlock = 1 << 16

// avoidInf is LightGBM's Common::AvoidInf for thresholds written to files.
func avoidInf(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= 1e300:
		return 1e300
	case x <= -1e300:
		return -1e300
	}
	return x
}
