package filestore_test

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/creditrisk/engine/internal/testkit"
	"github.com/creditrisk/engine/mlflow"
)

// TestMLflowServerServesStore starts MLflow's own server (what `mlflow ui
// --backend-store-uri ./mlruns` runs), 2.9.2 and 3.x (with
// MLFLOW_ALLOW_FILE_STORE=true), on a store this package wrote, and reads
// it back over REST with this repository's client.
func TestMLflowServerServesStore(t *testing.T) {
	pythons := map[string]string{"mlflow2": testkit.Python2(t), "mlflow3": testkit.Python(t)}
	root := filepath.Join(t.TempDir(), "mlruns")
	w := writeStore(t, root)
	for name, py := range pythons {
		t.Run(name, func(t *testing.T) { serveAndRead(t, py, root, w) })
	}
}

func serveAndRead(t *testing.T, py, root string, w written) {
	bin := filepath.Join(filepath.Dir(py), "mlflow")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no mlflow command next to %s: %v", py, err)
	}
	port := strconv.Itoa(testkit.Port(t))
	logs := testkit.Start(t, []string{"MLFLOW_ALLOW_FILE_STORE=true"}, bin, "server", "--backend-store-uri", "file://"+root, "--host", "127.0.0.1", "--port", port, "--workers", "1").Log
	base := "http://127.0.0.1:" + port
	// A Python server on a busy 2-core machine may take minutes to start.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mlflow server did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	ctx := context.Background()
	c, err := mlflow.NewClient(base, mlflow.WithRetries(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	id := w.run.Info.RunID
	r, err := c.GetRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.Status != mlflow.RunFinished || r.Info.RunName != "gbdt-1" || len(r.Inputs.DatasetInputs) != 1 {
		t.Errorf("run over REST: %+v, %d inputs", r.Info, len(r.Inputs.DatasetInputs))
	}
	if v, _ := r.Param("learning_rate"); v != "0.05" {
		t.Errorf("param learning_rate = %q", v)
	}
	h, err := c.GetMetricHistory(ctx, id, "train_log_loss")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4 || !math.IsNaN(h[2].Value) || h[3].Step != 3 {
		t.Errorf("history over REST: %+v", h)
	}
	files, err := c.ListArtifacts(ctx, id, "model")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("artifacts under model/: %+v", files)
	}
	mv, err := c.GetModelVersionByAlias(ctx, modelName, alias)
	if err != nil {
		t.Fatal(err)
	}
	if mv.Version != "2" || mv.Status != "READY" || mv.RunID != id {
		t.Errorf("version by alias over REST: %+v", mv)
	}
	exps, err := c.SearchExperiments(ctx, mlflow.SearchExperimentsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exps.Experiments) != 2 {
		t.Errorf("experiments over REST: %+v", exps.Experiments)
	}
}
