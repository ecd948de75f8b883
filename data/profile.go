package data

import (
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/creditrisk/engine/internal/fanout"
)

// PSIEpsilon replaces an empty bucket's share in [PSI], so that its log
// term stays finite (the same value as evaluate.PSIEpsilon).
const PSIEpsilon = 1e-4

// Profile is the reference distribution of the training data, saved in the
// model directory, that drift monitoring compares live traffic with.
// Features are in the table's (and so the schema's) feature order, so
// Features[i] bins element i of an encoded row.
type Profile struct {
	Rows     int         `json:"rows"`
	Features []Histogram `json:"features"`
	// Score is the histogram of the model's scores on the same rows, when
	// the trainer adds one (NewHistogram("score", scores, 10)).
	Score *Histogram `json:"score,omitempty"`
}

// Drift is one feature's PSI against the reference.
type Drift struct {
	Name string  `json:"name"`
	PSI  float64 `json:"psi"`
}

// Drift bins encoded rows (as from Schema.EncodeRow or Schema.LoadBatch,
// in schema order) per feature and returns each feature's PSI against the
// reference, in feature order.
func (p *Profile) Drift(rows [][]float64) ([]Drift, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("drift: no rows")
	}
	counts := make([][]float64, len(p.Features))
	for j := range p.Features {
		counts[j] = make([]float64, p.Features[j].Buckets())
	}
	for i, r := range rows {
		if len(r) != len(p.Features) {
			return nil, fmt.Errorf("drift: row %d has %d values, the profile %d features", i, len(r), len(p.Features))
		}
		for j := range p.Features {
			counts[j][p.Features[j].Bucket(r[j])]++
		}
	}
	out := make([]Drift, len(p.Features))
	for j := range p.Features {
		psi, err := p.Features[j].PSI(counts[j])
		if err != nil {
			return nil, fmt.Errorf("drift: %w", err)
		}
		out[j] = Drift{Name: p.Features[j].Name, PSI: psi}
	}
	return out, nil
}

// Histogram is the distribution of one feature (or of the model's score)
// over buckets. A numeric feature has len(Edges)+1 value buckets, bucket k
// holding Edges[k-1] < v <= Edges[k] (the first one from −∞, the last one to
// +∞); a categorical feature has one bucket per level, indexed by code.
// Either way the last bucket counts missing values (NaN, and for
// categorical features categories not seen in training, which encode as
// missing). Counts and Freq (Counts over the number of rows) have
// Buckets() entries. Min and Max (numeric only, absent from profiles
// written before they were recorded or without values) are the training
// range that scoring warns outside of.
type Histogram struct {
	Name   string    `json:"name"`
	Type   Kind      `json:"type"`
	Edges  []float64 `json:"edges,omitempty"`
	Levels []string  `json:"levels,omitempty"`
	Min    *float64  `json:"min,omitempty"`
	Max    *float64  `json:"max,omitempty"`
	Counts []int     `json:"counts"`
	Freq   []float64 `json:"freq"`
}

// NewProfile profiles every feature of the table (typically the training
// part): numeric features binned at the deciles of their non-missing
// values, categorical ones by level.
func NewProfile(t *Table) *Profile {
	p := &Profile{Rows: t.Rows(), Features: make([]Histogram, len(t.Columns))}
	// A numeric column's histogram sorts it: the columns are spread over
	// the cores.
	fanout.Each(len(t.Columns), runtime.GOMAXPROCS(0), func(i int) error {
		c := &t.Columns[i]
		if c.Kind == Categorical {
			h := Histogram{Name: c.Name, Type: Categorical, Levels: slices.Clone(c.Levels)}
			h.fill(c.Values)
			p.Features[i] = h
		} else {
			p.Features[i] = NewHistogram(c.Name, c.Values, 10)
		}
		return nil
	})
	return p
}

// Feature returns the histogram of the named feature.
func (p *Profile) Feature(name string) (*Histogram, bool) {
	for i := range p.Features {
		if p.Features[i].Name == name {
			return &p.Features[i], true
		}
	}
	return nil, false
}

// NewHistogram bins numeric values (NaN counts as missing) into bins
// buckets cut at their quantiles (linear interpolation, as numpy.quantile
// and evaluate.PSI; equal cut points merged, so a feature with few distinct
// values gets fewer buckets). Use it for a model's scores, with name
// "score", as well as for features.
func NewHistogram(name string, values []float64, bins int) Histogram {
	vals := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	h := Histogram{Name: name, Type: Numeric, Edges: []float64{}}
	if len(vals) > 0 {
		bins = max(bins, 1)
		qs := make([]float64, bins+1)
		for q := range qs {
			qs[q] = float64(q) / float64(bins)
		}
		qv := Quantiles(vals, qs...)
		h.Min, h.Max = &qv[0], &qv[bins]
		for _, c := range qv[1:bins] {
			if len(h.Edges) == 0 || c > h.Edges[len(h.Edges)-1] {
				h.Edges = append(h.Edges, c)
			}
		}
	}
	h.fill(values)
	return h
}

func (h *Histogram) fill(values []float64) {
	counts := h.Count(values)
	h.Counts = make([]int, len(counts))
	h.Freq = make([]float64, len(counts))
	for i, c := range counts {
		h.Counts[i] = int(c)
		if len(values) > 0 {
			h.Freq[i] = c / float64(len(values))
		}
	}
}

// Buckets returns the number of buckets, the missing bucket included.
func (h *Histogram) Buckets() int {
	if h.Type == Categorical {
		return len(h.Levels) + 1
	}
	return len(h.Edges) + 2
}

// Bucket returns the bucket of one encoded value: for a categorical
// feature its code (an out-of-range code counts as missing), for a numeric
// one its bin; NaN goes to the last, missing, bucket.
func (h *Histogram) Bucket(v float64) int {
	missing := h.Buckets() - 1
	if math.IsNaN(v) {
		return missing
	}
	if h.Type == Categorical {
		if v >= 0 && v < float64(len(h.Levels)) && v == math.Trunc(v) {
			return int(v)
		}
		return missing
	}
	i, _ := slices.BinarySearch(h.Edges, v) // first edge >= v
	return i
}

// Count bins encoded values and returns the count per bucket, ready for
// [Histogram.PSI].
func (h *Histogram) Count(values []float64) []float64 {
	counts := make([]float64, h.Buckets())
	for _, v := range values {
		counts[h.Bucket(v)]++
	}
	return counts
}

// PSI compares new counts per bucket (as from [Histogram.Count], or counts
// a server accumulated) with the reference: see [PSI].
func (h *Histogram) PSI(counts []float64) (float64, error) {
	if len(counts) != h.Buckets() {
		return 0, fmt.Errorf("psi %s: %d counts for %d buckets", h.Name, len(counts), h.Buckets())
	}
	v, err := PSI(h.Freq, counts)
	if err != nil {
		return 0, fmt.Errorf("psi %s: %w", h.Name, err)
	}
	return v, nil
}

// PSI returns the population stability index Σ (a−e)·ln(a/e) of the actual
// distribution against the expected one, each given as counts or shares
// per bucket (both are normalised to shares). A share of 0 is raised to
// PSIEpsilon. Below 0.1 is usually read as stable, above 0.25 as a shift.
func PSI(expected, actual []float64) (float64, error) {
	if len(expected) != len(actual) {
		return 0, fmt.Errorf("expected has %d buckets, actual %d", len(expected), len(actual))
	}
	se, err := total(expected)
	if err != nil {
		return 0, fmt.Errorf("expected: %w", err)
	}
	sa, err := total(actual)
	if err != nil {
		return 0, fmt.Errorf("actual: %w", err)
	}
	var psi float64
	for i := range expected {
		e := max(expected[i]/se, PSIEpsilon)
		a := max(actual[i]/sa, PSIEpsilon)
		psi += (a - e) * math.Log(a/e)
	}
	return psi, nil
}

func total(v []float64) (float64, error) {
	var s float64
	for i, x := range v {
		if !(x >= 0) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("bucket %d holds %v, want a finite count >= 0", i, x)
		}
		s += x
	}
	if !(s > 0) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("counts sum to %v, want a positive finite total", s)
	}
	return s, nil
}
