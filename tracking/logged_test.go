package tracking_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrisk/engine/mlflow"
	"github.com/creditrisk/engine/tracking"
)

// TestLoggedModelRefs: models:/<model_id> and runs:/<run>/model resolve to
// a logged model's artifact location on backends that have logged models
// (the 3.x server and the local store, as the backend answers, not as a
// version string says); on 2.9.2 models:/<model_id> is refused with a
// message saying why and runs:/ keeps naming the run's own artifacts.
func TestLoggedModelRefs(t *testing.T) {
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			has, err := b.SupportsLoggedModels(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := name != "2.9.2"; has != want {
				t.Fatalf("SupportsLoggedModels = %v, want %v", has, want)
			}
			exp, err := b.GetOrCreateExperiment(ctx, mlflow.CreateExperimentRequest{Name: fmt.Sprint("tracking-logged-", time.Now().UnixNano())})
			if err != nil {
				t.Fatal(err)
			}
			run, err := b.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: exp.ID})
			if err != nil {
				t.Fatal(err)
			}
			runRef, _ := tracking.ParseRef("runs:/" + run.Info.RunID + "/model")
			if !has {
				r, _ := tracking.ParseRef("models:/m-0123456789abcdef0123456789abcdef")
				if _, err := tracking.Location(ctx, b, r); !errors.Is(err, mlflow.ErrNotFound) {
					t.Errorf("models:/<id> on a server without logged models: %v, want ErrNotFound saying why", err)
				}
				if got, err := tracking.Location(ctx, b, runRef); err != nil || got != run.Info.ArtifactURI+"/model" {
					t.Errorf("Location(%s) = %q, %v", runRef, got, err)
				}
				return
			}
			lm, err := b.CreateLoggedModel(ctx, mlflow.CreateLoggedModelRequest{ExperimentID: exp.ID, Name: "model", SourceRunID: run.Info.RunID})
			if err != nil {
				t.Fatal(err)
			}
			r, _ := tracking.ParseRef("models:/" + lm.Info.ModelID)
			if _, err := tracking.Location(ctx, b, r); err == nil {
				t.Errorf("a PENDING logged model resolved; want an error (its files may be incomplete)")
			}
			src := t.TempDir()
			if err := os.WriteFile(filepath.Join(src, "MLmodel"), []byte("flavors: {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			store, err := b.Artifacts(lm.Info.ArtifactURI)
			if err != nil {
				t.Fatal(err)
			}
			if err := store.UploadDir(ctx, src, ""); err != nil {
				t.Fatal(err)
			}
			if err := b.LogOutputs(ctx, run.Info.RunID, []mlflow.LoggedModelOutput{{ModelID: lm.Info.ModelID}}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.FinalizeLoggedModel(ctx, lm.Info.ModelID, mlflow.LoggedModelReady); err != nil {
				t.Fatal(err)
			}
			for _, ref := range []tracking.Ref{r, runRef} {
				if got, err := tracking.Location(ctx, b, ref); err != nil || got != lm.Info.ArtifactURI {
					t.Errorf("Location(%s) = %q, %v; want %s", ref, got, err, lm.Info.ArtifactURI)
				}
				dst := filepath.Join(t.TempDir(), "model")
				if err := tracking.Fetch(ctx, b, ref, dst); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(dst, "MLmodel")); err != nil {
					t.Errorf("Fetch(%s): %v", ref, err)
				}
			}
		})
	}
}
