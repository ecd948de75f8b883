package promote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creditrisk/engine/evaluate"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// apply writes a decision: the promotion run first (so that whatever happens
// next is explained in the UI), then the alias with its race checks, the
// stage, the version's tags and the alias history. The run ends FINISHED
// when all of it was written, FAILED otherwise, with the outcome as a tag.
func apply(ctx context.Context, b tracking.Backend, o *Options, d *Decision, work string) (err error) {
	d.PromotedAt = time.Now().UTC().Truncate(time.Second)
	d.PromotedBy = o.User
	runID, runArtifacts, err := startRun(ctx, b, o, d, work)
	if err != nil {
		return err
	}
	d.RunID = runID
	defer func() {
		outcome, status := "promoted", mlflow.RunFinished
		if err != nil {
			outcome, status = "not promoted: "+err.Error(), mlflow.RunFailed
			if len(outcome) > 4000 {
				outcome = outcome[:4000]
			}
		}
		// The registry's state is what matters; a failure to close the run
		// is reported only when nothing else failed.
		if e := b.SetTag(ctx, runID, "outcome", outcome); e != nil && err == nil {
			err = fmt.Errorf("tag promotion run %s: %w", runID, e)
		}
		if e := b.TerminateRun(ctx, runID, status); e != nil && err == nil {
			err = fmt.Errorf("end promotion run %s: %w", runID, e)
		}
	}()

	prev := ""
	if d.Champion != nil {
		prev = d.Champion.Version
	}
	history, err := readHistory(ctx, b, d.Name, d.Alias)
	if err != nil {
		return err
	}
	if err := recordIntegrity(ctx, b, o.SignKey, d, runID, runArtifacts, work); err != nil {
		return err
	}
	if err := moveAlias(ctx, b, d.Name, d.Alias, prev, d.Candidate.Version, o.beforeWrite, o.afterWrite); err != nil {
		return err
	}
	d.Applied = true
	if d.Stage != "" {
		if _, err := b.TransitionModelVersionStage(ctx, d.Name, d.Candidate.Version, d.Stage, true); err != nil {
			return fmt.Errorf("alias %s@%s moved to version %s, but the stage transition to %s failed: %w", d.Name, d.Alias, d.Candidate.Version, d.Stage, err)
		}
	}
	tags := map[string]string{
		TagPromotedAt:       d.PromotedAt.Format(time.RFC3339),
		TagPromotedBy:       d.PromotedBy,
		TagPromotedAlias:    d.Alias,
		TagPreviousChampion: orNoneTag(prev),
		TagGates:            gatesJSON(d.Gates),
		TagRunID:            runID,
		TagForced:           fmt.Sprint(d.Forced),
		TagKind:             "promote",
	}
	if d.Forced {
		tags[TagReason] = d.Reason
	}
	if err := tagVersion(ctx, b, d.Name, d.Candidate.Version, tags); err != nil {
		return err
	}
	if o.afterTags != nil {
		if err := o.afterTags(ctx); err != nil {
			return err
		}
	}
	// A promotion that read the old champion before our write and wrote
	// after our post-write check would have undone ours without either
	// seeing it. Its history entry, or the alias itself, tells.
	now, err := readHistory(ctx, b, d.Name, d.Alias)
	if err != nil {
		return err
	}
	if last(now) != last(history) {
		return &RaceError{Alias: d.Alias, Expected: d.Candidate.Version, Actual: last(now), Step: "while recording (the history shows another promotion)"}
	}
	if len(history) == 0 || last(history) != prev {
		if prev != "" {
			history = append(history, prev)
		}
	}
	if err := writeHistory(ctx, b, d.Name, d.Alias, append(history, d.Candidate.Version)); err != nil {
		return err
	}
	cur, err := aliasVersion(ctx, b, d.Name, d.Alias)
	if err != nil {
		return err
	}
	if v := versionOf(cur); v != d.Candidate.Version {
		return &RaceError{Alias: d.Alias, Expected: d.Candidate.Version, Actual: v, Step: "after recording"}
	}
	return nil
}

func last(h []string) string {
	if len(h) == 0 {
		return ""
	}
	return h[len(h)-1]
}

func orNoneTag(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

func tagVersion(ctx context.Context, b tracking.Backend, name, version string, tags map[string]string) error {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := b.SetModelVersionTag(ctx, name, version, k, tags[k]); err != nil {
			return fmt.Errorf("tag %s version %s with %s: %w", name, version, k, err)
		}
	}
	return nil
}

// moveAlias points alias at target if it still points at expected ("" for
// unset), and checks afterwards that it points at target.
func moveAlias(ctx context.Context, b tracking.Backend, name, alias, expected, target string, before, after func(context.Context) error) error {
	if before != nil {
		if err := before(ctx); err != nil {
			return err
		}
	}
	cur, err := aliasVersion(ctx, b, name, alias)
	if err != nil {
		return err
	}
	if v := versionOf(cur); v != expected {
		return &RaceError{Alias: alias, Expected: expected, Actual: v, Step: "before the write"}
	}
	if err := b.SetRegisteredModelAlias(ctx, name, alias, target); err != nil {
		return fmt.Errorf("set alias %s@%s to version %s: %w", name, alias, target, err)
	}
	if after != nil {
		if err := after(ctx); err != nil {
			return err
		}
	}
	cur, err = aliasVersion(ctx, b, name, alias)
	if err != nil {
		return err
	}
	if v := versionOf(cur); v != target {
		return &RaceError{Alias: alias, Expected: target, Actual: v, Step: "after the write"}
	}
	return nil
}

// maxHistory bounds the history tag below the registry's 5000-character
// tag values (MLflow 2.9); the oldest entries go first.
const maxHistory = 4000

func readHistory(ctx context.Context, b tracking.Backend, name, alias string) ([]string, error) {
	rm, err := b.GetRegisteredModel(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("get registered model %s: %w", name, err)
	}
	return parseHistory(rm, alias), nil
}

func writeHistory(ctx context.Context, b tracking.Backend, name, alias string, h []string) error {
	v := strings.Join(h, ",")
	for len(v) > maxHistory {
		h = h[1:]
		v = strings.Join(h, ",")
	}
	if err := b.SetRegisteredModelTag(ctx, name, HistoryTag(alias), v); err != nil {
		return fmt.Errorf("record history of %s@%s: %w", name, alias, err)
	}
	return nil
}

// startRun records the decision in the promotions experiment; it returns
// the run's id and artifact root.
func startRun(ctx context.Context, b tracking.Backend, o *Options, d *Decision, work string) (string, string, error) {
	exp, err := b.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: o.Experiment})
	if err != nil {
		return "", "", fmt.Errorf("experiment %q: %w", o.Experiment, err)
	}
	tags := append(slices.Clone(o.Tags),
		mlflow.Tag{Key: "model_name", Value: d.Name},
		mlflow.Tag{Key: "candidate_version", Value: d.Candidate.Version},
		mlflow.Tag{Key: "mlflow.note.content", Value: note(d)},
	)
	run, err := b.CreateRun(ctx, mlflow.CreateRunRequest{
		ExperimentID: exp.ID,
		RunName:      fmt.Sprintf("%s-v%s-%s", d.Name, d.Candidate.Version, d.Alias),
		Tags:         tags,
	})
	if err != nil {
		return "", "", fmt.Errorf("create promotion run in %q: %w", o.Experiment, err)
	}
	id := run.Info.RunID
	if err := logDecision(ctx, b, run, d, work); err != nil {
		_ = b.TerminateRun(ctx, id, mlflow.RunFailed)
		return "", "", err
	}
	return id, run.Info.ArtifactURI, nil
}

func logDecision(ctx context.Context, b tracking.Backend, run *mlflow.Run, d *Decision, work string) error {
	champ := "none"
	if d.Champion != nil {
		champ = d.Champion.Version
	}
	params := []mlflow.Param{
		{Key: "model_name", Value: d.Name},
		{Key: "alias", Value: d.Alias},
		{Key: "stage", Value: orNoneTag(d.Stage)},
		{Key: "candidate_version", Value: d.Candidate.Version},
		{Key: "candidate_run_id", Value: d.Candidate.RunID},
		{Key: "champion_version", Value: champ},
		{Key: "holdout", Value: orNoneTag(d.Holdout)},
		{Key: "forced", Value: fmt.Sprint(d.Forced)},
		{Key: "policy.min_auc", Value: fmt.Sprint(d.Policy.MinAUC)},
		{Key: "policy.max_brier", Value: fmt.Sprint(d.Policy.MaxBrier)},
		{Key: "policy.max_ece", Value: fmt.Sprint(d.Policy.MaxECE)},
		{Key: "policy.auc_margin", Value: fmt.Sprint(d.Policy.AUCMargin)},
		{Key: "policy.delong_p_value", Value: fmt.Sprint(d.Policy.DeLongP)},
		{Key: "policy.max_psi", Value: fmt.Sprint(d.Policy.MaxPSI)},
		{Key: "policy.gate_psi", Value: fmt.Sprint(d.Policy.GatePSI)},
		{Key: "policy.allow_schema_change", Value: fmt.Sprint(d.Policy.AllowSchemaChange)},
		{Key: "policy.min_adverse_impact_ratio", Value: fmt.Sprint(d.Policy.MinAdverseImpactRatio)},
	}
	var metrics []mlflow.Metric
	add := func(prefix string, m map[string]float64) {
		for k, v := range m {
			metrics = append(metrics, mlflow.Metric{Key: prefix + k, Value: v})
		}
	}
	add("candidate_test_", d.CandidateTest)
	add("candidate_holdout_", d.CandidateHoldout)
	add("champion_holdout_", d.ChampionHoldout)
	if cmp := d.Comparison; cmp != nil {
		metrics = append(metrics,
			mlflow.Metric{Key: "auc_diff", Value: cmp.DeLong.Diff},
			mlflow.Metric{Key: "delong_z", Value: cmp.DeLong.Z},
			mlflow.Metric{Key: "delong_p", Value: cmp.DeLong.P},
			mlflow.Metric{Key: "psi", Value: cmp.PSI})
	}
	for _, g := range d.Gates {
		pass := 1.0
		if g.Failed() {
			pass = 0
		}
		metrics = append(metrics, mlflow.Metric{Key: "gate_" + g.Name + "_passed", Value: pass})
	}
	tags := []mlflow.Tag{{Key: "gates", Value: gatesJSON(d.Gates)}, {Key: "decision", Value: decisionWord(d)}}
	if d.Forced {
		tags = append(tags, mlflow.Tag{Key: "reason", Value: d.Reason})
	}
	if err := b.LogBatch(ctx, run.Info.RunID, mlflow.Batch{Params: params, Metrics: metrics, Tags: tags}); err != nil {
		return fmt.Errorf("log promotion run %s: %w", run.Info.RunID, err)
	}

	store, err := b.Artifacts(run.Info.ArtifactURI)
	if err != nil {
		return fmt.Errorf("artifacts of promotion run %s: %w", run.Info.RunID, err)
	}
	dec := filepath.Join(work, DecisionFile)
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode decision: %w", err)
	}
	if err := os.WriteFile(dec, js, 0o666); err != nil {
		return fmt.Errorf("write decision: %w", err)
	}
	if err := store.Upload(ctx, dec, DecisionFile); err != nil {
		return fmt.Errorf("upload %s to promotion run %s: %w", DecisionFile, run.Info.RunID, err)
	}
	if d.Comparison != nil {
		png := filepath.Join(work, ROCFile)
		if err := evaluate.ROCComparison(png, d.labels, d.candScores, d.champScores,
			"candidate v"+d.Candidate.Version, "champion v"+d.Champion.Version); err != nil {
			return fmt.Errorf("ROC comparison: %w", err)
		}
		if err := store.Upload(ctx, png, ROCFile); err != nil {
			return fmt.Errorf("upload %s to promotion run %s: %w", ROCFile, run.Info.RunID, err)
		}
	}
	return nil
}

func decisionWord(d *Decision) string {
	switch {
	case d.Passed:
		return "promote: all gates passed"
	case d.Forced:
		return "promote: forced past failed gates"
	}
	return "refuse"
}

// note is the run description, a Markdown table of the gates.
func note(d *Decision) string {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Promotion of **%s** version %s to @%s: %s.\n\n", d.Name, d.Candidate.Version, d.Alias, decisionWord(d))
	if d.Forced {
		fmt.Fprintf(&buf, "Forced, reason: %s\n\n", d.Reason)
	}
	buf.WriteString("| gate | status | value | threshold | margin |\n|---|---|---|---|---|\n")
	for _, g := range d.Gates {
		fmt.Fprintf(&buf, "| %s | %s | %.4g | %s %.4g | %.4g |\n", g.Name, g.Status, g.Value, g.Op, g.Threshold, g.Margin)
	}
	s := buf.String()
	if len(s) > 4500 {
		s = s[:4500]
	}
	return s
}

// WriteGates prints the gates as an aligned table.
func WriteGates(w *tabwriter.Writer, gates []Gate) {
	fmt.Fprintln(w, "GATE\tSTATUS\tVALUE\tTHRESHOLD\tMARGIN\tDETAIL")
	for _, g := range gates {
		if g.Status == Skip {
			fmt.Fprintf(w, "%s\t%s\t-\t%s %.4g\t-\t%s\n", g.Name, g.Status, g.Op, g.Threshold, g.Detail)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%.4f\t%s %.4g\t%+.4f\t%s\n", g.Name, g.Status, g.Value, g.Op, g.Threshold, g.Margin, g.Detail)
	}
}
