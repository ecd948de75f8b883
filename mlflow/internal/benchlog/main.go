// Command benchlog times logging one training run, 30 params, 4 metrics ×
// 500 steps and 10 artifacts of 512 KiB, with this module's MLflow client and
// with the official Python client, against the same tracking server, and
// prints the medians and their ratio. It is a benchmark, not a test; run it
// through scripts/bench-mlflow.
//
// Both sides log through their usual paths: runs and metrics over the REST
// API, artifacts straight to the run's artifact store (s3:// to MinIO for the
// stack's servers). Each run is read back afterwards (params, metric history,
// artifact list) so a broken side cannot win by doing less.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/mlflow"
)

const (
	steps     = 500
	nParams   = 30
	nFiles    = 10
	fileBytes = 512 << 10
)

var keys = []string{"train_loss", "valid_loss", "valid_auc", "learning_rate"}

func value(k, step int) float64 { return 1/float64(step+1) + float64(k)*0.01 }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchlog:", err)
		os.Exit(1)
	}
}

func run() error {
	runs := flag.Int("runs", 5, "runs per side and mode")
	modes := flag.String("modes", "batch,per-step", "comma-separated: batch (one LogBatch / log_batch), per-step (one call per step)")
	python := flag.String("python", os.Getenv("PIPELINE_PYTHON"), "python with mlflow installed")
	script := flag.String("script", "mlflow/internal/benchlog/bench.py", "the Python side")
	flag.Parse()
	if *python == "" {
		return errors.New("no -python and PIPELINE_PYTHON is unset (eval \"$(scripts/stack env)\")")
	}
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "benchlog")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for i := range nFiles {
		b := make([]byte, fileBytes)
		_, _ = rand.Read(b) // incompressible, as model files mostly are
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file_%02d.bin", i)), b, 0o644); err != nil {
			return err
		}
	}
	expName := fmt.Sprintf("benchlog-%d", time.Now().UnixNano())
	exp, err := c.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: expName})
	if err != nil {
		return err
	}
	fmt.Printf("server %s, experiment %s, %d runs per side, %d params, %d metrics x %d steps, %d files x %d KiB\n",
		c.TrackingURI(), expName, *runs, nParams, len(keys), steps, nFiles, fileBytes>>10)
	for _, mode := range strings.Split(*modes, ",") {
		// Rounds alternate the sides, so both see the same load on a
		// shared machine.
		var goTimes, pyTimes []float64
		var ids []string
		version, imports := "", 0.0
		for range *runs {
			start := time.Now()
			id, err := logGo(ctx, c, exp.ID, dir, mode)
			if err != nil {
				return fmt.Errorf("go %s: %w", mode, err)
			}
			goTimes = append(goTimes, time.Since(start).Seconds())
			ids = append(ids, id)

			py, err := logPython(ctx, *python, *script, c.TrackingURI(), expName, dir, mode)
			if err != nil {
				return fmt.Errorf("python %s: %w", mode, err)
			}
			pyTimes = append(pyTimes, py.Times...)
			ids = append(ids, py.RunIDs...)
			version, imports = py.Version, py.Import
		}
		for _, id := range ids {
			if err := check(ctx, c, id); err != nil {
				return fmt.Errorf("%s: %w", mode, err)
			}
		}
		g, p := median(goTimes), median(pyTimes)
		fmt.Printf("%-8s  go: median %.3f s (runs %s)\n", mode, g, list(goTimes))
		fmt.Printf("%-8s  python mlflow %s: median %.3f s (runs %s; interpreter start and import, %.1f s, not counted)\n", mode, version, p, list(pyTimes), imports)
		fmt.Printf("%-8s  python/go = %.2fx\n", mode, p/g)
	}
	return nil
}

type pyResult struct {
	Version string    `json:"version"`
	Import  float64   `json:"import_s"`
	Times   []float64 `json:"times"`
	RunIDs  []string  `json:"run_ids"`
}

// logPython logs one run with the official client, timed inside Python.
func logPython(ctx context.Context, python, script, uri, expName, dir, mode string) (*pyResult, error) {
	cmd := exec.CommandContext(ctx, python, script, uri, expName, "1", dir, mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var py pyResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &py); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	if len(py.Times) != 1 || len(py.RunIDs) != 1 {
		return nil, fmt.Errorf("output %s: want one run", lines[len(lines)-1])
	}
	return &py, nil
}

// logGo logs one run the way the pipeline does.
func logGo(ctx context.Context, c *mlflow.Client, expID, dir, mode string) (string, error) {
	r, err := c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expID, Tags: mlflow.DefaultSource().Tags()})
	if err != nil {
		return "", err
	}
	id := r.Info.RunID
	var params []mlflow.Param
	for i := range nParams {
		params = append(params, mlflow.Param{Key: fmt.Sprintf("param_%02d", i), Value: fmt.Sprintf("value-%d", i)})
	}
	if err := c.LogBatch(ctx, id, mlflow.Batch{Params: params}); err != nil {
		return "", err
	}
	ts := time.Now().UnixMilli()
	if mode == "batch" {
		var ms []mlflow.Metric
		for j, k := range keys {
			for s := range steps {
				ms = append(ms, mlflow.Metric{Key: k, Value: value(j, s), Timestamp: ts + int64(s), Step: int64(s)})
			}
		}
		if err := c.LogBatch(ctx, id, mlflow.Batch{Metrics: ms}); err != nil {
			return "", err
		}
	} else {
		for s := range steps {
			var ms []mlflow.Metric
			for j, k := range keys {
				ms = append(ms, mlflow.Metric{Key: k, Value: value(j, s), Step: int64(s)})
			}
			if err := c.LogBatch(ctx, id, mlflow.Batch{Metrics: ms}); err != nil {
				return "", err
			}
		}
	}
	store, err := artifact.Open(r.Info.ArtifactURI, c)
	if err != nil {
		return "", err
	}
	if err := store.UploadDir(ctx, dir, "bench"); err != nil {
		return "", err
	}
	return id, c.TerminateRun(ctx, id, mlflow.RunFinished)
}

// check reads a run back: both sides must have logged everything.
func check(ctx context.Context, c *mlflow.Client, id string) error {
	r, err := c.GetRun(ctx, id)
	if err != nil {
		return err
	}
	if r.Info.Status != mlflow.RunFinished || len(r.Data.Params) != nParams {
		return fmt.Errorf("run %s: status %s, %d params", id, r.Info.Status, len(r.Data.Params))
	}
	for _, k := range keys {
		h, err := c.GetMetricHistory(ctx, id, k)
		if err != nil {
			return err
		}
		if len(h) != steps {
			return fmt.Errorf("run %s: metric %s has %d points", id, k, len(h))
		}
	}
	store, err := artifact.Open(r.Info.ArtifactURI, c)
	if err != nil {
		return err
	}
	files, err := store.List(ctx, "bench")
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	if len(files) != nFiles || total != nFiles*fileBytes {
		return fmt.Errorf("run %s: %d artifacts, %d bytes", id, len(files), total)
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func list(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.3f", x))
	}
	return strings.Join(parts, " ")
}
