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
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// written is what writeStore put in the store, to compare with what the
// Python client reads back.
type written struct {
	store   *filestore.Store
	exp     *mlflow.Experiment
	run     *mlflow.Run
	schema  string
	profile string
}

const (
	modelName = "credit-risk"
	alias     = "champion"
)

// writeStore fills a store with what a training writes, and more: an
// experiment with a tag, a run with params, metric histories with steps
// (NaN and ±Inf included), nested tags, a dataset input, artifacts, a
// registered model with two versions, tags and an alias.
func writeStore(t *testing.T, root string) written {
	t.Helper()
	ctx := context.Background()
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "credit", Tags: []mlflow.Tag{{Key: "team", Value: "risk: yes"}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: "gbdt-1",
		Tags: []mlflow.Tag{{Key: mlflow.TagUser, Value: "alice"}, {Key: "a/b", Value: "nested"}, {Key: mlflow.TagNote, Value: "line1\nline2 'quoted' \"x\""}}})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	b := mlflow.Batch{
		Params: []mlflow.Param{{Key: "learning_rate", Value: "0.05"}, {Key: "num_leaves", Value: "31"}, {Key: "empty", Value: ""}},
		Tags:   []mlflow.Tag{{Key: "model_family", Value: "gbdt"}},
	}
	for i, v := range []float64{0.69, 0.5, math.NaN(), 0.25} {
		b.Metrics = append(b.Metrics, mlflow.Metric{Key: "train_log_loss", Value: v, Timestamp: 1700000000000 + int64(i), Step: int64(i)})
	}
	b.Metrics = append(b.Metrics,
		mlflow.Metric{Key: "test_auc", Value: 0.8125, Timestamp: 1700000000100},
		mlflow.Metric{Key: "inf", Value: math.Inf(1), Timestamp: 1700000000100, Step: 2},
		mlflow.Metric{Key: "inf", Value: math.Inf(-1), Timestamp: 1700000000101, Step: 1},
		mlflow.Metric{Key: "tiny", Value: 1e-05, Timestamp: 1700000000100, Step: 7},
		mlflow.Metric{Key: "huge", Value: 1.5e300, Timestamp: 1700000000100})
	if err := s.LogBatch(ctx, id, b); err != nil {
		t.Fatal(err)
	}
	w := written{store: s, exp: exp,
		schema:  `{"mlflow_colspec": [{"type": "double", "name": "duration"}, {"type": "string", "name": "purpose"}]}`,
		profile: `{"num_rows": 1000, "num_elements": 2000}`}
	in := mlflow.DatasetInput{Tags: []mlflow.Tag{{Key: mlflow.TagDatasetCtx, Value: "training"}},
		Dataset: mlflow.Dataset{Name: "german_credit", Digest: "1a2b3c4d", SourceType: "local",
			Source: `{"uri": "/data/german_credit.csv"}`, Schema: w.schema, Profile: w.profile}}
	if err := s.LogInputs(ctx, id, []mlflow.DatasetInput{in}); err != nil {
		t.Fatal(err)
	}
	if err := s.LogInputs(ctx, id, []mlflow.DatasetInput{in}); err != nil { // replay: no duplicate
		t.Fatal(err)
	}
	// Artifacts through the store the run's artifact URI names.
	src := t.TempDir()
	for p, c := range map[string]string{"model/MLmodel": "flavors: {}\n", "model/model.txt": "tree\n", "metrics.json": "{}"} {
		os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(src, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	as, err := s.Artifacts(run.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := as.UploadDir(ctx, src, ""); err != nil {
		t.Fatal(err)
	}
	lm, _ := json.Marshal(map[string]any{"run_id": id, "artifact_path": "model", "flavors": map[string]any{}})
	if err := s.LogModel(ctx, id, lm); err != nil {
		t.Fatal(err)
	}
	if err := s.TerminateRun(ctx, id, mlflow.RunFinished); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOrCreateRegisteredModel(ctx, modelName); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelTag(ctx, modelName, "owner", "risk-team"); err != nil {
		t.Fatal(err)
	}
	source := run.Info.ArtifactURI + "/model"
	for i := range 2 {
		mv, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: modelName, Source: source, RunID: id,
			Tags: []mlflow.Tag{{Key: "test_auc", Value: "0.812500"}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"1", "2"}[i]; mv.Version != want {
			t.Fatalf("version %s, want %s", mv.Version, want)
		}
		if _, err := s.WaitModelVersionReady(ctx, modelName, mv.Version, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetModelVersionTag(ctx, modelName, "1", "validation_status", "approved"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegisteredModelAlias(ctx, modelName, alias, "2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TransitionModelVersionStage(ctx, modelName, "1", "production", true); err != nil {
		t.Fatal(err)
	}
	if w.run, err = s.GetRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestPythonReadsGoStore is the ground truth: MLflow's own Python client,
// 2.9.2 and 3.x, reads the store this package writes, directly and (3.x)
// after migrating it into SQLite with mlflow migrate-filestore.
func TestPythonReadsGoStore(t *testing.T) {
	pythons := map[string]string{"mlflow2": testkit.Python2(t), "mlflow3": testkit.Python(t)}
	root := filepath.Join(t.TempDir(), "mlruns")
	w := writeStore(t, root)
	id := w.run.Info.RunID
	spec, _ := json.Marshal(map[string]any{"run_id": id, "experiment": "credit", "model": modelName, "alias": alias,
		"versions": []string{"1", "2"}, "metrics": []string{"train_log_loss", "inf", "tiny", "huge", "missing"}})
	artifactURI := "file://" + root + "/" + w.exp.ID + "/" + id + "/artifacts"
	version := func(v string, tags map[string]any, aliases []any) map[string]any {
		return map[string]any{"name": modelName, "version": v, "source": artifactURI + "/model", "run_id": id,
			"status": "READY", "current_stage": "None", "tags": tags, "aliases": aliases}
	}
	v1 := version("1", map[string]any{"test_auc": "0.812500", "validation_status": "approved"}, []any{})
	v1["current_stage"] = "Production"
	v2 := version("2", map[string]any{"test_auc": "0.812500"}, []any{alias})
	want := map[string]any{
		"experiment": map[string]any{"id": w.exp.ID, "name": "credit", "artifact_location": "file://" + root + "/" + w.exp.ID,
			"lifecycle_stage": "active", "tags": map[string]any{"team": "risk: yes"}},
		"experiments": []any{"Default", "credit"},
		"run": map[string]any{
			"run_id": id, "run_name": "gbdt-1", "experiment_id": w.exp.ID, "status": "FINISHED", "user_id": "alice",
			"artifact_uri": artifactURI, "lifecycle_stage": "active", "start_time_set": true, "end_time_set": true,
			"params":  map[string]any{"learning_rate": "0.05", "num_leaves": "31", "empty": ""},
			"metrics": map[string]any{"train_log_loss": 0.25, "test_auc": 0.8125, "inf": "inf", "tiny": 1e-05, "huge": 1.5e300},
			"tags": map[string]any{"mlflow.user": "alice", "a/b": "nested", "mlflow.note.content": "line1\nline2 'quoted' \"x\"",
				"mlflow.runName": "gbdt-1", "model_family": "gbdt", "mlflow.log-model.history": mustTag(t, w.run, "mlflow.log-model.history")},
			"inputs": []any{map[string]any{"name": "german_credit", "digest": "1a2b3c4d", "source_type": "local",
				"source": `{"uri": "/data/german_credit.csv"}`, "schema": w.schema, "profile": w.profile,
				"tags": map[string]any{"mlflow.data.context": "training"}}},
		},
		"runs_in_experiment": []any{id},
		"history": map[string]any{
			"train_log_loss": []any{[]any{1700000000000.0, 0.69, 0.0}, []any{1700000000001.0, 0.5, 1.0},
				[]any{1700000000002.0, "nan", 2.0}, []any{1700000000003.0, 0.25, 3.0}},
			"inf":     []any{[]any{1700000000100.0, "inf", 2.0}, []any{1700000000101.0, "-inf", 1.0}},
			"tiny":    []any{[]any{1700000000100.0, 1e-05, 7.0}},
			"huge":    []any{[]any{1700000000100.0, 1.5e300, 0.0}},
			"missing": []any{},
		},
		"artifacts": []any{[]any{"metrics.json", 2.0}, []any{"model/MLmodel", 12.0}, []any{"model/model.txt", 5.0}},
		"registered_model": map[string]any{"name": modelName, "tags": map[string]any{"owner": "risk-team"},
			"aliases": map[string]any{alias: "2"}, "latest_versions": []any{"1", "2"}},
		"versions":     map[string]any{"1": v1, "2": v2},
		"by_alias":     v2,
		"search":       []any{"1", "2"},
		"download_uri": artifactURI + "/model",
		"production":   []any{"1"},
	}
	// MLflow 3.x's own way off file stores: migrate-filestore into SQLite.
	db := "sqlite:///" + filepath.Join(t.TempDir(), "migrated.db")
	mig := exec.Command(filepath.Join(filepath.Dir(pythons["mlflow3"]), "mlflow"), "migrate-filestore", "--source", root, "--target", db)
	if b, err := mig.CombinedOutput(); err != nil {
		t.Fatalf("mlflow migrate-filestore: %v\n%s", err, b)
	}
	for _, tc := range []struct{ name, py, uri string }{
		{"mlflow2", pythons["mlflow2"], "file://" + root},
		{"mlflow3", pythons["mlflow3"], "file://" + root},
		{"mlflow3-migrated", pythons["mlflow3"], db},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := want
			if tc.uri == db {
				want = migrated(want)
			}
			cmd := exec.Command(tc.py, filepath.Join("testdata", "read_store.py"), string(spec))
			cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+tc.uri, "MLFLOW_ALLOW_FILE_STORE=true")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s read_store.py: %v\n%s", tc.py, err, stderr.String())
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			t.Logf("MLflow %v read the store", got["mlflow_version"])
			delete(got, "mlflow_version")
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Python client read (-want +got):\n%s", d)
			}
		})
	}
}

func mustTag(t *testing.T, r *mlflow.Run, key string) string {
	t.Helper()
	v, ok := r.Tag(key)
	if !ok {
		t.Fatalf("run has no tag %s", key)
	}
	return v
}

// migrated is what the Python client reads after migrate-filestore: the
// same, except that SQL stores keep ±Inf as ±MaxFloat64 and give alias
// versions as integers.
func migrated(want map[string]any) map[string]any {
	// A deep copy through JSON, then the changes.
	b, _ := json.Marshal(want)
	var m map[string]any
	json.Unmarshal(b, &m)
	hist := m["history"].(map[string]any)
	hist["inf"] = []any{[]any{1700000000100.0, math.MaxFloat64, 2.0}, []any{1700000000101.0, -math.MaxFloat64, 1.0}}
	m["run"].(map[string]any)["metrics"].(map[string]any)["inf"] = math.MaxFloat64
	m["registered_model"].(map[string]any)["aliases"] = map[string]any{alias: 2.0}
	return m
}
