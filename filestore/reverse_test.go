package filestore_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// TestGoReadsPythonStore is the reverse check: a store MLflow's Python
// client wrote (testdata/write_store.py) reads back here as written, and
// this package can go on writing into it.
func TestGoReadsPythonStore(t *testing.T) {
	pythons := map[string]string{"mlflow2": testkit.Python2(t), "mlflow3": testkit.Python(t)}
	for name, py := range pythons {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			root := filepath.Join(t.TempDir(), "mlruns")
			cmd := exec.Command(py, filepath.Join("testdata", "write_store.py"), root)
			cmd.Env = append(os.Environ(), "MLFLOW_ALLOW_FILE_STORE=true")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("write_store.py: %v\n%s", err, stderr.String())
			}
			var ids struct {
				ExperimentID string `json:"experiment_id"`
				RunID        string `json:"run_id"`
				Digest       string `json:"dataset_digest"`
			}
			if err := json.Unmarshal(out, &ids); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			s, err := filestore.Open("file://" + root)
			if err != nil {
				t.Fatal(err)
			}
			exp, err := s.GetExperimentByName(ctx, "py-exp")
			if err != nil {
				t.Fatal(err)
			}
			if exp.ID != ids.ExperimentID || exp.ArtifactLocation != "file://"+root+"/"+exp.ID || len(exp.Tags) != 1 || exp.Tags[0] != (mlflow.Tag{Key: "team", Value: "risk"}) {
				t.Errorf("experiment %+v", exp)
			}
			r, err := s.GetRun(ctx, ids.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Info.Status != mlflow.RunFinished || r.Info.RunName != "py-run" || r.Info.EndTime == 0 ||
				r.Info.ArtifactURI != "file://"+root+"/"+exp.ID+"/"+ids.RunID+"/artifacts" {
				t.Errorf("run info %+v", r.Info)
			}
			for k, want := range map[string]string{"lr": "0.1", "depth": "6"} {
				if got, ok := r.Param(k); !ok || got != want {
					t.Errorf("param %s = %q, want %q", k, got, want)
				}
			}
			for k, want := range map[string]string{"a/b": "nested", "plain": "v", "x": "y", mlflow.TagRunName: "py-run"} {
				if got, ok := r.Tag(k); !ok || got != want {
					t.Errorf("tag %s = %q, want %q", k, got, want)
				}
			}
			latest := map[string]float64{}
			for _, m := range r.Data.Metrics {
				latest[m.Key] = m.Value
			}
			if latest["loss"] != 0.25 || !math.IsInf(latest["auc"], 1) || latest["small"] != 1e-05 || latest["big"] != 1e16 {
				t.Errorf("latest metrics %v", latest)
			}
			h, err := s.GetMetricHistory(ctx, ids.RunID, "loss")
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 3 || h[0].Value != 0.5 || !math.IsNaN(h[1].Value) || h[1].Step != 1 || h[1].Timestamp != 1700000000001 || h[2].Step != 2 {
				t.Errorf("history %+v", h)
			}
			if len(r.Inputs.DatasetInputs) != 1 {
				t.Fatalf("inputs %+v", r.Inputs)
			}
			in := r.Inputs.DatasetInputs[0]
			if in.Dataset.Name != "tiny" || in.Dataset.Digest != ids.Digest || in.Dataset.SourceType != "local" ||
				!strings.Contains(in.Dataset.Schema, "mlflow_colspec") || len(in.Tags) != 1 || in.Tags[0].Value != "training" {
				t.Errorf("input %+v", in)
			}
			// The same dataset logged from Go lands in the folder MLflow
			// made: the ids agree.
			if err := s.LogInputs(ctx, ids.RunID, r.Inputs.DatasetInputs); err != nil {
				t.Fatal(err)
			}
			ents, _ := os.ReadDir(filepath.Join(root, exp.ID, "datasets"))
			links, _ := os.ReadDir(filepath.Join(root, exp.ID, ids.RunID, "inputs"))
			if len(ents) != 1 || len(links) != 1 {
				t.Errorf("after logging the same dataset from Go: %d datasets, %d links; want 1, 1", len(ents), len(links))
			}
			mv, err := s.GetModelVersionByAlias(ctx, "py-model", "champion")
			if err != nil {
				t.Fatal(err)
			}
			if mv.Version != "2" || mv.Status != "READY" || mv.RunID != ids.RunID || len(mv.Aliases) != 1 {
				t.Errorf("version by alias %+v", mv)
			}
			v1, err := s.GetModelVersion(ctx, "py-model", "1")
			if err != nil {
				t.Fatal(err)
			}
			if tag, _ := v1.Tag("stage"); tag != "old" {
				t.Errorf("version 1 tags %+v", v1.Tags)
			}
			rm, err := s.GetRegisteredModel(ctx, "py-model")
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := rm.AliasVersion("champion"); v != "2" || len(rm.LatestVersions) != 1 {
				t.Errorf("registered model %+v", rm)
			}
			// Go continues numbering after MLflow's versions.
			nv, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "py-model", Source: mv.Source, RunID: ids.RunID})
			if err != nil {
				t.Fatal(err)
			}
			if nv.Version != "3" {
				t.Errorf("next version %s, want 3", nv.Version)
			}
		})
	}
}
