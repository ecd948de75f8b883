// Command benchlog times logging one training run, 30 params, 4 metrics ×
// 500 steps and 10 artifacts of 512 KiB, with this module's MLflow client and
// with the official Python client, against the same tracking server, and
// prints the medians and their ratio. It is a benchmark, not a test; run it
// through scripts/bench-mlflow.
//
// Both sides log through their usual paths: runs and metrics over the REST
// API, artifacts straight to the run's artifact store (s3:// to MinIO for the
// stack's servers). Each run is read back afterwards (params, metric history,
// artifact list and sizes) so a broken side cannot win by doing less.
//
// The Go side runs in up to three styles, so that each lever can be told
// apart in one run of the benchmark:
//
//	serial      one call after another, as the client did before it sent
//	            anything concurrently: params, then the metrics in calls of
//	            at most 1000 points, then the files one by one (on today's
//	            client, so without the 40 ms wait per reused connection
//	            that TCP_QUICKACK removed; see package mlflow)
//	client      the same three steps with the client's own concurrency:
//	            LogBatch sends its calls up to 4 at once, UploadDir up to 8
//	            files at once
//	concurrent  the client, with the artifacts uploaded in a goroutine
//	            while params and then metrics go to the tracking server, as
//	            a Go program logging a run would (the Python client's public
//	            API has no such form short of threads). The tracking calls
//	            stay in sequence: the metric calls already keep the server's
//	            workers busy, and a params call beside them only queued
//	            (0.250 s median with all three at once, 0.237 s so; 21
//	            rounds). Against the client style it gains nothing on a
//	            2-core machine and at times loses (0.277 s against 0.164 s
//	            in one 15-round run): MinIO storing the files takes the CPU
//	            the tracking server needs for the metric calls.
//
// The default style is client: the plain sequence of calls, and the
// fastest measured.
//
// Every timed run, on both sides, starts with a new client in a new
// connection pool, as a training program's single run does; -warm first
// logs an untimed run in the same process (Python) or with the same client
// (Go), so that lazy imports, client set-up and connections are paid before
// the clock starts.
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
	"sync"
	"time"

	"github.com/creditrisk/engine/artifact"
	"github.com/creditrisk/engine/artifact/s3"
	"github.com/creditrisk/engine/mlflow"
)

const (
	steps     = 500
	nParams   = 30
	nFiles    = 10
	fileBytes = 512 << 10
)

var keys = []string{"train_loss", "valid_loss", "valid_auc", "learning_rate"}

// phases are the steps of logging a run, in the order the report shows
// them; Python's start_run and end_run are create and terminate.
var phases = []string{"create", "params", "metrics", "artifacts", "terminate"}

var styles = []string{"serial", "client", "concurrent"}

func value(k, step int) float64 { return 1/float64(step+1) + float64(k)*0.01 }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchlog:", err)
		os.Exit(1)
	}
}

// timing is one timed run: the total and the time of each phase (in the
// concurrent style the artifacts overlap params and metrics).
type timing struct {
	Total  float64            `json:"total"`
	Phases map[string]float64 `json:"phases"`
}

func run() error {
	runs := flag.Int("runs", 5, "rounds per mode; each round logs one run per Go style and one with Python")
	modes := flag.String("modes", "batch,per-step", "comma-separated: batch (one LogBatch / log_batch), per-step (one call per step)")
	goStyles := flag.String("go", "client", "comma-separated Go styles: "+strings.Join(styles, ", "))
	warm := flag.Bool("warm", false, "log one untimed run first in each Python process and with each Go client")
	python := flag.String("python", os.Getenv("PIPELINE_PYTHON"), "python with mlflow installed")
	script := flag.String("script", "cmd/benchlog/bench.py", "the Python side")
	flag.Parse()
	if *python == "" {
		return errors.New("no -python and PIPELINE_PYTHON is unset (eval \"$(scripts/stack env)\")")
	}
	var goList []string
	for _, s := range strings.Split(*goStyles, ",") {
		if !slices.Contains(styles, s) {
			return fmt.Errorf("-go %q: styles are %s", s, strings.Join(styles, ", "))
		}
		goList = append(goList, s)
	}
	for _, m := range strings.Split(*modes, ",") {
		if m != "batch" && m != "per-step" {
			return fmt.Errorf("-modes %q: modes are batch and per-step", m)
		}
	}
	ctx := context.Background()
	c, err := mlflow.NewClientFromEnv(os.Getenv)
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
	fmt.Printf("server %s, experiment %s, %d rounds, %d params, %d metrics x %d steps, %d files x %d KiB, warm %v\n",
		c.TrackingURI(), expName, *runs, nParams, len(keys), steps, nFiles, fileBytes>>10, *warm)
	fmt.Printf("load average at start: %s\n", loadavg())
	for _, mode := range strings.Split(*modes, ",") {
		// Rounds alternate the sides (and rotate the Go styles), so all
		// see the same load on a shared machine.
		goTimes := map[string][]timing{}
		var pyTimes []timing
		var ids []string
		version, imports := "", 0.0
		for round := range *runs {
			for k := range goList {
				style := goList[(round+k)%len(goList)]
				t, runIDs, err := timeGo(ctx, exp.ID, dir, mode, style, *warm)
				if err != nil {
					return fmt.Errorf("go %s %s: %w", mode, style, err)
				}
				goTimes[style] = append(goTimes[style], t)
				ids = append(ids, runIDs...)
			}
			py, err := logPython(ctx, *python, *script, c.TrackingURI(), expName, dir, mode, *warm)
			if err != nil {
				return fmt.Errorf("python %s: %w", mode, err)
			}
			pyTimes = append(pyTimes, py.Timed)
			ids = append(ids, py.RunIDs...)
			version, imports = py.Version, py.Import
		}
		for _, id := range ids {
			if err := check(ctx, c, id); err != nil {
				return fmt.Errorf("%s: %w", mode, err)
			}
		}
		p := median(totals(pyTimes))
		fmt.Printf("\n%s: %d runs read back and checked (params, every metric point, artifact sizes)\n", mode, len(ids))
		for _, style := range goList {
			g := median(totals(goTimes[style]))
			fmt.Printf("  go %-10s median %.3f s (runs %s)  python/go = %.2fx\n", style, g, list(totals(goTimes[style])), p/g)
		}
		fmt.Printf("  python %-6s median %.3f s (runs %s; interpreter start and import, %.1f s, not counted)\n", version, p, list(totals(pyTimes)), imports)
		fmt.Printf("  median per phase, s:%s\n", phaseHeader())
		for _, style := range goList {
			fmt.Printf("    go %-10s    %s\n", style, phaseMedians(goTimes[style]))
		}
		fmt.Printf("    python            %s\n", phaseMedians(pyTimes))
	}
	fmt.Printf("\nload average at end: %s\n", loadavg())
	fmt.Println(`notes: go serial = one call after another (as before the client sent concurrently, but with quick ACKs);
  go client = same steps, LogBatch up to 4 calls and UploadDir up to 8 files at once;
  go concurrent = the client, artifacts uploaded in a goroutine while params, then metrics go to
  the tracking server (artifact and tracking phase times overlap). Python: mlflow.start_run, log_params, MlflowClient.log_batch
  (or log_metrics per step), log_artifacts, end_run. Every timed run uses a new client;
  with -warm an untimed run comes first in the same Python process / with the same Go client.`)
	return nil
}

type pyResult struct {
	Version string   `json:"version"`
	Import  float64  `json:"import_s"`
	Timed   timing   `json:"timed"`
	RunIDs  []string `json:"run_ids"`
}

// logPython logs a run with the official client in a new interpreter (two
// with warm, the first untimed), timed inside Python.
func logPython(ctx context.Context, python, script, uri, expName, dir, mode string, warm bool) (*pyResult, error) {
	cmd := exec.CommandContext(ctx, python, script, uri, expName, dir, mode, fmt.Sprint(warm))
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
	want := 1
	if warm {
		want = 2
	}
	if len(py.RunIDs) != want || py.Timed.Total <= 0 {
		return nil, fmt.Errorf("output %s: want %d runs and a time", lines[len(lines)-1], want)
	}
	return &py, nil
}

// timeGo logs a run with a new client (after an untimed one with warm).
func timeGo(ctx context.Context, expID, dir, mode, style string, warm bool) (timing, []string, error) {
	c, err := mlflow.NewClientFromEnv(os.Getenv)
	if err != nil {
		return timing{}, nil, err
	}
	var ids []string
	if warm {
		id, _, err := logGo(ctx, c, expID, dir, mode, style)
		if err != nil {
			return timing{}, nil, err
		}
		ids = append(ids, id)
	}
	start := time.Now()
	id, ph, err := logGo(ctx, c, expID, dir, mode, style)
	if err != nil {
		return timing{}, nil, err
	}
	return timing{Total: time.Since(start).Seconds(), Phases: ph}, append(ids, id), nil
}

// logGo logs one run in the given style and returns the time of each phase.
func logGo(ctx context.Context, c *mlflow.Client, expID, dir, mode, style string) (string, map[string]float64, error) {
	var mu sync.Mutex
	ph := map[string]float64{}
	timed := func(name string, f func() error) error {
		t := time.Now()
		err := f()
		mu.Lock()
		ph[name] = time.Since(t).Seconds()
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var r *mlflow.Run
	err := timed("create", func() (err error) {
		r, err = c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expID, Tags: mlflow.SourceFromEnv(os.Getenv).Tags()})
		return err
	})
	if err != nil {
		return "", nil, err
	}
	id := r.Info.RunID
	var params []mlflow.Param
	for i := range nParams {
		params = append(params, mlflow.Param{Key: fmt.Sprintf("param_%02d", i), Value: fmt.Sprintf("value-%d", i)})
	}
	logParams := func() error { return c.LogBatch(ctx, id, mlflow.Batch{Params: params}) }
	logMetrics := func() error {
		if mode == "per-step" {
			for s := range steps {
				var ms []mlflow.Metric
				for j, k := range keys {
					ms = append(ms, mlflow.Metric{Key: k, Value: value(j, s), Step: int64(s)})
				}
				if err := c.LogBatch(ctx, id, mlflow.Batch{Metrics: ms}); err != nil {
					return err
				}
			}
			return nil
		}
		ts := time.Now().UnixMilli()
		var ms []mlflow.Metric
		for j, k := range keys {
			for s := range steps {
				ms = append(ms, mlflow.Metric{Key: k, Value: value(j, s), Timestamp: ts + int64(s), Step: int64(s)})
			}
		}
		if style != "serial" {
			return c.LogBatch(ctx, id, mlflow.Batch{Metrics: ms})
		}
		// The calls the client made before it sent them concurrently.
		for len(ms) > 0 {
			n := min(len(ms), 1000)
			if err := c.LogBatch(ctx, id, mlflow.Batch{Metrics: ms[:n]}); err != nil {
				return err
			}
			ms = ms[n:]
		}
		return nil
	}
	logArtifacts := func() error {
		store, err := artifact.Open(r.Info.ArtifactURI, artifact.Config{S3: s3.EnvConfig(os.Getenv), Proxy: c})
		if err != nil {
			return err
		}
		if style != "serial" {
			return store.UploadDir(ctx, dir, "bench")
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := store.Upload(ctx, filepath.Join(dir, e.Name()), "bench/"+e.Name()); err != nil {
				return err
			}
		}
		return nil
	}
	parts := []struct {
		name string
		f    func() error
	}{{"params", logParams}, {"metrics", logMetrics}, {"artifacts", logArtifacts}}
	if style == "concurrent" {
		var wg sync.WaitGroup
		var upErr error
		wg.Go(func() { upErr = timed("artifacts", logArtifacts) })
		err := timed("params", logParams)
		if err == nil {
			err = timed("metrics", logMetrics)
		}
		wg.Wait()
		if err := errors.Join(err, upErr); err != nil {
			return "", nil, err
		}
	} else {
		for _, s := range parts {
			if err := timed(s.name, s.f); err != nil {
				return "", nil, err
			}
		}
	}
	err = timed("terminate", func() error { return c.TerminateRun(ctx, id, mlflow.RunFinished) })
	return id, ph, err
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
	for i := range nParams {
		if v, ok := r.Param(fmt.Sprintf("param_%02d", i)); !ok || v != fmt.Sprintf("value-%d", i) {
			return fmt.Errorf("run %s: param_%02d = %q", id, i, v)
		}
	}
	for j, k := range keys {
		h, err := c.GetMetricHistory(ctx, id, k)
		if err != nil {
			return err
		}
		if len(h) != steps {
			return fmt.Errorf("run %s: metric %s has %d points", id, k, len(h))
		}
		seen := make([]bool, steps)
		for _, m := range h {
			if m.Step < 0 || m.Step >= steps || seen[m.Step] || m.Value != value(j, int(m.Step)) {
				return fmt.Errorf("run %s: metric %s has point %+v", id, k, m)
			}
			seen[m.Step] = true
		}
	}
	store, err := artifact.Open(r.Info.ArtifactURI, artifact.Config{S3: s3.EnvConfig(os.Getenv), Proxy: c})
	if err != nil {
		return err
	}
	files, err := store.List(ctx, "bench")
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.IsDir || f.Size != fileBytes {
			return fmt.Errorf("run %s: artifact %s: %d bytes", id, f.Path, f.Size)
		}
	}
	if len(files) != nFiles {
		return fmt.Errorf("run %s: %d artifacts", id, len(files))
	}
	return nil
}

func totals(ts []timing) []float64 {
	var out []float64
	for _, t := range ts {
		out = append(out, t.Total)
	}
	return out
}

func phaseHeader() string {
	var b strings.Builder
	for _, p := range phases {
		fmt.Fprintf(&b, " %9s", p)
	}
	return b.String()
}

func phaseMedians(ts []timing) string {
	var b strings.Builder
	for _, p := range phases {
		var xs []float64
		for _, t := range ts {
			xs = append(xs, t.Phases[p])
		}
		fmt.Fprintf(&b, " %9.3f", median(xs))
	}
	return b.String()
}

// loadavg is the 1, 5 and 15 minute load average ("?" where unknown).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
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
