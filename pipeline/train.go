package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/data"
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
splits it, trains the model family, evaluates it on the held-out test split and
logs the run to MLflow: to the tracking server at MLFLOW_TRACKING_URI, or without
it to the local store ./mlruns. Columns that look like identifiers or leak the
label are reported; leave them out with --ignore.

Settings come from the flags, then the environment, then --config, then defaults.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "YAML config file (see configs/train.yaml)", EnvVars: []string{"PIPELINE_CONFIG"}},
			&cli.StringFlag{Name: "data", Usage: "CSV file of loans (default: embedded German credit data)", EnvVars: []string{"PIPELINE_DATA"}},
			&cli.StringFlag{Name: "label", Usage: "label column of --data", EnvVars: []string{"PIPELINE_LABEL"}},
			&cli.StringFlag{Name: "positive", Usage: "label value of a default, e.g. bad or 1", EnvVars: []string{"PIPELINE_POSITIVE"}},
			&cli.StringFlag{Name: "model", Usage: "model family: " + strings.Join(model.FamilyNames(), ", "), EnvVars: []string{"PIPELINE_MODEL"}},
			&cli.StringSliceFlag{Name: "ignore", Usage: "leave column COL of --data out of the model (repeatable)"},
			&cli.StringSliceFlag{Name: "type", Usage: "column type COL=numeric|categorical|ignore, overriding inference (repeatable)"},
			&cli.StringSliceFlag{Name: "set", Usage: "model hyper-parameter key=value (repeatable)"},
			&cli.StringFlag{Name: "experiment", Usage: "MLflow experiment name (default: named after the data file)", EnvVars: []string{"MLFLOW_EXPERIMENT_NAME"}},
			&cli.StringFlag{Name: "run-name", Usage: "MLflow run name", EnvVars: []string{"MLFLOW_RUN_NAME"}},
			&cli.StringFlag{Name: "description", Usage: "run description (mlflow.note.content)"},
			&cli.StringFlag{Name: "register", Usage: "register the model under this name (and log its validation report)", EnvVars: []string{"PIPELINE_REGISTER"}},
			&cli.BoolFlag{Name: "refit", Usage: "after evaluating on the split, train the final model on all rows (a second run; it is the one registered)"},
			&cli.StringFlag{Name: "split-manifest", Usage: "train on exactly the parts of this split manifest (split_manifest.json of a run)"},
			&cli.StringSliceFlag{Name: "protected", Usage: "protected characteristic to measure, COL or COL:EDGE,EDGE,... for bands of a numeric column (repeatable; not a feature unless --keep-protected)"},
			&cli.BoolFlag{Name: "keep-protected", Usage: "keep the --protected columns among the model's features"},
			&cli.StringFlag{Name: "date-column", Usage: "date column of --data: the report's period, never a feature"},
			&cli.StringFlag{Name: "out", Usage: "also keep the run's files (model/, plots/, evaluation.json, holdout.csv) in this directory"},
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
	opts := train.Options{OutDir: out, Tags: tagMap(source("train")), Tracking: b,
		OnWarning: func(w train.Suspect) {
			fmt.Fprintf(c.App.ErrWriter, "pipeline: warning: column %s; leave it out with --ignore %s\n", w, w.Column)
		}}
	var p *progress
	if format == "text" {
		p = newProgress(c.App.ErrWriter)
		opts.OnIteration = p.iteration
	}
	res, err := train.Run(c.Context, cfg, opts)
	if p != nil {
		p.done(res)
	}
	if err != nil {
		var ce *train.ConfigError
		if errors.As(err, &ce) {
			return usageError("%v", flagError(c, err))
		}
		return err
	}
	if res.Registered != nil {
		// The version's validation report, logged with its run.
		runID := res.RunID
		if res.Refit != nil && res.Refit.RunID != "" {
			runID = res.Refit.RunID // the refit run made the version
		}
		if err := logReport(c.Context, b, res.Registered.Name, res.Registered.Version, runID, report.Options{}); err != nil {
			return fmt.Errorf("models:/%s/%s is registered, but its validation report failed: %w", res.Registered.Name, res.Registered.Version, err)
		}
	}
	if !c.IsSet("out") {
		res.OutDir, res.ModelDir = "", ""
	}
	return writeOutput(c.App.Writer, format, res, func(w io.Writer) error { return printSummary(w, res, typedArgs(c)) })
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
	if c.IsSet("refit") {
		cfg.Split.Refit = c.Bool("refit")
	}
	types := map[string]string{}
	for _, col := range c.StringSlice("ignore") {
		types[col] = "ignore"
	}
	for _, kv := range c.StringSlice("type") {
		col, kind, ok := strings.Cut(kv, "=")
		if _, err := data.ParseKind(kind); !ok || col == "" || err != nil {
			return cfg, usageError("--type %q: want COL=numeric, COL=categorical or COL=ignore", kv)
		}
		types[col] = kind
	}
	if len(types) > 0 {
		cfg.Data.Types = maps.Clone(cfg.Data.Types)
		if cfg.Data.Types == nil {
			cfg.Data.Types = map[string]string{}
		}
		maps.Copy(cfg.Data.Types, types)
	}
	for _, kv := range c.StringSlice("set") {
		if col, ok := strings.CutPrefix(kv, "types."); ok {
			return cfg, usageError("--set %s: --set takes model hyper-parameters; give a column's type with --type %s (or --ignore)", kv, col)
		}
		if err := cfg.Set(kv); err != nil {
			return cfg, usageError("%v", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError("%v", flagError(c, err))
	}
	return cfg, nil
}

// configFlags are the flags that set configuration keys, for errors about
// values the user gave as flags.
var configFlags = []struct{ key, flag string }{
	{"data.path", "--data"}, {"data.label", "--label"}, {"data.positive", "--positive"},
	{"data.types.", "--type "}, {"model.family", "--model"}, {"model.params", "--set"},
	{"tracking.experiment", "--experiment"}, {"tracking.run_name", "--run-name"},
	{"tracking.register", "--register"},
}

// flagError names flags, not config keys, in an error about the
// configuration when no --config file was given: the user typed flags.
// With a file, the flag is named beside the key.
func flagError(c *cli.Context, err error) error {
	var ce *train.ConfigError
	if !errors.As(err, &ce) || ce.File != "" {
		return err
	}
	msg := ce.Error()
	for _, f := range configFlags {
		with := f.flag
		if c.String("config") != "" {
			with = f.key + " (" + strings.TrimSpace(f.flag) + ")"
		}
		msg = strings.ReplaceAll(msg, f.key, with)
	}
	return errors.New(msg)
}

func printSummary(w io.Writer, res *train.Result, args []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("family", res.Family)
	row("experiment", res.Experiment)
	row("rows (train/validation/test)", fmt.Sprintf("%d / %d / %d", res.Rows.Train, res.Rows.Validation, res.Rows.Test))
	row("run id", res.RunID)
	row("run", res.RunURL)
	row("model", res.ModelURI)
	if res.Registered != nil {
		row("registered", fmt.Sprintf("models:/%s/%s", res.Registered.Name, res.Registered.Version))
	}
	row("artifacts", res.ArtifactURI)
	if r := res.Refit; r != nil {
		row("refit on all rows", fmt.Sprintf("%d rows, %d iterations: run %s", r.Rows, r.Iterations, r.RunID))
		row("final model", r.ModelURI)
	}
	row("local copy", res.OutDir)
	keys := make([]string, 0, len(res.Metrics))
	for k := range res.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row(k, fmt.Sprintf("%.4f", res.Metrics[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return nextSteps(w, res, args)
}

// nextSteps tells what to do with the run: look at it, register it,
// promote and serve the version — the exact commands for this run (args
// are the train command's own arguments).
func nextSteps(w io.Writer, res *train.Result, args []string) error {
	var b strings.Builder
	if root, ok := strings.CutPrefix(res.TrackingURI, "file://"); ok {
		fmt.Fprintf(&b, "\nTracked in the local MLflow store %s (no MLFLOW_TRACKING_URI). Look at it with\n", root)
		fmt.Fprintf(&b, "  MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri %s --port 5000\n", shellQuote(root))
		b.WriteString("and open http://127.0.0.1:5000.\n")
	}
	if res.RunID == "" {
		_, err := io.WriteString(w, b.String())
		return err
	}
	type step struct{ cmd, why string }
	var steps []step
	name := res.Experiment
	if res.Registered != nil {
		name = res.Registered.Name
	} else {
		steps = append(steps, step{"pipeline " + shellJoin(append(slices.Clone(args), "--register", name)), "train again, registering the model"})
	}
	steps = append(steps,
		step{"pipeline promote --name " + shellQuote(name) + " --latest", "through the gates to @champion"},
		step{"pipeline serve --model " + shellQuote("models:/"+name+"@champion"), "serve the champion on :8000 (GET /health, POST /predict)"},
		step{"pipeline serve --model " + finalModel(res), "or try this run's model now"})
	b.WriteString("\nNext:\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "  # %s\n  %s\n", s.why, s.cmd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shellJoin quotes each word for a POSIX shell.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellQuote(w)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(w string) string {
	if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
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

// iteration shows the metrics under the names the run logs them by.
func (p *progress) iteration(it gbdt.Iteration) {
	p.last = it
	if p.tty {
		fmt.Fprintf(p.w, "\rtraining: iteration %4d  validation_log_loss %.4f  validation_auc %.4f  %s", it.Iter, it.ValidLogLoss, it.ValidAUC, time.Since(p.start).Round(100*time.Millisecond))
		return
	}
	if it.Iter%50 == 0 {
		fmt.Fprintf(p.w, "training: iteration %d validation_log_loss=%.4f validation_auc=%.4f\n", it.Iter, it.ValidLogLoss, it.ValidAUC)
	}
}

// done ends the bar and says which iteration the model keeps and why
// boosting stopped.
func (p *progress) done(res *train.Result) {
	if p.tty && p.last.Iter > 0 {
		fmt.Fprintln(p.w)
	}
	if res != nil && res.Stopped != "" {
		fmt.Fprintf(p.w, "training: kept iteration %d (lowest validation_log_loss); stopped: %s\n", res.BestIteration, res.Stopped)
	}
}

// typedArgs is the command line as the user typed it, after "pipeline".
func typedArgs(c *cli.Context) []string {
	args, _ := c.App.Metadata["args"].([]string)
	return args
}

// finalModel is the run's model to deploy: the refit one, if any.
func finalModel(res *train.Result) string {
	if res.Refit != nil {
		return res.Refit.ModelURI
	}
	return res.ModelURI
}
