package mlflow

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/creditrisk/engine/internal/testkit"
)

// TestPythonClientReadsGoRun checks a run logged here with the official
// Python client of the same MLflow version: metrics (NaN/Inf included),
// params, tags, inputs and status read back as logged, and the system tags
// a native Python run carries are all set here too.
func TestPythonClientReadsGoRun(t *testing.T) {
	t.Parallel()
	for _, s := range testkit.Servers(t) {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			python := testkit.Python(t)
			if s.Name == "2.9.2" {
				python = testkit.Python2(t)
			}
			c, err := NewClient(s.URI)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			expID := newExperiment(t, c, "go-python")
			src := SourceFromEnv(os.Getenv)
			src.Name = "pipeline"
			run, err := c.CreateRun(ctx, CreateRunRequest{ExperimentID: expID, RunName: "go-run", Tags: src.Tags()})
			if err != nil {
				t.Fatal(err)
			}
			id := run.Info.RunID
			values := []float64{0.5, math.NaN(), math.Inf(1), math.Inf(-1), 0.75}
			var ms []Metric
			for i, v := range values {
				ms = append(ms, Metric{Key: "auc", Value: v, Timestamp: 1_700_000_000_000 + int64(i), Step: int64(i)})
			}
			if err := c.LogBatch(ctx, id, Batch{Metrics: ms, Params: []Param{{"num_leaves", "31"}}, Tags: []Tag{{"stage", "test"}}}); err != nil {
				t.Fatal(err)
			}
			if err := c.LogInputs(ctx, id, []DatasetInput{{Tags: []Tag{{TagDatasetCtx, "training"}},
				Dataset: Dataset{Name: "german_credit", Digest: "0badcafe", SourceType: "local", Source: `{"uri": "german_credit.csv"}`}}}); err != nil {
				t.Fatal(err)
			}
			if err := c.TerminateRun(ctx, id, RunFinished); err != nil {
				t.Fatal(err)
			}

			cmd := exec.CommandContext(ctx, python, "testdata/tracking_crosscheck.py", s.URI, id, "auc", expID)
			cmd.Env = append(cmd.Environ(), "MLFLOW_TRACKING_URI="+s.URI, "GIT_PYTHON_REFRESH=quiet")
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("python: %v\n%s", err, stderr)
			}
			var got struct {
				Version string            `json:"mlflow_version"`
				Status  string            `json:"status"`
				UserID  string            `json:"user_id"`
				RunName string            `json:"run_name"`
				Tags    map[string]string `json:"tags"`
				Params  map[string]string `json:"params"`
				History [][3]any          `json:"history"`
				Inputs  []struct {
					Name, Digest string
					Tags         map[string]string
				} `json:"inputs"`
				NativeTags map[string]string `json:"native_tags"`
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
				t.Fatalf("python output %s: %v", out, err)
			}
			t.Logf("python mlflow %s; native run tags %v", got.Version, got.NativeTags)
			if got.Status != "FINISHED" || got.RunName != "go-run" || got.UserID != src.User || got.Params["num_leaves"] != "31" || got.Tags["stage"] != "test" {
				t.Errorf("python sees %+v", got)
			}
			// The SQL store keeps ±Inf as ±MaxFloat64, and the Python client
			// hands that back as is (this client maps it back to ±Inf).
			want := []any{0.5, "NaN", math.MaxFloat64, -math.MaxFloat64, 0.75}
			if len(got.History) != len(want) {
				t.Fatalf("history %v", got.History)
			}
			for i, h := range got.History {
				if h[0].(float64) != float64(i) || h[1].(float64) != float64(1_700_000_000_000+i) || h[2] != want[i] {
					t.Errorf("point %d: %v, want value %v", i, h, want[i])
				}
			}
			if len(got.Inputs) != 1 || got.Inputs[0].Name != "german_credit" || got.Inputs[0].Tags[TagDatasetCtx] != "training" {
				t.Errorf("inputs %+v", got.Inputs)
			}
			for k := range got.NativeTags {
				if !strings.HasPrefix(k, "mlflow.") || strings.HasPrefix(k, "mlflow.source.git.") && src.GitCommit == "" {
					continue // the test binary has no VCS stamp
				}
				if _, ok := got.Tags[k]; !ok {
					t.Errorf("a native Python run has system tag %s; the Go run lacks it", k)
				}
			}
		})
	}
}
