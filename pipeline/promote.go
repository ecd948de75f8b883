package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/integrity"
	"github.com/creditrisk/engine/promote"
	"github.com/creditrisk/engine/report"
)

// exitGate is the exit code of a promotion a gate refused.
const exitGate = 3

func promoteCommand() *cli.Command {
	return &cli.Command{
		Name:      "promote",
		Usage:     "move a registered model version to an alias (and stage) through champion/challenger gates",
		UsageText: "pipeline promote --name NAME (--version N | --run RUN_ID | --latest) [--alias champion] [--stage Production] [--policy FILE] [--data HOLDOUT.csv] [--label COLUMN --positive VALUE] [--dry-run] [--force --reason TEXT] [--sign-key FILE] [--output text|json]",
		Description: `Checks the candidate against the gates of the policy (configs/promote.yaml
documents them; built-in defaults without --policy): its recorded test AUC,
Brier score and calibration error; when the alias already names a champion,
both models score the same holdout (--data, else the candidate run's
holdout.csv) and the candidate must beat the champion's AUC by the margin
without being significantly worse by DeLong's test; the PSI of the two score
distributions; the champion's required features; and, when the policy sets
min_adverse_impact_ratio, the candidate's lowest adverse impact ratio over the
protected characteristics it was trained with (train --protected).

The holdout's labels are read by the label column and positive value the
candidate was trained with. A version logged by Python's mlflow (LightGBM
trained with lightgbm.dask, say) names only its features, in its MLflow
signature: give them with --label and --positive, and the holdout with
--data, on which its test metrics are computed too.

When every gate passes, the alias moves (and with --stage the version is
transitioned, archiving the stage's other versions), the version is tagged
with promoted_at, promoted_by, previous_champion and the gate results, and
the decision is recorded as a run in the "promotions" experiment, with the
version's validation report (validation_report.html, see pipeline report).

The candidate's files must match the digest recorded at registration; a
version without one (logged by Python's mlflow) gets it recorded now. With
--sign-key, a manifest of the files, name, version and run id is signed
and stored (promotion run artifacts model_manifest.json and .sig, version
tags model_signature*) before the alias moves.

Exit codes: 0 promoted (or a passing --dry-run), 3 a gate failed (nothing
changed), 1 any other failure, including the alias moving while promoting,
2 a usage error. --dry-run exits 3 too when a gate fails.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "registered model name"},
			&cli.StringFlag{Name: "version", Usage: "candidate version"},
			&cli.StringFlag{Name: "run", Usage: "candidate: the version registered from this run"},
			&cli.BoolFlag{Name: "latest", Usage: "candidate: the newest version"},
			&cli.StringFlag{Name: "alias", Value: promote.DefaultAlias, Usage: "alias to move"},
			&cli.StringFlag{Name: "stage", Usage: "also transition to this stage (MLflow 2.x stages: Staging, Production)"},
			&cli.StringFlag{Name: "policy", Usage: "gate policy YAML (see configs/promote.yaml)", EnvVars: []string{"PIPELINE_PROMOTE_POLICY"}},
			&cli.StringFlag{Name: "data", Usage: "holdout CSV with the label column (default: the candidate run's holdout.csv)"},
			&cli.StringFlag{Name: "label", Usage: "holdout label `COLUMN`, for a candidate whose schema names none (logged by Python's mlflow)"},
			&cli.StringFlag{Name: "positive", Usage: "label `VALUE` of a default, for a candidate whose schema names none"},
			&cli.BoolFlag{Name: "dry-run", Usage: "decide and print, change nothing"},
			&cli.BoolFlag{Name: "force", Usage: "promote even if gates fail (needs --reason)"},
			&cli.StringFlag{Name: "reason", Usage: "why --force is used; recorded in the tags"},
			&cli.BoolFlag{Name: "allow-no-pyfunc", Usage: "promote a version without MLflow's python_function flavor (logistic, forest), which Python cannot load"},
			&cli.StringFlag{Name: "experiment", Value: promote.DefaultExperiment, Usage: "experiment that records promotions"},
			// Model integrity (docs/operations.md, Security).
			&cli.StringFlag{Name: "sign-key", Usage: "sign the version's manifest with this Ed25519 private key (PKCS#8 PEM `FILE`, e.g. from openssl genpkey -algorithm ed25519) for pipeline serve --verify-key", EnvVars: []string{"PIPELINE_PROMOTE_SIGN_KEY"}},
			outputFlag(),
		},
		OnUsageError: flagUsageError,
		Action:       runPromote,
	}
}

func runPromote(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("promote takes no arguments, got %q", c.Args().First())
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	if c.String("name") == "" {
		return usageError("--name is required (see \"pipeline promote --help\")")
	}
	picks := 0
	for _, f := range []string{"version", "run", "latest"} {
		if c.IsSet(f) {
			picks++
		}
	}
	if picks != 1 {
		return usageError("pick the candidate with exactly one of --version, --run and --latest")
	}
	if c.Bool("force") && strings.TrimSpace(c.String("reason")) == "" {
		return usageError("--force needs --reason TEXT, which is recorded with the promotion")
	}
	if c.IsSet("reason") && !c.Bool("force") {
		return usageError("--reason goes with --force")
	}
	policy := promote.DefaultPolicy()
	if path := c.String("policy"); path != "" {
		if policy, err = promote.LoadPolicy(path); err != nil {
			return usageError("--policy: %v", err)
		}
	}
	if path := c.String("data"); path != "" {
		if _, err := os.Stat(path); err != nil {
			return usageError("--data: %v", err)
		}
	}
	opts := promote.Options{
		Name: c.String("name"), Version: c.String("version"), RunID: c.String("run"), Latest: c.Bool("latest"),
		Alias: c.String("alias"), Stage: c.String("stage"), Policy: policy, Data: c.String("data"),
		Label: c.String("label"), Positive: c.String("positive"),
		DryRun: c.Bool("dry-run"), Force: c.Bool("force"), Reason: c.String("reason"),
		Experiment: c.String("experiment"), AllowNoPyfunc: c.Bool("allow-no-pyfunc"),
	}
	if path := c.String("sign-key"); path != "" {
		if opts.SignKey, err = integrity.ReadPrivateKeyFile(path); err != nil {
			return usageError("--sign-key: %v", err)
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(c.App.ErrWriter, "warning: --sign-key %s is readable by others (mode %v); chmod 600 it\n", path, st.Mode().Perm())
		}
	}
	src := source("promote")
	opts.User, opts.Tags = src.User, src.Tags()
	if err := promote.CheckOptions(&opts); err != nil {
		return usageError("%v", err)
	}
	b, err := openTracking(tellRetries(c.App.ErrWriter))
	if err != nil {
		return err
	}
	d, err := promote.Promote(c.Context, b, opts)
	if err == nil && d.Applied {
		// The promoted version's validation report, gates included, logged
		// with the promotion run; --data is its holdout too.
		if rerr := logReport(c.Context, b, d.Name, d.Candidate.Version, d.RunID, report.Options{Holdout: opts.Data, Label: opts.Label, Positive: opts.Positive}); rerr != nil {
			err = fmt.Errorf("promoted, but the validation report failed: %w", rerr)
		}
	}
	if d != nil {
		if werr := writeOutput(c.App.Writer, format, d, func(w io.Writer) error { return promote.WriteDecision(w, d) }); werr != nil && err == nil {
			err = werr
		}
	}
	var ge *promote.GateError
	if errors.As(err, &ge) {
		return cli.Exit(err.Error(), exitGate)
	}
	return err
}
