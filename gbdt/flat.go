package gbdt

import (
	"math"
)

// Flat is a model laid out for batch scoring. Its answers are those of
// Model.Predict bit for bit: each row's tree outputs are added in tree
// order from zero, as Model.PredictRaw (and leaves, and LightGBM) add them.
//
// Why it is faster (about 1.5× leaves on Taiwan-sized trees,
// model/lgbm's BenchmarkPredictBatch): every tree's nodes, leaves included,
// sit in one array; each numerical split's missing-value rule is decided
// once, here, as a stand-in value for NaN, so a step has no branch on the
// comparison; and eight rows walk a tree together, one level per step,
// until all eight have reached a leaf. A leaf is a node whose children are
// itself, so a row that reached its leaf early stays there. A single walk
// is a chain of dependent loads and ends in a mispredicted branch; eight
// independent walks keep the core busy and share that branch.
//
// Numerical splits with missing type NaN or None, nearly all of a model's,
// are decided inline; categorical splits by their bitset as Tree.goLeft
// decides them, and zero-as-missing splits (and any with an infinite
// threshold) by Tree.goLeft itself. A single row walks eight trees at once
// instead, which gives it the same independent chains.
type Flat struct {
	nodes   []flatNode
	values  []float64 // per node: its output if it is a leaf
	trees   []flatTree
	general []generalSplit
}

type flatTree struct {
	root   int32
	leaves int32 // the first leaf: nodes from here on are leaves
}

// flatNode is one node. child[0] is taken when the row's value is at most
// threshold, child[1] when it is above. A missing value (NaN) is replaced
// by nan first: -Inf sends it left, +Inf right, and 0 is LightGBM's rule
// for missing type None (NaN is read as zero). A negative feature is
// ^index into Flat.general: the split is decided by its tree. A leaf has
// threshold +Inf and both children itself.
type flatNode struct {
	threshold float64
	nan       float64
	child     [2]int32
	feature   int32
}

// generalSplit is a split that Flat.generalStep decides: a categorical
// one by its bitset (words non-nil), any other by its tree's rule.
type generalSplit struct {
	words   []uint32
	tree    *Tree
	node    int
	feature int
}

// Flatten lays m out for batch scoring; nil when m is invalid (which
// Validate reports).
func (m *Model) Flatten() *Flat {
	// A valid model's trees are trees: every walk ends in a leaf.
	if m.Validate() != nil {
		return nil
	}
	f := &Flat{trees: make([]flatTree, len(m.Trees))}
	for ti := range m.Trees {
		t := &m.Trees[ti]
		// Internal nodes first, then leaves: node n is base+n, leaf l is
		// base+NumLeaves-1+l.
		base, internal := int32(len(f.nodes)), int32(max(t.NumLeaves-1, 0))
		index := func(c int) int32 {
			if c < 0 {
				return base + internal + int32(^c)
			}
			return base + int32(c)
		}
		for n := range int(internal) {
			dt := t.DecisionType[n]
			nd := flatNode{threshold: t.Threshold[n], feature: int32(t.SplitFeature[n]),
				child: [2]int32{index(t.LeftChild[n]), index(t.RightChild[n])}}
			switch missing := (dt >> missingTypeShift) & 3; {
			// A threshold of ±Inf or NaN would turn the stand-ins' order
			// around.
			case dt&catMask != 0, missing != MissingNone && missing != MissingNaN, math.IsInf(nd.threshold, 0), math.IsNaN(nd.threshold):
				g := generalSplit{tree: t, node: n, feature: t.SplitFeature[n]}
				if dt&catMask != 0 {
					k := int(t.Threshold[n])
					g.words = t.CatThreshold[t.CatBoundaries[k]:t.CatBoundaries[k+1]:t.CatBoundaries[k+1]]
				}
				nd.feature = ^int32(len(f.general))
				f.general = append(f.general, g)
			case missing == MissingNaN && dt&defaultLeft != 0:
				nd.nan = math.Inf(-1)
			case missing == MissingNaN:
				nd.nan = math.Inf(1)
			}
			f.nodes = append(f.nodes, nd)
			f.values = append(f.values, 0)
		}
		for l := range max(t.NumLeaves, 1) {
			self := base + internal + int32(l)
			f.nodes = append(f.nodes, flatNode{threshold: math.Inf(1), child: [2]int32{self, self}})
			f.values = append(f.values, t.LeafValue[l])
		}
		f.trees[ti] = flatTree{root: base, leaves: base + internal}
	}
	return f
}

// flatBlock is how many rows go through a tree before the next tree: a
// block's rows stay in the L1 cache with the tree's nodes.
const flatBlock = 64

// lanes is how many rows walk a tree together: enough independent chains
// of loads to keep a core busy, few enough that the deepest of them does
// not keep the others waiting long (8 measured best of 2, 4, 8 and 16).
const lanes = 8

// PredictRaw sets out[i] to the raw score (log-odds) of rows[i]. Every row
// must have at least as many values as the model has features.
func (f *Flat) PredictRaw(rows [][]float64, out []float64) {
	out = out[:len(rows)]
	clear(out)
	for lo := 0; lo < len(rows); lo += flatBlock {
		hi := min(lo+flatBlock, len(rows))
		block, sums := rows[lo:hi], out[lo:hi]
		whole := len(block) / lanes * lanes
		for _, t := range f.trees {
			for i := 0; i < whole; i += lanes {
				f.walkLanes(t, block[i:i+lanes], sums[i:i+lanes])
			}
		}
		for i := whole; i < len(block); i++ {
			sums[i] = f.row(block[i])
		}
	}
}

// row is the raw score of one row: lanes trees at a time walk it together,
// as walkLanes walks lanes rows through one tree, and their outputs are
// added in tree order.
func (f *Flat) row(row []float64) float64 {
	var sum float64
	nodes, trees := f.nodes, f.trees
	var n, end [lanes]int32
	for len(trees) >= lanes {
		for j := range n {
			n[j], end[j] = trees[j].root, trees[j].leaves
		}
		for {
			inner := 0
			for j := range n {
				if nd := &nodes[n[j]]; nd.feature >= 0 {
					n[j] = nd.next(row)
				} else {
					n[j] = f.generalStep(nd, row)
				}
				if n[j] < end[j] {
					inner = 1
				}
			}
			if inner == 0 {
				break
			}
		}
		for j := range n {
			sum += f.values[n[j]]
		}
		trees = trees[lanes:]
	}
	for _, t := range trees {
		sum += f.values[f.walk(t, row)]
	}
	return sum
}

// walkLanes takes lanes rows through tree t together, a level per step,
// until all have reached a leaf, and adds their leaves' outputs to sums.
// A step is flatNode.next, small enough for the compiler to inline (a call
// per step would cost as much as the step), or generalStep.
func (f *Flat) walkLanes(t flatTree, rows [][]float64, sums []float64) {
	rows, sums = rows[:lanes], sums[:lanes]
	nodes := f.nodes
	var n [lanes]int32
	for j := range n {
		n[j] = t.root
	}
	for {
		inner := 0
		for j := range n {
			if nd := &nodes[n[j]]; nd.feature >= 0 {
				n[j] = nd.next(rows[j])
			} else {
				n[j] = f.generalStep(nd, rows[j])
			}
			if n[j] < t.leaves {
				inner = 1
			}
		}
		if inner == 0 {
			break
		}
	}
	for j := range sums {
		sums[j] += f.values[n[j]]
	}
}

// walk returns the leaf that row reaches in tree t (for the trees left over
// by row).
func (f *Flat) walk(t flatTree, row []float64) int32 {
	nodes, n := f.nodes, t.root
	for n < t.leaves {
		if nd := &nodes[n]; nd.feature >= 0 {
			n = nd.next(row)
		} else {
			n = f.generalStep(nd, row)
		}
	}
	return n
}

// next is the node a row goes to from nd, a split decided inline (its
// feature is not negative).
func (nd *flatNode) next(row []float64) int32 {
	v := row[nd.feature]
	if v != v {
		v = nd.nan
	}
	right := 0
	if v > nd.threshold {
		right = 1
	}
	return nd.child[right]
}

// generalStep decides a split whose feature is negative: one not decided
// inline.
func (f *Flat) generalStep(nd *flatNode, row []float64) int32 {
	g := &f.general[^nd.feature]
	v := row[g.feature]
	if g.words != nil {
		// Tree.goLeft's categorical rule, here without its lookups.
		if v > -1 && v < 1<<31 && inBitset(g.words, int(v)) {
			return nd.child[0]
		}
		return nd.child[1]
	}
	if g.tree.goLeft(g.node, v) {
		return nd.child[0]
	}
	return nd.child[1]
}

// Predict sets out[i] to the probability of the positive class of rows[i].
func (f *Flat) Predict(rows [][]float64, out []float64) {
	f.PredictRaw(rows, out)
	for i, s := range out[:len(rows)] {
		out[i] = sigmoid(s)
	}
}
