package report

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/scorecard"
	"github.com/creditrisk/engine/tracking"
)

// Options say what a report covers besides the version.
type Options struct {
	// Holdout is an extra labelled sample to evaluate (e.g. out of time);
	// empty: the report covers the run's test split only.
	Holdout string
	// Resamples and Seed of the bootstrap intervals (1000, 1); Level is
	// their confidence (0.95).
	Resamples int
	Seed      uint64
	Level     float64
	// Version is the tool's version, printed in the footer.
	Version string
	// Now stamps the report (time.Now when zero).
	Now time.Time
	// WorkDir receives downloads (a temporary directory when empty).
	WorkDir string
	// Label and Positive read the labels where the model's schema names
	// none (a version logged by Python's mlflow; promote's --label and
	// --positive).
	Label, Positive string
}

// Report is everything the HTML shows; its numbers are the ones printed.
type Report struct {
	Generated time.Time `json:"generated"`
	Tool      string    `json:"tool"`
	Model     Version   `json:"model"`
	Lineage   Lineage   `json:"lineage"`
	Data      *DataProfile
	Cutoff    float64 `json:"cutoff"`
	// Test is the run's test split (its holdout.csv), Holdout the extra
	// sample of Options.Holdout.
	Test, Holdout *Performance
	// Logged are the run's logged test metrics the report prints beside
	// its own computation from the test split; Checks compares them.
	Logged map[string]float64 `json:"logged"`
	Checks []Check            `json:"checks"`
	// Stability of the scores and features against training.
	Stability Stability `json:"stability"`
	Scorecard *Scorecard
	Effects   []Effect `json:"effects,omitempty"`
	// EffectMeasure says what Effects rank by.
	EffectMeasure string     `json:"effect_measure,omitempty"`
	Fairness      *Fairness  `json:"fairness,omitempty"`
	FairnessCheck []Check    `json:"fairness_check,omitempty"`
	Gates         []GateRow  `json:"gates,omitempty"`
	Promotion     *Promotion `json:"promotion,omitempty"`
	// Charts are PNG images by name, inlined as data: URIs.
	Charts map[string][]byte `json:"-"`
	// Notes say what the report could not cover, and why.
	Notes []string `json:"notes,omitempty"`
}

// Version is the registered model version.
type Version struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Family      string    `json:"family"`
	Flavor      string    `json:"flavor"`
	Aliases     []string  `json:"aliases,omitempty"`
	Stage       string    `json:"stage,omitempty"`
	Source      string    `json:"source"`
	Created     time.Time `json:"created"`
	CreatedBy   string    `json:"created_by,omitempty"`
	Description string    `json:"description,omitempty"`
	Features    int       `json:"features"`
	ModelSHA256 string    `json:"model_sha256,omitempty"`
	ModelFile   string    `json:"model_file,omitempty"`
}

// Lineage ties the version to what made it.
type Lineage struct {
	RunID         string            `json:"run_id"`
	RunName       string            `json:"run_name,omitempty"`
	RunURL        string            `json:"run_url,omitempty"`
	Experiment    string            `json:"experiment,omitempty"`
	User          string            `json:"user,omitempty"`
	GitCommit     string            `json:"git_commit,omitempty"`
	SourceName    string            `json:"source_name,omitempty"`
	Started       time.Time         `json:"started"`
	Dataset       string            `json:"dataset,omitempty"`
	DatasetDigest string            `json:"dataset_digest,omitempty"`
	Params        map[string]string `json:"params"`
	Manifest      *data.Manifest    `json:"-"`
	// ManifestRows are the manifest's rows per part.
	ManifestRows map[string]int `json:"manifest_rows,omitempty"`
}

// Promotion is who moved the version to an alias, from its tags.
type Promotion struct {
	Alias    string `json:"alias"`
	By       string `json:"by"`
	At       string `json:"at"`
	Previous string `json:"previous"`
	RunID    string `json:"run_id"`
	Forced   string `json:"forced"`
	Reason   string `json:"reason,omitempty"`
}

// GateRow is one promotion gate as promote records it on the version.
type GateRow struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Op        string  `json:"op"`
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Margin    float64 `json:"margin"`
	Detail    string  `json:"detail,omitempty"`
}

// Performance is the evaluation of one labelled sample.
type Performance struct {
	Name        string                    `json:"name"`
	Source      string                    `json:"source"`
	Rows        int                       `json:"rows"`
	Bads        int                       `json:"bads"`
	BadRate     float64                   `json:"bad_rate"`
	Bootstrap   *evaluate.BootstrapResult `json:"bootstrap"`
	LogLoss     float64                   `json:"log_loss"`
	Brier       float64                   `json:"brier"`
	ECE         float64                   `json:"ece"`
	AtCutoff    evaluate.CutoffMetrics    `json:"at_cutoff"`
	Calibration []evaluate.CalibrationBin `json:"calibration"`
	HL          *evaluate.HosmerLemeshow  `json:"hosmer_lemeshow"`
	Lift        []evaluate.LiftRow        `json:"lift"`
	ScorePSI    *float64                  `json:"score_psi,omitempty"`
	CSI         []data.Drift              `json:"csi,omitempty"`
	labels      []float64                 // for the charts
	scores      []float64                 //
	batch       *data.Batch               //
	fairness    map[string]*evaluate.FairnessReport
}

// Check compares a logged number with the report's own computation.
type Check struct {
	Name       string  `json:"name"`
	Logged     float64 `json:"logged"`
	Recomputed float64 `json:"recomputed"`
	OK         bool    `json:"ok"`
}

// checkTolerance is how far a recomputed metric may be from the logged
// one: both come from the same rows and model, so only rounding differs.
const checkTolerance = 1e-9

// Stability summarises the PSI figures.
type Stability struct {
	// Reference says what the score PSI compares against.
	Reference string `json:"reference"`
}

// Scorecard is the points table of a scorecard model.
type Scorecard struct {
	Scaling   scorecard.Scaling   `json:"scaling"`
	Intercept float64             `json:"intercept"`
	Features  []scorecard.Feature `json:"features"` // selected ones, by IV
	Dropped   []scorecard.Feature `json:"dropped"`  // below min_iv
}

// Effect is one feature's weight in the model.
type Effect struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
	// MeanContribution is the mean log-odds contribution on the test
	// split (families that explain), MeanAbs its mean absolute value.
	MeanAbs *float64 `json:"mean_abs,omitempty"`
}

// Build gathers a registered version's report: ref is models:/NAME/VERSION
// (or an alias or stage, resolved now). It reads the version, its run
// (params, metrics, tags, artifacts: holdout, evaluation, data profile,
// split manifest, fairness) and the model directory, and recomputes the
// test figures from the model and the holdout.
func Build(ctx context.Context, b tracking.Backend, ref string, opts Options) (*Report, error) {
	r, err := tracking.ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if !r.Registered() {
		return nil, fmt.Errorf("report: %s: want a registered version, models:/NAME/VERSION", ref)
	}
	opts.Resamples = cmp.Or(opts.Resamples, 1000)
	opts.Seed = cmp.Or(opts.Seed, 1)
	opts.Level = cmp.Or(opts.Level, 0.95)
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	work := opts.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "report-"); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		defer os.RemoveAll(work)
	}
	mv, err := tracking.Lookup(ctx, b, r)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if mv.RunID == "" {
		return nil, fmt.Errorf("report: %s version %s has no run: the report needs the training run's records", mv.Name, mv.Version)
	}
	run, err := b.GetRun(ctx, mv.RunID)
	if err != nil {
		return nil, fmt.Errorf("report: run %s of %s version %s: %w", mv.RunID, mv.Name, mv.Version, err)
	}
	uri, err := tracking.VersionLocation(ctx, b, mv)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	dir := filepath.Join(work, "model")
	if err := tracking.Download(ctx, b, uri, dir); err != nil {
		return nil, fmt.Errorf("report: %s version %s: %w", mv.Name, mv.Version, err)
	}
	if err := model.Verify(dir); err != nil && !errors.Is(err, model.ErrNoChecksums) {
		return nil, fmt.Errorf("report: %s version %s: %w", mv.Name, mv.Version, err)
	}
	d, err := model.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	rep := &Report{Generated: opts.Now.UTC(), Tool: opts.Version, Logged: map[string]float64{}, Charts: map[string][]byte{}}
	rep.version(mv, d)
	if err := rep.lineage(ctx, b, run); err != nil {
		return nil, err
	}
	files, err := runFiles(ctx, b, run, work)
	if err != nil {
		return nil, err
	}
	if err := rep.inputs(files); err != nil {
		return nil, err
	}
	rep.Cutoff = 0.5
	if c, ok := run.Param("cutoff"); ok {
		if v, err := strconv.ParseFloat(c, 64); err == nil {
			rep.Cutoff = v
		}
	}
	for _, m := range run.Data.Metrics {
		if strings.HasPrefix(m.Key, "test_") {
			rep.Logged[m.Key] = m.Value
		}
	}
	if p := files[tracking.HoldoutFile]; p != "" {
		if rep.Test, err = rep.evaluate("test split", "runs:/"+run.Info.RunID+"/"+tracking.HoldoutFile, p, d, opts); err != nil {
			return nil, err
		}
		rep.check()
	} else {
		rep.Notes = append(rep.Notes, "The run has no "+tracking.HoldoutFile+": the test split cannot be evaluated again.")
	}
	if opts.Holdout != "" {
		if rep.Holdout, err = rep.evaluate("holdout", opts.Holdout, opts.Holdout, d, opts); err != nil {
			return nil, err
		}
	}
	if err := rep.stability(d); err != nil {
		return nil, err
	}
	if err := rep.modelSection(d); err != nil {
		return nil, err
	}
	rep.gates(mv)
	if err := rep.charts(d, work); err != nil {
		return nil, err
	}
	return rep, nil
}

func (rep *Report) version(mv *mlflow.ModelVersion, d *model.Dir) {
	fam, _ := model.FamilyOfFlavor(d.Flavor)
	rep.Model = Version{Name: mv.Name, Version: mv.Version, Family: fam.Name, Flavor: d.Flavor, Aliases: mv.Aliases,
		Stage: mv.CurrentStage, Source: mv.Source, CreatedBy: mv.UserID, Description: mv.Description,
		Features: len(d.Model.Schema().Features)}
	if mv.CreationTimestamp > 0 {
		rep.Model.Created = time.UnixMilli(mv.CreationTimestamp).UTC()
	}
	rep.Model.ModelSHA256, _ = mv.Tag("model_sha256")
	rep.Model.ModelFile, _ = mv.Tag("model_file")
	if by, ok := mv.Tag("promoted_by"); ok {
		p := &Promotion{By: by}
		p.At, _ = mv.Tag("promoted_at")
		p.Alias, _ = mv.Tag("promoted_alias")
		p.Previous, _ = mv.Tag("previous_champion")
		p.RunID, _ = mv.Tag("promotion_run_id")
		p.Forced, _ = mv.Tag("promotion_forced")
		p.Reason, _ = mv.Tag("promotion_reason")
		rep.Promotion = p
	}
}

func (rep *Report) lineage(ctx context.Context, b tracking.Backend, run *mlflow.Run) error {
	l := &rep.Lineage
	l.RunID, l.RunName = run.Info.RunID, run.Info.RunName
	l.Started = time.UnixMilli(run.Info.StartTime).UTC()
	if exp, err := b.GetExperiment(ctx, run.Info.ExperimentID); err == nil {
		l.Experiment = exp.Name
	}
	if base := strings.TrimRight(b.TrackingURI(), "/"); strings.HasPrefix(base, "http") {
		l.RunURL = fmt.Sprintf("%s/#/experiments/%s/runs/%s", base, run.Info.ExperimentID, run.Info.RunID)
	}
	l.User, _ = run.Tag("mlflow.user")
	l.GitCommit, _ = run.Tag("mlflow.source.git.commit")
	l.SourceName, _ = run.Tag("mlflow.source.name")
	l.Params = map[string]string{}
	for _, p := range run.Data.Params {
		l.Params[p.Key] = p.Value
	}
	for _, in := range run.Inputs.DatasetInputs {
		l.Dataset, l.DatasetDigest = in.Dataset.Name, in.Dataset.Digest
	}
	return nil
}

// runFiles downloads the run's files the report reads; a file the run
// lacks maps to "".
func runFiles(ctx context.Context, b tracking.Backend, run *mlflow.Run, work string) (map[string]string, error) {
	store, err := b.Artifacts(run.Info.ArtifactURI)
	if err != nil {
		return nil, fmt.Errorf("report: artifacts of run %s: %w", run.Info.RunID, err)
	}
	out := map[string]string{}
	for _, name := range []string{tracking.HoldoutFile, tracking.DataProfileFile, tracking.SplitManifestFile, tracking.FairnessFile} {
		dst := filepath.Join(work, "run", name)
		err := store.Download(ctx, name, dst)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("report: download %s of run %s: %w", name, run.Info.RunID, err)
		}
		if _, err := os.Stat(dst); err == nil {
			out[name] = dst
		}
	}
	return out, nil
}

func (rep *Report) inputs(files map[string]string) error {
	var err error
	if p := files[tracking.DataProfileFile]; p != "" {
		if rep.Data, err = ReadDataProfile(p); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	} else {
		rep.Notes = append(rep.Notes, "The run has no "+tracking.DataProfileFile+" (trained before the report existed): no data profile or score PSI against training.")
	}
	if p := files[tracking.SplitManifestFile]; p != "" {
		m, err := data.ReadManifest(p)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		rep.Lineage.Manifest = m
		rep.Lineage.ManifestRows = map[string]int{"train": len(m.Train), "validation": len(m.Validation), "test": len(m.Test)}
	} else {
		rep.Notes = append(rep.Notes, "The run has no "+tracking.SplitManifestFile+": its split cannot be replayed row for row.")
	}
	if p := files[tracking.FairnessFile]; p != "" {
		if rep.Fairness, err = ReadFairness(p); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// evaluate scores a labelled CSV with the model and computes the figures.
func (rep *Report) evaluate(name, source, path string, d *model.Dir, opts Options) (*Performance, error) {
	s := d.Model.Schema()
	batch, err := s.LoadBatchFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", name, err)
	}
	label, positive := s.Label, s.Positive
	if label == "" {
		label, positive = opts.Label, opts.Positive
	}
	labels, err := labelsOf(batch, label, positive, source)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	scores, err := d.Model.Predict(batch.X)
	if err != nil {
		return nil, fmt.Errorf("report: score %s: %w", source, err)
	}
	ev, err := evaluate.Evaluate(labels, scores, rep.Cutoff)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", name, err)
	}
	bs, err := evaluate.Bootstrap(labels, scores, opts.Resamples, opts.Level, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", name, err)
	}
	hl, err := evaluate.HosmerLemeshowTest(ev.Calibration)
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no Hosmer–Lemeshow test: %v", name, err))
	}
	p := &Performance{Name: name, Source: source, Rows: ev.N, Bads: ev.Bads, BadRate: ev.BadRate, Bootstrap: bs,
		LogLoss: ev.LogLoss, Brier: ev.Brier, ECE: ev.ECE, AtCutoff: ev.AtCutoff, Calibration: ev.Calibration, HL: hl, Lift: ev.Lift,
		labels: labels, scores: scores, batch: batch}
	if rep.Fairness != nil {
		p.fairness = map[string]*evaluate.FairnessReport{}
		for _, c := range rep.Fairness.Characteristics {
			col, ok := extraColumn(batch, c.Column, s)
			if !ok {
				continue
			}
			groups, err := c.Groups(col)
			if err != nil {
				return nil, fmt.Errorf("report: %s: %w", name, err)
			}
			f, err := evaluate.Fairness(labels, scores, groups, rep.Fairness.Cutoff)
			if err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no fairness figures for %s: %v", name, c.Column, err))
				continue
			}
			p.fairness[c.Column] = f
		}
	}
	return p, nil
}

// labelsOf reads the 0/1 labels from the batch's label column.
func labelsOf(b *data.Batch, label, positive, source string) ([]float64, error) {
	if label == "" || positive == "" {
		return nil, fmt.Errorf("the model's schema names no label column (promote takes --label and --positive): cannot read labels of %s", source)
	}
	col := slices.Index(b.Extra, label)
	if col < 0 {
		return nil, fmt.Errorf("%s has no label column %q", source, label)
	}
	labels := make([]float64, b.Rows())
	for i, vals := range b.ExtraValues {
		v := strings.TrimSpace(vals[col])
		if v == "" {
			return nil, fmt.Errorf("%s line %d: label %q is empty", source, b.Lines[i], label)
		}
		if v == positive {
			labels[i] = 1
		}
	}
	return labels, nil
}

// extraColumn returns a column the batch has besides the features (a
// protected one kept out of the model), or the feature itself, as a
// data.Column: categorical unless every value is a number.
func extraColumn(b *data.Batch, name string, s *data.Schema) (*data.Column, bool) {
	if j := slices.Index(s.Names(), name); j >= 0 {
		f := s.Features[j]
		c := &data.Column{Name: name, Kind: f.Type, Levels: f.Levels, Values: make([]float64, b.Rows())}
		for i, row := range b.X {
			c.Values[i] = row[j]
		}
		return c, true
	}
	k := slices.Index(b.Extra, name)
	if k < 0 {
		return nil, false
	}
	text := make([]string, b.Rows())
	numeric := true
	for i, vals := range b.ExtraValues {
		text[i] = strings.TrimSpace(vals[k])
		if _, err := parseFloat(text[i]); text[i] != "" && err != nil {
			numeric = false
		}
	}
	c := &data.Column{Name: name, Kind: data.Numeric, Values: make([]float64, len(text))}
	if numeric {
		for i, t := range text {
			c.Values[i] = math.NaN()
			if t != "" {
				c.Values[i], _ = parseFloat(t)
			}
		}
		return c, true
	}
	c.Kind = data.Categorical
	c.Levels = slices.Compact(slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(text), func(s string) bool { return s == "" }))))
	for i, t := range text {
		c.Values[i] = math.NaN()
		if k, ok := slices.BinarySearch(c.Levels, t); ok {
			c.Values[i] = float64(k)
		}
	}
	return c, true
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// check compares the run's logged test metrics with the recomputation.
func (rep *Report) check() {
	t := rep.Test
	mine := map[string]float64{"test_auc": t.Bootstrap.AUC.Value, "test_gini": t.Bootstrap.Gini.Value, "test_ks": t.Bootstrap.KS.Value,
		"test_log_loss": t.LogLoss, "test_brier": t.Brier, "test_ece": t.ECE}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range mine {
			if !yield(k) {
				return
			}
		}
	}) {
		logged, ok := rep.Logged[k]
		if !ok {
			continue
		}
		rep.Checks = append(rep.Checks, Check{Name: k, Logged: logged, Recomputed: mine[k], OK: math.Abs(logged-mine[k]) <= checkTolerance})
	}
	if rep.Fairness == nil {
		return
	}
	for _, c := range rep.Fairness.Characteristics { // ReadFairness checked c.Report
		f, ok := t.fairness[c.Column]
		if !ok {
			rep.Notes = append(rep.Notes, fmt.Sprintf("The holdout lacks the protected column %s: its fairness figures are the logged ones only.", c.Column))
			continue
		}
		key := MetricPrefix(c.Column) + "min_adverse_impact_ratio"
		logged := c.Report.MinAdverseImpactRatio
		if v, ok := rep.Logged[key]; ok {
			logged = v
		}
		rep.FairnessCheck = append(rep.FairnessCheck, Check{Name: key, Logged: logged, Recomputed: f.MinAdverseImpactRatio,
			OK: math.Abs(logged-f.MinAdverseImpactRatio) <= checkTolerance})
	}
}

// stability computes the score PSI against the training scores and the
// CSI of each feature against the training profile.
func (rep *Report) stability(d *model.Dir) error {
	prof, err := model.ReadProfile(d.Path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	rep.Stability.Reference = "the training split: its scores (" + tracking.DataProfileFile + ") and its features (" + model.ProfileFile + ")"
	for _, p := range []*Performance{rep.Test, rep.Holdout} {
		if p == nil {
			continue
		}
		if rep.Data != nil && rep.Data.TrainScores != nil {
			h := rep.Data.TrainScores
			v, err := h.PSI(h.Count(p.scores))
			if err != nil {
				return fmt.Errorf("report: score PSI of the %s: %w", p.Name, err)
			}
			p.ScorePSI = &v
		}
		if prof != nil && len(prof.Features) == len(d.Model.Schema().Features) {
			csi, err := prof.Drift(p.batch.X)
			if err != nil {
				return fmt.Errorf("report: CSI of the %s: %w", p.Name, err)
			}
			p.CSI = csi
		}
	}
	return nil
}

// modelSection is the scorecard, or the feature effects of other families.
func (rep *Report) modelSection(d *model.Dir) error {
	if sc, ok := d.Model.(*scorecard.Model); ok {
		s := &Scorecard{Scaling: sc.Scaling(), Intercept: sc.Intercept()}
		for _, f := range sc.Features() {
			if f.Selected {
				s.Features = append(s.Features, f)
			} else {
				s.Dropped = append(s.Dropped, f)
			}
		}
		byIV := func(a, b scorecard.Feature) int { return cmp.Compare(b.IV, a.IV) }
		slices.SortStableFunc(s.Features, byIV)
		slices.SortStableFunc(s.Dropped, byIV)
		rep.Scorecard = s
		return nil
	}
	names := d.Model.Schema().Names()
	if im, ok := d.Model.(model.Importancer); ok {
		values, measure := im.Importance()
		rep.EffectMeasure = measure
		for j, v := range values {
			rep.Effects = append(rep.Effects, Effect{Feature: names[j], Value: v})
		}
	}
	if rep.Test != nil {
		rows := rep.Test.batch.X
		if len(rows) > maxExplainRows {
			rows = rows[:maxExplainRows]
		}
		sum := make([]float64, len(names))
		explained := true
		for _, row := range rows {
			c, _, err := d.Model.Explain(row)
			if errors.Is(err, model.ErrNoExplain) {
				explained = false
				break
			}
			if err != nil {
				return fmt.Errorf("report: explain: %w", err)
			}
			for j, v := range c {
				sum[j] += math.Abs(v)
			}
		}
		if explained && len(rows) > 0 {
			if rep.Effects == nil {
				rep.EffectMeasure = "mean |contribution| (log-odds)"
				for j := range names {
					rep.Effects = append(rep.Effects, Effect{Feature: names[j], Value: sum[j] / float64(len(rows))})
				}
			}
			for j := range rep.Effects {
				v := sum[j] / float64(len(rows))
				rep.Effects[j].MeanAbs = &v
			}
		}
	}
	slices.SortStableFunc(rep.Effects, func(a, b Effect) int { return cmp.Compare(b.Value, a.Value) })
	return nil
}

// maxExplainRows bounds the rows explained for the effects table.
const maxExplainRows = 2000

// gates reads the promotion gates recorded on the version.
func (rep *Report) gates(mv *mlflow.ModelVersion) {
	js, ok := mv.Tag("promotion_gates")
	if !ok {
		return
	}
	if err := json.Unmarshal([]byte(js), &rep.Gates); err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("The version's promotion_gates tag is not readable: %v", err))
	}
}
