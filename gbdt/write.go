package gbdt

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// fileVersion is the version written in the header. LightGBM 4.x writes v4
// but its loader never reads the number; leaves refuses anything but v2/v3,
// and the tree layout is the same, so v3 lets both load our files.
const fileVersion = "v3"

// objectiveLine is the only objective Model supports: log loss with
// sigmoid(raw) as the probability.
const objectiveLine = "binary sigmoid:1"

// WriteText writes m in LightGBM's text model format, as LightGBM 4.x's
// Booster.save_model writes it (byte for byte, apart from the version line
// and the pandas_categorical trailer), so that LightGBM and leaves load it.
// The output depends only on m.
func (m *Model) WriteText(w io.Writer) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	for i, name := range m.FeatureNames {
		// LightGBM splits feature_names on spaces, and leaves rejects a
		// header line with a second '='.
		if name == "" || strings.ContainsAny(name, " \t\r\n=") {
			return fmt.Errorf("write model: feature %d name %q: must be non-empty without spaces or '='", i, name)
		}
	}
	for i, info := range m.FeatureInfos {
		if info == "" || strings.ContainsAny(info, " \t\r\n=") {
			return fmt.Errorf("write model: feature %d (%s) info %q: must be non-empty without spaces or '='", i, m.FeatureNames[i], info)
		}
	}
	for _, p := range m.Params {
		if strings.ContainsAny(p.Key+p.Value, "\r\n") || strings.Contains(p.Key, ": ") {
			return fmt.Errorf("write model: parameter %q: key or value holds a line break or \": \"", p.Key)
		}
	}

	blocks := make([][]byte, len(m.Trees))
	sizes := make([]string, len(m.Trees))
	for i := range m.Trees {
		blocks[i] = m.Trees[i].appendText(nil, i)
		sizes[i] = strconv.Itoa(len(blocks[i]))
	}

	var b bytes.Buffer
	b.WriteString("tree\n")
	b.WriteString("version=" + fileVersion + "\n")
	b.WriteString("num_class=1\n")
	b.WriteString("num_tree_per_iteration=1\n")
	b.WriteString("label_index=0\n")
	fmt.Fprintf(&b, "max_feature_idx=%d\n", len(m.FeatureNames)-1)
	b.WriteString("objective=" + objectiveLine + "\n")
	b.WriteString("feature_names=" + strings.Join(m.FeatureNames, " ") + "\n")
	b.WriteString("feature_infos=" + strings.Join(m.FeatureInfos, " ") + "\n")
	b.WriteString("tree_sizes=" + strings.Join(sizes, " ") + "\n")
	b.WriteString("\n")
	for _, blk := range blocks {
		b.Write(blk)
	}
	b.WriteString("end of trees\n")

	b.WriteString("\nfeature_importances:\n")
	for _, fi := range m.splitCounts() {
		fmt.Fprintf(&b, "%s=%d\n", m.FeatureNames[fi.feature], fi.count)
	}
	if len(m.Params) > 0 {
		b.WriteString("\nparameters:\n")
		for _, p := range m.Params {
			b.WriteString("[" + p.Key + ": " + p.Value + "]\n")
		}
		b.WriteString("\nend of parameters\n")
	}
	// Python's save_model appends this line; null means "no pandas
	// categorical mapping", so LightGBM's Python predict uses the codes as is.
	b.WriteString("\npandas_categorical:null\n")

	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	return nil
}

type featureCount struct{ feature, count int }

// splitCounts counts, per feature, the splits with a positive gain, sorted
// by count descending with ties in feature order: LightGBM's
// feature_importances section (importance type "split").
func (m *Model) splitCounts() []featureCount {
	counts := m.importance()
	var out []featureCount
	for f, c := range counts.split {
		if c > 0 {
			out = append(out, featureCount{f, c})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].count > out[j].count })
	return out
}

type importances struct {
	split []int
	gain  []float64
}

// importance computes split counts and total gains per feature the way
// LightGBM does: only splits whose gain, stored as float32, is positive.
func (m *Model) importance() importances {
	imp := importances{make([]int, len(m.FeatureNames)), make([]float64, len(m.FeatureNames))}
	for i := range m.Trees {
		t := &m.Trees[i]
		for n := 0; n < t.NumLeaves-1; n++ {
			if g := float32(t.SplitGain[n]); g > 0 {
				imp.split[t.SplitFeature[n]]++
				imp.gain[t.SplitFeature[n]] += float64(g)
			}
		}
	}
	return imp
}

// appendText appends the "Tree=i" block as LightGBM's Tree::ToString writes
// it, including the trailing blank line that SaveModelToString adds.
func (t *Tree) appendText(b []byte, index int) []byte {
	n := t.NumLeaves - 1
	b = append(b, "Tree="...)
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, "\nnum_leaves="...)
	b = strconv.AppendInt(b, int64(t.NumLeaves), 10)
	b = append(b, "\nnum_cat="...)
	b = strconv.AppendInt(b, int64(t.NumCat), 10)
	b = appendInts(b, "\nsplit_feature=", t.SplitFeature[:n])
	// LightGBM keeps split gains as float32 and prints them with "{:g}".
	b = append(b, "\nsplit_gain="...)
	for i, g := range t.SplitGain[:n] {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendFloat(b, float64(float32(g)), 6)
	}
	b = appendFloats(b, "\nthreshold=", t.Threshold[:n], 17)
	b = append(b, "\ndecision_type="...)
	for i, d := range t.DecisionType[:n] {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	b = appendInts(b, "\nleft_child=", t.LeftChild[:n])
	b = appendInts(b, "\nright_child=", t.RightChild[:n])
	b = appendFloats(b, "\nleaf_value=", t.LeafValue[:t.NumLeaves], 17)
	// A single-leaf tree's leaf_weight is empty in LightGBM's files: its
	// loader stops reading a one-leaf tree after leaf_count, and Python's
	// train() reloads the model before it is saved.
	lw := t.LeafWeight
	if t.NumLeaves == 1 {
		lw = nil
	}
	b = appendFloats(b, "\nleaf_weight=", lw, 17)
	b = appendInts(b, "\nleaf_count=", t.LeafCount[:t.NumLeaves])
	b = appendFloats(b, "\ninternal_value=", t.InternalValue[:n], 6)
	b = appendFloats(b, "\ninternal_weight=", t.InternalWeight[:n], 6)
	b = appendInts(b, "\ninternal_count=", t.InternalCount[:n])
	if t.NumCat > 0 {
		b = appendInts(b, "\ncat_boundaries=", t.CatBoundaries)
		b = append(b, "\ncat_threshold="...)
		for i, w := range t.CatThreshold {
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendUint(b, uint64(w), 10)
		}
	}
	b = append(b, "\nis_linear=0\nshrinkage="...)
	b = appendFloat(b, t.Shrinkage, 6)
	return append(b, "\n\n\n"...)
}

func appendInts(b []byte, key string, v []int) []byte {
	b = append(b, key...)
	for i, x := range v {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return b
}

func appendFloats(b []byte, key string, v []float64, digits int) []byte {
	b = append(b, key...)
	for i, x := range v {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendFloat(b, x, digits)
	}
	return b
}

// appendFloat formats like C's "%.<digits>g", which is what LightGBM's
// "{:.17g}" and "{:g}" produce; 17 digits round-trip every float64.
func appendFloat(b []byte, v float64, digits int) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "nan"...)
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', digits, 64)
}
