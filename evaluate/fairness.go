package evaluate

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// FourFifths is the usual reference point for the adverse impact ratio:
// under the "four-fifths rule" of the US Uniform Guidelines, a group
// approved at less than 80% of the most favoured group's rate shows
// adverse impact worth a closer look. It is a screening convention, not a
// legal test of discrimination.
const FourFifths = 0.8

// ErrNoApprovals is wrapped when no applicant is approved at the cut-off:
// the adverse impact ratio is then undefined.
var ErrNoApprovals = errors.New("no applicant approved at the cut-off")

// GroupFairness are the fair-lending figures of one group of a protected
// characteristic at a cut-off (declined when score ≥ cut-off).
type GroupFairness struct {
	Group        string  `json:"group"`
	Rows         int     `json:"rows"`
	Bads         int     `json:"bads"`
	Approved     int     `json:"approved"`
	ApprovalRate float64 `json:"approval_rate"`
	// AdverseImpactRatio is the group's approval rate over the most
	// favoured group's (1 for that group).
	AdverseImpactRatio float64 `json:"adverse_impact_ratio"`
	// AUC within the group; nil when the group lacks bads or goods.
	AUC *float64 `json:"auc"`
	// TPR is the true-positive rate, the share of the group's bads that
	// are declined; nil when the group has no bads.
	TPR *float64 `json:"tpr"`
}

// FairnessReport compares the groups of one protected characteristic.
type FairnessReport struct {
	Cutoff float64         `json:"cutoff"`
	Groups []GroupFairness `json:"groups"` // sorted by group name
	// MostFavoured has the highest approval rate (the first by name when
	// several tie); LeastFavoured the lowest adverse impact ratio.
	MostFavoured          string  `json:"most_favoured"`
	LeastFavoured         string  `json:"least_favoured"`
	MinAdverseImpactRatio float64 `json:"min_adverse_impact_ratio"`
	// TPRGap is the largest minus the smallest TPR over the groups that
	// have bads (0 when fewer than two have): how unequally the model
	// catches defaulters across groups.
	TPRGap float64 `json:"tpr_gap"`
}

// Fairness computes approval rates, adverse impact ratios, AUC and
// true-positive rates per group for labels (1 = bad), scores
// (probabilities of default; declined at or above cutoff) and each row's
// group (any string, e.g. a protected column's level; name missing values
// yourself, e.g. "missing"). It needs at least one approved applicant.
func Fairness(labels, scores []float64, groups []string, cutoff float64) (*FairnessReport, error) {
	if err := checkCutoff(cutoff); err != nil {
		return nil, fmt.Errorf("fairness: %w", err)
	}
	if _, _, err := check(labels, scores, "scores", true); err != nil {
		return nil, fmt.Errorf("fairness: %w", err)
	}
	if len(groups) != len(labels) {
		return nil, fmt.Errorf("fairness: %w", &InputError{Field: "groups", Index: -1,
			Err: wrapf(ErrLengthMismatch, "%d labels, %d groups", len(labels), len(groups))})
	}
	rows := map[string][]int{}
	for i, g := range groups {
		rows[g] = append(rows[g], i)
	}
	r := &FairnessReport{Cutoff: cutoff}
	for _, g := range slices.Sorted(maps.Keys(rows)) {
		idx := rows[g]
		gf := GroupFairness{Group: g, Rows: len(idx)}
		ls, ss := make([]float64, len(idx)), make([]float64, len(idx))
		declinedBads := 0
		for k, i := range idx {
			ls[k], ss[k] = labels[i], scores[i]
			bad, declined := labels[i] == 1, scores[i] >= cutoff
			if bad {
				gf.Bads++
			}
			if !declined {
				gf.Approved++
			}
			if bad && declined {
				declinedBads++
			}
		}
		gf.ApprovalRate = ratio(gf.Approved, gf.Rows)
		if gf.Bads > 0 {
			tpr := ratio(declinedBads, gf.Bads)
			gf.TPR = &tpr
		}
		if gf.Bads > 0 && gf.Bads < gf.Rows {
			s, _ := newSample(ls, ss, "scores", true)
			auc := s.auc()
			gf.AUC = &auc
		}
		r.Groups = append(r.Groups, gf)
	}
	best := slices.MaxFunc(r.Groups, func(a, b GroupFairness) int {
		// MaxFunc keeps the first maximum; groups are sorted by name.
		return cmp.Compare(a.ApprovalRate, b.ApprovalRate)
	})
	if best.ApprovalRate == 0 {
		return nil, fmt.Errorf("fairness: %w (cut-off %v)", ErrNoApprovals, cutoff)
	}
	r.MostFavoured = best.Group
	r.MinAdverseImpactRatio = math.Inf(1)
	tprLo, tprHi := math.Inf(1), math.Inf(-1)
	for i := range r.Groups {
		g := &r.Groups[i]
		g.AdverseImpactRatio = g.ApprovalRate / best.ApprovalRate
		if g.AdverseImpactRatio < r.MinAdverseImpactRatio {
			r.MinAdverseImpactRatio, r.LeastFavoured = g.AdverseImpactRatio, g.Group
		}
		if g.TPR != nil {
			tprLo, tprHi = min(tprLo, *g.TPR), max(tprHi, *g.TPR)
		}
	}
	if tprHi > tprLo {
		r.TPRGap = tprHi - tprLo
	}
	return r, nil
}

// Metrics returns the report as MLflow metrics: min_adverse_impact_ratio,
// tpr_gap, and per group approval_rate/G, adverse_impact_ratio/G, auc/G
// and tpr/G (the last two only where defined), G being the group name
// with every character MLflow refuses in a key replaced by '_'. The
// caller adds a prefix such as "test_fairness/personal_status_and_sex/".
func (r *FairnessReport) Metrics() map[string]float64 {
	m := map[string]float64{
		"min_adverse_impact_ratio": r.MinAdverseImpactRatio,
		"tpr_gap":                  r.TPRGap,
	}
	for _, g := range r.Groups {
		k := MetricKey(g.Group)
		m["approval_rate/"+k] = g.ApprovalRate
		m["adverse_impact_ratio/"+k] = g.AdverseImpactRatio
		if g.AUC != nil {
			m["auc/"+k] = *g.AUC
		}
		if g.TPR != nil {
			m["tpr/"+k] = *g.TPR
		}
	}
	return m
}

// MetricKey makes s usable in an MLflow metric key, which allows letters,
// digits, '_', '-', '.', ' ' and '/': every other character becomes '_',
// and '/' does too (it separates the key's parts here). An empty s is
// "empty".
func MetricKey(s string) string {
	if s == "" {
		return "empty"
	}
	var b strings.Builder
	for _, c := range s {
		switch {
		case c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ' '):
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Bands turns a numeric column into group names for Fairness, such as age
// bands: with edges 25, 35, 50 the groups are "< 25", "25 to < 35",
// "35 to < 50" and ">= 50"; NaN is "missing". Edges must be finite and
// increasing.
func Bands(values, edges []float64) ([]string, error) {
	for i, e := range edges {
		if math.IsNaN(e) || math.IsInf(e, 0) || i > 0 && e <= edges[i-1] {
			return nil, fmt.Errorf("bands: edges %v must be finite and increasing", edges)
		}
	}
	if len(edges) == 0 {
		return nil, errors.New("bands: no edges")
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	names := make([]string, len(edges)+1)
	names[0] = "< " + f(edges[0])
	for i := 1; i < len(edges); i++ {
		names[i] = f(edges[i-1]) + " to < " + f(edges[i])
	}
	names[len(edges)] = ">= " + f(edges[len(edges)-1])
	out := make([]string, len(values))
	for i, v := range values {
		if math.IsNaN(v) {
			out[i] = "missing"
			continue
		}
		k, _ := slices.BinarySearch(edges, v)
		if k < len(edges) && edges[k] == v {
			k++ // an edge starts its band
		}
		out[i] = names[k]
	}
	return out, nil
}
