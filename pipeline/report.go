package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/tracking"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write the validation report of a registered model version (one self-contained HTML file)",
		UsageText: "pipeline report --model models:/NAME/VERSION [--data HOLDOUT.csv] [--out FILE]",
		Description: `Gathers what model-risk and fair-lending review ask of a version from the
registry and its training run: data (rows, period, default rate, missingness,
feature profiles), performance on the run's test split and on --data (AUC,
Gini, KS with bootstrap confidence intervals, calibration by decile with a
Hosmer–Lemeshow test, lift), stability (score PSI and CSI per feature against
training), the scorecard or the top feature effects, fair-lending figures
(train --protected), the promotion gates and the lineage (run, dataset digest,
git commit, split manifest, who promoted). The test figures are recomputed
from the model and checked against the run's logged metrics.

train --register and promote log the same report as validation_report.html.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "registered version: models:/NAME/VERSION (or @ALIAS, /STAGE)", EnvVars: []string{"PIPELINE_MODEL_URI"}},
			&cli.StringFlag{Name: "data", Usage: "an extra labelled holdout CSV to evaluate, e.g. out of time"},
			&cli.StringFlag{Name: "out", Value: tracking.ReportFile, Usage: "HTML file to write"},
			&cli.IntFlag{Name: "resamples", Value: 1000, Usage: "bootstrap resamples of the confidence intervals"},
		},
		Action: runReport,
	}
}

func runReport(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("report takes no arguments, got %q", c.Args().First())
	}
	if err := requireFlags(c, "model"); err != nil {
		return err
	}
	r, err := tracking.ParseRef(c.String("model"))
	if err != nil || !r.Registered() {
		return usageError("--model %q: want a registered version, models:/NAME/VERSION", c.String("model"))
	}
	if path := c.String("data"); path != "" {
		if _, err := os.Stat(path); err != nil {
			return usageError("--data: %v", err)
		}
	}
	if n := c.Int("resamples"); n < 10 || n > 100000 {
		return usageError("--resamples %d: want 10 to 100000", n)
	}
	b, err := openTracking(tellRetries(c.App.ErrWriter))
	if err != nil {
		return err
	}
	rep, err := report.Build(c.Context, b, c.String("model"), report.Options{
		Holdout: c.String("data"), Resamples: c.Int("resamples"), Version: version()})
	if err != nil {
		return err
	}
	if err := rep.WriteFile(c.String("out")); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: validation report of models:/%s/%s\n", c.String("out"), rep.Model.Name, rep.Model.Version)
	if !rep.ChecksOK() {
		return fmt.Errorf("the report's recomputed test figures differ from the run's logged metrics; see its summary")
	}
	return nil
}

// logReport builds the version's report (with holdout, when not empty, as
// its extra sample) and uploads it to the run as tracking.ReportFile: the
// training run on registration, the promotion run on promotion.
func logReport(ctx context.Context, b tracking.Backend, name, ver, runID string, opts report.Options) error {
	opts.Version = version()
	rep, err := report.Build(ctx, b, fmt.Sprintf("models:/%s/%s", name, ver), opts)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pipeline-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, tracking.ReportFile)
	if err := rep.WriteFile(path); err != nil {
		return err
	}
	root, err := b.RunArtifactURI(ctx, runID)
	if err != nil {
		return fmt.Errorf("log %s: %w", tracking.ReportFile, err)
	}
	store, err := b.Artifacts(root)
	if err != nil {
		return fmt.Errorf("log %s: %w", tracking.ReportFile, err)
	}
	if err := store.Upload(ctx, path, tracking.ReportFile); err != nil {
		return fmt.Errorf("log %s to run %s: %w", tracking.ReportFile, runID, err)
	}
	return nil
}
