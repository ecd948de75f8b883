package promote

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/creditrisk/engine/data"
	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

// Defaults.
const (
	DefaultAlias      = "champion"
	DefaultExperiment = "promotions"
	// ROCFile is the promotion run's chart of both ROC curves.
	ROCFile = "roc_comparison.png"
	// DecisionFile is the promotion run's full decision as JSON.
	DecisionFile = "decision.json"
)

// Tags written on a promoted (or rolled-back-to) version.
const (
	TagPromotedAt       = "promoted_at"
	TagPromotedBy       = "promoted_by"
	TagPromotedAlias    = "promoted_alias"
	TagPreviousChampion = "previous_champion"
	TagGates            = "promotion_gates"
	TagRunID            = "promotion_run_id"
	TagForced           = "promotion_forced"
	TagReason           = "promotion_reason"
	TagKind             = "promotion_kind" // promote or rollback
)

// HistoryTag is the registered-model tag holding the versions that held
// alias, oldest first, comma-separated.
func HistoryTag(alias string) string { return "promote.history." + alias }

var (
	// ErrGateFailed is wrapped by the error of a promotion that a gate
	// blocked; see GateError.
	ErrGateFailed = errors.New("promotion gate failed")
	// ErrRaced: the alias moved while the promotion was being written.
	ErrRaced = errors.New("alias moved during promotion")
	// ErrAlreadyChampion: the candidate already holds the alias.
	ErrAlreadyChampion = errors.New("candidate already holds the alias")
	// ErrNoHistory: rollback found no earlier holder of the alias.
	ErrNoHistory = errors.New("no earlier version in the alias history")
)

// GateError lists the gates that blocked a promotion.
type GateError struct {
	Failed []Gate
}

func (e *GateError) Error() string {
	names := make([]string, len(e.Failed))
	for i, g := range e.Failed {
		names[i] = g.Name
	}
	return fmt.Sprintf("promotion refused: gate(s) %s failed", strings.Join(names, ", "))
}

func (e *GateError) Unwrap() error { return ErrGateFailed }

// RaceError says what the alias pointed at when it should not have.
type RaceError struct {
	Alias            string
	Expected, Actual string // versions; "" for no version
	Step             string // "before the write", "after the write", …
}

func (e *RaceError) Error() string {
	return fmt.Sprintf("alias %q moved %s: expected %s, found %s; another promotion or rollback ran at the same time: check `pipeline models show` before retrying",
		e.Alias, e.Step, orNone(e.Expected), orNone(e.Actual))
}

func (e *RaceError) Unwrap() error { return ErrRaced }

func orNone(v string) string {
	if v == "" {
		return "no version"
	}
	return "version " + v
}

// Options say what to promote and how.
type Options struct {
	Name string
	// Exactly one of Version, RunID and Latest picks the candidate.
	Version string
	RunID   string
	Latest  bool

	Alias  string // default DefaultAlias
	Stage  string // with a stage, also transition (archiving the stage's other versions)
	Policy Policy
	// Data is a holdout CSV (with the label column); empty: the candidate
	// run's holdout.csv.
	Data string
	// Label and Positive name the holdout's label column and its positive
	// value where the candidate's schema does not (a version logged by
	// Python's mlflow, whose signature names only the features).
	Label, Positive string
	DryRun          bool
	Force           bool
	Reason          string // required with Force
	// AllowNoPyfunc lets a candidate without MLflow's python_function
	// flavor pass the pyfunc gate (--allow-no-pyfunc).
	AllowNoPyfunc bool
	User          string // promoted_by; default "unknown"
	// Tags are the system tags of whoever promotes (mlflow.user,
	// mlflow.source.*), set on the promotion run.
	Tags []mlflow.Tag

	Experiment string // default DefaultExperiment
	// SignKey, when set, signs the candidate's manifest (see package
	// integrity) before the alias moves.
	SignKey ed25519.PrivateKey
	// WorkDir receives downloaded models and the chart; default a temporary
	// directory removed afterwards.
	WorkDir string

	// Test hooks, run just before the pre-write read, just before the
	// post-write read and after the version's tags are written.
	beforeWrite, afterWrite, afterTags func(context.Context) error
}

// VersionRef is a model version in a decision.
type VersionRef struct {
	Version string `json:"version"`
	RunID   string `json:"run_id,omitempty"`
	Source  string `json:"source,omitempty"`
	Stage   string `json:"stage,omitempty"`
}

// Decision is what a promotion found and did.
type Decision struct {
	Name      string      `json:"name"`
	Alias     string      `json:"alias"`
	Stage     string      `json:"stage,omitempty"`
	Candidate VersionRef  `json:"candidate"`
	Champion  *VersionRef `json:"champion,omitempty"`
	Policy    Policy      `json:"policy"`

	// CandidateTest is the candidate's recorded test evaluation.
	CandidateTest map[string]float64 `json:"candidate_test"`
	TestSource    string             `json:"test_source"`
	// Holdout metrics of both models on the same rows.
	Holdout string `json:"holdout,omitempty"`
	// Label and Positive are what the holdout's labels were read by.
	Label            string             `json:"label,omitempty"`
	Positive         string             `json:"positive,omitempty"`
	HoldoutRows      int                `json:"holdout_rows,omitempty"`
	CandidateHoldout map[string]float64 `json:"candidate_holdout,omitempty"`
	ChampionHoldout  map[string]float64 `json:"champion_holdout,omitempty"`
	Comparison       *Comparison        `json:"comparison,omitempty"`

	// Integrity is what the candidate's files were checked against,
	// recorded and signed with.
	Integrity *Integrity `json:"integrity,omitempty"`

	Gates  []Gate `json:"gates"`
	Passed bool   `json:"passed"` // every gate passed
	Forced bool   `json:"forced,omitempty"`
	Reason string `json:"reason,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`

	// Set once the registry was written.
	Applied    bool      `json:"applied"`
	PromotedAt time.Time `json:"promoted_at,omitzero"`
	PromotedBy string    `json:"promoted_by,omitempty"`
	RunID      string    `json:"promotion_run_id,omitempty"`

	labels, candScores, champScores []float64
}

// FailedGates returns the gates that block the promotion.
func (d *Decision) FailedGates() []Gate {
	var out []Gate
	for _, g := range d.Gates {
		if g.Failed() {
			out = append(out, g)
		}
	}
	return out
}

// CheckOptions validates options without contacting the server and fills
// in the defaults; Promote calls it too.
func CheckOptions(o *Options) error {
	if o.Name == "" {
		return errors.New("model name is empty")
	}
	n := 0
	for _, set := range []bool{o.Version != "", o.RunID != "", o.Latest} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("pick the candidate with exactly one of version, run id and latest")
	}
	if o.Version != "" {
		if v, err := strconv.Atoi(o.Version); err != nil || v < 1 {
			return fmt.Errorf("version %q is not a positive integer", o.Version)
		}
	}
	if o.Alias == "" {
		o.Alias = DefaultAlias
	}
	if err := mlflow.ValidateAlias(o.Alias); err != nil {
		return err
	}
	if o.Stage != "" {
		st, err := mlflow.CanonicalStage(o.Stage)
		if err != nil {
			return err
		}
		o.Stage = st
	}
	if o.Force && strings.TrimSpace(o.Reason) == "" {
		return errors.New("force needs a reason")
	}
	if err := o.Policy.Validate(); err != nil {
		return err
	}
	if o.User == "" {
		o.User = "unknown"
	}
	if o.Experiment == "" {
		o.Experiment = DefaultExperiment
	}
	return nil
}

// Promote decides whether the candidate may take the alias and, unless the
// decision is a dry run or a gate failed (without Force), writes it. The
// decision comes back in every case it could be computed, also with a
// *GateError (errors.Is ErrGateFailed) or a *RaceError (ErrRaced).
func Promote(ctx context.Context, b tracking.Backend, opts Options) (*Decision, error) {
	if err := CheckOptions(&opts); err != nil {
		return nil, err
	}
	work := opts.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "promote-")
		if err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	d, err := decide(ctx, b, &opts, work)
	if err != nil {
		return d, err
	}
	if !d.Passed && !opts.Force {
		return d, &GateError{Failed: d.FailedGates()}
	}
	if opts.DryRun {
		return d, nil
	}
	return d, apply(ctx, b, &opts, d, work)
}

// candidate finds the version to promote.
func candidate(ctx context.Context, b tracking.Backend, o *Options) (*mlflow.ModelVersion, error) {
	if o.Version != "" {
		mv, err := b.GetModelVersion(ctx, o.Name, o.Version)
		if err != nil {
			return nil, fmt.Errorf("get %s version %s: %w", o.Name, o.Version, err)
		}
		return mv, nil
	}
	filter := fmt.Sprintf("name='%s'", strings.ReplaceAll(o.Name, "'", "\\'"))
	if o.RunID != "" {
		filter += fmt.Sprintf(" and run_id='%s'", strings.ReplaceAll(o.RunID, "'", "\\'"))
	}
	var best *mlflow.ModelVersion
	bestN := 0
	for mv, err := range b.AllModelVersions(ctx, mlflow.SearchModelVersionsRequest{Filter: filter}) {
		if err != nil {
			return nil, fmt.Errorf("search versions of %s: %w", o.Name, err)
		}
		if mv.Name != o.Name || (o.RunID != "" && mv.RunID != o.RunID) {
			continue
		}
		n, _ := strconv.Atoi(mv.Version)
		if n > bestN {
			mv := mv
			best, bestN = &mv, n
		}
	}
	if best == nil {
		if o.RunID != "" {
			return nil, fmt.Errorf("no version of %s comes from run %s: %w", o.Name, o.RunID, mlflow.ErrNotFound)
		}
		return nil, fmt.Errorf("%s has no versions: %w", o.Name, mlflow.ErrNotFound)
	}
	// Search results may lack aliases and tags; get the full version.
	mv, err := b.GetModelVersion(ctx, o.Name, best.Version)
	if err != nil {
		return nil, fmt.Errorf("get %s version %s: %w", o.Name, best.Version, err)
	}
	return mv, nil
}

// aliasVersion returns the version alias names, "" when it is not set.
func aliasVersion(ctx context.Context, b tracking.Backend, name, alias string) (*mlflow.ModelVersion, error) {
	mv, err := b.GetModelVersionByAlias(ctx, name, alias)
	if errors.Is(err, mlflow.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read alias %s@%s: %w", name, alias, err)
	}
	return mv, nil
}

func versionOf(mv *mlflow.ModelVersion) string {
	if mv == nil {
		return ""
	}
	return mv.Version
}

func decide(ctx context.Context, b tracking.Backend, o *Options, work string) (*Decision, error) {
	cand, err := candidate(ctx, b, o)
	if err != nil {
		return nil, err
	}
	if cand.Status != "" && cand.Status != mlflow.StatusReady {
		return nil, fmt.Errorf("%s version %s is %s, not READY", o.Name, cand.Version, cand.Status)
	}
	champ, err := aliasVersion(ctx, b, o.Name, o.Alias)
	if err != nil {
		return nil, err
	}
	if champ != nil && champ.Version == cand.Version {
		return nil, fmt.Errorf("%s version %s: %w %q", o.Name, cand.Version, ErrAlreadyChampion, o.Alias)
	}
	d := &Decision{
		Name: o.Name, Alias: o.Alias, Stage: o.Stage, Policy: o.Policy,
		Candidate: VersionRef{Version: cand.Version, RunID: cand.RunID, Source: cand.Source, Stage: cand.CurrentStage},
		Forced:    o.Force, Reason: o.Reason, DryRun: o.DryRun,
	}
	if champ != nil {
		d.Champion = &VersionRef{Version: champ.Version, RunID: champ.RunID, Source: champ.Source, Stage: champ.CurrentStage}
	}

	candDir, in, err := loadVersion(ctx, b, cand, filepath.Join(work, "candidate"))
	if err != nil {
		return nil, err
	}
	d.Integrity = in
	candModel := candDir.Model
	var champModel model.Model
	if champ != nil {
		champDir, _, err := loadVersion(ctx, b, champ, filepath.Join(work, "champion"))
		if err != nil {
			return nil, err
		}
		champModel = champDir.Model
	}

	holdout, err := holdoutFile(ctx, b, o, cand, work)
	if err != nil {
		return nil, err
	}
	if holdout == "" && champ != nil {
		return nil, fmt.Errorf("candidate run %s has no %s to score the champion against: pass a holdout file (--data)", cand.RunID, tracking.HoldoutFile)
	}
	if holdout != "" {
		d.Holdout = o.Data
		if d.Holdout == "" {
			d.Holdout = "runs:/" + cand.RunID + "/" + tracking.HoldoutFile
		}
		if err := scoreHoldout(d, o, holdout, candModel, champModel); err != nil {
			return nil, err
		}
	}

	report, source, err := testReport(ctx, b, cand, work, d)
	if err != nil {
		return nil, err
	}
	d.CandidateTest = report.Metrics()
	d.TestSource = source
	d.Gates = absoluteGates(o.Policy, report, source)
	if o.Policy.MinAdverseImpactRatio > 0 {
		g, err := fairnessGate(ctx, b, o.Policy, cand, work)
		if err != nil {
			return nil, err
		}
		d.Gates = append(d.Gates, g)
	}

	if champ == nil {
		d.Gates = append(d.Gates, skippedChampionGates(o.Policy, "no version holds @"+o.Alias)...)
	} else {
		cmp, err := compare(d.labels, d.candScores, d.champScores)
		if err != nil {
			return nil, fmt.Errorf("compare v%s with champion v%s on %s: %w", cand.Version, champ.Version, d.Holdout, err)
		}
		d.Comparison = cmp
		d.Gates = append(d.Gates, championGates(o.Policy, cmp, champ.Version)...)
		d.Gates = append(d.Gates, schemaGate(o.Policy, champModel.Schema(), candModel.Schema()))
	}
	d.Gates = append(d.Gates, pyfuncGate(o.AllowNoPyfunc, candDir))
	d.Passed = len(d.FailedGates()) == 0
	return d, nil
}

// loadVersion downloads a version's model directory, checks its files
// against what the registry recorded (see checkFiles) and loads it.
func loadVersion(ctx context.Context, b tracking.Backend, mv *mlflow.ModelVersion, dir string) (*model.Dir, *Integrity, error) {
	uri, err := tracking.VersionLocation(ctx, b, mv)
	if err != nil {
		return nil, nil, err
	}
	if err := tracking.Download(ctx, b, uri, dir); err != nil {
		return nil, nil, fmt.Errorf("%s version %s: %w", mv.Name, mv.Version, err)
	}
	in, err := checkFiles(mv, dir)
	if err != nil {
		return nil, nil, err
	}
	if err := model.VerifyFiles(dir, in.files); err != nil && !errors.Is(err, model.ErrNoChecksums) {
		return nil, nil, fmt.Errorf("%s version %s: %w", mv.Name, mv.Version, err)
	}
	d, err := model.Open(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s version %s: %w", mv.Name, mv.Version, err)
	}
	return d, in, nil
}

// runFile downloads one artifact of a run; "" without error when the run
// has no such file.
func runFile(ctx context.Context, b tracking.Backend, runID, name, dst string) (string, error) {
	if runID == "" {
		return "", nil
	}
	root, err := b.RunArtifactURI(ctx, runID)
	if err != nil {
		return "", fmt.Errorf("artifacts of run %s: %w", runID, err)
	}
	store, err := b.Artifacts(root)
	if err != nil {
		return "", fmt.Errorf("open artifacts of run %s: %w", runID, err)
	}
	if err := store.Download(ctx, name, dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("download %s of run %s: %w", name, runID, err)
	}
	if _, err := os.Stat(dst); err != nil {
		return "", nil // an empty listing downloads nothing
	}
	return dst, nil
}

func holdoutFile(ctx context.Context, b tracking.Backend, o *Options, cand *mlflow.ModelVersion, work string) (string, error) {
	if o.Data != "" {
		return o.Data, nil
	}
	return runFile(ctx, b, cand.RunID, tracking.HoldoutFile, filepath.Join(work, tracking.HoldoutFile))
}

// testReport is the candidate's recorded test evaluation (evaluation.json
// of its run) or, when the run has none, its evaluation on the holdout.
func testReport(ctx context.Context, b tracking.Backend, cand *mlflow.ModelVersion, work string, d *Decision) (*evaluate.Report, string, error) {
	path, err := runFile(ctx, b, cand.RunID, tracking.EvaluationFile, filepath.Join(work, tracking.EvaluationFile))
	if err != nil {
		return nil, "", err
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", fmt.Errorf("read %s of run %s: %w", tracking.EvaluationFile, cand.RunID, err)
		}
		defer f.Close()
		r, err := evaluate.ReadReport(f)
		if err != nil {
			return nil, "", fmt.Errorf("%s of run %s: %w", tracking.EvaluationFile, cand.RunID, err)
		}
		return r, "runs:/" + cand.RunID + "/" + tracking.EvaluationFile, nil
	}
	if d.labels == nil {
		return nil, "", fmt.Errorf("candidate run %s has neither %s nor %s: pass a holdout file (--data)", cand.RunID, tracking.EvaluationFile, tracking.HoldoutFile)
	}
	r, err := evaluate.Evaluate(d.labels, d.candScores, 0.5)
	if err != nil {
		return nil, "", fmt.Errorf("evaluate candidate on %s: %w", d.Holdout, err)
	}
	return r, d.Holdout, nil
}

// scoreHoldout encodes the holdout by each model's own schema, predicts, and
// reads the labels from the label column the candidate was trained on.
func scoreHoldout(d *Decision, o *Options, path string, cand, champ model.Model) error {
	label, positive, err := labelOf(cand.Schema(), o.Label, o.Positive)
	if err != nil {
		return fmt.Errorf("read labels from %s: %w", d.Holdout, err)
	}
	d.Label, d.Positive = label, positive
	score := func(m model.Model, who string) (*data.Batch, []float64, error) {
		b, err := m.Schema().LoadBatchFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("holdout %s for the %s: %w", d.Holdout, who, err)
		}
		p, err := m.Predict(b.X)
		if err != nil {
			return nil, nil, fmt.Errorf("score %s with the %s: %w", d.Holdout, who, err)
		}
		return b, p, nil
	}
	b, cs, err := score(cand, "candidate")
	if err != nil {
		return err
	}
	if b.Rows() == 0 {
		return fmt.Errorf("holdout %s has no rows", d.Holdout)
	}
	col := -1
	for i, name := range b.Extra {
		if name == label {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("holdout %s has no label column %q", d.Holdout, label)
	}
	labels := make([]float64, b.Rows())
	for i, vals := range b.ExtraValues {
		v := strings.TrimSpace(vals[col])
		if v == "" {
			return fmt.Errorf("holdout %s line %d: label %q is empty", d.Holdout, b.Lines[i], label)
		}
		if v == positive {
			labels[i] = 1
		}
	}
	d.labels, d.candScores, d.HoldoutRows = labels, cs, len(labels)
	r, err := evaluate.Evaluate(labels, cs, 0.5)
	if err != nil {
		return fmt.Errorf("evaluate candidate on %s: %w", d.Holdout, err)
	}
	d.CandidateHoldout = r.Metrics()
	if champ == nil {
		return nil
	}
	_, hs, err := score(champ, "champion")
	if err != nil {
		return err
	}
	if len(hs) != len(cs) {
		return fmt.Errorf("holdout %s: champion scored %d rows, candidate %d", d.Holdout, len(hs), len(cs))
	}
	d.champScores = hs
	r, err = evaluate.Evaluate(labels, hs, 0.5)
	if err != nil {
		return fmt.Errorf("evaluate champion on %s: %w", d.Holdout, err)
	}
	d.ChampionHoldout = r.Metrics()
	return nil
}

// labelOf returns the label column and positive value the holdout is read
// by: the candidate schema's (pipeline train records them), else the
// caller's (a version logged by Python's mlflow names only its features).
// The caller's must not contradict the schema's.
func labelOf(s *data.Schema, label, positive string) (string, string, error) {
	pick := func(flag, recorded, given string) (string, error) {
		if recorded != "" && given != "" && given != recorded {
			return "", fmt.Errorf("--%s %q differs from %q, which the candidate's schema names", flag, given, recorded)
		}
		if recorded != "" {
			return recorded, nil
		}
		return given, nil
	}
	l, err := pick("label", s.Label, label)
	if err != nil {
		return "", "", err
	}
	p, err := pick("positive", s.Positive, positive)
	if err != nil {
		return "", "", err
	}
	if l == "" || p == "" {
		return "", "", errors.New("the candidate's schema names no label column and positive value (a version logged by Python's mlflow names only its features): give them with --label COLUMN and --positive VALUE")
	}
	return l, p, nil
}

// gatesJSON is the compact JSON of the gates, for a version tag.
func gatesJSON(gates []Gate) string {
	b, err := json.Marshal(gates)
	if err != nil {
		return fmt.Sprintf("%q", err.Error())
	}
	return string(b)
}
