package gbdt

// SHAP values by the exact path-dependent TreeSHAP algorithm (Lundberg,
// Erion and Lee, "Consistent individualized feature attribution for tree
// ensembles", 2018, Algorithm 2). Like LightGBM's pred_contrib, the
// "cover" of a node is its number of training rows (internal_count and
// leaf_count), not its hessian sum, so the values match LightGBM's.

// Contributions returns each feature's SHAP value for row (indexed like
// FeatureNames, NaN for missing) followed by the model's expected raw score,
// the layout of LightGBM's predict(pred_contrib=True). The values sum to
// PredictRaw(row) up to rounding. row must hold len(FeatureNames) values.
func (m *Model) Contributions(row []float64) []float64 {
	phi := make([]float64, len(m.FeatureNames)+1)
	var s shapScratch
	for i := range m.Trees {
		t := &m.Trees[i]
		phi[len(phi)-1] += t.expectedValue()
		if t.NumLeaves > 1 {
			s.reset(t.depth())
			t.shap(row, phi, &s, 0, 0, 1, 1, -1)
		}
	}
	return phi
}

// expectedValue is the tree's output averaged over the training rows.
func (t *Tree) expectedValue() float64 {
	if t.NumLeaves <= 1 {
		return t.LeafValue[0]
	}
	total := float64(t.InternalCount[0])
	var e float64
	for i, v := range t.LeafValue {
		e += float64(t.LeafCount[i]) / total * v
	}
	return e
}

// depth returns the number of edges on the tree's longest root-leaf path.
func (t *Tree) depth() int {
	type item struct{ node, depth int }
	best := 0
	stack := []item{{0, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range [2]int{t.LeftChild[it.node], t.RightChild[it.node]} {
			if c < 0 {
				best = max(best, it.depth+1)
			} else {
				stack = append(stack, item{c, it.depth + 1})
			}
		}
	}
	return best
}

// cover is the number of training rows that reached a node or leaf.
func (t *Tree) cover(node int) float64 {
	if node < 0 {
		return float64(t.LeafCount[^node])
	}
	return float64(t.InternalCount[node])
}

// pathElem is one feature on the current root-to-node path: the fraction
// of "zero" paths (feature not in the coalition: rows flow by cover) and
// "one" paths (feature in it: rows follow row's value) that pass, and the
// permutation weight of coalitions of each size.
type pathElem struct {
	feature   int
	zero, one float64
	weight    float64
}

// shapScratch holds one path per recursion depth, so that a call can copy
// its parent's path and change it while the parent's stays intact.
type shapScratch struct {
	paths [][]pathElem
}

func (s *shapScratch) reset(depth int) {
	for len(s.paths) < depth+2 {
		s.paths = append(s.paths, nil)
	}
	for i := range s.paths[:depth+2] {
		if cap(s.paths[i]) < depth+2 {
			s.paths[i] = make([]pathElem, 0, depth+2)
		}
	}
}

// shap walks the subtree at node with the parent's path paths[level-1]
// (empty at the root), first extending it by the split that led here.
func (t *Tree) shap(row, phi []float64, s *shapScratch, node, level int, zero, one float64, feature int) {
	var path []pathElem
	if level > 0 {
		path = append(s.paths[level][:0], s.paths[level-1]...)
	} else {
		path = s.paths[0][:0]
	}
	path = extendPath(path, zero, one, feature)
	s.paths[level] = path

	if node < 0 {
		v := t.LeafValue[^node]
		for i := 1; i < len(path); i++ {
			w := unwoundSum(path, i)
			phi[path[i].feature] += w * (path[i].one - path[i].zero) * v
		}
		return
	}

	f := t.SplitFeature[node]
	hot, cold := t.RightChild[node], t.LeftChild[node]
	if t.goLeft(node, row[f]) {
		hot, cold = cold, hot
	}
	w := t.cover(node)
	hotZero, coldZero := t.cover(hot)/w, t.cover(cold)/w
	inZero, inOne := 1.0, 1.0
	// A feature split on again further down: undo its earlier split so that
	// it appears once on the path, carrying both splits' fractions.
	for i := 1; i < len(path); i++ {
		if path[i].feature == f {
			inZero, inOne = path[i].zero, path[i].one
			path = unwindPath(path, i)
			s.paths[level] = path
			break
		}
	}
	t.shap(row, phi, s, hot, level+1, hotZero*inZero, inOne, f)
	t.shap(row, phi, s, cold, level+1, coldZero*inZero, 0, f)
}

// extendPath appends a feature with the given fractions and updates the
// coalition-size weights (Algorithm 2, EXTEND).
func extendPath(path []pathElem, zero, one float64, feature int) []pathElem {
	l := len(path)
	w := 0.0
	if l == 0 {
		w = 1
	}
	path = append(path, pathElem{feature: feature, zero: zero, one: one, weight: w})
	d := float64(l + 1)
	for i := l - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) / d
		path[i].weight = zero * path[i].weight * float64(l-i) / d
	}
	return path
}

// unwindPath removes element k, undoing its EXTEND (Algorithm 2, UNWIND).
func unwindPath(path []pathElem, k int) []pathElem {
	l := len(path) - 1
	one, zero := path[k].one, path[k].zero
	next := path[l].weight
	d := float64(l + 1)
	for i := l - 1; i >= 0; i-- {
		if one != 0 {
			tmp := path[i].weight
			path[i].weight = next * d / (float64(i+1) * one)
			next = tmp - path[i].weight*zero*float64(l-i)/d
		} else {
			path[i].weight = path[i].weight * d / (zero * float64(l-i))
		}
	}
	for i := k; i < l; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
	return path[:l]
}

// unwoundSum is the total weight the path would have without element k,
// computed without changing the path.
func unwoundSum(path []pathElem, k int) float64 {
	l := len(path) - 1
	one, zero := path[k].one, path[k].zero
	next := path[l].weight
	d := float64(l + 1)
	var total float64
	for i := l - 1; i >= 0; i-- {
		if one != 0 {
			tmp := next * d / (float64(i+1) * one)
			total += tmp
			next = path[i].weight - tmp*zero*float64(l-i)/d
		} else {
			total += path[i].weight / zero * d / float64(l-i)
		}
	}
	return total
}
