package scorecard

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model/family"
	"github.com/creditrisk/engine/model/logistic"
	"github.com/creditrisk/engine/reasons"
)

// Flavor is the MLflow flavor and FileName the model file.
const (
	Flavor   = "creditrisk_scorecard"
	FileName = "scorecard.json"
)

// Scaling turns log-odds into points: Score = Offset + Factor·ln(odds
// good:bad), with Factor = PDO/ln 2 and Offset = BasePoints −
// Factor·ln(BaseOdds), so the score is BasePoints at odds BaseOdds:1 and
// PDO points more doubles the odds.
type Scaling struct {
	PDO        float64 `json:"pdo"`
	BasePoints float64 `json:"base_points"`
	BaseOdds   float64 `json:"base_odds"`
	Factor     float64 `json:"factor"`
	Offset     float64 `json:"offset"`
}

func newScaling(pdo, points, odds float64) Scaling {
	f := pdo / math.Ln2
	return Scaling{PDO: pdo, BasePoints: points, BaseOdds: odds, Factor: f, Offset: points - f*math.Log(odds)}
}

// file is the JSON form of a model (FileName).
type file struct {
	FormatVersion int               `json:"format_version"`
	Scaling       Scaling           `json:"scaling"`
	Intercept     float64           `json:"intercept"`
	Features      []Feature         `json:"features"`
	Params        map[string]string `json:"params"`
	Iterations    int               `json:"iterations"`
}

const formatVersion = 1

// Model is a fitted scorecard with its input schema. It is not modified
// after Fit or Parse and is safe for concurrent use.
type Model struct {
	f      file
	schema *data.Schema
	sel    []int   // indexes of the selected features
	codes  [][]int // categorical features: level code -> bin
}

// Train fits a scorecard to a training table with key=value parameters
// (see [Keys]), like logistic.Train.
func Train(ctx context.Context, train *data.Table, params map[string]string) (*Model, error) {
	p := DefaultParams()
	if err := family.Params(params, Keys, p.Set); err != nil {
		return nil, fmt.Errorf("train scorecard: %w", err)
	}
	if train == nil || train.Rows() == 0 {
		return nil, fmt.Errorf("train scorecard: no training rows")
	}
	return Fit(ctx, train.Matrix(nil), train.Label, train.Schema(), p)
}

// Fit fits a scorecard to encoded rows (as Predict takes them) and 0/1
// labels: it bins every feature, selects those with IV ≥ MinIV, fits a
// logistic regression on their WoE values and scales it to points.
func Fit(ctx context.Context, rows [][]float64, labels []float64, s *data.Schema, p Params) (*Model, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("train scorecard: %w", err)
	}
	for name := range p.Trends {
		if !slices.ContainsFunc(s.Features, func(f data.Feature) bool { return f.Name == name }) {
			return nil, fmt.Errorf("train scorecard: trend.%s names no feature: %w", name, family.ErrParam)
		}
	}
	if err := family.Rows(rows, len(s.Features)); err != nil {
		return nil, fmt.Errorf("train scorecard: %w", err)
	}
	if len(rows) != len(labels) || len(rows) == 0 {
		return nil, fmt.Errorf("train scorecard: %d rows, %d labels", len(rows), len(labels))
	}
	var pos int
	for i, y := range labels {
		if y != 0 && y != 1 {
			return nil, fmt.Errorf("train scorecard: label %d is %v, want 0 or 1", i, y)
		}
		pos += int(y)
	}
	if pos == 0 || pos == len(labels) {
		return nil, fmt.Errorf("train scorecard: the %d training labels are all %v; binary classification needs both classes", len(labels), labels[0])
	}
	m := &Model{schema: s, f: file{FormatVersion: formatVersion, Params: p.Map(),
		Scaling: newScaling(p.PDO, p.BasePoints, p.BaseOdds)}}
	col := make([]float64, len(rows))
	for j, ft := range s.Features {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train scorecard: %w", err)
		}
		for i, r := range rows {
			col[i] = r[j]
		}
		f := binFeature(ft, col, labels, p)
		f.Selected = f.IV >= p.MinIV && f.IV > 0
		m.f.Features = append(m.f.Features, f)
	}
	m.index()
	if len(m.sel) == 0 {
		best := slices.MaxFunc(m.f.Features, func(a, b Feature) int { return cmpFloat(a.IV, b.IV) })
		return nil, fmt.Errorf("train scorecard: no feature has IV ≥ min_iv %g (the highest is %q with %.4g)", p.MinIV, best.Name, best.IV)
	}
	if err := m.fitLogistic(ctx, rows, labels, p); err != nil {
		return nil, fmt.Errorf("train scorecard: %w", err)
	}
	m.setPoints()
	return m, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// index builds the lookups: selected features and category code -> bin.
func (m *Model) index() {
	m.sel = m.sel[:0]
	m.codes = make([][]int, len(m.f.Features))
	for j, f := range m.f.Features {
		if f.Selected {
			m.sel = append(m.sel, j)
		}
		if f.Type != data.Categorical {
			continue
		}
		levels := m.schema.Features[j].Levels
		pos := make(map[string]int, len(levels))
		for c, l := range levels {
			pos[l] = c
		}
		m.codes[j] = make([]int, len(levels))
		for b, bin := range f.Bins {
			for _, l := range bin.Levels {
				m.codes[j][pos[l]] = b
			}
		}
	}
}

// fitLogistic fits the logistic regression on the selected features' WoE
// with package model/logistic's Newton solver. That solver standardises
// its inputs, so the WoE coefficients are read back through Explain, which
// is linear in each value: β = contribution at WoE 1 − contribution at
// WoE 0, and the intercept is the base plus the contributions at 0.
func (m *Model) fitLogistic(ctx context.Context, rows [][]float64, labels []float64, p Params) error {
	t := &data.Table{LabelCol: m.schema.Label, Positive: m.schema.Positive, Label: labels}
	woe := make([][]float64, len(rows))
	for i, r := range rows {
		woe[i] = make([]float64, len(m.sel))
		for k, j := range m.sel {
			woe[i][k] = m.bin(j, r[j]).WoE
		}
	}
	for _, j := range m.sel {
		t.Columns = append(t.Columns, data.Column{Name: m.f.Features[j].Name, Kind: data.Numeric})
	}
	lm, err := logistic.Fit(ctx, woe, labels, t.Schema(), logistic.Params{L2: p.L2, MaxIter: p.MaxIter, Tol: p.Tol})
	if err != nil {
		return err
	}
	zero, base, err := lm.Explain(make([]float64, len(m.sel)))
	if err != nil {
		return err
	}
	ones := make([]float64, len(m.sel))
	for k := range ones {
		ones[k] = 1
	}
	one, _, err := lm.Explain(ones)
	if err != nil {
		return err
	}
	m.f.Intercept = base
	for k, j := range m.sel {
		m.f.Intercept += zero[k]
		c := one[k] - zero[k]
		m.f.Features[j].Coef = c
		if c > 0 {
			m.f.Features[j].Notes = append(m.f.Features[j].Notes,
				fmt.Sprintf("coefficient %.4g is positive: a higher WoE raises the risk here, against the binning (collinear with other features?)", c))
		}
	}
	m.f.Iterations = lm.Iterations()
	return nil
}

// points is the unrounded points of WoE w of a feature with coefficient
// beta, among n selected features: optbinning's formula, the intercept
// shared equally.
func (s Scaling) points(beta, w, intercept float64, n int) float64 {
	return -(beta*w+intercept/float64(n))*s.Factor + s.Offset/float64(n)
}

// setPoints gives each bin of the selected features its integer points.
func (m *Model) setPoints() {
	n := len(m.sel)
	for _, j := range m.sel {
		f := &m.f.Features[j]
		for b := range f.Bins {
			f.Bins[b].Points = int(math.Round(m.f.Scaling.points(f.Coef, f.Bins[b].WoE, m.f.Intercept, n)))
		}
		f.Missing.Points = int(math.Round(m.f.Scaling.points(f.Coef, f.Missing.WoE, m.f.Intercept, n)))
	}
}

// binIndex returns the index of the bin feature j puts value v in, -1
// for the missing bin.
func (m *Model) binIndex(j int, v float64) int {
	f := &m.f.Features[j]
	if f.Type == data.Categorical {
		c, ok := levelCode(v, len(m.codes[j]))
		if !ok {
			return -1
		}
		return m.codes[j][c]
	}
	if math.IsNaN(v) {
		return -1
	}
	return sort.Search(len(f.Splits), func(i int) bool { return v < f.Splits[i] })
}

// bin returns the bin feature j puts value v in.
func (m *Model) bin(j int, v float64) *Bin {
	f := &m.f.Features[j]
	if b := m.binIndex(j, v); b >= 0 {
		return &f.Bins[b]
	}
	return &f.Missing
}

// Flavor returns "creditrisk_scorecard".
func (m *Model) Flavor() string { return Flavor }

// Schema returns the model's input schema.
func (m *Model) Schema() *data.Schema { return m.schema }

// Params returns the effective training parameters.
func (m *Model) Params() map[string]string { return maps.Clone(m.f.Params) }

// Scaling returns the points scaling.
func (m *Model) Scaling() Scaling { return m.f.Scaling }

// Intercept returns the logistic regression's intercept.
func (m *Model) Intercept() float64 { return m.f.Intercept }

// Iterations returns the number of Newton iterations the fit took.
func (m *Model) Iterations() int { return m.f.Iterations }

// Features returns a copy of every feature's binning, selected or not, in
// schema order.
func (m *Model) Features() []Feature {
	out := make([]Feature, len(m.f.Features))
	for i, f := range m.f.Features {
		f.Splits = slices.Clone(f.Splits)
		f.Notes = slices.Clone(f.Notes)
		f.Bins = slices.Clone(f.Bins)
		for b := range f.Bins {
			f.Bins[b].Levels = slices.Clone(f.Bins[b].Levels)
		}
		out[i] = f
	}
	return out
}

// Importance returns each feature's IV, 0 for the features the scorecard
// leaves out.
func (m *Model) Importance() ([]float64, string) {
	out := make([]float64, len(m.f.Features))
	for _, j := range m.sel {
		out[j] = m.f.Features[j].IV
	}
	return out, "information value (IV) of the binned feature"
}

// raw returns a row's log-odds of default and, when contrib is not nil,
// each feature's part of it (β·WoE; 0 for features left out).
func (m *Model) raw(r []float64, contrib []float64) float64 {
	s := m.f.Intercept
	for _, j := range m.sel {
		c := m.f.Features[j].Coef * m.bin(j, r[j]).WoE
		if contrib != nil {
			contrib[j] = c
		}
		s += c
	}
	return s
}

// Predict returns the probability of default of each row, from the
// unrounded log-odds (the integer points round each bin).
func (m *Model) Predict(rows [][]float64) ([]float64, error) {
	if err := family.Rows(rows, len(m.f.Features)); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = sigmoid(m.raw(r, nil))
	}
	return out, nil
}

func sigmoid(e float64) float64 {
	if e >= 0 {
		return 1 / (1 + math.Exp(-e))
	}
	z := math.Exp(e)
	return z / (1 + z)
}

// Explain returns each feature's part of the row's log-odds of default
// (coefficient × the WoE of the row's bin; 0 for features left out) and
// the intercept as base; they sum to the log-odds Predict uses.
func (m *Model) Explain(row []float64) ([]float64, float64, error) {
	if err := family.Row(row, len(m.f.Features)); err != nil {
		return nil, 0, fmt.Errorf("explain: %w", err)
	}
	c := make([]float64, len(row))
	m.raw(row, c)
	return c, m.f.Intercept, nil
}

// Points returns each feature's points for the row (indexed like the
// schema's features; 0 for features left out) and their sum, the score.
// A higher score is a safer applicant.
func (m *Model) Points(row []float64) (points []int, score int, err error) {
	if err := family.Row(row, len(m.f.Features)); err != nil {
		return nil, 0, fmt.Errorf("points: %w", err)
	}
	points = make([]int, len(row))
	for _, j := range m.sel {
		points[j] = m.bin(j, row[j]).Points
		score += points[j]
	}
	return points, score, nil
}

// Score returns the score (the sum of the points) of each row.
func (m *Model) Score(rows [][]float64) ([]int, error) {
	if err := family.Rows(rows, len(m.f.Features)); err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	out := make([]int, len(rows))
	for i, r := range rows {
		_, out[i], _ = m.Points(r)
	}
	return out, nil
}

// Reason is one feature's points lost against its best bin, the classic
// adverse-action reason of a points scorecard.
type Reason struct {
	Feature string `json:"feature"`
	Bin     string `json:"bin"`      // the row's bin
	Points  int    `json:"points"`   // the row's points for the feature
	Best    int    `json:"best"`     // the feature's most points (over bins with training rows)
	BestBin string `json:"best_bin"` // the bin that gives them
	Lost    int    `json:"lost"`     // Best − Points, > 0
	// Direction places the row's bin against the best one: High or Low
	// (numeric features), Missing, or Any (categorical features); the key
	// of a statement in a reasons.Set.
	Direction reasons.Direction `json:"direction"`
}

// Reasons returns the features on which the row lost points against the
// feature's best bin, most points lost first (ties in schema order).
// Features left out of the scorecard give no reasons.
func (m *Model) Reasons(row []float64) ([]Reason, error) {
	if err := family.Row(row, len(m.f.Features)); err != nil {
		return nil, fmt.Errorf("reasons: %w", err)
	}
	var out []Reason
	for _, j := range m.sel {
		f := &m.f.Features[j]
		at := m.binIndex(j, row[j])
		best, bestAt := math.MinInt, -2
		for b, bin := range f.Bins {
			if bin.Count > 0 && bin.Points > best {
				best, bestAt = bin.Points, b
			}
		}
		if f.Missing.Count > 0 && f.Missing.Points > best {
			best, bestAt = f.Missing.Points, -1
		}
		if bestAt == -2 {
			continue
		}
		got := m.bin(j, row[j])
		if got.Points >= best {
			continue
		}
		r := Reason{Feature: f.Name, Bin: got.Label, Points: got.Points, Best: best, Lost: best - got.Points, Direction: reasons.Any}
		if bestAt >= 0 {
			r.BestBin = f.Bins[bestAt].Label
		} else {
			r.BestBin = f.Missing.Label
		}
		switch {
		case at < 0:
			r.Direction = reasons.Missing
		case f.Type == data.Categorical:
			r.Direction = reasons.Any
		case bestAt < 0:
			r.Direction = reasons.Any // best when missing: no side to name
		case at > bestAt:
			r.Direction = reasons.High
		default:
			r.Direction = reasons.Low
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b Reason) int { return b.Lost - a.Lost })
	return out, nil
}

// String renders a reason for logs: "duration_in_month [24.5, inf): 12 of 31 points (19 lost)".
func (r Reason) String() string {
	return fmt.Sprintf("%s %s: %d of %d points (%d lost)", r.Feature, r.Bin, r.Points, r.Best, r.Lost)
}
