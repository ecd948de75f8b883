package model

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/reasons"
	"github.com/creditrisk/engine/scorecard"
)

// Reasoner is implemented by the families with adverse-action reasons of
// their own: the scorecard's points lost against each feature's best bin,
// the classic method. Other families are explained from Explain's
// contributions.
type Reasoner interface {
	Reasons(row []float64) ([]scorecard.Reason, error)
}

// Units of Reason.Amount.
const (
	UnitPoints  = "points"   // scorecard points lost against the feature's best bin
	UnitLogOdds = "log-odds" // the feature's contribution to the log-odds of default
)

// Reason is one adverse-action reason for an applicant: a feature that
// raised the risk, how much, and the statement an applicant reads.
type Reason struct {
	Feature   string            `json:"feature"`
	Direction reasons.Direction `json:"direction"`
	// Statement is the reasons set's sentence for the feature and
	// direction (its fallback for a feature it does not name).
	Statement string `json:"statement"`
	// Amount is how much the feature raised the risk, in Unit: points
	// lost for a scorecard, the log-odds contribution (TreeSHAP for gbdt)
	// otherwise. Reasons come largest first.
	Amount float64 `json:"amount"`
	Unit   string  `json:"unit"`
	// Bin and BestBin are the row's bin and the feature's best one
	// (scorecards only).
	Bin     string `json:"bin,omitempty"`
	BestBin string `json:"best_bin,omitempty"`
}

// Explainer turns a model's explanations into adverse-action reasons with
// statements. It is safe for concurrent use.
type Explainer struct {
	m   Model
	set *reasons.Set
	// median is each numeric feature's training median (NaN where
	// unknown): a contribution-explained feature's direction is the side
	// of it the applicant's value lies on.
	median []float64
}

// NewExplainer explains m's rows with the statements of set (nil: the
// embedded default). prof, the training profile (may be nil), gives the
// medians that place a value High or Low for families explained by
// contributions; without it their reasons have direction Any.
func NewExplainer(m Model, set *reasons.Set, prof *data.Profile) *Explainer {
	if set == nil {
		set = reasons.Default()
	}
	e := &Explainer{m: m, set: set, median: make([]float64, len(m.Schema().Features))}
	for j, f := range m.Schema().Features {
		e.median[j] = math.NaN()
		if prof == nil || f.Type != data.Numeric {
			continue
		}
		if h, ok := prof.Feature(f.Name); ok {
			e.median[j] = histMedian(h)
		}
	}
	return e
}

// DirExplainer is NewExplainer for a loaded model directory, reading its
// reference profile when it has one.
func DirExplainer(d *Dir, set *reasons.Set) (*Explainer, error) {
	p, err := ReadProfile(d.Path)
	if err != nil {
		return nil, fmt.Errorf("explainer: %w", err)
	}
	return NewExplainer(d.Model, set, p), nil
}

// ReadProfile reads a model directory's reference profile (ProfileFile);
// nil, and no error, when the directory has none. A file that is not a
// profile gives an error wrapping ErrFormat.
func ReadProfile(dir string) (*data.Profile, error) {
	path := filepath.Join(dir, ProfileFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p data.Profile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrFormat)
	}
	return &p, nil
}

// histMedian estimates a numeric histogram's median from its buckets: the
// upper edge of the bucket where half the non-missing values are reached
// (the deciles NewProfile cuts at make the fifth edge the median itself).
func histMedian(h *data.Histogram) float64 {
	if h.Type != data.Numeric || len(h.Counts) < 2 {
		return math.NaN()
	}
	values := h.Counts[:len(h.Counts)-1] // the last bucket is missing values
	total := 0
	for _, c := range values {
		total += c
	}
	if total == 0 {
		return math.NaN()
	}
	seen := 0
	for k, c := range values {
		seen += c
		if 2*seen >= total {
			if k < len(h.Edges) {
				return h.Edges[k]
			}
			return h.Edges[len(h.Edges)-1]
		}
	}
	return math.NaN()
}

// Reasons returns up to n reasons (all when n <= 0) why row scored as it
// did, largest first: for a scorecard the features that lost points
// against their best bin, for other families the features whose
// contribution raised the log-odds of default. Protected features
// (reasons.Set.Protected) are never cited. A family that cannot explain
// returns an error wrapping ErrNoExplain.
func (e *Explainer) Reasons(row []float64, n int) ([]Reason, error) {
	return e.ReasonsFrom(row, nil, n)
}

// ReasonsFrom is Reasons for a row whose contributions (Explain's) the
// caller has already computed, so that they are not computed twice; nil
// computes them. A Reasoner family ignores them.
func (e *Explainer) ReasonsFrom(row, contrib []float64, n int) ([]Reason, error) {
	var out []Reason
	if r, ok := e.m.(Reasoner); ok {
		rs, err := r.Reasons(row)
		if err != nil {
			return nil, err
		}
		for _, x := range rs {
			out = append(out, Reason{Feature: x.Feature, Direction: x.Direction, Amount: float64(x.Lost),
				Unit: UnitPoints, Bin: x.Bin, BestBin: x.BestBin})
		}
	} else {
		if contrib == nil {
			var err error
			if contrib, _, err = e.m.Explain(row); err != nil {
				return nil, err
			}
		}
		if len(contrib) != len(row) || len(row) != len(e.median) {
			return nil, fmt.Errorf("reasons: %d contributions for a row of %d values and %d features: %w", len(contrib), len(row), len(e.median), ErrRowLength)
		}
		for j, c := range contrib {
			if !(c > 0) {
				continue
			}
			f := e.m.Schema().Features[j]
			d := reasons.Any
			switch {
			case math.IsNaN(row[j]):
				d = reasons.Missing
			case f.Type == data.Numeric && !math.IsNaN(e.median[j]):
				d = reasons.DirectionOf(row[j], e.median[j])
			}
			out = append(out, Reason{Feature: f.Name, Direction: d, Amount: c, Unit: UnitLogOdds})
		}
		slices.SortStableFunc(out, func(a, b Reason) int { return cmp.Compare(b.Amount, a.Amount) })
	}
	kept := out[:0]
	for _, r := range out {
		if e.set.Protected(r.Feature) {
			continue
		}
		r.Statement, _ = e.set.Statement(r.Feature, r.Direction)
		kept = append(kept, r)
		if n > 0 && len(kept) == n {
			break
		}
	}
	if kept == nil {
		kept = []Reason{}
	}
	return kept, nil
}

// Statements returns the distinct statements of reasons in order, as an
// adverse-action notice lists them (several features may share one).
func Statements(rs []Reason) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Statement) {
			out = append(out, r.Statement)
		}
	}
	return out
}
