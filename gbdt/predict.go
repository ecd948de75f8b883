package gbdt

import "math"

// PredictRaw returns the model's raw score (log-odds) for one row of feature
// values indexed like Model.FeatureNames; NaN marks a missing value.
func (m *Model) PredictRaw(row []float64) float64 {
	var s float64
	for i := range m.Trees {
		s += m.Trees[i].Predict(row)
	}
	return s
}

// Predict returns the probability of the positive class for one row.
func (m *Model) Predict(row []float64) float64 {
	return sigmoid(m.PredictRaw(row))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TrainPredictions returns what Predict gives each training row, in row
// order, without walking a tree: boosting keeps every row's score, summed
// tree by tree in Predict's order from the same leaf values and routed by
// the same rules, so the two agree bit for bit. It is nil for a model that
// was read rather than trained, or whose trees were cut or added to since.
func (m *Model) TrainPredictions() []float64 {
	if m.trainScore == nil || m.trainTrees != len(m.Trees) {
		return nil
	}
	out := make([]float64, len(m.trainScore))
	for i, s := range m.trainScore {
		out[i] = sigmoid(s)
	}
	return out
}

// Predict returns the tree's output for one row.
func (t *Tree) Predict(row []float64) float64 {
	return t.LeafValue[t.Leaf(row)]
}

// Leaf returns the index of the leaf that row falls into, following
// LightGBM's decision rules (Tree::NumericalDecision and
// Tree::CategoricalDecision) so that predictions match LightGBM's exactly.
func (t *Tree) Leaf(row []float64) int {
	if t.NumLeaves <= 1 {
		return 0
	}
	node := 0
	for node >= 0 {
		if t.goLeft(node, row[t.SplitFeature[node]]) {
			node = t.LeftChild[node]
		} else {
			node = t.RightChild[node]
		}
	}
	return ^node
}

func (t *Tree) goLeft(node int, v float64) bool {
	dt := t.DecisionType[node]
	if dt&catMask != 0 {
		// LightGBM truncates the value to a C int: NaN, values <= -1 and
		// values past the int range (INT_MIN on x86) go right; -0.5 is
		// category 0.
		if !(v > -1 && v < 1<<31) {
			return false
		}
		k := int(t.Threshold[node])
		return inBitset(t.CatThreshold[t.CatBoundaries[k]:t.CatBoundaries[k+1]], int(v))
	}
	missing := (dt >> missingTypeShift) & 3
	if math.IsNaN(v) && missing != MissingNaN {
		v = 0
	}
	if (missing == MissingZero && isZero(v)) || (missing == MissingNaN && math.IsNaN(v)) {
		return dt&defaultLeft != 0
	}
	return v <= t.Threshold[node]
}

// zeroWindow is LightGBM's kZeroThreshold, the float 1e-35f widened to
// double (1.0000000180025095e-35).
var zeroWindow = float64(float32(1e-35))

// isZero mirrors LightGBM's Tree::IsZero for the "zero" missing type.
func isZero(v float64) bool { return v >= -zeroWindow && v <= zeroWindow }

func inBitset(words []uint32, c int) bool {
	i := c / 32
	if i >= len(words) {
		return false
	}
	return words[i]>>(uint(c)%32)&1 != 0
}
