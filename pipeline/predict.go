package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/creditrisk/engine/model"
	"github.com/creditrisk/engine/tracking"
)

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:  "predict",
		Usage: "score a CSV of applicants with a model",
		Description: `Writes the input rows with a probability_of_default column, the same
probabilities pipeline serve answers for the same rows; a scorecard adds its
score in points. --explain N adds reason_1 … reason_N, the adverse-action
statements /explain gives (points lost for a scorecard, TreeSHAP for gbdt;
statements from --reasons).

--model takes MLflow's model URIs (models:/NAME/VERSION, models:/NAME@ALIAS,
models:/NAME/STAGE, runs:/RUN_ID/model), resolved through the tracking server at
MLFLOW_TRACKING_URI or, without it, the local store ./mlruns; or a local model
directory.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model URI or directory", EnvVars: []string{"PIPELINE_MODEL_URI"}},
			&cli.StringFlag{Name: "data", Usage: "CSV file with a header row"},
			&cli.StringFlag{Name: "out", Usage: "output CSV (default: standard output)"},
			&cli.IntFlag{Name: "explain", Usage: "add the statements of each row's top N adverse-action reasons"},
			reasonsFlag("PIPELINE_REASONS"),
		},
		Action: runPredict,
	}
}

func runPredict(c *cli.Context) error {
	if err := requireFlags(c, "model", "data"); err != nil {
		return err
	}
	if c.Int("explain") < 0 {
		return usageError("--explain %d: want a number of reasons, 1 or more", c.Int("explain"))
	}
	set, err := loadReasons(c)
	if err != nil {
		return err
	}
	dir, cleanup, err := localModel(c, c.String("model"))
	if err != nil {
		return err
	}
	defer cleanup()
	d, err := model.Open(dir)
	if err != nil {
		return err
	}
	m := d.Model
	path := c.String("data")
	batch, err := m.Schema().LoadBatchFile(path)
	if err != nil {
		return err
	}
	probs, err := m.Predict(batch.X)
	if err != nil {
		return fmt.Errorf("score %s: %w", path, err)
	}
	header, extra, err := extraColumns(d, batch.X, c.Int("explain"), set)
	if err != nil {
		return err
	}
	for name, n := range batch.Unseen {
		fmt.Fprintf(c.App.ErrWriter, "predict: %s: %d rows have a category of %s the model never saw; scored as missing\n", path, n, name)
	}

	var w io.Writer = c.App.Writer
	if out := c.String("out"); out != "" {
		// Scored applicants are never world-readable (0660 less the umask).
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o660)
		if err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		defer f.Close()
		w = f
		if err := writeScored(w, path, probs, header, extra); err != nil {
			return err
		}
		return f.Close()
	}
	return writeScored(w, path, probs, header, extra)
}

// localModel returns a directory holding the model ref names: ref itself
// when it is a local directory, else a temporary copy fetched through the
// tracking backend (removed by cleanup): the server at MLFLOW_TRACKING_URI,
// or without one the local store ./mlruns, as train records into.
func localModel(c *cli.Context, ref string) (dir string, cleanup func(), err error) {
	noop := func() {}
	r, err := tracking.ParseRef(ref)
	if err != nil {
		return "", noop, usageError("--model: %v", err)
	}
	if r.Dir != "" {
		return r.Dir, noop, nil
	}
	b, err := openTracking(tellRetries(c.App.ErrWriter))
	if err != nil {
		return "", noop, err
	}
	tmp, err := os.MkdirTemp("", "pipeline-model-")
	if err != nil {
		return "", noop, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	dir = filepath.Join(tmp, tracking.ModelPath)
	if err := tracking.Fetch(c.Context, b, r, dir); err != nil {
		cleanup()
		return "", noop, fmt.Errorf("--model: %w", err)
	}
	return dir, cleanup, nil
}

// writeScored copies the CSV file at path to w with probs as a last column,
// then the extra columns (header names them), row for row (LoadBatchFile
// has already read it, so its shape is known good).
func writeScored(w io.Writer, path string, probs []float64, header []string, extra [][]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	cw := csv.NewWriter(w)
	for i := -1; ; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if i == len(probs) {
			return fmt.Errorf("%s: more rows than were scored", path)
		}
		if i < 0 {
			rec = append(append(rec, "probability_of_default"), header...)
		} else {
			rec = append(rec, strconv.FormatFloat(probs[i], 'g', -1, 64))
			for _, col := range extra {
				rec = append(rec, col[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	cw.Flush()
	return cw.Error()
}
