package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/gbdt"
	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/report"
	"github.com/creditrisk/engine/train"
)

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train and evaluate a model, log it to MLflow and optionally register it",
		Description: `Loads the loan data (the embedded German credit data unless --data is given),
splits it, trains the model family, evaluates it on the held-out test split and,
when MLFLOW_TRACKING_URI is set, logs the run to MLflow.

Settings come from the flags, then the environment, then --config, then defaults.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "YAML config file (see configs/train.yaml)", EnvVars: []string{"PIPELINE_CONFIG"}},
			&cli.StringFlag{Name: "data", Usage: "CSV file of loans (default: embedded German credit data)", EnvVars: []string{"PIPELINE_DATA"}},
			&cli.StringFlag{Name: "label", Usage: "label column of --data", EnvVars: []string{"PIPELINE_LABEL"}},
			&cli.StringFlag{Name: "positive", Usage: "label value of a default, e.g. bad or 1", EnvVars: []string{"PIPELINE_POSITIVE"}},
			&cli.StringFlag{Name: "model", Usage: "model family: " + strings.Join(model.FamilyNames(), ", "), EnvVars: []string{"PIPELINE_MODEL"}},
			&cli.StringSliceFlag{Name: "set", Usage: "model hyper-parameter key=value (repeatable)"},
			&cli.StringFlag{Name: "experiment", Usage: "MLflow experiment name", EnvVars: []string{"MLFLOW_EXPERIMENT_NAME"}},
			&cli.StringFlag{Name: "run-name", Usage: "MLflow run name", EnvVars: []string{"MLFLOW_RUN_NAME"}},
			&cli.StringFlag{Name: "description", Usage: "run description (mlflow.note.content)"},
			&cli.StringFlag{Name: "register", Usage: "register the model under this name (and log its validation report)", EnvVars: []string{"PIPELINE_REGISTER"}},
			&cli.StringFlag{Name: "split-manifest", Usage: "train on exactly the parts of this split manifest (split_manifest.json of a run)"},
			&cli.StringSliceFlag{Name: "protected", Usage: "protected characteristic to measure, COL or COL:EDGE,EDGE,... for bands of a numeric column (repeatable; not a feature unless --keep-protected)"},
			&cli.BoolFlag{Name: "keep-protected", Usage: "keep the --protected columns among the model's features"},
			&cli.StringFlag{Name: "date-column", Usage: "date column of --data: the report's period, never a feature"},
			&cli.StringFlag{Name: "out", Usage: "directory for the run's local files (default: a new folder under ./runs)"},
			outputFlag(),
		},
		Action: runTrain,
	}
}

func runTrain(c *cli.Context) error {
	cfg, err := trainConfig(c)
	if err != nil {
		return err
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	// The run's files are staged in a temporary directory and end up as
	// the run's artifacts, unless --out asks for a copy.
	out := c.String("out")
	if out == "" {
		tmp, err := os.MkdirTemp("", "pipeline-train-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		out = filepath.Join(tmp, "run")
	}
	b, err := openTracking(tellRetries(c.App.ErrWriter))
	if err != nil {
		return err
	}
	opts := train.Options{OutDir: out, Tags: tagMap(source("train")), Tracking: b}
	if format == "text" {
		p := newProgress(c.App.ErrWriter)
		opts.OnIteration = p.iteration
		defer p.done()
	}
	res, err := train.Run(c.Context, cfg, opts)
	if err != nil {
		var ce *train.ConfigError
		if errors.As(err, &ce) {
			return usageError("%v", err)
		}
		return err
	}
	if res.Registered != nil {
		// The version's validation report, logged with its run.
		if err := logReport(c.Context, b, res.Registered.Name, res.Registered.Version, res.RunID, ""); err != nil {
			return fmt.Errorf("models:/%s/%s is registered, but its validation report failed: %w", res.Registered.Name, res.Registered.Version, err)
		}
	}
	if !c.IsSet("out") {
		res.OutDir, res.ModelDir = "", ""
	}
	return writeOutput(c.App.Writer, format, res, func(w io.Writer) error { return printSummary(w, res) })
}

// trainConfig merges the config file, the environment and the flags.
func trainConfig(c *cli.Context) (train.Config, error) {
	cfg := train.DefaultConfig()
	if path := c.String("config"); path != "" {
		var err error
		if cfg, err = train.LoadConfig(path); err != nil {
			return cfg, usageError("--config: %v", err)
		}
	}
	str := func(flag string, dst *string) {
		if c.IsSet(flag) {
			*dst = c.String(flag)
		}
	}
	str("data", &cfg.Data.Path)
	str("label", &cfg.Data.Label)
	str("positive", &cfg.Data.Positive)
	str("model", &cfg.Model.Family)
	str("experiment", &cfg.Tracking.Experiment)
	str("run-name", &cfg.Tracking.RunName)
	str("description", &cfg.Tracking.Description)
	str("register", &cfg.Tracking.Register)
	str("split-manifest", &cfg.Split.Manifest)
	str("date-column", &cfg.Data.Date)
	if c.IsSet("protected") {
		cfg.Fairness.Protected = nil
		for _, s := range c.StringSlice("protected") {
			p, err := report.ParseProtected(s)
			if err != nil {
				return cfg, usageError("--protected %v", err)
			}
			cfg.Fairness.Protected = append(cfg.Fairness.Protected, p)
		}
	}
	if c.IsSet("keep-protected") {
		cfg.Fairness.KeepFeatures = c.Bool("keep-protected")
	}
	for _, kv := range c.StringSlice("set") {
		if err := cfg.Set(kv); err != nil {
			return cfg, usageError("%v", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError("%v", err)
	}
	return cfg, nil
}

func printSummary(w io.Writer, res *train.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("family", res.Family)
	row("rows (train/validation/test)", fmt.Sprintf("%d / %d / %d", res.Rows.Train, res.Rows.Validation, res.Rows.Test))
	row("run id", res.RunID)
	row("run", res.RunURL)
	row("model", res.ModelURI)
	if res.Registered != nil {
		row("registered", fmt.Sprintf("models:/%s/%s", res.Registered.Name, res.Registered.Version))
	}
	row("artifacts", res.ArtifactURI)
	row("local copy", res.OutDir)
	keys := make([]string, 0, len(res.Metrics))
	for k := range res.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row(k, fmt.Sprintf("%.4f", res.Metrics[k]))
	}
	if root, ok := strings.CutPrefix(res.TrackingURI, "file://"); ok {
		fmt.Fprintf(tw, "\nNo MLFLOW_TRACKING_URI: tracked in the local MLflow file store %s. View it with\n  mlflow ui --backend-store-uri %s\n(MLflow 3.x also needs MLFLOW_ALLOW_FILE_STORE=true).\n", root, root)
	}
	return tw.Flush()
}

// progress shows boosting iterations: a bar on a terminal, a line every
// 50 iterations otherwise (logs stay readable).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  gbdt.Iteration
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) iteration(it gbdt.Iteration) {
	p.last = it
	if p.tty {
		fmt.Fprintf(p.w, "\rtraining: iteration %4d  valid log loss %.4f  valid AUC %.4f  %s", it.Iter, it.ValidLogLoss, it.ValidAUC, time.Since(p.start).Round(100*time.Millisecond))
		return
	}
	if it.Iter%50 == 0 {
		fmt.Fprintf(p.w, "training: iteration %d valid_log_loss=%.4f valid_auc=%.4f\n", it.Iter, it.ValidLogLoss, it.ValidAUC)
	}
}

func (p *progress) done() {
	if p.tty && p.last.Iter > 0 {
		fmt.Fprintln(p.w)
	}
}
