package serve

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
)

// TestLoggedModelSource: serve takes models:/<model_id>, an MLflow 3
// logged model, from a backend that has them (here the local store): it
// resolves the model once (it never changes), keyed by the reference, with
// its source run, and downloads its files from its own artifact location.
func TestLoggedModelSource(t *testing.T) {
	ctx := context.Background()
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := st.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "serve-logged"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
	if err != nil {
		t.Fatal(err)
	}
	lm, err := st.CreateLoggedModel(ctx, mlflow.CreateLoggedModelRequest{ExperimentID: exp.ID, Name: "model", SourceRunID: run.Info.RunID})
	if err != nil {
		t.Fatal(err)
	}
	dir := writeModel(t, filepath.Join(t.TempDir(), "model"), 5, run.Info.RunID)
	arts, err := st.Artifacts(lm.Info.ArtifactURI)
	if err != nil {
		t.Fatal(err)
	}
	if err := arts.UploadDir(ctx, dir, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinalizeLoggedModel(ctx, lm.Info.ModelID, mlflow.LoggedModelReady); err != nil {
		t.Fatal(err)
	}
	ref := "models:/" + lm.Info.ModelID
	src, err := NewSource(ref, st)
	if err != nil {
		t.Fatal(err)
	}
	v, err := src.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Key != ref || v.RunID != run.Info.RunID {
		t.Errorf("version %+v: want key %s and run %s", v, ref, run.Info.RunID)
	}
	got, err := src.Fetch(ctx, v, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Verify(got.Dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(got.Dir, model.MLmodelFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Load(got.Dir); err != nil {
		t.Fatal(err)
	}
	missing, err := NewSource("models:/m-0123456789abcdef0123456789abcdef", st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := missing.Latest(ctx); err == nil {
		t.Error("a logged model that does not exist resolved")
	}
}
