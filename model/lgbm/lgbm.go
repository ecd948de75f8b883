// Package lgbm is the gbdt model family: gradient-boosted trees trained by
// package gbdt and saved as a LightGBM text model file (MLflow's lightgbm
// flavor). Predictions go through github.com/dmitryikh/leaves, the fast
// path; package gbdt's own predictor is the reference it is tested
// against, and its TreeSHAP gives the explanations.
package lgbm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/dmitryikh/leaves"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/internal/fanout"
	"github.com/creditrisk/engine/model/family"
)

// Flavor is the MLflow flavor and FileName the model file, as
// mlflow.lightgbm names them.
const (
	Flavor   = "lightgbm"
	FileName = "model.lgb"
)

// denseRows is the rows per goroutine from which Predict spreads a batch
// over goroutines; below it the overhead outweighs the gain.
const denseRows = 256

// Model is a trained or loaded boosted ensemble with its schema.
type Model struct {
	booster *gbdt.Model
	flat    *gbdt.Flat
	ens     *leaves.Ensemble // predicts only in tests
	schema  *data.Schema
	params  map[string]string
}

// New wraps a gbdt model trained on features described by s.
func New(b *gbdt.Model, s *data.Schema) (*Model, error) {
	if b == nil || s == nil {
		return nil, fmt.Errorf("lgbm: nil model or schema")
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("lgbm: %w", err)
	}
	if len(b.FeatureNames) != len(s.Features) {
		return nil, fmt.Errorf("lgbm: the model has %d features, the schema %d", len(b.FeatureNames), len(s.Features))
	}
	// leaves reads the canonical text that gbdt writes, not the file as
	// given: the file has been validated by gbdt.ReadText, and the rewrite
	// gives leaves the version line and layout it accepts (LightGBM 4.x
	// files say version=v4, which leaves refuses).
	var buf bytes.Buffer
	if err := b.WriteText(&buf); err != nil {
		return nil, fmt.Errorf("lgbm: %w", err)
	}
	ens, err := leavesFrom(&buf)
	if err != nil {
		return nil, err
	}
	if ens.NFeatures() > len(s.Features) {
		return nil, fmt.Errorf("lgbm: leaves reads %d features, the schema has %d", ens.NFeatures(), len(s.Features))
	}
	params := make(map[string]string, len(b.Params))
	for _, p := range b.Params {
		params[p.Key] = p.Value
	}
	flat := b.Flatten()
	if flat == nil {
		return nil, fmt.Errorf("lgbm: the model does not flatten")
	}
	return &Model{booster: b, flat: flat, ens: ens, schema: s, params: params}, nil
}

func leavesFrom(buf *bytes.Buffer) (ens *leaves.Ensemble, err error) {
	defer func() {
		if r := recover(); r != nil {
			ens, err = nil, fmt.Errorf("lgbm: leaves failed to load the model: %v", r)
		}
	}()
	ens, err = leaves.LGEnsembleFromReader(bufio.NewReader(buf), true)
	if err != nil {
		return nil, fmt.Errorf("lgbm: leaves: %w", err)
	}
	return ens, nil
}

// Load reads a LightGBM text model file (written by Save or by Python's
// LightGBM 2.x-4.x) whose features s describes.
func Load(path string, s *data.Schema) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lgbm: %w", err)
	}
	defer f.Close()
	b, err := gbdt.ReadText(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("lgbm: %s: %w", path, err)
	}
	m, err := New(b, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Train trains a model on train (valid may be nil; it is required for
// early stopping) with LightGBM-style parameters (gbdt.Params.Set keys and
// aliases). onIter, if not nil, receives every iteration's metrics.
func Train(ctx context.Context, train, valid *data.Table, params map[string]string, onIter func(gbdt.Iteration)) (*Model, error) {
	p := gbdt.DefaultParams()
	if err := family.Params(params, gbdt.ParamKeys(), p.Set); err != nil {
		return nil, fmt.Errorf("train gbdt: %w", paramError{err})
	}
	tr, err := dataset(train)
	if err != nil {
		return nil, fmt.Errorf("train gbdt: training data: %w", err)
	}
	var va *gbdt.Dataset
	if valid != nil {
		if va, err = dataset(valid); err != nil {
			return nil, fmt.Errorf("train gbdt: validation data: %w", err)
		}
	}
	b, err := gbdt.Train(ctx, p, tr, va, onIter)
	if errors.Is(err, gbdt.ErrParam) {
		err = paramError{err}
	}
	if err != nil {
		return nil, fmt.Errorf("train gbdt: %w", err)
	}
	return New(b, train.Schema())
}

// paramError makes gbdt's parameter errors match family.ErrParam too.
type paramError struct{ err error }

func (e paramError) Error() string        { return e.err.Error() }
func (e paramError) Unwrap() error        { return e.err }
func (e paramError) Is(target error) bool { return target == family.ErrParam }

func dataset(t *data.Table) (*gbdt.Dataset, error) {
	if t == nil || t.Rows() == 0 {
		return nil, fmt.Errorf("no rows")
	}
	d := &gbdt.Dataset{Labels: t.Label}
	for _, c := range t.Columns {
		d.Columns = append(d.Columns, c.Values)
		d.Names = append(d.Names, c.Name)
		d.Categorical = append(d.Categorical, c.Kind == data.Categorical)
	}
	return d, nil
}

// Booster returns the underlying gbdt model (for feature importance and
// the reference predictor).
func (m *Model) Booster() *gbdt.Model { return m.booster }

// Importance returns each feature's total split gain.
func (m *Model) Importance() ([]float64, string) {
	out := make([]float64, len(m.schema.Features))
	copy(out, m.booster.GainImportance)
	return out, "total split gain"
}

// Flavor returns "lightgbm".
func (m *Model) Flavor() string { return Flavor }

// Schema returns the model's input schema.
func (m *Model) Schema() *data.Schema { return m.schema }

// Params returns the training parameters recorded in the model file.
func (m *Model) Params() map[string]string {
	out := make(map[string]string, len(m.params))
	for k, v := range m.params {
		out[k] = v
	}
	return out
}

// Predict returns the probability of default of each row.
func (m *Model) Predict(rows [][]float64) ([]float64, error) {
	n := len(m.schema.Features)
	if err := family.Rows(rows, n); err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := make([]float64, len(rows))
	workers := min(runtime.GOMAXPROCS(0), len(rows)/denseRows)
	if workers <= 1 {
		m.flat.Predict(rows, out)
		return out, nil
	}
	fanout.Each(workers, workers, func(w int) error {
		lo, hi := w*len(rows)/workers, (w+1)*len(rows)/workers
		m.flat.Predict(rows[lo:hi], out[lo:hi])
		return nil
	})
	return out, nil
}

// TrainPredictions returns Predict's answers for the rows the model was
// trained on, in their order, as training computed them (nil for a model
// loaded from a file): scoring the training split again would cost as
// much as walking every tree for every row.
func (m *Model) TrainPredictions() []float64 { return m.booster.TrainPredictions() }

// Explain returns TreeSHAP contributions (log-odds) and the expected raw
// score as base.
func (m *Model) Explain(row []float64) ([]float64, float64, error) {
	if err := family.Row(row, len(m.schema.Features)); err != nil {
		return nil, 0, fmt.Errorf("explain: %w", err)
	}
	c := m.booster.Contributions(row)
	return c[:len(c)-1], c[len(c)-1], nil
}

// Save writes model.lgb into dir.
func (m *Model) Save(dir string) error {
	var buf bytes.Buffer
	if err := m.booster.WriteText(&buf); err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o666); err != nil {
		return fmt.Errorf("write %s: %w", FileName, err)
	}
	return nil
}

// PandasCategorical returns the category levels of the pandas_categorical
// line that Python's LightGBM appends to a model trained on a DataFrame
// with category columns: one list per category column, in column order;
// a level's code is its index. It returns nil when there is no such line
// or it is null.
func PandasCategorical(model []byte) ([][]string, error) {
	i := bytes.LastIndex(model, []byte("\npandas_categorical:"))
	if i < 0 {
		return nil, nil
	}
	line := model[i+len("\npandas_categorical:"):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	var raw [][]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("pandas_categorical: %v", err)
	}
	out := make([][]string, len(raw))
	for c, levels := range raw {
		out[c] = make([]string, len(levels))
		for k, l := range levels {
			switch v := l.(type) {
			case string:
				out[c][k] = v
			case json.Number:
				f, err := v.Float64()
				if err != nil || math.IsInf(f, 0) {
					return nil, fmt.Errorf("pandas_categorical: level %q", v.String())
				}
				out[c][k] = strconv.FormatFloat(f, 'g', -1, 64)
			case bool:
				out[c][k] = map[bool]string{true: "True", false: "False"}[v] // Python's str(True)
			default:
				return nil, fmt.Errorf("pandas_categorical: column %d level %d is %T, not a string or number", c, k, l)
			}
		}
	}
	return out, nil
}
