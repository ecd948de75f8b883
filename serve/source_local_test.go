package serve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrisk/engine/filestore"
	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/model"
)

// TestRegistryLocalStore: a models:/ reference followed through a local
// file store resolves the alias, then the stage and the fixed version (and
// a runs:/ reference its run), and downloads the files from the store's
// own artifacts.
func TestRegistryLocalStore(t *testing.T) {
	ctx := context.Background()
	st, err := filestore.Open(filepath.Join(t.TempDir(), "mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := st.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: "serve-local"})
	if err != nil {
		t.Fatal(err)
	}
	register := func(iters int) *mlflow.ModelVersion {
		run, err := st.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
		if err != nil {
			t.Fatal(err)
		}
		dir := writeModel(t, filepath.Join(t.TempDir(), "model"), iters, run.Info.RunID)
		arts, err := st.Artifacts(run.Info.ArtifactURI)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := arts.Upload(ctx, filepath.Join(dir, e.Name()), "model/"+e.Name()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.GetOrCreateRegisteredModel(ctx, "m"); err != nil {
			t.Fatal(err)
		}
		mv, err := st.CreateModelVersion(ctx, mlflow.CreateModelVersionRequest{Name: "m",
			Source: strings.TrimRight(run.Info.ArtifactURI, "/") + "/model", RunID: run.Info.RunID, Tags: registrationTags(t, dir)})
		if err != nil {
			t.Fatal(err)
		}
		return mv
	}
	v1, v2 := register(3), register(6)
	if err := st.SetRegisteredModelAlias(ctx, "m", "champion", v1.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TransitionModelVersionStage(ctx, "m", v2.Version, "Production", true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, name, want, runID string }{
		{"models:/m@champion", "m", v1.Version, v1.RunID},
		{"models:/m/Production", "m", v2.Version, v2.RunID},
		{"models:/m/" + v2.Version, "m", v2.Version, v2.RunID},
		{"runs:/" + v1.RunID + "/model", "", "run", v1.RunID},
	} {
		src, err := NewSource(tc.ref, st)
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		v, err := src.Latest(ctx)
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		if v.Version != tc.want || v.RunID != tc.runID || v.Name != tc.name {
			t.Errorf("%s: %+v, want version %s of run %s", tc.ref, v, tc.want, tc.runID)
		}
		f, err := src.Fetch(ctx, v, t.TempDir())
		if err != nil {
			t.Fatalf("%s: fetch: %v", tc.ref, err)
		}
		dir := f.Dir
		if err := model.Verify(dir); err != nil {
			t.Errorf("%s: downloaded model: %v", tc.ref, err)
		}
		if _, err := model.Load(dir); err != nil {
			t.Errorf("%s: load: %v", tc.ref, err)
		}
	}
	// Moving the alias is seen on the next Latest.
	if err := st.SetRegisteredModelAlias(ctx, "m", "champion", v2.Version); err != nil {
		t.Fatal(err)
	}
	src, _ := NewSource("models:/m@champion", st)
	if v, err := src.Latest(ctx); err != nil || v.Version != v2.Version {
		t.Errorf("after moving the alias: %+v, %v", v, err)
	}
}

// TestNewSourceNoBackend: a registry or run reference needs a backend.
func TestNewSourceNoBackend(t *testing.T) {
	for _, ref := range []string{"models:/m@champion", "runs:/abc/model"} {
		if _, err := NewSource(ref, nil); err == nil || !strings.Contains(err.Error(), "needs a tracking backend") {
			t.Errorf("NewSource(%s) without a backend: %v", ref, err)
		}
	}
}
