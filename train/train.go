// Package train is the training flow behind `pipeline train`: it loads and
// splits the loan data, trains a model of the configured family, evaluates
// it on the held-out test split, writes the model directory, plots and
// evaluation, and records all of it as an MLflow run — params, per-iteration
// and test metrics, system tags, the dataset input, artifacts — before
// registering a model version when asked.
//
// A run either completes or is marked FAILED (KILLED when cancelled); a
// model version is only created once every artifact is uploaded and the
// run is closed, so the registry never points at missing files and a
// registration that dies leaves a finished run, never one RUNNING forever.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// Options are what a run needs besides its Config.
type Options struct {
	// Tracking records the run; nil keeps the results in OutDir only.
	Tracking tracking.Backend
	// OutDir receives the run's files: model/, plots/, evaluation.json.
	OutDir string
	// OnIteration, if set, sees each boosting iteration (for progress).
	OnIteration func(gbdt.Iteration)
	// OnWarning, if set, sees each warning about the data as it is found,
	// before training (the warnings are also in Result.Warnings and the
	// run's description).
	OnWarning func(Suspect)
	// Tags are extra run tags, e.g. the system tags of the run's source.
	Tags map[string]string
}

// Result is what a finished run produced.
type Result struct {
	RunID        string `json:"run_id,omitempty"`
	Experiment   string `json:"experiment,omitempty"`
	ExperimentID string `json:"experiment_id,omitempty"`
	TrackingURI  string `json:"tracking_uri,omitempty"`
	RunURL       string `json:"run_url,omitempty"`
	ArtifactURI  string `json:"artifact_uri,omitempty"`
	ModelURI     string `json:"model_uri"`
	// ModelID is the MLflow 3 logged model holding the model directory
	// (backends with logged models only; ModelURI is then models:/<id>).
	ModelID    string             `json:"model_id,omitempty"`
	ModelDir   string             `json:"model_dir,omitempty"`
	OutDir     string             `json:"out_dir,omitempty"`
	Family     string             `json:"family"`
	Metrics    map[string]float64 `json:"metrics"`
	Registered *Registration      `json:"registered,omitempty"`
	Iterations int                `json:"iterations,omitempty"`
	// BestIteration is the boosting iteration the model keeps (the lowest
	// validation log loss); Stopped says why boosting ended.
	BestIteration int        `json:"best_iteration,omitempty"`
	Stopped       string     `json:"stopped,omitempty"`
	Rows          SplitSizes `json:"rows"`
	// Warnings are the data's suspect columns (identifiers, leaks).
	Warnings []Suspect `json:"warnings,omitempty"`
	// Refit is the final model trained on every row, with --refit.
	Refit *Refit `json:"refit,omitempty"`
	// Seconds spent in each phase: load, train, evaluate (scores, metrics,
	// plots, model directory) and track (MLflow calls and uploads).
	Seconds map[string]float64 `json:"seconds"`

	testScores []float64 // the model's scores of the test split
}

// Registration is the model version a run registered.
type Registration struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SplitSizes are the row counts of each part of the split.
type SplitSizes struct {
	Train      int `json:"train"`
	Validation int `json:"validation"`
	Test       int `json:"test"`
}

// Run trains, evaluates and records one model as cfg says.
func Run(ctx context.Context, cfg Config, opts Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	params := cfg.withFamilyDefaults()
	if err := model.CheckParams(cfg.Model.Family, params); err != nil {
		return nil, &ConfigError{Key: "model.params", Msg: err.Error()}
	}
	clock := newStopwatch()
	in, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	table, splits := in.all, in.splits
	trainT, validT, testT := in.features.Subset(splits.Train), in.features.Subset(splits.Validation), in.features.Subset(splits.Test)
	if cfg.Tracking.Experiment == "" {
		cfg.Tracking.Experiment = datasetName(table.Source)
	}
	// The measured-only columns (protected, date) are not the model's:
	// only its features are checked for IDs and leaks.
	warnings := Suspects(in.features)
	for _, w := range warnings {
		if opts.OnWarning != nil {
			opts.OnWarning(w)
		}
		cfg.Tracking.Description = strings.TrimSpace(cfg.Tracking.Description + "\n\nWarning: column " + w.String())
	}

	res := &Result{
		Family:     cfg.Model.Family,
		Experiment: cfg.Tracking.Experiment,
		Warnings:   warnings,
		OutDir:     opts.OutDir,
		Metrics:    map[string]float64{},
		Rows:       SplitSizes{len(splits.Train), len(splits.Validation), len(splits.Test)},
		Seconds:    clock.laps,
	}
	clock.lap("load")

	// The run is created while the model trains: training needs nothing of
	// it, and the server's round trips then cost no time. If the run cannot
	// be created, training stops.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan error, 1)
	var rec *recorder
	if opts.Tracking != nil {
		go func() {
			var err error
			if rec, err = startRun(ctx, opts.Tracking, cfg, table, in.profile.Digest, testT, opts.Tags); err != nil {
				cancel()
			}
			started <- err
		}()
	} else {
		started <- nil
	}
	var iters []gbdt.Iteration
	m, err := model.Train(ctx, cfg.Model.Family, trainT, validT, model.TrainOptions{
		Params: params,
		OnIteration: func(it gbdt.Iteration) {
			iters = append(iters, it)
			if opts.OnIteration != nil {
				opts.OnIteration(it)
			}
		},
	})
	if serr := <-started; serr != nil {
		return nil, serr
	}
	clock.lap("train")
	if rec != nil {
		res.RunID, res.ExperimentID, res.ArtifactURI = rec.runID, rec.experimentID, rec.artifactURI
		res.TrackingURI = opts.Tracking.TrackingURI()
		res.RunURL = rec.url()
	}
	if err == nil {
		res.Iterations = len(iters)
		res.BestIteration, res.Stopped = stopped(iters, params)
		err = res.fit(ctx, cfg, opts, rec, clock, in, m, iters, trainT, testT)
	}
	if rec != nil {
		// The run is closed before a version is made of it: a process
		// killed while registering leaves a finished run and no version,
		// never a version whose run stays RUNNING.
		err = rec.finish(ctx, err)
	}
	if err != nil {
		return nil, err
	}
	final, finalDir := rec, res.ModelDir
	if cfg.Split.Refit {
		if res.Refit, final, err = refit(ctx, cfg, opts, res, in.features, params); err != nil {
			return nil, err
		}
		finalDir = res.Refit.ModelDir
	}
	if final != nil && cfg.Tracking.Register != "" {
		defer clock.lap("track")
		if res.Registered, err = final.register(ctx, cfg.Tracking.Register, finalDir, res.Metrics); err != nil {
			return nil, fmt.Errorf("run %s is recorded, but %w", final.runID, err)
		}
	}
	return res, nil
}

// Bare loads, splits and trains as Run does, and nothing more: the
// baseline that tells what evaluation, artifacts and tracking add to a run
// (scripts/bench-train).
func Bare(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	in, err := prepare(cfg)
	if err != nil {
		return err
	}
	_, err = model.Train(ctx, cfg.Model.Family, in.features.Subset(in.splits.Train), in.features.Subset(in.splits.Validation), model.TrainOptions{Params: cfg.withFamilyDefaults()})
	return err
}

// split is the run's stratified train/validation/test split, or the
// split manifest's parts when the config names one.
func split(c SplitConfig, table *data.Table) (data.Splits, error) {
	if c.Manifest != "" {
		m, err := data.ReadManifest(c.Manifest)
		if err != nil {
			return data.Splits{}, &ConfigError{Key: "split.manifest", Msg: err.Error()}
		}
		splits, err := m.Splits(table)
		if err != nil {
			return splits, &ConfigError{Key: "split.manifest", Msg: fmt.Sprintf("%s: %v", c.Manifest, err)}
		}
		return splits, nil
	}
	f := data.Fractions{Train: 1 - c.Validation - c.Test, Validation: c.Validation, Test: c.Test}
	splits, err := table.Split(f, uint64(c.Seed))
	if err != nil {
		return splits, fmt.Errorf("split %s: %w", table.Source, err)
	}
	return splits, nil
}

func loadTable(c DataConfig) (*data.Table, error) {
	if c.Path == "" {
		return data.Default()
	}
	opts := data.Options{Label: c.Label, Positive: c.Positive}
	if len(c.Types) > 0 || c.Date != "" {
		opts.Types = map[string]data.Kind{}
		for col, s := range c.Types {
			k, err := data.ParseKind(s)
			if err != nil {
				return nil, &ConfigError{Key: "data.types." + col, Msg: err.Error()}
			}
			opts.Types[col] = k
		}
		if c.Date != "" {
			// Dates are read as text (levels sort as ISO dates do) and
			// never become a feature; see prepare.
			if k, ok := opts.Types[c.Date]; ok && k == data.Ignore {
				return nil, &ConfigError{Key: "data.date", Msg: fmt.Sprintf("column %q is typed ignore in data.types", c.Date)}
			}
			opts.Types[c.Date] = data.Categorical
		}
	}
	return data.LoadFile(c.Path, opts)
}

// fit evaluates and records the trained model.
func (res *Result) fit(ctx context.Context, cfg Config, opts Options, rec *recorder, clock *stopwatch, in *input, m model.Model, iters []gbdt.Iteration, trainT, testT *data.Table) error {
	table := in.all
	// The params and learning curves need only the trained model: they are
	// logged while the model is evaluated, so the server's latency hides
	// behind scoring and plotting.
	logged := make(chan error, 1)
	if rec != nil {
		params := runParams(cfg, table, in.profile.Digest, m, res.Rows)
		go func() { logged <- rec.logTraining(ctx, params, iters) }()
		rec.startLogged(ctx, params, opts.Tags)
	} else {
		logged <- nil
	}
	err := res.evaluate(cfg, opts, in, m, trainT, testT, iters, rec)
	if lerr := <-logged; err == nil {
		err = lerr
	}
	if err != nil {
		return err
	}
	res.ModelURI = res.ModelDir
	clock.lap("evaluate")
	if rec == nil {
		return nil
	}
	defer clock.lap("track")
	if err := rec.logResults(ctx, opts.OutDir, res.Metrics); err != nil {
		return err
	}
	res.ModelURI = "runs:/" + rec.runID + "/" + tracking.ModelPath
	if lm, _ := rec.loggedModel(); lm != nil {
		res.ModelURI, res.ModelID = "models:/"+lm.Info.ModelID, lm.Info.ModelID
	}
	return rec.logModel(ctx, res.ModelDir)
}

// evaluate scores the test split and writes the run's files: evaluation.json,
// the plots, the holdout and the model directory.
func (res *Result) evaluate(cfg Config, opts Options, in *input, m model.Model, trainT, testT *data.Table, iters []gbdt.Iteration, rec *recorder) error {
	scores, err := m.Predict(testT.Matrix(nil))
	if err != nil {
		return fmt.Errorf("score the test split: %w", err)
	}
	res.testScores = scores
	report, err := evaluate.Evaluate(testT.Label, scores, cfg.Evaluation.Cutoff)
	if err != nil {
		return fmt.Errorf("evaluate the test split: %w", err)
	}
	for k, v := range report.Metrics() {
		res.Metrics["test_"+k] = v
	}
	if err := os.MkdirAll(opts.OutDir, 0o777); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	res.ModelDir = filepath.Join(opts.OutDir, tracking.ModelPath)
	// The charts, the validator's inputs and the model directory need
	// only the model and the scores: they are written at once, and the
	// cores that the charts leave idle between them do the rest.
	// writeInputs alone adds to res.Metrics, which the others do not read.
	var charts, model error
	var wg sync.WaitGroup
	wg.Go(func() { charts = writeReport(opts.OutDir, report, cfg, res, testT, scores, m, iters) })
	wg.Go(func() { model = saveModel(res.ModelDir, m, trainT, scores, rec) })
	// The holdout keeps the columns measured but not modelled (protected,
	// date), so that promote and the report can measure them again.
	err = writeHoldout(filepath.Join(opts.OutDir, tracking.HoldoutFile), in.all.Subset(in.splits.Test))
	if err == nil {
		err = res.writeInputs(cfg, opts.OutDir, in, m, trainT, scores)
	}
	wg.Wait()
	return errors.Join(charts, err, model)
}

// runParams lists every parameter of the run with its effective value;
// digest is table's Digest.
func runParams(cfg Config, table *data.Table, digest string, m model.Model, rows SplitSizes) map[string]string {
	p := map[string]string{}
	for k, v := range m.Params() {
		p[k] = v
	}
	src := cfg.Data.Path
	if src == "" {
		src = "embedded:german_credit.csv"
	}
	p["model_family"] = cfg.Model.Family
	p["data_source"] = src
	p["data_digest"] = data.ShortDigest(digest)
	p["label"] = table.LabelCol
	p["positive"] = table.Positive
	p["split_seed"] = strconv.FormatInt(cfg.Split.Seed, 10)
	if cfg.Split.Manifest != "" {
		p["split_manifest"] = cfg.Split.Manifest
		p["split_seed"] = "manifest"
	}
	for _, pr := range cfg.Fairness.Protected {
		p["protected."+pr.Column] = pr.String()
	}
	if cfg.Data.Date != "" {
		p["date_column"] = cfg.Data.Date
	}
	p["split_train_rows"] = strconv.Itoa(rows.Train)
	p["split_validation_rows"] = strconv.Itoa(rows.Validation)
	p["split_test_rows"] = strconv.Itoa(rows.Test)
	p["cutoff"] = strconv.FormatFloat(cfg.Evaluation.Cutoff, 'g', -1, 64)
	return p
}

// writeReport writes evaluation.json, the plots and the run's summary page.
func writeReport(dir string, r *evaluate.Report, cfg Config, res *Result, testT *data.Table, scores []float64, m model.Model, iters []gbdt.Iteration) error {
	labels, cutoff := testT.Label, cfg.Evaluation.Cutoff
	f, err := os.Create(filepath.Join(dir, tracking.EvaluationFile))
	if err != nil {
		return fmt.Errorf("write %s: %w", tracking.EvaluationFile, err)
	}
	if err := r.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tracking.EvaluationFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tracking.EvaluationFile, err)
	}
	plots := filepath.Join(dir, tracking.PlotsPath)
	if err := os.MkdirAll(plots, 0o777); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	// The standard charts and the summary page render on other cores
	// while the family's own charts are drawn here.
	standard, summary := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := evaluate.WritePlots(plots, labels, scores, cutoff)
		standard <- err
	}()
	go func() {
		summary <- writeSummary(filepath.Join(plots, evaluate.SummaryFile), cfg, res, testT, scores, iters)
	}()
	var errs []error
	if im, ok := m.(model.Importancer); ok {
		values, measure := im.Importance()
		errs = append(errs, evaluate.FeatureImportancePlot(filepath.Join(plots, "feature_importance.png"), "Feature importance ("+measure+")", m.Schema().Names(), values))
	}
	if len(iters) > 0 {
		errs = append(errs, learningCurves(plots, iters))
	}
	errs = append(errs, <-standard, <-summary)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

func learningCurves(dir string, iters []gbdt.Iteration) error {
	curves := func(get func(gbdt.Iteration) (train, valid float64)) []evaluate.Series {
		t, v := evaluate.Series{Name: "train"}, evaluate.Series{Name: "validation"}
		for _, it := range iters {
			a, b := get(it)
			t.Values, v.Values = append(t.Values, a), append(v.Values, b)
		}
		return []evaluate.Series{t, v}
	}
	loss := curves(func(it gbdt.Iteration) (float64, float64) { return it.TrainLogLoss, it.ValidLogLoss })
	best := bestIteration(iters)
	if err := evaluate.LearningCurvePlot(filepath.Join(dir, "learning_curve_loss.png"), "Learning curve: log loss", "log loss", loss, best); err != nil {
		return err
	}
	auc := curves(func(it gbdt.Iteration) (float64, float64) { return it.TrainAUC, it.ValidAUC })
	return evaluate.LearningCurvePlot(filepath.Join(dir, "learning_curve_auc.png"), "Learning curve: AUC", "AUC", auc, best)
}

// bestIteration is the iteration early stopping keeps, the one with the
// lowest validation log loss (the first of equals), or the last when there
// is no validation set.
func bestIteration(iters []gbdt.Iteration) int {
	best, loss := len(iters), math.Inf(1)
	for _, it := range iters {
		if it.ValidLogLoss < loss {
			best, loss = it.Iter, it.ValidLogLoss
		}
	}
	return best
}

// saveModel writes the model directory with its reference profile and an
// input example of a few training rows. The profile's features are the
// training data's; its score is the test split's, the distribution of
// scores on applicants the model has not seen, which is what live traffic
// should look like (scores of the training rows themselves are overfit, and
// scoring them again would cost as much as the evaluation).
func saveModel(dir string, m model.Model, trainT *data.Table, testScores []float64, rec *recorder) error {
	example := trainT.Matrix(firstRows(trainT.Rows(), 5))
	opts := model.SaveOptions{ArtifactPath: "model", Example: example, Created: time.Now().UTC(), IntegerFeatures: integerColumns(trainT)}
	if rec != nil {
		opts.RunID = rec.runID
		lm, err := rec.loggedModel()
		if err != nil {
			return err
		}
		if lm != nil {
			// As MLflow 3 writes a logged model's MLmodel.
			opts.ModelID, opts.ArtifactPath = lm.Info.ModelID, lm.Info.ArtifactURI
		}
	}
	prof := data.NewProfile(trainT)
	score := data.NewHistogram("score", testScores, 10)
	prof.Score = &score
	b, err := json.MarshalIndent(prof, "", "  ")
	if err != nil {
		return fmt.Errorf("reference profile: %w", err)
	}
	opts.Files = map[string][]byte{model.ProfileFile: b}
	if err := model.Save(dir, m, opts); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// integerColumns are the numeric columns whose values are all whole
// numbers, none missing: what pandas reads as int64.
func integerColumns(t *data.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if c.Kind != data.Numeric {
			continue
		}
		whole := len(c.Values) > 0
		for _, v := range c.Values {
			if v != math.Trunc(v) || math.IsInf(v, 0) { // NaN fails too
				whole = false
				break
			}
		}
		if whole {
			out = append(out, c.Name)
		}
	}
	return out
}

// applicantDataPerm is the mode of files holding applicants' rows (the
// holdout), less the umask: never world-readable, whatever the umask.
const applicantDataPerm = 0o660

func writeHoldout(path string, t *data.Table) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, applicantDataPerm)
	if err != nil {
		return fmt.Errorf("write %s: %w", tracking.HoldoutFile, err)
	}
	if err := t.WriteCSV(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tracking.HoldoutFile, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tracking.HoldoutFile, err)
	}
	return nil
}

func firstRows(n, k int) []int {
	k = min(n, k)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// sortedKeys returns m's keys in order, so logs and batches are stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var errCanceled = errors.New("training cancelled")

// stopwatch adds up the time spent in each phase of a run.
type stopwatch struct {
	last time.Time
	laps map[string]float64
}

func newStopwatch() *stopwatch { return &stopwatch{last: time.Now(), laps: map[string]float64{}} }

// lap adds the time since the previous lap to phase.
func (s *stopwatch) lap(phase string) {
	now := time.Now()
	s.laps[phase] += now.Sub(s.last).Seconds()
	s.last = now
}

// writeSummary draws the run's one-page summary of the test split.
func writeSummary(path string, cfg Config, res *Result, testT *data.Table, scores []float64, iters []gbdt.Iteration) error {
	facts := []evaluate.Fact{
		{Name: "model", Value: res.Family},
		{Name: "data", Value: testT.Source},
		{Name: "split", Value: fmt.Sprintf("train %d · validation %d · test %d rows, seed %d",
			res.Rows.Train, res.Rows.Validation, res.Rows.Test, cfg.Split.Seed)},
	}
	if len(iters) > 0 {
		facts = append(facts, evaluate.Fact{Name: "iterations", Value: fmt.Sprintf("%d, best %d", len(iters), bestIteration(iters))})
	}
	if res.RunID != "" {
		facts = append(facts, evaluate.Fact{Name: "run", Value: res.RunID},
			evaluate.Fact{Name: "experiment", Value: cfg.Tracking.Experiment})
	}
	return evaluate.SummaryPlot(path, evaluate.Summary{
		Title:  cfg.Tracking.Experiment + " · " + res.Family,
		Facts:  facts,
		Labels: testT.Label, Scores: scores, Cutoff: cfg.Evaluation.Cutoff,
	})
}

// stopped says which iteration boosting keeps and why it ended: early
// stopping (no better validation log loss for the patience), or the
// iteration limit.
func stopped(iters []gbdt.Iteration, params map[string]string) (best int, why string) {
	if len(iters) == 0 {
		return 0, ""
	}
	p := gbdt.DefaultParams()
	for k, v := range params {
		p.Set(k, v) // checked before training
	}
	best = bestIteration(iters)
	last := iters[len(iters)-1].Iter
	if last < p.NumIterations && p.EarlyStoppingRound > 0 {
		return best, fmt.Sprintf("early stopping at iteration %d: validation_log_loss did not improve for %d iterations after %d", last, p.EarlyStoppingRound, best)
	}
	return best, fmt.Sprintf("all %d iterations", last)
}
