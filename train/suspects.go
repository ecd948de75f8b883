package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
)

// Suspect is a column a careful analyst would not let into a model unseen:
// an identifier, or a feature that alone all but gives away the label.
type Suspect struct {
	Column string
	Reason string
}

func (s Suspect) String() string { return s.Column + ": " + s.Reason }

// LeakAUC is the single-feature AUC (either direction) from which a
// feature is suspected of leaking the label: real credit features stay far
// below it.
const LeakAUC = 0.99

// Suspects finds the table's ID-like columns (a value per row: distinct integers in
// monotone order, or a category per row) and leakage suspects (a column
// whose values alone rank the label with an AUC above LeakAUC), in column
// order. Tables of fewer than 20 rows are too small to tell.
func Suspects(t *data.Table) []Suspect {
	var out []Suspect
	if t.Rows() < 20 {
		return nil
	}
	for _, c := range t.Columns {
		if why := idLike(c); why != "" {
			out = append(out, Suspect{c.Name, why})
			continue
		}
		if auc := soloAUC(sample(c, t.Label)); auc > LeakAUC {
			out = append(out, Suspect{c.Name, fmt.Sprintf("alone it ranks %s with AUC %.4f: a leak of the label (a value known only after the outcome)?", t.LabelCol, auc)})
		}
	}
	return out
}

// idLike says why a column looks like a row identifier, or "".
func idLike(c data.Column) string {
	seen := make(map[float64]bool, len(c.Values))
	up, down := true, true
	for i, v := range c.Values {
		if math.IsNaN(v) || seen[v] || c.Kind == data.Numeric && v != math.Trunc(v) {
			return ""
		}
		seen[v] = true
		if i > 0 {
			up = up && v > c.Values[i-1]
			down = down && v < c.Values[i-1]
		}
	}
	switch {
	case c.Kind == data.Categorical:
		return "a different category on every row: an identifier, not a feature"
	case up || down:
		return "distinct integers in row order: a row identifier, not a feature"
	}
	return ""
}

// leakSample bounds the rows the leak check ranks: a feature that gives the
// label away does so on any few thousand rows.
const leakSample = 5000

// sample returns every k-th value and label, at most about leakSample.
func sample(c data.Column, label []float64) (data.Column, []float64) {
	k := len(label)/leakSample + 1
	if k == 1 {
		return c, label
	}
	s := c
	s.Values = make([]float64, 0, len(label)/k+1)
	l := make([]float64, 0, len(label)/k+1)
	for i := 0; i < len(label); i += k {
		s.Values = append(s.Values, c.Values[i])
		l = append(l, label[i])
	}
	return s, l
}

// soloAUC is the AUC of a column's values as a score for the label, taking
// the better direction (for categories: each level scored by its own
// default rate, which is how a tree would use it). Missing values score as
// their own group.
func soloAUC(c data.Column, label []float64) float64 {
	score := c.Values
	if c.Kind == data.Categorical || slices.ContainsFunc(c.Values, math.IsNaN) {
		score = groupRates(c.Values, label)
	}
	auc, err := evaluate.AUC(label, score)
	if err != nil {
		return 0.5 // one class only: nothing to rank
	}
	return max(auc, 1-auc)
}

// groupRates replaces each value by the default rate of its value group
// (NaN one group).
func groupRates(values, label []float64) []float64 {
	type sums struct{ n, bad float64 }
	groups := map[float64]*sums{}
	key := func(v float64) float64 {
		if math.IsNaN(v) {
			return math.Inf(-1)
		}
		return v
	}
	for i, v := range values {
		g := groups[key(v)]
		if g == nil {
			g = &sums{}
			groups[key(v)] = g
		}
		g.n++
		g.bad += label[i]
	}
	out := make([]float64, len(values))
	for i, v := range values {
		g := groups[key(v)]
		out[i] = g.bad / g.n
	}
	return out
}
