package gbdt

import (
	"math"
	"slices"
)

// coded holds a data set's rows for scoring them one tree at a time, as
// boosting scores the validation set after each tree. A value of a
// numerical feature is kept as its code: how many of the feature's cuts
// (every threshold a split on it can be given, ascending) lie below it.
// For a cut t = cuts[k], v > t exactly when code(v) > k: the cuts below
// v are then cuts[0..k] at least, and when v <= t none from k on. So a
// split on codes sends every row where Flat sends it, whatever its value:
// unseen, beyond the training range, infinite or -0.
//
// Why: a row takes 2 bytes a feature instead of 8, one cache line for 28
// features instead of four. Flat streamed all the validation rows from
// memory for every tree (45 MB a tree for 200,000 rows of 28 features):
// on codes that scoring costs half the CPU (gbdt/testdata/profiles).
//
// A tree whose splits are not all numerical splits on coded features, at
// one of their cuts (a categorical, zero-as-missing or infinite-threshold
// split), is scored by Flat on the raw rows instead.
type coded struct {
	nf    int
	codes []uint16 // row r's feature f at r*nf+f
	// keys are per feature the floatKeys of its cuts and then of +Inf,
	// for searchKeys; nil for a feature not coded.
	keys [][]uint64
}

// missingCode is a missing value's code; a split replaces it by its
// stand-in's code, as Flat replaces NaN by its stand-in value.
const missingCode = math.MaxUint16

// newCoded codes the columns by the cuts of the training bins. A feature
// of 65,535 bins or more (max_bin allows it) is left uncoded, so that
// codes stay below missingCode.
func newCoded(cols [][]float64, bn *binned, threads int) *coded {
	c := &coded{nf: len(cols), keys: make([][]uint64, len(cols))}
	for f, m := range bn.mappers {
		if m.categorical || m.trivial || len(m.upper) >= missingCode {
			continue
		}
		keys := make([]uint64, len(m.upper)+1)
		for b, u := range m.upper {
			keys[b] = floatKey(avoidInf(u)) // as grow writes a split's threshold
		}
		keys[len(m.upper)] = floatKey(math.Inf(1)) // above every cut
		if slices.IsSorted(keys) {
			c.keys[f] = keys
		}
	}
	n := 0
	if len(cols) > 0 {
		n = len(cols[0])
	}
	c.codes = make([]uint16, n*c.nf)
	parallelBlocks(n, threads, func(lo, hi, _ int) {
		for f, keys := range c.keys {
			if keys == nil {
				continue
			}
			for r, v := range cols[f][lo:hi] {
				code := uint16(missingCode)
				if v == v {
					code = codeOf(keys, v)
				}
				c.codes[(lo+r)*c.nf+f] = code
			}
		}
	})
	return c
}

// codeOf is how many cuts lie below v (not NaN), given a feature's keys:
// the first key not below v's, +Inf's at the latest, whose index is
// the number of cuts when v is above them all.
func codeOf(keys []uint64, v float64) uint16 {
	return uint16(searchKeys(keys, floatKey(v)))
}

// codedNode is a flatNode on codes: child[1] when the row's code (nan's
// for a missing value) is above k. A leaf has k missingCode and both
// children itself.
type codedNode struct {
	k, nan  uint16
	feature int32
	child   [2]int32
}

// next is the node a row goes to from nd, given the row's code of nd's
// feature.
func (nd *codedNode) next(code uint16) int32 {
	if code == missingCode {
		code = nd.nan
	}
	right := 0
	if code > nd.k {
		right = 1
	}
	return nd.child[right]
}

// codedTree is one tree of a Flat on codes.
type codedTree struct {
	nodes  []codedNode
	values []float64
	leaves int32 // the first leaf
}

// tree lays out Flat f's only tree for codes; false when a split cannot
// be decided on them.
func (c *coded) tree(f *Flat) (codedTree, bool) {
	t := f.trees[0]
	ct := codedTree{nodes: make([]codedNode, len(f.nodes)), values: f.values, leaves: t.leaves - t.root}
	for i, nd := range f.nodes {
		cn := codedNode{k: missingCode, feature: max(nd.feature, 0),
			child: [2]int32{nd.child[0] - t.root, nd.child[1] - t.root}}
		if int32(i) < t.leaves {
			if nd.feature < 0 || c.keys[nd.feature] == nil {
				return ct, false
			}
			keys := c.keys[nd.feature]
			k := codeOf(keys, nd.threshold)
			if int(k) == len(keys)-1 || keys[k] != floatKey(nd.threshold) {
				return ct, false // not a cut
			}
			cn.k, cn.nan = k, codeOf(keys, nd.nan)
		}
		ct.nodes[i] = cn
	}
	return ct, true
}

// add adds each row's leaf output to sums[r-lo], for rows lo to hi, lanes
// rows walking the tree together as in Flat.walkLanes.
func (t *codedTree) add(c *coded, lo, hi int, sums []float64) {
	nodes, nf := t.nodes, c.nf
	r := lo
	for ; r+lanes <= hi; r += lanes {
		var n [lanes]int32
		for {
			inner := 0
			for j := range n {
				nd := &nodes[n[j]]
				n[j] = nd.next(c.codes[(r+j)*nf+int(nd.feature)])
				if n[j] < t.leaves {
					inner = 1
				}
			}
			if inner == 0 {
				break
			}
		}
		for j := range n {
			sums[r+j-lo] += t.values[n[j]]
		}
	}
	for ; r < hi; r++ {
		n := int32(0)
		for n < t.leaves {
			nd := &nodes[n]
			n = nd.next(c.codes[r*nf+int(nd.feature)])
		}
		sums[r-lo] += t.values[n]
	}
}
