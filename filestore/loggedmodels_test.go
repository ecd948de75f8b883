package filestore_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// loggedStore is a store with one run that made a logged model, logged its
// test metric linked to the model and a dataset, uploaded the model's
// files, and registered a version from models:/<model_id>.
type loggedStore struct {
	root  string
	s     *filestore.Store
	run   *mlflow.Run
	model *mlflow.LoggedModel
	mv    *mlflow.ModelVersion
}

func writeLogged(t *testing.T) loggedStore {
	t.Helper()
	ctx := t.Context()
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := filestore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := s.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "logged"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID, RunName: "gbdt-1"})
	if err != nil {
		t.Fatal(err)
	}
	id := run.Info.RunID
	lm, err := s.CreateLoggedModel(ctx, mlflow.CreateLoggedModelRequest{ExperimentID: exp.ID, Name: "model", SourceRunID: id,
		Params: []mlflow.Param{{Key: "learning_rate", Value: "0.05"}}, Tags: []mlflow.Tag{{Key: mlflow.TagUser, Value: "alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if lm.Info.Status != mlflow.LoggedModelPending {
		t.Errorf("new model is %s, want PENDING", lm.Info.Status)
	}
	b := mlflow.Batch{Metrics: []mlflow.Metric{
		{Key: "train_auc", Value: 0.7, Timestamp: 1700000000000, Step: 1},
		{Key: "train_auc", Value: 0.8, Timestamp: 1700000000001, Step: 2},
		{Key: "test_auc", Value: 0.75, Timestamp: 1700000000100, ModelID: lm.Info.ModelID, DatasetName: "german_credit_test", DatasetDigest: "1a2b3c4d"},
	}}
	if err := s.LogBatch(ctx, id, b); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "MLmodel"), []byte("flavors: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	as, err := s.Artifacts(lm.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := as.UploadDir(ctx, src, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.LogOutputs(ctx, id, []mlflow.LoggedModelOutput{{ModelID: lm.Info.ModelID}}); err != nil {
		t.Fatal(err)
	}
	if err := s.LogOutputs(ctx, id, []mlflow.LoggedModelOutput{{ModelID: lm.Info.ModelID}}); err != nil { // replay: once
		t.Fatal(err)
	}
	if _, err := s.FinalizeLoggedModel(ctx, lm.Info.ModelID, mlflow.LoggedModelReady); err != nil {
		t.Fatal(err)
	}
	if err := s.TerminateRun(ctx, id, mlflow.RunFinished); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOrCreateRegisteredModel(ctx, modelName); err != nil {
		t.Fatal(err)
	}
	mv, err := s.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: modelName, Source: "models:/" + lm.Info.ModelID, ModelID: lm.Info.ModelID})
	if err != nil {
		t.Fatal(err)
	}
	if lm, err = s.GetLoggedModel(ctx, lm.Info.ModelID); err != nil {
		t.Fatal(err)
	}
	if run, err = s.GetRun(ctx, id); err != nil {
		t.Fatal(err)
	}
	return loggedStore{root: root, s: s, run: run, model: lm, mv: mv}
}

// TestLoggedModelRoundTrip: what the store writes of a logged model, it
// reads back through the Backend's methods.
func TestLoggedModelRoundTrip(t *testing.T) {
	l := writeLogged(t)
	ctx := t.Context()
	id := l.model.Info.ModelID
	if got := l.run.Outputs.ModelOutputs; !cmp.Equal(got, []mlflow.LoggedModelOutput{{ModelID: id}}) {
		t.Errorf("run outputs %+v, want the model once", got)
	}
	if l.mv.ModelID != id || l.mv.RunID != l.run.Info.RunID || l.mv.Source != "models:/"+id {
		t.Errorf("version %+v: want model_id %s, the model's run and source models:/%s", l.mv, id, id)
	}
	if u, err := l.s.GetModelVersionDownloadURI(ctx, modelName, l.mv.Version); err != nil || u != l.model.Info.ArtifactURI {
		t.Errorf("download URI %q, %v; want the model's artifact location %s", u, err, l.model.Info.ArtifactURI)
	}
	m := l.model
	if m.Info.Status != mlflow.LoggedModelReady || m.Info.Name != "model" || m.Info.SourceRunID != l.run.Info.RunID {
		t.Errorf("model info %+v", m.Info)
	}
	want := []mlflow.Metric{{Key: "test_auc", Value: 0.75, Timestamp: 1700000000100, ModelID: id, RunID: l.run.Info.RunID,
		DatasetName: "german_credit_test", DatasetDigest: "1a2b3c4d"}}
	if d := cmp.Diff(want, m.Data.Metrics); d != "" {
		t.Errorf("model metrics (-want +got):\n%s", d)
	}
	if !cmp.Equal(m.Info.Registrations, []mlflow.LoggedModelRegistered{{Name: modelName, Version: l.mv.Version}}) {
		t.Errorf("registrations %+v", m.Info.Registrations)
	}
	var found []string
	for lm, err := range l.s.AllLoggedModels(ctx, mlflow.SearchLoggedModelsRequest{ExperimentIDs: []string{m.Info.ExperimentID}}) {
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, lm.Info.ModelID)
	}
	if !cmp.Equal(found, []string{id}) {
		t.Errorf("search found %v, want [%s]", found, id)
	}
	for _, bad := range []mlflow.Metric{
		{Key: "k", Value: 1, ModelID: "m-../x"},
		{Key: "k", Value: 1, ModelID: "m-00000000000000000000000000000000"},
		{Key: "k", Value: 1, ModelID: id, DatasetName: "two words", DatasetDigest: "d"},
		{Key: "k", Value: 1, ModelID: id, DatasetName: "name-only"},
	} {
		run, err := l.s.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: m.Info.ExperimentID})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.s.LogBatch(ctx, run.Info.RunID, mlflow.Batch{Metrics: []mlflow.Metric{bad}}); !errors.Is(err, mlflow.ErrInvalidParameter) && !errors.Is(err, mlflow.ErrNotFound) {
			t.Errorf("LogBatch(%+v) = %v, want a refusal", bad, err)
		}
	}
	if _, err := l.s.CreateLoggedModel(ctx, mlflow.CreateLoggedModelRequest{ExperimentID: m.Info.ExperimentID, Name: "a/b"}); !errors.Is(err, mlflow.ErrInvalidParameter) {
		t.Errorf("a model named a/b: %v, want ErrInvalidParameter", err)
	}
}

// TestPythonReadsLoggedModels is the ground truth: MLflow 3.x's Python
// client finds the logged model, its metrics linked to the dataset, the
// run's outputs and the version's model_id as it does in a store it wrote
// itself; MLflow 2.9.2 still reads the run and the version of that store.
func TestPythonReadsLoggedModels(t *testing.T) {
	pythons := map[string]string{"mlflow2": testkit.Python2(t), "mlflow3": testkit.Python(t)}
	l := writeLogged(t)
	id, runID := l.model.Info.ModelID, l.run.Info.RunID
	spec, _ := json.Marshal(map[string]any{"run_id": runID, "model_id": id, "model": modelName, "version": l.mv.Version,
		"metrics": []string{"train_auc", "test_auc"}})
	common := map[string]any{
		"run_metrics":        map[string]any{"train_auc": 0.8, "test_auc": 0.75},
		"runs_in_experiment": []any{runID},
		"history": map[string]any{
			"train_auc": []any{[]any{1700000000000.0, 0.7, 1.0}, []any{1700000000001.0, 0.8, 2.0}},
			"test_auc":  []any{[]any{1700000000100.0, 0.75, 0.0}},
		},
		"version": map[string]any{"source": "models:/" + id, "run_id": runID, "status": "READY", "download_uri": l.model.Info.ArtifactURI},
	}
	for name, py := range pythons {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.json")
			testkit.RunPython(t, 2*time.Minute, py, []string{"MLFLOW_TRACKING_URI=file://" + l.root, "MLFLOW_ALLOW_FILE_STORE=true"},
				filepath.Join("testdata", "read_logged.py"), string(spec), out)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			t.Logf("MLflow %v read the store", got["mlflow_version"])
			delete(got, "mlflow_version")
			want := map[string]any{}
			for k, v := range common {
				want[k] = v
			}
			if name == "mlflow3" {
				v := map[string]any{"model_id": id}
				for k, x := range common["version"].(map[string]any) {
					v[k] = x
				}
				want["version"] = v
				want["outputs"] = []any{[]any{id, 0.0}}
				want["search"] = []any{id}
				want["model"] = map[string]any{
					"name": "model", "status": "READY", "source_run_id": runID, "artifact_location": l.model.Info.ArtifactURI,
					"experiment_id": l.model.Info.ExperimentID, "params": map[string]any{"learning_rate": "0.05"},
					"tags":    map[string]any{mlflow.TagUser: "alice", mlflow.TagModelVersions: `[{"name": "` + modelName + `", "version": 1}]`},
					"metrics": []any{[]any{"test_auc", 0.75, 0.0, "german_credit_test", "1a2b3c4d", runID, id}},
				}
				want["artifacts"] = []any{"artifacts/MLmodel"} // list_artifacts names paths from the location's parent
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Python client read (-want +got):\n%s", d)
			}
		})
	}
}
