package train

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/tracking"
)

// input is the loaded data of a run: the whole input as read (its digest
// is the dataset's and the split manifest's), the part the model sees
// (without the date column and, unless kept, the protected ones), the
// split, and each measured-only column's role.
type input struct {
	all, features *data.Table
	splits        data.Splits
	roles         map[string]string
	// profile describes the input (its period read here, so that a bad
	// date fails the run before it trains).
	profile *report.DataProfile
}

// prepare loads and splits the data and sets the measured-only columns
// aside.
func prepare(cfg Config) (*input, error) {
	table, err := loadTable(cfg.Data)
	if err != nil {
		return nil, err
	}
	splits, err := split(cfg.Split, table)
	if err != nil {
		return nil, err
	}
	in := &input{all: table, splits: splits, roles: map[string]string{}}
	var drop []string
	if d := cfg.Data.Date; d != "" {
		if _, ok := table.Column(d); !ok {
			return nil, &ConfigError{Key: "data.date", Msg: fmt.Sprintf("%s has no column %q", table.Source, d)}
		}
		in.roles[d] = report.RoleDate
		drop = append(drop, d)
	}
	for i, p := range cfg.Fairness.Protected {
		c, ok := table.Column(p.Column)
		if !ok {
			return nil, &ConfigError{Key: fmt.Sprintf("fairness.protected[%d]", i),
				Msg: fmt.Sprintf("%s has no column %q (or data.types ignores it); columns are %v", table.Source, p.Column, table.FeatureNames())}
		}
		if _, err := p.Groups(c); err != nil {
			return nil, &ConfigError{Key: fmt.Sprintf("fairness.protected[%d]", i), Msg: err.Error()}
		}
		if cfg.Fairness.KeepFeatures {
			in.roles[p.Column] = report.RoleProtectedFeature
			continue
		}
		in.roles[p.Column] = report.RoleProtected
		drop = append(drop, p.Column)
	}
	if in.profile, err = report.Describe(table, splits, in.roles, cfg.Data.Date); err != nil {
		return nil, &ConfigError{Key: "data.date", Msg: err.Error()}
	}
	in.features = table
	if len(drop) > 0 {
		f := *table
		f.Columns = slices.DeleteFunc(slices.Clone(table.Columns), func(c data.Column) bool { return slices.Contains(drop, c.Name) })
		if len(f.Columns) == 0 {
			return nil, &ConfigError{Key: "fairness.protected", Msg: "no feature is left to train on"}
		}
		in.features = &f
	}
	return in, nil
}

// artifactWriter is a model with artifacts of its own (the scorecard's
// table, IV ranking and binning plots).
type artifactWriter interface {
	WriteArtifacts(dir string) ([]string, error)
}

// trainPredictor is a model that kept its predictions for its training
// rows (gbdt's).
type trainPredictor interface {
	TrainPredictions() []float64
}

// writeInputs writes what a validator needs besides the evaluation: the
// split manifest, the data profile, the fair-lending figures (also added
// to the metrics) and the family's own artifacts.
func (res *Result) writeInputs(cfg Config, dir string, in *input, m model.Model, trainT *data.Table, testScores []float64) error {
	if err := data.NewManifest(in.all, in.profile.Digest, in.splits).WriteFile(filepath.Join(dir, tracking.SplitManifestFile)); err != nil {
		return err
	}
	prof := in.profile
	var trainScores []float64
	if t, ok := m.(trainPredictor); ok {
		trainScores = t.TrainPredictions()
	}
	if len(trainScores) != trainT.Rows() {
		var err error
		if trainScores, err = m.Predict(trainT.Matrix(nil)); err != nil {
			return fmt.Errorf("score the training split: %w", err)
		}
	}
	h := data.NewHistogram("score", trainScores, 10)
	prof.TrainScores = &h
	if err := report.WriteJSON(filepath.Join(dir, tracking.DataProfileFile), prof); err != nil {
		return err
	}
	if len(cfg.Fairness.Protected) > 0 {
		f, err := fairness(cfg, in, testScores)
		if err != nil {
			return err
		}
		for _, c := range f.Characteristics {
			for k, v := range c.Report.Metrics() {
				res.Metrics[report.MetricPrefix(c.Column)+k] = v
			}
		}
		if err := report.WriteJSON(filepath.Join(dir, tracking.FairnessFile), f); err != nil {
			return err
		}
	}
	if w, ok := m.(artifactWriter); ok {
		if _, err := w.WriteArtifacts(filepath.Join(dir, tracking.ScorecardPath)); err != nil {
			return err
		}
	}
	return nil
}

// fairness measures each protected characteristic on the test split at the
// evaluation cut-off.
func fairness(cfg Config, in *input, scores []float64) (*report.Fairness, error) {
	test := in.all.Subset(in.splits.Test)
	f := &report.Fairness{Cutoff: cfg.Evaluation.Cutoff}
	for _, p := range cfg.Fairness.Protected {
		c, _ := test.Column(p.Column) // prepare checked it
		groups, err := p.Groups(c)
		if err != nil {
			return nil, err
		}
		r, err := evaluate.Fairness(test.Label, scores, groups, cfg.Evaluation.Cutoff)
		if err != nil {
			return nil, fmt.Errorf("fairness of %s on the test split: %w", p.Column, err)
		}
		f.Characteristics = append(f.Characteristics, report.Characteristic{Protected: p, Feature: cfg.Fairness.KeepFeatures, Report: r})
	}
	return f, nil
}
