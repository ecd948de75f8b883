// Package logistic is the logistic model family: an L2-regularised logistic
// regression over standardised numeric features and one-hot categorical
// features with an unpenalised intercept, fitted by Newton's method with
// gonum, and saved as JSON coefficients with the standardisation and
// one-hot layout needed to score a row.
//
// The objective is Σ log-loss + λ/2·‖w‖², the same as scikit-learn's
// LogisticRegression(C=1/λ) (intercept not penalised). A missing numeric
// value is imputed with the training mean (0 after standardising); a
// missing or unseen category has all its one-hot columns 0.
package logistic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/model/family"
)

// Flavor is the MLflow flavor and FileName the model file.
const (
	Flavor   = "creditrisk_logistic"
	FileName = "model.json"
)

// formatVersion is the version of the JSON layout.
const formatVersion = 1

// Params are the training parameters.
type Params struct {
	L2      float64 // l2 (alias lambda): penalty λ; scikit-learn's C is 1/λ
	MaxIter int     // max_iter: Newton iterations
	Tol     float64 // tol: stop when no coefficient moves by more than tol
}

// Keys lists the parameter keys Set accepts.
var Keys = []string{"l2", "lambda", "max_iter", "tol"}

// DefaultParams returns λ=1 (scikit-learn's default C=1), 100 iterations,
// tol 1e-8.
func DefaultParams() Params { return Params{L2: 1, MaxIter: 100, Tol: 1e-8} }

// Set sets one parameter; the error names the key.
func (p *Params) Set(key, value string) error {
	var err error
	switch key {
	case "l2", "lambda":
		p.L2, err = family.Float(value, 0, math.MaxFloat64)
	case "max_iter":
		p.MaxIter, err = family.Int(value, 1, 10000)
	case "tol":
		p.Tol, err = family.Float(value, 0, 1)
	default:
		err = fmt.Errorf("unknown parameter %q: %w", key, family.ErrParam)
	}
	return err
}

// Map returns the effective parameters for logging.
func (p Params) Map() map[string]string {
	return map[string]string{
		"l2":          family.FormatFloat(p.L2),
		"max_iter":    strconv.Itoa(p.MaxIter),
		"tol":         family.FormatFloat(p.Tol),
		"solver":      "newton",
		"standardize": "true",
		"encoding":    "one-hot",
	}
}

// term is one input feature's part of the model.
type term struct {
	Name string `json:"name"`
	// Numeric features: the training mean and standard deviation (1 when
	// constant) and one coefficient.
	Mean  float64 `json:"mean,omitempty"`
	Scale float64 `json:"scale,omitempty"`
	// Categorical features: one coefficient per level, code order.
	Categorical bool      `json:"categorical,omitempty"`
	Coef        []float64 `json:"coef"`
}

// file is the JSON form of a model.
type file struct {
	FormatVersion int               `json:"format_version"`
	Intercept     float64           `json:"intercept"`
	Terms         []term            `json:"terms"`
	Params        map[string]string `json:"params"`
	Iterations    int               `json:"iterations"`
}

// Model is a fitted logistic regression with its schema.
type Model struct {
	f      file
	schema *data.Schema
}

// Train fits a model to a training table with key=value parameters.
func Train(ctx context.Context, train *data.Table, params map[string]string) (*Model, error) {
	p := DefaultParams()
	if err := family.Params(params, Keys, p.Set); err != nil {
		return nil, fmt.Errorf("train logistic: %w", err)
	}
	if train == nil || train.Rows() == 0 {
		return nil, fmt.Errorf("train logistic: no training rows")
	}
	return Fit(ctx, train.Matrix(nil), train.Label, train.Schema(), p)
}

// Fit fits a model to encoded rows (as Predict takes them) and 0/1 labels.
func Fit(ctx context.Context, rows [][]float64, labels []float64, s *data.Schema, p Params) (*Model, error) {
	n := len(s.Features)
	if p.MaxIter < 1 || !(p.L2 >= 0) || !(p.Tol >= 0) || math.IsInf(p.L2, 0) {
		return nil, fmt.Errorf("train logistic: l2 %v, max_iter %d, tol %v: %w", p.L2, p.MaxIter, p.Tol, family.ErrParam)
	}
	if err := family.Rows(rows, n); err != nil {
		return nil, fmt.Errorf("train logistic: %w", err)
	}
	if len(rows) != len(labels) || len(rows) == 0 {
		return nil, fmt.Errorf("train logistic: %d rows, %d labels", len(rows), len(labels))
	}
	var pos int
	for i, y := range labels {
		if y != 0 && y != 1 {
			return nil, fmt.Errorf("train logistic: label %d is %v, want 0 or 1", i, y)
		}
		pos += int(y)
	}
	if pos == 0 || pos == len(labels) {
		return nil, fmt.Errorf("train logistic: the %d training labels are all %v; binary classification needs both classes", len(labels), labels[0])
	}
	m := &Model{schema: s, f: file{FormatVersion: formatVersion, Params: p.Map()}}
	m.f.Terms = make([]term, n)
	for j, ft := range s.Features {
		t := term{Name: ft.Name}
		if ft.Type == data.Categorical {
			t.Categorical = true
			t.Coef = make([]float64, len(ft.Levels))
		} else {
			t.Mean, t.Scale = meanScale(rows, j)
			t.Coef = make([]float64, 1)
		}
		m.f.Terms[j] = t
	}
	d := 1 + m.width()
	x := mat.NewDense(len(rows), d, nil)
	for i, r := range rows {
		m.design(r, x.RawRowView(i))
	}
	w, iters, err := newton(ctx, x, labels, p)
	if err != nil {
		return nil, fmt.Errorf("train logistic: %w", err)
	}
	m.f.Intercept = w[0]
	k := 1
	for j := range m.f.Terms {
		c := m.f.Terms[j].Coef
		copy(c, w[k:k+len(c)])
		k += len(c)
	}
	m.f.Iterations = iters
	return m, nil
}

// meanScale returns the mean and population standard deviation of column
// j over non-missing values (scale 1 when constant or all missing).
func meanScale(rows [][]float64, j int) (float64, float64) {
	var sum, n float64
	for _, r := range rows {
		if v := r[j]; !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0, 1
	}
	mean := sum / n
	var ss float64
	for _, r := range rows {
		if v := r[j]; !math.IsNaN(v) {
			ss += (v - mean) * (v - mean)
		}
	}
	sd := math.Sqrt(ss / n)
	if sd == 0 || math.IsNaN(sd) || math.IsInf(sd, 0) {
		sd = 1
	}
	return mean, sd
}

// width is the number of design columns without the intercept.
func (m *Model) width() int {
	w := 0
	for _, t := range m.f.Terms {
		w += len(t.Coef)
	}
	return w
}

// design writes row r's design vector (intercept first) into dst.
func (m *Model) design(r, dst []float64) {
	clear(dst)
	dst[0] = 1
	k := 1
	for j, t := range m.f.Terms {
		if t.Categorical {
			if c, ok := code(r[j], len(t.Coef)); ok {
				dst[k+c] = 1
			}
		} else if v := r[j]; !math.IsNaN(v) {
			dst[k] = (v - t.Mean) / t.Scale
		}
		k += len(t.Coef)
	}
}

// code returns a category code that indexes n levels; NaN, negative,
// fractional or too large values are missing.
func code(v float64, n int) (int, bool) {
	if math.IsNaN(v) || v < 0 || v >= float64(n) || v != math.Trunc(v) {
		return 0, false
	}
	return int(v), true
}

// newton minimises Σ log-loss + λ/2·‖w[1:]‖² by Newton's method with
// step halving.
func newton(ctx context.Context, x *mat.Dense, y []float64, p Params) ([]float64, int, error) {
	n, d := x.Dims()
	w := make([]float64, d)
	eta := make([]float64, n)
	prob := make([]float64, n)
	loss := func(w []float64) float64 {
		var l float64
		wv := mat.NewVecDense(d, w)
		ev := mat.NewVecDense(n, eta)
		ev.MulVec(x, wv)
		for i, e := range eta {
			// log(1+exp(e)) - y·e, computed without overflow.
			l += softplus(e) - y[i]*e
		}
		for _, v := range w[1:] {
			l += p.L2 / 2 * v * v
		}
		return l
	}
	cur := loss(w)
	g := mat.NewVecDense(d, nil)
	h := mat.NewSymDense(d, nil)
	xw := mat.NewDense(n, d, nil)
	step := mat.NewVecDense(d, nil)
	trial := make([]float64, d)
	for it := 1; it <= p.MaxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, it, err
		}
		// eta holds x·w from the last loss evaluation at w.
		for i, e := range eta {
			prob[i] = sigmoid(e)
		}
		// gradient Xᵀ(p−y) + λw̃; Hessian XᵀWX + λĨ.
		r := make([]float64, n)
		for i := range r {
			r[i] = prob[i] - y[i]
		}
		g.MulVec(x.T(), mat.NewVecDense(n, r))
		for j := 1; j < d; j++ {
			g.SetVec(j, g.AtVec(j)+p.L2*w[j])
		}
		for i := 0; i < n; i++ {
			s := math.Sqrt(prob[i] * (1 - prob[i]))
			src, dst := x.RawRowView(i), xw.RawRowView(i)
			for j := range src {
				dst[j] = src[j] * s
			}
		}
		h.SymOuterK(1, xw.T())
		for j := 1; j < d; j++ {
			h.SetSym(j, j, h.At(j, j)+p.L2)
		}
		var chol mat.Cholesky
		if ok := chol.Factorize(h); !ok {
			return nil, it, errors.New("the Hessian is singular (perfectly separable data or a constant one-hot column?); use l2 > 0")
		}
		if err := chol.SolveVecTo(step, g); err != nil {
			return nil, it, fmt.Errorf("newton step: %w", err)
		}
		t := 1.0
		var next float64
		for halvings := 0; ; halvings++ {
			for j := range trial {
				trial[j] = w[j] - t*step.AtVec(j)
			}
			next = loss(trial)
			if next <= cur || halvings == 30 {
				break
			}
			t /= 2
		}
		maxMove := 0.0
		for j := range w {
			maxMove = math.Max(maxMove, math.Abs(trial[j]-w[j]))
		}
		copy(w, trial)
		cur = next
		if maxMove <= p.Tol {
			return w, it, nil
		}
	}
	return w, p.MaxIter, nil
}

func sigmoid(e float64) float64 {
	if e >= 0 {
		return 1 / (1 + math.Exp(-e))
	}
	z := math.Exp(e)
	return z / (1 + z)
}

func softplus(e float64) float64 {
	if e > 0 {
		return e + math.Log1p(math.Exp(-e))
	}
	return math.Log1p(math.Exp(e))
}

// Flavor returns "creditrisk_logistic".
func (m *Model) Flavor() string { return Flavor }

// Schema returns the model's input schema.
func (m *Model) Schema() *data.Schema { return m.schema }

// Params returns the effective training parameters.
func (m *Model) Params() map[string]string {
	out := make(map[string]string, len(m.f.Params))
	for k, v := range m.f.Params {
		out[k] = v
	}
	return out
}

// Importance returns, per feature, |coefficient| for a numeric feature
// (the log-odds change per standard deviation) and the spread (largest
// minus smallest level coefficient) for a categorical one.
func (m *Model) Importance() ([]float64, string) {
	out := make([]float64, len(m.f.Terms))
	for j, t := range m.f.Terms {
		if !t.Categorical {
			out[j] = math.Abs(t.Coef[0])
			continue
		}
		if len(t.Coef) > 0 {
			out[j] = slices.Max(t.Coef) - slices.Min(t.Coef)
		}
	}
	return out, "log-odds effect (|coef| per SD; level spread for categories)"
}

// Iterations returns the number of Newton iterations the fit took.
func (m *Model) Iterations() int { return m.f.Iterations }

// Coefficients returns the intercept and the coefficients of the
// standardised numeric features ("name") and of each category level
// ("name=level").
func (m *Model) Coefficients() (intercept float64, coef map[string]float64) {
	coef = map[string]float64{}
	for j, t := range m.f.Terms {
		if !t.Categorical {
			coef[t.Name] = t.Coef[0]
			continue
		}
		for c, v := range t.Coef {
			coef[t.Name+"="+m.schema.Features[j].Levels[c]] = v
		}
	}
	return m.f.Intercept, coef
}

// raw returns the log-odds of a row and, if contrib is not nil, each
// feature's part of it.
func (m *Model) raw(r []float64, contrib []float64) float64 {
	s := m.f.Intercept
	for j, t := range m.f.Terms {
		var c float64
		if t.Categorical {
			if k, ok := code(r[j], len(t.Coef)); ok {
				c = t.Coef[k]
			}
		} else if v := r[j]; !math.IsNaN(v) {
			c = t.Coef[0] * (v - t.Mean) / t.Scale
		}
		if contrib != nil {
			contrib[j] = c
		}
		s += c
	}
	return s
}

// Predict returns the probability of default of each row.
func (m *Model) Predict(rows [][]float64) ([]float64, error) {
	if err := family.Rows(rows, len(m.f.Terms)); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = sigmoid(m.raw(r, nil))
	}
	return out, nil
}

// Explain returns each feature's coefficient × standardised value (for a
// categorical feature, the coefficient of its level; 0 when missing), and
// the intercept as base.
func (m *Model) Explain(row []float64) ([]float64, float64, error) {
	if err := family.Row(row, len(m.f.Terms)); err != nil {
		return nil, 0, fmt.Errorf("explain: %w", err)
	}
	c := make([]float64, len(row))
	m.raw(row, c)
	return c, m.f.Intercept, nil
}

// Save writes model.json into dir.
func (m *Model) Save(dir string) error {
	b, err := json.MarshalIndent(m.f, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), append(b, '\n'), 0o666); err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	return nil
}

// Load reads a model.json whose features s describes.
func Load(path string, s *data.Schema) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	m, err := Parse(b, s)
	if err != nil {
		return nil, fmt.Errorf("logistic: %s: %w", path, err)
	}
	return m, nil
}

// Parse reads a model.json's content and checks it against s: the same
// features in the same order, one coefficient per numeric feature and per
// level, finite numbers, positive scales.
func Parse(b []byte, s *data.Schema) (*Model, error) {
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.FormatVersion != formatVersion {
		return nil, fmt.Errorf("format_version %d, want %d", f.FormatVersion, formatVersion)
	}
	if len(f.Terms) != len(s.Features) {
		return nil, fmt.Errorf("%d terms for %d features", len(f.Terms), len(s.Features))
	}
	if !finite(f.Intercept) {
		return nil, fmt.Errorf("intercept is not finite")
	}
	for j, t := range f.Terms {
		ft := s.Features[j]
		if t.Name != ft.Name {
			return nil, fmt.Errorf("term %d is %q, the schema's feature %q", j, t.Name, ft.Name)
		}
		want := 1
		if ft.Type == data.Categorical {
			want = len(ft.Levels)
		}
		if t.Categorical != (ft.Type == data.Categorical) || len(t.Coef) != want {
			return nil, fmt.Errorf("term %q: %d coefficients (categorical %v) for a %v feature with %d levels", t.Name, len(t.Coef), t.Categorical, ft.Type, len(ft.Levels))
		}
		if !t.Categorical && (!finite(t.Mean) || !finite(t.Scale) || t.Scale <= 0) {
			return nil, fmt.Errorf("term %q: mean %v, scale %v", t.Name, t.Mean, t.Scale)
		}
		for _, c := range t.Coef {
			if !finite(c) {
				return nil, fmt.Errorf("term %q: coefficient %v is not finite", t.Name, c)
			}
		}
	}
	return &Model{f: f, schema: s}, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
